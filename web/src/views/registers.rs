//! The registers the Registers panel shows.

use osviz_machine::{CodeSize, Cpu, Machine, Reg, Seg};
use serde::{Deserialize, Serialize};

/// The register values the panel shows, as plain data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterView {
    /// Name and value of each register row, in display order.
    pub rows: Vec<(String, u32)>,
    pub eflags: u32,
    pub cpl: u8,
    /// A hypervisor runs the kernel (ring 0 is the hypervisor's).
    pub hypervisor: bool,
    /// The CPU's mode in words: real or protected, the code's size, paging.
    pub mode: String,
    /// The segment registers, when segments matter (real mode, a segment
    /// with a base or 16-bit code or stack, or ring 1 or 2, where a
    /// hypervisor runs a guest's kernel and the selectors' RPL show ring
    /// compression): each selector and what the CPU loaded for it. Empty
    /// on a flat 32-bit machine in ring 0 or 3.
    pub segments: Vec<SegmentRow>,
}

/// One segment register as the panel shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    pub name: String,
    pub selector: u16,
    pub base: u32,
    pub limit: u32,
    /// 32-bit (the descriptor's D/B bit), else 16-bit.
    pub big: bool,
}

/// The CPU's mode as a student reads it, with how it makes addresses.
pub fn mode_words(c: &Cpu) -> String {
    let bits = match c.code_size() {
        CodeSize::Bits16 => "16-bit code",
        CodeSize::Bits32 => "32-bit code",
    };
    if c.real_mode() {
        let cs = c.sreg(Seg::Cs);
        return format!(
            "real mode · {bits} · CS:IP {cs:04X}:{:04X} = linear {:#x} (segment × 16 + offset), no paging",
            c.eip,
            c.seg_base(Seg::Cs).wrapping_add(c.eip)
        );
    }
    let paging = if c.paging() {
        "paging on"
    } else {
        "paging off"
    };
    format!("protected mode · {bits} · {paging}")
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
        let segments = if c.real_mode() || !c.is_flat() || matches!(c.cpl(), 1 | 2) {
            [Seg::Cs, Seg::Ds, Seg::Es, Seg::Ss]
                .iter()
                .map(|&s| {
                    let cache = c.segment(s);
                    SegmentRow {
                        name: s.name().to_string(),
                        selector: c.sreg(s),
                        base: cache.base,
                        limit: cache.limit,
                        big: cache.big,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        RegisterView {
            rows: rows
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
            eflags: c.eflags(),
            cpl: c.cpl(),
            hypervisor: false,
            mode: mode_words(c),
            segments,
        }
    }
}
