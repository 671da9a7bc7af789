//! The protected-mode system instructions that read or load descriptor
//! tables and selectors (`sgdt`, `sidt`, `sldt`, `str`, `lldt`, `verr`,
//! `verw`, `lar`, `lsl`, `arpl`) and the machine status word (`smsw`,
//! `lmsw`, `clts`), as the Intel SDM volume 2 describes each. All are rare:
//! [`Machine::execute_system`] is reached from `execute_rare` only.

use crate::cpu::{Cr0, Cr4, Flags};
use crate::decode::{Instr, Op, Operand, Width};
use crate::execute::Flow;
use crate::machine::Machine;
use crate::trap::{Descriptor, Exception};

type Result<T> = std::result::Result<T, Exception>;

/// CR0's task-switched bit.
const CR0_TS: u32 = 1 << 3;

/// What `lar` and `lsl` may report of a system descriptor on a 386 (the
/// SDM's tables for the two): TSSs and the LDT for both, gates for `lar`
/// alone.
fn system_type_valid(kind: u8, with_gates: bool) -> bool {
    match kind {
        0x1 | 0x2 | 0x3 | 0x9 | 0xB => true,
        0x4 | 0x5 | 0xC => with_gates,
        _ => false,
    }
}

impl Machine {
    /// The instructions of this module; `None` for any other.
    pub(crate) fn execute_system(&mut self, instr: &Instr) -> Option<Result<Flow>> {
        let result = match instr.op {
            Op::Sgdt | Op::Sidt => self.store_table_register(instr),
            Op::Smsw => {
                // To a 32-bit register, the whole of CR0 (as the Pentium and
                // later store it, and Bochs); else its low 16 bits.
                let cr0 = self.cpu.cr0;
                self.write_operand(&instr.dst, instr.width, cr0)
            }
            Op::Lmsw => self.lmsw(instr),
            Op::Clts => self.require_cpl0().map(|()| self.cpu.cr0 &= !CR0_TS),
            Op::Rdtsc => self.rdtsc(),
            Op::Sldt | Op::Str => self.require_protected().and_then(|()| {
                let selector = if instr.op == Op::Sldt {
                    self.cpu.ldtr
                } else {
                    self.cpu.tr
                };
                self.write_operand(&instr.dst, instr.width, u32::from(selector))
            }),
            Op::Lldt => self.lldt(instr),
            Op::Verr | Op::Verw => self.verify(instr),
            Op::Lar | Op::Lsl => self.lar_lsl(instr),
            Op::Arpl => self.arpl(instr),
            _ => return None,
        };
        Some(result.map(|()| Flow::Next))
    }

    /// These instructions are not recognized in real mode: #UD.
    fn require_protected(&self) -> Result<()> {
        if self.cpu.real_mode() {
            Err(Exception::InvalidOpcode)
        } else {
            Ok(())
        }
    }

    /// `rdtsc`: the time-stamp counter into EDX:EAX. osviz's counter is the
    /// step count (one step is 10 ns of the board's time, as the CMOS clock
    /// counts it: a 100 MHz TSC), this instruction's step included, the
    /// same whether the machine runs or single-steps. With CR4.TSD set it is ring 0's alone
    /// (#GP(0) elsewhere in protected mode; Intel SDM vol. 2, RDTSC).
    fn rdtsc(&mut self) -> Result<()> {
        if self.cpu.cr4 & Cr4::TSD != 0 && !self.cpu.real_mode() {
            self.require_cpl0()?;
        }
        self.settle_for_device();
        let tsc = self.steps;
        self.cpu.gpr[0] = tsc as u32;
        self.cpu.gpr[2] = (tsc >> 32) as u32;
        Ok(())
    }

    fn require_cpl0(&self) -> Result<()> {
        if self.cpu.cpl() == 0 {
            Ok(())
        } else {
            Err(Exception::GeneralProtection(0))
        }
    }

    /// `sgdt`/`sidt`: the limit in the first two bytes, then the base in
    /// four; with a 16-bit operand size the base's high byte is stored as 0
    /// (the SDM: "the 24-bit base address is stored ..., with the sixth
    /// byte filled with 0s").
    fn store_table_register(&mut self, instr: &Instr) -> Result<()> {
        let Operand::Mem(m) = instr.src else {
            return Err(Exception::InvalidOpcode);
        };
        let table = if instr.op == Op::Sgdt {
            self.cpu.gdtr
        } else {
            self.cpu.idtr
        };
        let base = if instr.width == Width::Word {
            table.base & 0x00FF_FFFF
        } else {
            table.base
        };
        let at = self.mem_linear(&m, 6, crate::Access::Write)?;
        // Both parts are checked before either is written.
        let limit_span = self.locate(at, 2, crate::Access::Write)?;
        let base_span = self.locate(at.wrapping_add(2), 4, crate::Access::Write)?;
        self.store_span(limit_span, 2, u32::from(table.limit));
        self.store_span(base_span, 4, base);
        Ok(())
    }

