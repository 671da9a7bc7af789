//! Far jumps, calls and returns in protected mode, as the Intel SDM's
//! `jmp`, `call` and `ret` pages give them: to a code segment of the same
//! privilege (conforming or not), and through a call gate, where a call to
//! a more privileged non-conforming segment switches to the stack the TSS
//! gives for that ring and copies the gate's parameters; a far return to an
//! outer ring pops the caller's SS:ESP. Task gates and TSSs (task switches)
//! are not modelled: #GP. Real mode's far transfers load CS as selector ×
//! 16 (see `execute_rare`).

use crate::cpu::{Reg, Seg, SegCache};
use crate::decode::Width;
use crate::event::Access;
use crate::machine::Machine;
use crate::trap::{Descriptor, Exception};

type Result<T> = std::result::Result<T, Exception>;

/// A stack: its segment's cache and the stack pointer.
#[derive(Clone, Copy)]
struct Stack {
    cache: SegCache,
    esp: u32,
}

impl Stack {
    /// The linear address of the slot `by` bytes below the pointer (above,
    /// for a negative `by`), within SP's 16 bits on a 16-bit stack.
    fn below(&self, by: u32) -> (u32, u32) {
        let moved = self.esp.wrapping_sub(by);
        let (offset, esp) = if self.cache.big {
            (moved, moved)
        } else {
            (moved & 0xFFFF, (self.esp & 0xFFFF_0000) | (moved & 0xFFFF))
        };
        (self.cache.base.wrapping_add(offset), esp)
    }
}

impl Machine {
    /// The GP error code of a selector.
    fn selector_error(selector: u16) -> Exception {
        Exception::GeneralProtection(u32::from(selector & !3))
    }

    /// Checks a code segment descriptor as the target of a far jump or
    /// call at the same privilege: non-conforming with DPL = CPL and RPL
    /// ≤ CPL, or conforming with DPL ≤ CPL; present. Returns its cache.
    fn same_ring_code(&self, selector: u16, low: u32, high: u32) -> Result<SegCache> {
        let d = Descriptor::decode(high);
        let cpl = self.cpu.cpl();
        let conforming = d.kind & 0x04 != 0;
        let allowed = if conforming {
            d.dpl <= cpl
        } else {
            d.dpl == cpl && (selector & 3) as u8 <= cpl
        };
        if !d.is_code() || !allowed {
            return Err(Self::selector_error(selector));
        }
        if !d.present {
            return Err(Exception::NotPresent(u32::from(selector & !3)));
        }
        Ok(Descriptor::cache(low, high))
    }

    /// A far jump (`call` false) or call to `selector:offset` in protected
    /// mode; `w` is the operand size (what a call pushes).
    pub(crate) fn far_transfer(
        &mut self,
        call: bool,
        selector: u16,
        offset: u32,
        w: Width,
    ) -> Result<()> {
        if selector & !3 == 0 {
            return Err(Exception::GeneralProtection(0));
        }
        let (low, high) = self.descriptor(selector)?;
        let d = Descriptor::decode(high);
        if d.is_segment() {
            let cache = self.same_ring_code(selector, low, high)?;
            let offset = offset & w.mask();
            if offset > cache.limit {
                return Err(Exception::GeneralProtection(0));
            }
            let cpl = u16::from(self.cpu.cpl());
            if call {
                let cs = u32::from(self.cpu.sreg(Seg::Cs));
                let eip = self.cpu.eip;
                self.push_on_current(&[cs, eip], w)?;
            }
            self.load_cs((selector & !3) | cpl, cache);
            self.cpu.eip = offset;
            return Ok(());
        }
        match d.kind {
            0x04 | 0x0C => self.through_call_gate(call, selector, low, high),
            // Task gates and TSSs switch tasks, which is not modelled.
            _ => Err(Self::selector_error(selector)),
        }
    }

    /// Pushes `values` in order on the current stack, each of width `w`;
    /// all slots are translated before any is written.
    fn push_on_current(&mut self, values: &[u32], w: Width) -> Result<()> {
        let stack = Stack {
            cache: self.cpu.segment(Seg::Ss),
            esp: self.cpu.reg(Reg::Esp),
        };
        let esp = self.push_on(stack, values, w, self.cpu.cpl() == 3)?;
        self.cpu.set_reg(Reg::Esp, esp);
        Ok(())
    }

