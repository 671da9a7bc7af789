//! What happened during a step, as plain serializable data for the views.

use serde::{Deserialize, Serialize};

/// What kind of access a memory reference was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    Write,
    Execute,
}

/// How a trap was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrapKind {
    /// A fault or trap the CPU raised (divide error, page fault, ...).
    Exception,
    /// An `int n`, `int3` instruction.
    Software,
    /// A device interrupt through the interrupt controller.
    External,
}

/// Which value a trap entry pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pushed {
    Ss,
    Esp,
    Eflags,
    Cs,
    Eip,
    ErrorCode,
}

/// One value the CPU pushed on a trap: what it was, where it went, its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PushedValue {
    pub what: Pushed,
    pub addr: u32,
    pub value: u32,
}

/// The stack switch a privilege change made, from the TSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StackSwitch {
    pub old_ss: u16,
    pub old_esp: u32,
    pub new_ss: u16,
    pub new_esp: u32,
}

/// Why TLB entries were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlushReason {
    /// A write to CR3 drops every entry.
    Cr3Write,
    /// `invlpg` drops the entry of one page.
    Invlpg,
    /// Turning paging or write protection on or off.
    Cr0Write,
    /// Turning 4 MiB pages (CR4.PSE) on or off.
    Cr4Write,
}

/// One observable happening inside a step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A two-level page walk: the directory entry read, the table entry read
    /// (absent when the directory entry was not present), and the frame found
    /// (absent when the walk faulted).
    PageWalk {
        linear: u32,
        access: Access,
        pde_addr: u32,
        pde: u32,
        pte_addr: Option<u32>,
        pte: Option<u32>,
        frame: Option<u32>,
    },
    TlbHit {
        page: u32,
        frame: u32,
        slot: u8,
    },
    TlbMiss {
        page: u32,
    },
    TlbFill {
        page: u32,
        frame: u32,
        slot: u8,
        writable: bool,
        user: bool,
    },
    TlbEvict {
        page: u32,
        frame: u32,
        slot: u8,
    },
    TlbFlush {
        reason: FlushReason,
        page: Option<u32>,
        dropped: u32,
    },
    /// A page fault with its architectural error code; CR2 holds `linear`.
    PageFault {
        linear: u32,
        error_code: u32,
        eip: u32,
    },
    /// The CPU entered a handler through the IDT.
    TrapEntry {
        vector: u8,
        source: TrapKind,
        error_code: Option<u32>,
        cpl_before: u8,
        cpl_after: u8,
        gate_dpl: u8,
        interrupt_gate: bool,
        stack_switch: Option<StackSwitch>,
        pushed: Vec<PushedValue>,
        /// Where the frame was pushed: the address of the first value pushed.
        handler: u32,
        /// The EIP the trap will return to.
        return_eip: u32,
    },
    /// A fault arrived while delivering another, so the CPU raised #DF.
    DoubleFault {
        first: u8,
        second: u8,
    },
    /// A fault arrived while delivering #DF: the machine stops.
    TripleFault {
        vector: u8,
    },
    /// `iret` returned from a handler.
    Iret {
        cpl_before: u8,
        cpl_after: u8,
        eip: u32,
        esp: u32,
    },
    Cr0Write {
        old: u32,
        new: u32,
    },
    Cr3Write {
        old: u32,
        new: u32,
    },
    /// A load or store that a memory-mapped device answered.
    Mmio {
        addr: u32,
        value: u32,
        size: u8,
        write: bool,
    },
    PortOut {
        port: u16,
        value: u32,
        size: u8,
    },
    PortIn {
        port: u16,
        value: u32,
        size: u8,
    },
    /// The disk accepted a request; it completes after its latency.
    DiskRequest {
        block: u32,
        addr: u32,
        write: bool,
        done_at: u64,
    },
    /// The disk moved a block between itself and physical memory.
    Dma {
        block: u32,
        addr: u32,
        len: u32,
        to_memory: bool,
    },
    /// A device raised its interrupt line.
    IrqRaised {
        irq: u8,
        vector: u8,
    },
    /// A byte arrived from the keyboard.
    KeyInput {
        byte: u8,
    },
    /// The CPU executed `hlt`.
    Halt {
        eip: u32,
    },
    /// The instruction at `eip` is not one the machine executes (#UD follows).
    InvalidOpcode {
        eip: u32,
        message: String,
    },
    /// The local APIC's timer ran out and requested its vector.
    LapicTimer {
        vector: u8,
    },
    /// The I/O APIC routed a device line through its redirection table:
    /// to `vector`, or nowhere when the entry is masked.
    IoApicDelivery {
        irq: u8,
        vector: u8,
        masked: bool,
    },
    /// The IDE controller took a command for `drive` (0 master, 1 slave).
    IdeCommand {
        drive: u8,
        command: u8,
        sector: u32,
        count: u8,
    },
    /// The IDE controller finished moving one sector between the drive and
    /// its data register (the CPU moves it by programmed I/O).
    IdeSector {
        drive: u8,
        sector: u32,
        write: bool,
    },
    /// A byte crossed the serial port: sent by the guest, or received.
    UartByte {
        byte: u8,
        received: bool,
    },
    /// The PS/2 controller queued a set-1 scancode for a key.
    Scancode {
        code: u8,
    },
}