    /// `lmsw`: loads CR0's PE, MP, EM and TS from the source's low four
    /// bits; it can set PE but not clear it. Ring 0 only.
    fn lmsw(&mut self, instr: &Instr) -> Result<()> {
        self.require_cpl0()?;
        let msw = self.read_operand(&instr.src, Width::Word)?;
        let mut cr0 = (self.cpu.cr0 & !0xF) | (msw & 0xF);
        cr0 |= self.cpu.cr0 & Cr0::PE;
        self.set_cr0(cr0);
        Ok(())
    }

    /// `lldt`: a null selector leaves no LDT; else the selector must name
    /// an LDT descriptor in the GDT (#GP(selector) otherwise), present
    /// (#NP(selector)). Ring 0 only.
    fn lldt(&mut self, instr: &Instr) -> Result<()> {
        self.require_protected()?;
        self.require_cpl0()?;
        let selector = self.read_operand(&instr.src, Width::Word)? as u16;
        if selector & !3 == 0 {
            self.cpu.ldtr = selector;
            self.cpu.ldt_base = 0;
            self.cpu.ldt_limit = 0;
            return Ok(());
        }
        let code = u32::from(selector & !3);
        if selector & 4 != 0 {
            return Err(Exception::GeneralProtection(code));
        }
        let (low, high) = self.descriptor(selector)?;
        let d = Descriptor::decode(high);
        if d.kind != 0x02 {
            return Err(Exception::GeneralProtection(code));
        }
        if !d.present {
            return Err(Exception::NotPresent(code));
        }
        self.cpu.ldtr = selector;
        self.cpu.ldt_base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000);
        self.cpu.ldt_limit = Descriptor::limit(low, high);
        Ok(())
    }

    /// The descriptor `selector` names, for the instructions that test a
    /// selector without faulting on it: `None` for a null selector or one
    /// past its table's limit (a page fault reading the table still
    /// faults).
    fn probe_descriptor(&mut self, selector: u16) -> Result<Option<(u32, u32)>> {
        if selector & !3 == 0 || self.descriptor_address(selector).is_none() {
            return Ok(None);
        }
        self.descriptor(selector).map(Some)
    }

    /// Whether a segment's DPL lets the current privilege and the
    /// selector's RPL see it (a conforming code segment is seen from any
    /// ring).
    fn visible(&self, d: Descriptor, selector: u16) -> bool {
        let conforming = d.is_code() && d.kind & 0x04 != 0;
        conforming || (d.dpl >= self.cpu.cpl() && d.dpl >= (selector & 3) as u8)
    }

    /// `verr`/`verw`: ZF set when the segment can be read (`verr`: data,
    /// or readable code) or written (`verw`: writable data) at the current
    /// privilege and the selector's RPL; clear otherwise, without a fault.
    fn verify(&mut self, instr: &Instr) -> Result<()> {
        self.require_protected()?;
        let selector = self.read_operand(&instr.src, Width::Word)? as u16;
        let ok = match self.probe_descriptor(selector)? {
            None => false,
            Some((_, high)) => {
                let d = Descriptor::decode(high);
                let conforming = d.is_code() && d.kind & 0x04 != 0;
                let usable = if instr.op == Op::Verr {
                    !d.is_code() || d.readable_or_writable()
                } else {
                    !d.is_code() && d.readable_or_writable()
                };
                d.is_segment()
                    && usable
                    && (conforming && instr.op == Op::Verr || self.visible(d, selector))
            }
        };
        self.cpu.set_flag(Flags::ZF, ok);
        Ok(())
    }

    /// `lar`: the descriptor's second word masked to its access rights
    /// (0x00FFFF00 with a 32-bit operand, 0xFF00 with a 16-bit one);
    /// `lsl`: its limit in bytes. ZF says whether the destination was
    /// written: the descriptor must be a segment or a system descriptor of
    /// a type the instruction reports, visible at the current privilege.
    fn lar_lsl(&mut self, instr: &Instr) -> Result<()> {
        self.require_protected()?;
        let selector = self.read_operand(&instr.src, Width::Word)? as u16;
        let found = self.probe_descriptor(selector)?.filter(|&(_, high)| {
            let d = Descriptor::decode(high);
            let valid = d.is_segment() || system_type_valid(d.kind, instr.op == Op::Lar);
            valid && self.visible(d, selector)
        });
        let Some((low, high)) = found else {
            self.cpu.set_flag(Flags::ZF, false);
            return Ok(());
        };
        let value = if instr.op == Op::Lar {
            high & 0x00FF_FF00
        } else {
            Descriptor::limit(low, high)
        };
        self.write_operand(&instr.dst, instr.width, value)?;
        self.cpu.set_flag(Flags::ZF, true);
        Ok(())
    }

    /// `arpl`: when the destination selector's RPL is below the source's,
    /// it is raised to it and ZF set; else ZF is cleared and, as on a real
    /// 386, the destination is not written at all (test386 checks this
    /// with a read-only destination segment).
    fn arpl(&mut self, instr: &Instr) -> Result<()> {
        self.require_protected()?;
        let dst = self.read_operand(&instr.dst, Width::Word)?;
        let src = self.read_operand(&instr.src, Width::Word)?;
        if dst & 3 < src & 3 {
            self.write_operand(&instr.dst, Width::Word, (dst & !3) | (src & 3))?;
            self.cpu.set_flag(Flags::ZF, true);
        } else {
            self.cpu.set_flag(Flags::ZF, false);
        }
        Ok(())
    }
}