    /// Pushes `values` in order on `stack`, each `w` wide, translated as
    /// `user` (or supervisor) accesses, all before any is written; returns
    /// the new stack pointer.
    fn push_on(&mut self, stack: Stack, values: &[u32], w: Width, user: bool) -> Result<u32> {
        let n = w.bytes();
        let mut spans = Vec::with_capacity(values.len());
        let mut esp = stack.esp;
        for (k, &v) in values.iter().enumerate() {
            let (linear, after) = stack.below(n * (k as u32 + 1));
            spans.push((self.locate_as(linear, n, Access::Write, user)?, v));
            esp = after;
        }
        for (span, v) in spans {
            self.store_span(span, n, v);
        }
        Ok(esp)
    }

    /// A far jump or call through the call gate `selector` (words `low`,
    /// `high`).
    fn through_call_gate(&mut self, call: bool, selector: u16, low: u32, high: u32) -> Result<()> {
        let gate = Descriptor::decode(high);
        let cpl = self.cpu.cpl();
        let rpl = (selector & 3) as u8;
        if gate.dpl < cpl || gate.dpl < rpl {
            return Err(Self::selector_error(selector));
        }
        if !gate.present {
            return Err(Exception::NotPresent(u32::from(selector & !3)));
        }
        // A 386 gate (type 0xC) holds a 32-bit offset and moves dwords; a
        // 286 gate (type 4) a 16-bit offset and words.
        let gate32 = gate.kind == 0x0C;
        let w = if gate32 { Width::Dword } else { Width::Word };
        let target = (low >> 16) as u16;
        let offset = if gate32 {
            (low & 0xFFFF) | (high & 0xFFFF_0000)
        } else {
            low & 0xFFFF
        };
        let params = high & 0x1F;
        if target & !3 == 0 {
            return Err(Exception::GeneralProtection(0));
        }
        let (code_low, code_high) = self.descriptor(target)?;
        let code = Descriptor::decode(code_high);
        let conforming = code.kind & 0x04 != 0;
        if !code.is_code() || code.dpl > cpl || (!call && !conforming && code.dpl != cpl) {
            return Err(Self::selector_error(target));
        }
        if !code.present {
            return Err(Exception::NotPresent(u32::from(target & !3)));
        }
        let cache = Descriptor::cache(code_low, code_high);
        if offset > cache.limit {
            return Err(Exception::GeneralProtection(0));
        }
        let cs = u32::from(self.cpu.sreg(Seg::Cs));
        let eip = self.cpu.eip;
        if call && !conforming && code.dpl < cpl {
            self.call_inward(code.dpl, w, params)?;
            // CS and EIP were pushed with the rest.
            self.load_cs((target & !3) | u16::from(code.dpl), cache);
        } else {
            if call {
                self.push_on_current(&[cs, eip], w)?;
            }
            self.load_cs((target & !3) | u16::from(cpl), cache);
        }
        self.cpu.eip = offset;
        Ok(())
    }

    /// The stack switch of a call to ring `dpl` through a gate of width
    /// `w` with `params` parameters: SS:ESP for that ring from the TSS
    /// (checked: RPL and DPL equal to the ring, writable data, present),
    /// then the caller's SS, ESP, the parameters copied from its stack, CS
    /// and EIP pushed on the new stack. Loads SS:ESP; the caller loads CS.
    fn call_inward(&mut self, dpl: u8, w: Width, params: u32) -> Result<()> {
        let tss = self.cpu.tss_base;
        let slot = 8 * u32::from(dpl);
        let new_esp = self.sys_read(tss.wrapping_add(4 + slot), 4)?;
        let ss = self.sys_read(tss.wrapping_add(8 + slot), 2)? as u16;
        let ts = Exception::InvalidTss(u32::from(ss & !3));
        if ss & !3 == 0 || (ss & 3) as u8 != dpl {
            return Err(ts);
        }
        let (ss_low, ss_high) = self.descriptor(ss)?;
        let d = Descriptor::decode(ss_high);
        if !d.is_segment() || d.is_code() || !d.readable_or_writable() || d.dpl != dpl {
            return Err(ts);
        }
        if !d.present {
            return Err(Exception::StackFault(u32::from(ss & !3)));
        }
        let new_cache = Descriptor::cache(ss_low, ss_high);
        let old = Stack {
            cache: self.cpu.segment(Seg::Ss),
            esp: self.cpu.reg(Reg::Esp),
        };
        let n = w.bytes();
        let user = self.cpu.cpl() == 3;
        // The parameters, from the highest address down, as they are pushed.
        let mut values = vec![u32::from(self.cpu.sreg(Seg::Ss)), old.esp];
        for k in (0..params).rev() {
            let at = old.cache.base.wrapping_add(if old.cache.big {
                old.esp.wrapping_add(k * n)
            } else {
                old.esp.wrapping_add(k * n) & 0xFFFF
            });
            values.push(self.lin_read_as(at, n, user)?);
        }
        values.push(u32::from(self.cpu.sreg(Seg::Cs)));
        values.push(self.cpu.eip);
        let stack = Stack {
            cache: new_cache,
            esp: new_esp,
        };
        let esp = self.push_on(stack, &values, w, dpl == 3)?;
        self.cpu.load_seg(Seg::Ss, ss, new_cache);
        self.cpu.set_reg(Reg::Esp, esp);
        Ok(())
    }

