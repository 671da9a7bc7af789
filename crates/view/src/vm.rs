//! A kernel run as a guest by a hypervisor, as the panels see it: the CPU
//! the guest believes in beside the real one, the hypervisor's exits, and
//! one address followed through the three page tables (the guest's, the
//! hypervisor's map of guest memory, and the shadow tables the MMU walks).
//! The kernel view of a guest says all of it
//! ([`crate::KernelView::virtual_machine`]); a kernel on the bare machine
//! says nothing.

use crate::SourcePlace;
use osviz_machine::DeviceClass;
use osviz_machine::{Machine, Pte};
use serde::{Deserialize, Serialize};

/// Why the guest stopped and the hypervisor ran: what the hypervisor
/// counts its exits by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// A privileged instruction (`cli`, `mov cr3`, `lgdt`, `hlt`, ...)
    /// faulted in the deprivileged guest kernel and was emulated.
    Privileged,
    /// `in` or `out`, passed to the board's device.
    PortIo,
    /// A load or store to the local or I/O APIC, emulated.
    Mmio,
    /// A hidden page fault: the shadow page table lacked an entry the
    /// guest's tables have, and the hypervisor filled it.
    ShadowFill,
    /// A true page fault of the guest, reflected into its own handler.
    GuestPageFault,
    /// A device's or the timer's interrupt, taken by the hypervisor and
    /// injected into the guest.
    Interrupt,
    /// `int n` (a system call), reflected into the guest's gate.
    SystemCall,
    /// A `pushfl` or `popfl` the hypervisor rewrote to trap.
    Patched,
    /// Another exception of the guest's, reflected.
    Exception,
}

impl ExitReason {
    /// Every reason, in the order the panels list them.
    pub const ALL: [ExitReason; 9] = [
        ExitReason::Privileged,
        ExitReason::PortIo,
        ExitReason::Mmio,
        ExitReason::ShadowFill,
        ExitReason::GuestPageFault,
        ExitReason::Interrupt,
        ExitReason::SystemCall,
        ExitReason::Patched,
        ExitReason::Exception,
    ];

    /// The reason as the panels and the lessons say it.
    pub fn label(self) -> &'static str {
        match self {
            ExitReason::Privileged => "privileged instruction",
            ExitReason::PortIo => "port I/O",
            ExitReason::Mmio => "APIC access (MMIO)",
            ExitReason::ShadowFill => "hidden page fault (shadow fill)",
            ExitReason::GuestPageFault => "guest page fault (reflected)",
            ExitReason::Interrupt => "interrupt (taken, then injected)",
            ExitReason::SystemCall => "system call (reflected)",
            ExitReason::Patched => "patched pushfl/popfl",
            ExitReason::Exception => "other exception (reflected)",
        }
    }
}

/// One side of the CPU: what it really holds, or what the guest believes
/// it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuSide {
    /// The privilege level (CPL).
    pub ring: u8,
    pub interrupts_enabled: bool,
    /// CR3: a host-physical address on the real side, a guest-physical
    /// one on the virtual side.
    pub cr3: u32,
    pub paging: bool,
    /// The IDTR's and GDTR's bases (linear addresses).
    pub idt_base: u32,
    pub gdt_base: u32,
}

/// Who the CPU runs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runner {
    /// The guest's own code, natively: its kernel deprivileged, or its
    /// user programs.
    Guest,
    /// The hypervisor, handling an exit.
    Hypervisor,
}

/// One exit of the hypervisor's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitView {
    /// Which exit it was (the count of exits then).
    pub number: u32,
    pub reason: ExitReason,
    /// The guest's instruction, or where an interrupt found it.
    pub eip: u32,
    /// What the exit concerned, as the hypervisor logs it: the port, the
    /// faulting or device address, the vector, the patched opcode; for a
    /// privileged instruction, the kind of instruction it decoded (or the
    /// CR3 a `mov` to a control register left).
    pub info: u32,
    /// The hypervisor's steps on it, from the trap to its return (0 while
    /// it is being handled).
    pub steps: u32,
    /// The guest's instruction at `eip`, disassembled from its memory (a
    /// patched `pushfl` reads as the `int3` the hypervisor put there).
    pub instruction: Option<String>,
    /// For a patched instruction, what was there before the hypervisor
    /// rewrote it (disassembled from the opcode the exit logged).
    pub original: Option<String>,
    /// The device behind the port of a port I/O exit.
    pub device: Option<DeviceClass>,
    /// Where `eip` is in the guest's source.
    pub place: SourcePlace,
}

