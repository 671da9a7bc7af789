//! Plain, serializable pictures of the machine's state for the views (the
//! page, the wasm API, the command line). They are read off the machine,
//! never computed anew.

use crate::cpu::{Reg, Seg};
use crate::machine::Machine;
use crate::tlb::{Replacement, TlbEntry};
use serde::{Deserialize, Serialize};

/// Every register, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registers {
    pub eax: u32,
    pub ecx: u32,
    pub edx: u32,
    pub ebx: u32,
    pub esp: u32,
    pub ebp: u32,
    pub esi: u32,
    pub edi: u32,
    pub eip: u32,
    pub eflags: u32,
    pub cs: u16,
    pub ss: u16,
    pub ds: u16,
    pub es: u16,
    pub fs: u16,
    pub gs: u16,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub gdtr_base: u32,
    pub gdtr_limit: u16,
    pub idtr_base: u32,
    pub idtr_limit: u16,
    pub tr: u16,
    pub tss_base: u32,
    /// The current privilege level (0 kernel, 3 user).
    pub cpl: u8,
    pub halted: bool,
    pub steps: u64,
    pub retired: u64,
    pub clock: u64,
}

/// One valid TLB entry with its slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlbSlot {
    pub slot: u8,
    pub page: u32,
    pub frame: u32,
    pub writable: bool,
    pub user: bool,
    pub dirty: bool,
}

/// The TLB: its shape, its valid entries and its counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlbView {
    pub size: u8,
    pub replacement: Replacement,
    pub entries: Vec<TlbSlot>,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub flushes: u64,
}

impl Machine {
    /// Every register, by name.
    pub fn registers(&self) -> Registers {
        let c = &self.cpu;
        Registers {
            eax: c.reg(Reg::Eax),
            ecx: c.reg(Reg::Ecx),
            edx: c.reg(Reg::Edx),
            ebx: c.reg(Reg::Ebx),
            esp: c.reg(Reg::Esp),
            ebp: c.reg(Reg::Ebp),
            esi: c.reg(Reg::Esi),
            edi: c.reg(Reg::Edi),
            eip: c.eip,
            eflags: c.eflags(),
            cs: c.sreg(Seg::Cs),
            ss: c.sreg(Seg::Ss),
            ds: c.sreg(Seg::Ds),
            es: c.sreg(Seg::Es),
            fs: c.sreg(Seg::Fs),
            gs: c.sreg(Seg::Gs),
            cr0: c.cr0,
            cr2: c.cr2,
            cr3: c.cr3,
            cr4: c.cr4,
            gdtr_base: c.gdtr.base,
            gdtr_limit: c.gdtr.limit,
            idtr_base: c.idtr.base,
            idtr_limit: c.idtr.limit,
            tr: c.tr,
            tss_base: c.tss_base,
            cpl: c.cpl(),
            halted: self.halted,
            steps: self.steps,
            retired: self.retired,
            clock: self.clock(),
        }
    }

    /// The TLB's entries and counters.
    pub fn tlb_view(&self) -> TlbView {
        let entries = self
            .tlb
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| {
                e.map(|e: TlbEntry| TlbSlot {
                    slot: slot as u8,
                    page: e.page,
                    frame: e.frame,
                    writable: e.writable,
                    user: e.user,
                    dirty: e.dirty,
                })
            })
            .collect();
        TlbView {
            size: self.tlb.config.entries,
            replacement: self.tlb.config.replacement,
            entries,
            hits: self.tlb.hits,
            misses: self.tlb.misses,
            evictions: self.tlb.evictions,
            flushes: self.tlb.flushes,
        }
    }
}