    /// Reads `n` bytes at `linear` as a `user` (or supervisor) access.
    fn lin_read_as(&mut self, linear: u32, n: u32, user: bool) -> Result<u32> {
        let span = self.locate_as(linear, n, Access::Read, user)?;
        Ok(self.load_span(span, n))
    }

    /// `retf imm` in protected mode with operand size `w`: pops EIP and CS
    /// (RPL ≥ CPL; a non-conforming segment's DPL = RPL, a conforming one's
    /// ≤ RPL; present), releases `release` bytes; to an outer ring it then
    /// pops ESP and SS (checked as `iret` does), releases the bytes there
    /// too, and nulls the data segment registers the outer ring may not use.
    pub(crate) fn far_return(&mut self, w: Width, release: u32) -> Result<()> {
        let n = w.bytes();
        let esp = self.cpu.reg(Reg::Esp);
        let at = |m: &Self, bytes: u32| m.stack_linear(m.stack_pointer_plus(esp, bytes));
        let eip = self.lin_read(at(self, 0), n)?;
        let cs = self.lin_read(at(self, n), n)? as u16;
        let cpl = self.cpu.cpl();
        let rpl = (cs & 3) as u8;
        if cs & !3 == 0 {
            return Err(Exception::GeneralProtection(0));
        }
        if rpl < cpl {
            return Err(Self::selector_error(cs));
        }
        let (low, high) = self.descriptor(cs)?;
        let d = Descriptor::decode(high);
        let conforming = d.kind & 0x04 != 0;
        if !d.is_code() || (conforming && d.dpl > rpl) || (!conforming && d.dpl != rpl) {
            return Err(Self::selector_error(cs));
        }
        if !d.present {
            return Err(Exception::NotPresent(u32::from(cs & !3)));
        }
        let cache = Descriptor::cache(low, high);
        let eip = eip & w.mask();
        if eip > cache.limit {
            return Err(Exception::GeneralProtection(0));
        }
        if rpl == cpl {
            let released = self.stack_pointer_plus(esp, 2 * n + release);
            self.load_cs(cs, cache);
            self.cpu.set_reg(Reg::Esp, released);
            self.cpu.eip = eip;
            return Ok(());
        }
        let above = 2 * n + release;
        let outer_esp = self.lin_read(at(self, above), n)?;
        let ss = self.lin_read(at(self, above + n), n)? as u16;
        if ss & !3 == 0 || (ss & 3) as u8 != rpl {
            return Err(Self::selector_error(ss));
        }
        let (ss_low, ss_high) = self.descriptor(ss)?;
        let sd = Descriptor::decode(ss_high);
        if !sd.is_segment() || sd.is_code() || !sd.readable_or_writable() || sd.dpl != rpl {
            return Err(Self::selector_error(ss));
        }
        if !sd.present {
            return Err(Exception::StackFault(u32::from(ss & !3)));
        }
        let ss_cache = Descriptor::cache(ss_low, ss_high);
        self.load_cs(cs, cache);
        self.cpu.eip = eip;
        self.cpu.load_seg(Seg::Ss, ss, ss_cache);
        let esp = if ss_cache.big {
            outer_esp
        } else {
            (self.cpu.reg(Reg::Esp) & 0xFFFF_0000) | (outer_esp & 0xFFFF)
        };
        self.cpu
            .set_reg(Reg::Esp, self.stack_pointer_plus(esp, release));
        self.null_outer_data_segments();
        Ok(())
    }
}