/// The kinds of [`Event`], for filters and break-on-event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EventKind {
    PageWalk,
    TlbHit,
    TlbMiss,
    TlbFill,
    TlbEvict,
    TlbFlush,
    PageFault,
    TrapEntry,
    DoubleFault,
    TripleFault,
    Iret,
    Cr0Write,
    Cr3Write,
    Mmio,
    PortOut,
    PortIn,
    DiskRequest,
    Dma,
    IrqRaised,
    KeyInput,
    Halt,
    InvalidOpcode,
    LapicTimer,
    IoApicDelivery,
    IdeCommand,
    IdeSector,
    UartByte,
    Scancode,
}

impl EventKind {
    pub const ALL: [EventKind; 28] = [
        EventKind::PageWalk,
        EventKind::TlbHit,
        EventKind::TlbMiss,
        EventKind::TlbFill,
        EventKind::TlbEvict,
        EventKind::TlbFlush,
        EventKind::PageFault,
        EventKind::TrapEntry,
        EventKind::DoubleFault,
        EventKind::TripleFault,
        EventKind::Iret,
        EventKind::Cr0Write,
        EventKind::Cr3Write,
        EventKind::Mmio,
        EventKind::PortOut,
        EventKind::PortIn,
        EventKind::DiskRequest,
        EventKind::Dma,
        EventKind::IrqRaised,
        EventKind::KeyInput,
        EventKind::Halt,
        EventKind::InvalidOpcode,
        EventKind::LapicTimer,
        EventKind::IoApicDelivery,
        EventKind::IdeCommand,
        EventKind::IdeSector,
        EventKind::UartByte,
        EventKind::Scancode,
    ];

    /// This kind's bit in a [`KindSet`].
    #[inline]
    pub const fn bit(self) -> u32 {
        1 << self as u32
    }

