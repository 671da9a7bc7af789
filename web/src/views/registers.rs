//! The registers the Registers panel shows.

use osviz_machine::{Cpu, Machine, Reg};

/// The register values the panel shows, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterView {
    /// Name and value of each register row, in display order.
    pub rows: Vec<(&'static str, u32)>,
    pub eflags: u32,
    pub cpl: u8,
}

impl RegisterView {
    pub fn of(machine: &Machine) -> Self {
        Self::of_cpu(machine.cpu())
    }

    /// The registers of a CPU state (the session keeps the one before the
    /// latest action, to mark what changed).
    pub fn of_cpu(c: &Cpu) -> Self {
        let mut rows: Vec<(&'static str, u32)> =
            Reg::ALL.iter().map(|&r| (r.name(), c.reg(r))).collect();
        rows.extend([
            ("eip", c.eip),
            ("eflags", c.eflags()),
            ("cr0", c.cr0),
            ("cr2", c.cr2),
            ("cr3", c.cr3),
        ]);
        RegisterView {
            rows,
            eflags: c.eflags(),
            cpl: c.cpl(),
        }
    }
}
