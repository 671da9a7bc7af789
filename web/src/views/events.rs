//! The Events panel's view: each event as a line of course wording, what
//! it names (for linked selection), and the window of the log in view.

use crate::focus::Focus;
use crate::session::Session;
use osviz_machine::{DeviceClass, Event, EventKind, Exception, FlushReason};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub step: u64,
    pub kind: EventKind,
    pub text: String,
    /// What the event names (a vector, a page, a frame), for linking.
    pub links: Vec<Focus>,
}

/// The rows the list shows at once, and the rows rendered beyond them on
/// either side so that a fast scroll does not show blank space.
pub const VISIBLE_ROWS: usize = 14;
pub const OVERSCAN: usize = 6;

/// The kinds the filter offers, in the order a course meets them.
pub const FILTER_KINDS: [EventKind; 14] = [
    EventKind::PageFault,
    EventKind::TrapEntry,
    EventKind::Iret,
    EventKind::Cr3Write,
    EventKind::TlbMiss,
    EventKind::TlbFill,
    EventKind::TlbHit,
    EventKind::TlbFlush,
    EventKind::PageWalk,
    EventKind::IrqRaised,
    EventKind::DiskRequest,
    EventKind::Dma,
    EventKind::PortOut,
    EventKind::Mmio,
];

/// What the running kernel names each vector.
pub type Names<'a> = &'a dyn Fn(u8) -> Option<&'static str>;

/// Which device the board wires to each interrupt line.
pub type Devices<'a> = &'a dyn Fn(u8) -> Option<DeviceClass>;

fn line_text(irq: u8, devices: Devices) -> String {
    match devices(irq) {
        Some(d) => format!("IRQ {irq} from the {}", d.words()),
        None => format!("IRQ {irq}"),
    }
}

fn vector_text(vector: u8, names: Names) -> String {
    match names(vector) {
        Some(name) => format!("{vector:#x} ({name})"),
        None => format!("{vector:#x}"),
    }
}

/// What a TLB flush did, in words.
pub fn flush_text(reason: FlushReason, page: Option<u32>, dropped: u32) -> String {
    match (reason, page) {
        (FlushReason::Invlpg, Some(p)) => format!("invlpg dropped page {p:#x} ({dropped} entry)"),
        (FlushReason::Cr3Write, _) => format!("CR3 write flushed every entry ({dropped} dropped)"),
        (FlushReason::Cr4Write, _) => {
            format!("4 MiB pages switched on or off: {dropped} entries dropped")
        }
        _ => format!("paging switched: {dropped} entries dropped"),
    }
}