    /// The name used in JSON and on the command line, for example `"page_fault"`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::PageWalk => "page_walk",
            EventKind::TlbHit => "tlb_hit",
            EventKind::TlbMiss => "tlb_miss",
            EventKind::TlbFill => "tlb_fill",
            EventKind::TlbEvict => "tlb_evict",
            EventKind::TlbFlush => "tlb_flush",
            EventKind::PageFault => "page_fault",
            EventKind::TrapEntry => "trap_entry",
            EventKind::DoubleFault => "double_fault",
            EventKind::TripleFault => "triple_fault",
            EventKind::Iret => "iret",
            EventKind::Cr0Write => "cr0_write",
            EventKind::Cr3Write => "cr3_write",
            EventKind::Mmio => "mmio",
            EventKind::PortOut => "port_out",
            EventKind::PortIn => "port_in",
            EventKind::DiskRequest => "disk_request",
            EventKind::Dma => "dma",
            EventKind::IrqRaised => "irq_raised",
            EventKind::KeyInput => "key_input",
            EventKind::Halt => "halt",
            EventKind::InvalidOpcode => "invalid_opcode",
            EventKind::LapicTimer => "lapic_timer",
            EventKind::IoApicDelivery => "ioapic_delivery",
            EventKind::IdeCommand => "ide_command",
            EventKind::IdeSector => "ide_sector",
            EventKind::UartByte => "uart_byte",
            EventKind::Scancode => "scancode",
        }
    }

    /// What a course calls it, for people to read (`name` is for machines).
    pub fn label(self) -> &'static str {
        match self {
            EventKind::PageWalk => "page walk",
            EventKind::TlbHit => "TLB hit",
            EventKind::TlbMiss => "TLB miss",
            EventKind::TlbFill => "TLB fill",
            EventKind::TlbEvict => "TLB eviction",
            EventKind::TlbFlush => "TLB flush",
            EventKind::PageFault => "page fault",
            EventKind::TrapEntry => "trap or interrupt",
            EventKind::DoubleFault => "double fault",
            EventKind::TripleFault => "triple fault",
            EventKind::Iret => "return from trap (iret)",
            EventKind::Cr0Write => "CR0 write",
            EventKind::Cr3Write => "CR3 write (address space switch)",
            EventKind::Mmio => "memory-mapped I/O",
            EventKind::PortOut => "port output",
            EventKind::PortIn => "port input",
            EventKind::DiskRequest => "I/O request",
            EventKind::Dma => "DMA transfer",
            EventKind::IrqRaised => "interrupt request",
            EventKind::KeyInput => "key press",
            EventKind::Halt => "halt",
            EventKind::InvalidOpcode => "invalid opcode",
            EventKind::LapicTimer => "timer interrupt (local APIC)",
            EventKind::IoApicDelivery => "interrupt routed (I/O APIC)",
            EventKind::IdeCommand => "I/O request (IDE command)",
            EventKind::IdeSector => "disk sector transfer",
            EventKind::UartByte => "serial byte",
            EventKind::Scancode => "keyboard scancode",
        }
    }

    /// The kind with the given name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl Event {
    /// This event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::PageWalk { .. } => EventKind::PageWalk,
            Event::TlbHit { .. } => EventKind::TlbHit,
            Event::TlbMiss { .. } => EventKind::TlbMiss,
            Event::TlbFill { .. } => EventKind::TlbFill,
            Event::TlbEvict { .. } => EventKind::TlbEvict,
            Event::TlbFlush { .. } => EventKind::TlbFlush,
            Event::PageFault { .. } => EventKind::PageFault,
            Event::TrapEntry { .. } => EventKind::TrapEntry,
            Event::DoubleFault { .. } => EventKind::DoubleFault,
            Event::TripleFault { .. } => EventKind::TripleFault,
            Event::Iret { .. } => EventKind::Iret,
            Event::Cr0Write { .. } => EventKind::Cr0Write,
            Event::Cr3Write { .. } => EventKind::Cr3Write,
            Event::Mmio { .. } => EventKind::Mmio,
            Event::PortOut { .. } => EventKind::PortOut,
            Event::PortIn { .. } => EventKind::PortIn,
            Event::DiskRequest { .. } => EventKind::DiskRequest,
            Event::Dma { .. } => EventKind::Dma,
            Event::IrqRaised { .. } => EventKind::IrqRaised,
            Event::KeyInput { .. } => EventKind::KeyInput,
            Event::Halt { .. } => EventKind::Halt,
            Event::InvalidOpcode { .. } => EventKind::InvalidOpcode,
            Event::LapicTimer { .. } => EventKind::LapicTimer,
            Event::IoApicDelivery { .. } => EventKind::IoApicDelivery,
            Event::IdeCommand { .. } => EventKind::IdeCommand,
            Event::IdeSector { .. } => EventKind::IdeSector,
            Event::UartByte { .. } => EventKind::UartByte,
            Event::Scancode { .. } => EventKind::Scancode,
        }
    }

    /// What an IDE command event asked the drive to do.
    pub fn ide_op(&self) -> Option<crate::devices::IdeOp> {
        match self {
            Event::IdeCommand { command, .. } => Some(crate::devices::IdeOp::of(*command)),
            _ => None,
        }
    }
}

