//! The virtualization panels' data: the virtual machine (the real CPU
//! beside the one the guest believes in, the exits by reason), the last
//! exits in words, and the three page tables with one address followed
//! through them. The kernel view of the guest says every fact; these
//! functions only select and word them.

use crate::session::Session;
use osviz_view::{ExitReason, ExitView, ThreeTables, Translation, VirtualMachineView};
use serde::{Deserialize, Serialize};

/// An exit as the VM exits panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRow {
    pub number: u32,
    pub reason: ExitReason,
    /// The guest's instruction (or where an interrupt found it).
    pub eip: u32,
    pub instruction: String,
    /// Where that is in the guest's C: `file:line (function)`.
    pub place: String,
    /// What the exit concerned, in words: the port and its device, the
    /// faulting address, the vector.
    pub detail: String,
    /// The hypervisor's steps on it (`None` while it is being handled).
    pub steps: Option<u32>,
}

/// The exit's one word of detail in words.
fn detail(e: &ExitView) -> String {
    match e.reason {
        ExitReason::PortIo => match e.device {
            Some(d) => format!("port {:#x} ({})", e.info, d.words()),
            None => format!("port {:#x}", e.info),
        },
        ExitReason::Patched => format!(
            "rewritten from {}",
            e.original.as_deref().unwrap_or("an instruction")
        ),
        ExitReason::Privileged => "emulated on the virtual CPU".to_string(),
        ExitReason::Mmio => format!("guest-physical {:#x}", e.info),
        ExitReason::ShadowFill => format!("{:#x}: filled from the guest's tables", e.info),
        ExitReason::GuestPageFault => format!("{:#x}: the guest's own fault", e.info),
        ExitReason::Interrupt => format!(
            "vector {}: the hypervisor's; into the guest's handler once its virtual IF is on",
            e.info
        ),
        ExitReason::SystemCall => format!("vector {}, into the guest's gate", e.info),
        ExitReason::Exception => format!("vector {}, into the guest's handler", e.info),
    }
}

/// The place of a guest address in words.
fn place(e: &ExitView) -> String {
    let p = &e.place;
    let function = p.symbol.clone().unwrap_or_default();
    match (&p.file, p.line) {
        (Some(file), Some(line)) => {
            let file = file.rsplit('/').next().unwrap_or(file);
            if function.is_empty() {
                format!("{file}:{line}")
            } else {
                format!("{file}:{line} ({function})")
            }
        }
        _ => function,
    }
}

/// The log's exits, newest first.
pub fn exit_rows(vm: &VirtualMachineView) -> Vec<ExitRow> {
    vm.recent
        .iter()
        .rev()
        .map(|e| ExitRow {
            number: e.number,
            reason: e.reason,
            eip: e.eip,
            instruction: e.instruction.clone().unwrap_or_default(),
            place: place(e),
            detail: detail(e),
            steps: (e.steps != 0).then_some(e.steps),
        })
        .collect()
}

/// The three tables now, and one address followed through them: the one
/// typed in the Page walk panel, else the latest the CPU accessed (said by
/// `what`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreeWay {
    pub tables: ThreeTables,
    pub follow: Option<Translation>,
    pub what: String,
    pub guest_base: u32,
}

pub fn three_way(s: &Session, vm: Option<&VirtualMachineView>) -> Option<ThreeWay> {
    let m = s.guest().machine();
    let i = s.guest().view();
    let vm = vm?;
    let tables = i.three_tables(m)?;
    let (addr, what) = match s.inspect().walk_addr() {
        Some(a) => (a, "the address typed in the Page walk panel"),
        None => {
            let (a, what) = crate::views::code::latest_access(m);
            (a, what)
        }
    };
    Some(ThreeWay {
        tables,
        follow: i.translate_three(m, addr),
        what: what.to_string(),
        guest_base: vm.guest_base,
    })
}

/// What the Page walk panel says under a hypervisor: the tables the MMU
/// walked are the shadow's, not the guest's.
pub fn walked_tables(vm: &VirtualMachineView) -> String {
    format!(
        "the MMU walks the hypervisor's shadow page directory (the real CR3, {:#x}), not the guest's own (the CR3 the guest believes it loaded, guest-physical {:#x}): see Three page tables",
        vm.real.cr3, vm.virtual_cpu.cr3
    )
}