/// The virtual machine now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachineView {
    pub runs: Runner,
    /// What the CPU really holds.
    pub real: CpuSide,
    /// What the guest believes it holds. Its ring is the one the guest's
    /// code thinks it runs in (its kernel believes ring 0).
    pub virtual_cpu: CpuSide,
    /// Where guest-physical address 0 lies in host-physical memory, and
    /// how much the guest has.
    pub guest_base: u32,
    pub guest_size: u32,
    /// Exits so far, and interrupts and exceptions delivered into the guest.
    pub exits: u32,
    pub injected: u32,
    /// The steps the hypervisor spent handling exits, as it timed them.
    pub vmm_steps: u64,
    /// Exits by reason, every reason.
    pub by_reason: Vec<(ExitReason, u32)>,
    /// The last exits, oldest first.
    pub recent: Vec<ExitView>,
}

impl VirtualMachineView {
    /// The guest's own steps of the machine's `steps`: the rest are the
    /// hypervisor's.
    pub fn guest_steps(&self, steps: u64) -> u64 {
        steps.saturating_sub(self.vmm_steps)
    }

    /// Exits per 1,000 of the guest's own steps.
    pub fn exits_per_thousand(&self, steps: u64) -> f64 {
        f64::from(self.exits) * 1000.0 / self.guest_steps(steps).max(1) as f64
    }

    /// The exits counted for `reason`.
    pub fn count(&self, reason: ExitReason) -> u32 {
        self.by_reason
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n)
    }
}

/// One page-table walk of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    /// The directory walked (a physical address of its own side).
    pub dir: u32,
    pub pde: u32,
    /// The table's entry, when the directory entry points to a table.
    pub pte: Option<u32>,
    /// The address the walk gives, when every entry is present.
    pub address: Option<u32>,
}

/// Walks the directory at physical `dir` (lying at `base` in the machine's
/// memory) for `va`; 4 MiB entries give their address without a table.
pub fn walk(m: &Machine, dir: u32, base: u32, va: u32) -> Walk {
    let read = |pa: u32| {
        let at = pa.wrapping_add(base);
        ((at as usize) + 4 <= m.mem().len()).then(|| m.mem().read(at, 4))
    };
    let dir = dir & Pte::FRAME;
    let pde = read(dir + (va >> 22) * 4).unwrap_or(0);
    let mut w = Walk {
        dir,
        pde,
        pte: None,
        address: None,
    };
    if pde & Pte::PRESENT == 0 {
        return w;
    }
    if pde & Pte::LARGE != 0 {
        w.address = Some((pde & 0xFFC0_0000) | (va & 0x003F_FFFF));
        return w;
    }
    let pte = read((pde & Pte::FRAME) + ((va >> 12) & 0x3FF) * 4).unwrap_or(0);
    w.pte = Some(pte);
    if pte & Pte::PRESENT != 0 {
        w.address = Some((pte & Pte::FRAME) | (va & 0xFFF));
    }
    w
}

/// One guest-virtual address followed through the three tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub gva: u32,
    /// In the guest's own tables, from its CR3: guest-physical.
    pub guest: Walk,
    /// The guest-physical address in host-physical memory, by the
    /// hypervisor's map (none past the guest's memory).
    pub host: Option<u32>,
    /// In the shadow tables, from the real CR3: host-physical, what the
    /// MMU gives.
    pub shadow: Walk,
}

impl Translation {
    /// The shadow holds the entry the guest's tables and the map imply.
    pub fn shadow_agrees(&self) -> bool {
        self.shadow.address.is_some() && self.shadow.address == self.host
    }
}

/// A user page of the running guest process in the three tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRow {
    pub page: u32,
    /// The guest's entry (its frame guest-physical).
    pub guest_pte: u32,
    /// Where the guest's frame lies in host-physical memory.
    pub host_frame: u32,
    /// The shadow's entry, if it has one for the page.
    pub shadow_pte: Option<u32>,
}

/// The running guest process's user pages in the three tables, and how
/// full the shadow is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeTables {
    /// The guest's CR3 (guest-physical) and the real one (host-physical).
    pub guest_dir: u32,
    pub shadow_dir: u32,
    pub rows: Vec<TableRow>,
    /// Present 4 KiB entries of the shadow below the guest kernel's base,
    /// and above it (the guest kernel's pages filled so far).
    pub shadow_user_entries: u32,
    pub shadow_kernel_entries: u32,
}