/// One event in course wording: vectors as the kernel names them, lines
/// by the device the board wires to them.
pub fn event_text(e: &Event, names: Names, devices: Devices) -> String {
    match e {
        Event::PageWalk { linear, frame, .. } => match frame {
            Some(f) => format!("page walk {linear:08x} → frame {f:#x}"),
            None => format!("page walk {linear:08x} stopped: not present"),
        },
        Event::TlbHit { page, slot, .. } => format!("TLB hit: page {page:#x} in slot {slot}"),
        Event::TlbMiss { page } => format!("TLB miss: page {page:#x}"),
        Event::TlbFill {
            page, frame, slot, ..
        } => format!("TLB fill: page {page:#x} → frame {frame:#x} in slot {slot}"),
        Event::TlbEvict { page, slot, .. } => {
            format!("TLB eviction: page {page:#x} left slot {slot}")
        }
        Event::TlbFlush {
            reason,
            page,
            dropped,
        } => format!("TLB flush: {}", flush_text(*reason, *page, *dropped)),
        Event::PageFault {
            linear,
            error_code,
            eip,
        } => format!("page fault at {linear:08x}, error code {error_code:#x}, EIP {eip:08x}"),
        Event::TrapEntry {
            vector,
            cpl_before,
            cpl_after,
            ..
        } => format!(
            "trap through vector {}, ring {cpl_before} → {cpl_after}",
            vector_text(*vector, names)
        ),
        Event::DoubleFault { first, second } => {
            format!("double fault: vector {second} while delivering {first}")
        }
        Event::TripleFault { vector } => format!("triple fault (vector {vector}): shutdown"),
        Event::Iret {
            cpl_before,
            cpl_after,
            eip,
            ..
        } => format!("return from trap (iret), ring {cpl_before} → {cpl_after}, to {eip:08x}"),
        Event::Cr0Write { new, .. } => format!("CR0 ← {new:08x}"),
        Event::Cr3Write { new, .. } => format!("CR3 ← {new:08x} (page directory)"),
        Event::Mmio {
            addr,
            value,
            write: true,
            ..
        } => format!("memory-mapped write {addr:08x} ← {value:#x}"),
        Event::Mmio { addr, value, .. } => format!("memory-mapped read {addr:08x} → {value:#x}"),
        Event::PortOut { port, value, .. } => format!("port output {port:#x} ← {value:#x}"),
        Event::PortIn { port, value, .. } => format!("port input {port:#x} → {value:#x}"),
        Event::DiskRequest { block, addr, .. } => {
            format!("I/O request: disk block {block} into {addr:08x}")
        }
        Event::Dma {
            block, addr, len, ..
        } => format!("DMA transfer: block {block}, {len} bytes to {addr:08x}"),
        Event::IrqRaised { irq, vector } => {
            format!(
                "interrupt request: {} (vector {})",
                line_text(*irq, devices),
                vector_text(*vector, names)
            )
        }
        Event::KeyInput { byte } => format!("key press {:?}", char::from(*byte)),
        Event::Halt { eip } => format!("hlt at {eip:08x}"),
        Event::InvalidOpcode { eip, message } => format!("invalid opcode at {eip:08x}: {message}"),
        Event::LapicTimer { vector } => {
            format!("local APIC timer: vector {}", vector_text(*vector, names))
        }
        Event::IoApicDelivery {
            irq,
            vector,
            masked: false,
        } => format!(
            "I/O APIC: {} to vector {}",
            line_text(*irq, devices),
            vector_text(*vector, names)
        ),
        Event::IoApicDelivery { irq, .. } => format!(
            "I/O APIC: {} masked, not delivered",
            line_text(*irq, devices)
        ),
        Event::IdeCommand {
            drive,
            command,
            sector,
            count,
        } => format!(
            "IDE command {command:#x} ({}) to drive {drive}: {count} sector(s) from {sector}",
            osviz_machine::IdeOp::of(*command).name()
        ),
        Event::IdeSector {
            drive,
            sector,
            write,
        } => format!(
            "disk sector {sector} {} drive {drive}",
            if *write { "written to" } else { "read from" }
        ),
        Event::UartByte { byte, received } => format!(
            "serial {} {:?}",
            if *received { "received" } else { "sent" },
            char::from(*byte)
        ),
        Event::Scancode { code } => format!("keyboard scancode {code:#04x}"),
    }
}

/// What an event names, for linking it to the other panels.
pub fn event_links(e: &Event) -> Vec<Focus> {
    match e {
        Event::TrapEntry { vector, .. } => vec![Focus::Vector(*vector)],
        Event::DoubleFault { .. } => vec![Focus::Vector(Exception::DoubleFault.vector())],
        Event::PageFault { linear, .. } => vec![Focus::Page(linear >> 12)],
        Event::PageWalk { linear, frame, .. } => {
            let mut v = vec![Focus::Page(linear >> 12)];
            v.extend(frame.map(Focus::Frame));
            v
        }
        Event::TlbHit { page, frame, .. } | Event::TlbFill { page, frame, .. } => {
            vec![Focus::Page(*page), Focus::Frame(*frame)]
        }
        Event::TlbMiss { page } | Event::TlbEvict { page, .. } => vec![Focus::Page(*page)],
        Event::Cr3Write { new, .. } => vec![Focus::Frame(new >> 12)],
        Event::DiskRequest { addr, .. } | Event::Dma { addr, .. } => vec![Focus::Frame(addr >> 12)],
        Event::IrqRaised { vector, .. } => vec![Focus::Vector(*vector)],
        _ => Vec::new(),
    }
}