/// A set of event kinds, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KindSet(pub u32);

impl KindSet {
    pub const EMPTY: KindSet = KindSet(0);

    pub fn of(kinds: &[EventKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |acc, k| acc | k.bit()))
    }

    #[inline]
    pub fn contains(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }

    #[inline]
    pub fn intersects(self, other: KindSet) -> bool {
        self.0 & other.0 != 0
    }

    pub fn insert(&mut self, kind: EventKind) {
        self.0 |= kind.bit();
    }

    pub fn remove(&mut self, kind: EventKind) {
        self.0 &= !kind.bit();
    }

    /// The kinds in this set, in declaration order.
    pub fn kinds(self) -> impl Iterator<Item = EventKind> {
        EventKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

/// An event with the step it happened in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped {
    pub step: u64,
    pub event: Event,
}

/// The recent events of a run: a ring buffer that forgets the oldest.
/// Once full, a new event overwrites the oldest in place (no element is
/// moved), which keeps recording cheap at full speed.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    capacity: usize,
    ring: Vec<Stamped>,
    /// Where the oldest event is once the ring is full (and so where the
    /// next one goes).
    head: usize,
}

impl EventLog {
    pub fn new(capacity: usize) -> Self {
        EventLog {
            capacity,
            ring: Vec::with_capacity(capacity.min(4096)),
            head: 0,
        }
    }

    pub fn push(&mut self, step: u64, event: Event) {
        if self.ring.len() < self.capacity {
            self.ring.push(Stamped { step, event });
        } else if let Some(oldest) = self.ring.get_mut(self.head) {
            *oldest = Stamped { step, event };
            // A compare, not `%`: the ring turns on every event recorded
            // while full, and a division is the slowest instruction here.
            let next = self.head + 1;
            self.head = if next == self.capacity { 0 } else { next };
        }
    }

    /// The retained events, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Stamped> {
        let (newer, older) = self.ring.split_at(self.head.min(self.ring.len()));
        older.iter().chain(newer)
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether the ring is full, so that older events may have been
    /// overwritten since it was last cleared.
    pub fn is_full(&self) -> bool {
        self.ring.len() >= self.capacity
    }

    pub fn clear(&mut self) {
        self.ring.clear();
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(log: &EventLog) -> Vec<u64> {
        log.iter().map(|s| s.step).collect()
    }

    #[test]
    fn the_log_keeps_the_newest_events_oldest_first() {
        let mut log = EventLog::new(3);
        for step in 1..=2 {
            log.push(step, Event::TlbMiss { page: 0 });
        }
        assert_eq!(steps(&log), [1, 2]);
        for step in 3..=7 {
            log.push(step, Event::TlbMiss { page: 0 });
        }
        assert_eq!(steps(&log), [5, 6, 7]);
        assert_eq!(
            log.iter().rev().map(|s| s.step).collect::<Vec<_>>(),
            [7, 6, 5]
        );
        log.clear();
        log.push(8, Event::TlbMiss { page: 0 });
        assert_eq!(steps(&log), [8]);
        let mut none = EventLog::new(0);
        none.push(1, Event::TlbMiss { page: 0 });
        assert!(none.is_empty());
    }
}