/// The Events panel's rows: the window of the filtered log (newest first)
/// that is in view, and how many events pass the filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRows {
    pub rows: Vec<EventLine>,
    pub first: usize,
    pub total: usize,
    /// Memory-mapped device accesses made since the machine started, and
    /// whether they are listed (only when the filter asks for them: while
    /// running, the page counts them instead of logging each).
    pub mmio: (u64, bool),
}

pub fn rows(session: &Session) -> EventRows {
    let m = session.guest().machine();
    let view = session.guest().view();
    let names = |v| view.vector_name(v);
    let devices = |irq| m.bus().device_on_line(irq);
    let keep = |e: &Event| match session.inspect().event_filter() {
        None => e.kind() != EventKind::TlbHit,
        Some(k) => e.kind() == k,
    };
    let newest_first = || {
        m.last_events()
            .iter()
            .rev()
            .map(|e| (m.steps(), e))
            .chain(m.event_log().iter().rev().map(|s| (s.step, &s.event)))
            .filter(|(_, e)| keep(e))
    };
    let total = newest_first().count();
    let first = session
        .inspect()
        .events_first()
        .saturating_sub(OVERSCAN)
        .min(total.saturating_sub(VISIBLE_ROWS));
    let rows = newest_first()
        .skip(first)
        .take(VISIBLE_ROWS + 2 * OVERSCAN)
        .map(|(step, e)| EventLine {
            step,
            kind: e.kind(),
            text: event_text(e, &names, &devices),
            links: event_links(e),
        })
        .collect();
    let listed = session.inspect().event_filter() == Some(EventKind::Mmio);
    EventRows {
        rows,
        first,
        total,
        mmio: (m.bus().mmio_accesses(), listed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_in_course_words() {
        let e = Event::DiskRequest {
            block: 1,
            addr: 0x1000,
            write: false,
            done_at: 0,
        };
        let m = osviz_machine::Machine::new(64 * 1024);
        let devices = |irq| m.bus().device_on_line(irq);
        let text = |e: &Event| event_text(e, &osviz_kernel::vectors::vector_name, &devices);
        assert_eq!(text(&e), "I/O request: disk block 1 into 00001000");
        let e = Event::IrqRaised {
            irq: 14,
            vector: 46,
        };
        assert_eq!(
            text(&e),
            "interrupt request: IRQ 14 from the disk (vector 0x2e (disk interrupt))"
        );
        let e = Event::IdeCommand {
            drive: 1,
            command: 0x30,
            sector: 9,
            count: 1,
        };
        assert_eq!(
            text(&e),
            "IDE command 0x30 (WRITE SECTORS) to drive 1: 1 sector(s) from 9"
        );
        for k in FILTER_KINDS {
            assert!(!k.label().contains('_'), "{}", k.label());
        }
    }

    #[test]
    fn the_window_follows_the_scroll_and_the_filter() {
        let mut s = Session::new("demand-paging");
        s.apply(crate::action::Action::SetBreak(Some(
            crate::session::BreakChoice::PageFault,
        )));
        s.apply(crate::action::Action::ToggleRun);
        while s.running() {
            s.tick_for_test(0.016);
        }
        let all = rows(&s);
        assert!(all.total > 0);
        assert!(all.rows.iter().all(|r| r.kind != EventKind::TlbHit));
        s.apply(crate::action::Action::Filter(Some(EventKind::PageFault)));
        let faults = rows(&s);
        assert_eq!(faults.total, 1, "one page fault so far");
        assert!(matches!(faults.rows[0].links[..], [Focus::Page(_)]));
    }
}
