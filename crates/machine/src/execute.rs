//! The interpreter: carries out one decoded [`Instr`] on the machine.
//!
//! Every instruction either completes or raises an [`Exception`] before it
//! changes anything the restarted instruction would read again, so a faulting
//! instruction can be restarted after its handler returns (demand paging
//! depends on that).

use crate::alu;
use crate::cpu::{Cr0, Cr4, Flags, LazyOp, Reg, Seg, SegCache};
use crate::decode::{Instr, MemRef, Op, Operand, Rep, StringOp, Width};
use crate::event::{Access, Event, EventKind, FlushReason, KindSet};
use crate::machine::Machine;
use crate::memory::PAGE_SIZE;
use crate::mmu::Span;
use crate::trap::{Descriptor, Exception, changeable_flags};

/// What the step loop does after an instruction.
#[derive(Debug)]
pub(crate) enum Flow {
    Next,
    /// The instruction faulted and the fault has been delivered already.
    Faulted,
    /// `hlt`: wait for an interrupt.
    Halt,
    /// The machine stopped for good; the reason is in `Machine::stopped`.
    Stop,
}

type Result<T> = std::result::Result<T, Exception>;

/// Where an operand lives once its address is known.
#[derive(Clone, Copy, Debug)]
enum Loc {
    Reg(u8),
    Mem(Span),
    Imm(u32),
}

impl Machine {
    /// The offset a memory operand names in its segment (what `lea`
    /// computes): 16 bits wide with a 16-bit address.
    #[inline(always)]
    pub(crate) fn effective_address(&self, m: &MemRef) -> u32 {
        let base = m.base.map_or(0, |r| self.cpu.reg(r));
        let index = m
            .index
            .map_or(0, |r| self.cpu.reg(r).wrapping_mul(u32::from(m.scale)));
        let offset = base.wrapping_add(index).wrapping_add(m.disp);
        if m.addr16 { offset & 0xFFFF } else { offset }
    }

    /// The linear address of a memory operand: its segment's base plus its
    /// offset.
    #[inline(always)]
    pub(crate) fn linear_address(&self, m: &MemRef) -> u32 {
        self.cpu
            .seg_base(m.seg)
            .wrapping_add(self.effective_address(m))
    }

    /// The linear address of `n` bytes at `offset` in segment `seg`, for an
    /// access of the kind given, checked as the SDM's segment checks go
    /// (except on a flat machine, where no check can fail): the offset
    /// within the limit (#GP(0), or #SS(0) for the stack segment), a data
    /// selector not null in protected mode (#GP(0)), the segment readable
    /// or writable as the access needs (#GP(0)).
    #[inline(always)]
    pub(crate) fn seg_linear(&self, seg: Seg, offset: u32, n: u32, access: Access) -> Result<u32> {
        if self.cpu.is_flat() {
            if self.cpu.checked_when_flat(seg) {
                self.seg_check(seg, offset, n, access)?;
            }
            return Ok(offset);
        }
        self.seg_check(seg, offset, n, access)?;
        Ok(self.cpu.seg_base(seg).wrapping_add(offset))
    }

    #[inline(never)]
    fn seg_check(&self, seg: Seg, offset: u32, n: u32, access: Access) -> Result<()> {
        let cache = self.cpu.segment(seg);
        let fault = if seg == Seg::Ss {
            Exception::StackFault(0)
        } else {
            Exception::GeneralProtection(0)
        };
        if !self.cpu.real_mode() && seg != Seg::Cs && self.cpu.sreg(seg) & !3 == 0 {
            return Err(Exception::GeneralProtection(0));
        }
        let allowed = match access {
            Access::Write => cache.writable(),
            _ => cache.readable(),
        };
        if !allowed && !self.cpu.real_mode() {
            return Err(Exception::GeneralProtection(0));
        }
        if !cache.holds(offset, n) {
            return Err(fault);
        }
        Ok(())
    }

    /// The linear address of a memory operand of `n` bytes, checked (see
    /// [`Machine::seg_linear`]).
    #[inline(always)]
    pub(crate) fn mem_linear(&self, m: &MemRef, n: u32, access: Access) -> Result<u32> {
        self.seg_linear(m.seg, self.effective_address(m), n, access)
    }

    /// The offset in the stack segment that the stack pointer value `sp`
    /// names: only SP's 16 bits on a 16-bit stack.
    #[inline(always)]
    pub(crate) fn stack_offset(&self, sp: u32) -> u32 {
        if self.cpu.stack16() { sp & 0xFFFF } else { sp }
    }

    /// The linear address the stack pointer value `sp` names.
    #[inline(always)]
    pub(crate) fn stack_linear(&self, sp: u32) -> u32 {
        self.cpu
            .seg_base(Seg::Ss)
            .wrapping_add(self.stack_offset(sp))
    }

    /// The stack pointer `sp` moved down by `n` bytes: a 16-bit stack
    /// changes only SP and wraps within its 64 KiB.
    #[inline(always)]
    pub(crate) fn stack_pointer_minus(&self, sp: u32, n: u32) -> u32 {
        self.stack_pointer_plus(sp, n.wrapping_neg())
    }

    /// The stack pointer `sp` moved up by `n` bytes (see
    /// [`Machine::stack_pointer_minus`]).
    #[inline(always)]
    pub(crate) fn stack_pointer_plus(&self, sp: u32, n: u32) -> u32 {
        if self.cpu.stack16() {
            (sp & 0xFFFF_0000) | (sp.wrapping_add(n) & 0xFFFF)
        } else {
            sp.wrapping_add(n)
        }
    }

    #[inline(always)]
    pub(crate) fn read_reg(&self, index: u8, width: Width) -> u32 {
        match width {
            Width::Dword => self.cpu.gpr[usize::from(index & 7)],
            Width::Word => self.cpu.gpr[usize::from(index & 7)] & 0xFFFF,
            Width::Byte if index < 4 => self.cpu.gpr[usize::from(index)] & 0xFF,
            Width::Byte => (self.cpu.gpr[usize::from((index - 4) & 3)] >> 8) & 0xFF,
        }
    }

    #[inline(always)]
    pub(crate) fn write_reg(&mut self, index: u8, width: Width, value: u32) {
        let (slot, mask, shift) = match width {
            Width::Dword => {
                self.cpu.gpr[usize::from(index & 7)] = value;
                return;
            }
            Width::Word => (index & 7, 0xFFFF, 0),
            Width::Byte if index < 4 => (index, 0xFF, 0),
            Width::Byte => ((index - 4) & 3, 0xFF, 8),
        };
        let r = &mut self.cpu.gpr[usize::from(slot)];
        *r = (*r & !(mask << shift)) | ((value & mask) << shift);
    }

    /// Resolves an operand for an access; memory operands are translated
    /// (and may fault) here.
    #[inline(always)]
    fn resolve(&mut self, operand: &Operand, width: Width, access: Access) -> Result<Loc> {
        Ok(match *operand {
            Operand::Reg(i) => Loc::Reg(i),
            Operand::Mem(m) => {
                let lin = self.mem_linear(&m, width.bytes(), access)?;
                Loc::Mem(self.locate(lin, width.bytes(), access)?)
            }
            Operand::Imm(v) => Loc::Imm(v),
            Operand::Sreg(s) => Loc::Imm(u32::from(self.cpu.sreg(Seg::from_index(s)))),
            Operand::Cr(n) => Loc::Imm(self.control_register(n)),
            Operand::None => Loc::Imm(0),
        })
    }

    #[inline(always)]
    fn load_loc(&mut self, loc: Loc, width: Width) -> u32 {
        match loc {
            Loc::Reg(i) => self.read_reg(i, width),
            Loc::Mem(span) => self.load_span(span, width.bytes()),
            Loc::Imm(v) => v & width.mask(),
        }
    }

    #[inline(always)]
    fn store_loc(&mut self, loc: Loc, width: Width, value: u32) {
        match loc {
            Loc::Reg(i) => self.write_reg(i, width, value),
            Loc::Mem(span) => self.store_span(span, width.bytes(), value),
            Loc::Imm(_) => {}
        }
    }

    /// Reads an operand (for instructions outside this module).
    pub(crate) fn read_operand(&mut self, operand: &Operand, width: Width) -> Result<u32> {
        self.read(operand, width)
    }

    /// Writes an operand (for instructions outside this module).
    pub(crate) fn write_operand(
        &mut self,
        operand: &Operand,
        width: Width,
        value: u32,
    ) -> Result<()> {
        self.write(operand, width, value)
    }

    /// Writes CR0 as `mov cr0` does (for instructions outside this module).
    pub(crate) fn set_cr0(&mut self, value: u32) {
        self.write_control_register(0, value);
    }

    #[inline(always)]
    fn read(&mut self, operand: &Operand, width: Width) -> Result<u32> {
        if let Operand::Reg(i) = *operand {
            return Ok(self.read_reg(i, width));
        }
        let loc = self.resolve(operand, width, Access::Read)?;
        Ok(self.load_loc(loc, width))
    }

    #[inline(always)]
    fn write(&mut self, operand: &Operand, width: Width, value: u32) -> Result<()> {
        if let Operand::Reg(i) = *operand {
            self.write_reg(i, width, value);
            return Ok(());
        }
        let loc = self.resolve(operand, width, Access::Write)?;
        self.store_loc(loc, width, value);
        Ok(())
    }

    /// Resolves a read-modify-write destination: translated for writing, so
    /// a read-only page faults before anything changes.
    #[inline(always)]
    fn rmw(&mut self, operand: &Operand, width: Width) -> Result<(Loc, u32)> {
        let loc = self.resolve(operand, width, Access::Write)?;
        Ok((loc, self.load_loc(loc, width)))
    }

    fn control_register(&self, n: u8) -> u32 {
        match n {
            0 => self.cpu.cr0,
            2 => self.cpu.cr2,
            3 => self.cpu.cr3,
            _ => self.cpu.cr4,
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, width: Width, value: u32) -> Result<()> {
        if !self.cpu.is_flat() {
            return self.push_segmented(width, value);
        }
        let esp = self.cpu.reg(Reg::Esp).wrapping_sub(width.bytes());
        if width == Width::Dword {
            self.lin_write32(esp, value, self.cpl_rights())?;
        } else {
            self.lin_write(esp, width.bytes(), value)?;
        }
        self.cpu.set_reg(Reg::Esp, esp);
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self, width: Width) -> Result<u32> {
        if !self.cpu.is_flat() {
            return self.pop_segmented(width);
        }
        let esp = self.cpu.reg(Reg::Esp);
        let value = if width == Width::Dword {
            self.lin_read32(esp, self.cpl_rights())?
        } else {
            self.lin_read(esp, width.bytes())?
        };
        self.cpu.set_reg(Reg::Esp, esp.wrapping_add(width.bytes()));
        Ok(value)
    }

    /// `push` through a stack segment with a base, or a 16-bit one.
    #[inline(never)]
    fn push_segmented(&mut self, width: Width, value: u32) -> Result<()> {
        let sp = self.stack_pointer_minus(self.cpu.reg(Reg::Esp), width.bytes());
        let at = self.seg_linear(Seg::Ss, self.stack_offset(sp), width.bytes(), Access::Write)?;
        self.lin_write(at, width.bytes(), value)?;
        self.cpu.set_reg(Reg::Esp, sp);
        Ok(())
    }

    /// `pop` through a stack segment with a base, or a 16-bit one.
    #[inline(never)]
    fn pop_segmented(&mut self, width: Width) -> Result<u32> {
        let sp = self.cpu.reg(Reg::Esp);
        let at = self.seg_linear(Seg::Ss, self.stack_offset(sp), width.bytes(), Access::Read)?;
        let value = self.lin_read(at, width.bytes())?;
        self.cpu
            .set_reg(Reg::Esp, self.stack_pointer_plus(sp, width.bytes()));
        Ok(value)
    }

    /// Evaluates condition `cc` (the low nibble of a Jcc opcode).
    #[inline(always)]
    pub(crate) fn condition(&self, cc: u8) -> bool {
        let f = |m| self.cpu.flag(m);
        let result = match cc >> 1 {
            0 => f(Flags::OF),
            1 => f(Flags::CF),
            2 => f(Flags::ZF),
            3 => f(Flags::CF) || f(Flags::ZF),
            4 => f(Flags::SF),
            5 => f(Flags::PF),
            6 => f(Flags::SF) != f(Flags::OF),
            _ => f(Flags::ZF) || f(Flags::SF) != f(Flags::OF),
        };
        result != (cc & 1 == 1)
    }

    fn require_ring0(&self) -> Result<()> {
        if self.cpu.cpl() == 0 {
            Ok(())
        } else {
            Err(Exception::GeneralProtection(0))
        }
    }

    /// `cli` and `sti` need CPL <= IOPL.
    fn require_io_privilege(&self) -> Result<()> {
        let iopl = (self.cpu.eflags() & Flags::IOPL) >> 12;
        if u32::from(self.cpu.cpl()) <= iopl {
            Ok(())
        } else {
            Err(Exception::GeneralProtection(0))
        }
    }

    /// `in`, `out`, `ins` and `outs` of `width` at `port`: allowed when
    /// CPL <= IOPL, else only if the TSS's I/O permission bitmap clears
    /// every bit of the ports touched. A bitmap base past the TSS limit
    /// (xv6 sets 0xFFFF) means no port is allowed: #GP(0).
    fn require_port_access(&mut self, port: u16, width: Width) -> Result<()> {
        if self.require_io_privilege().is_ok() {
            return Ok(());
        }
        let denied = Exception::GeneralProtection(0);
        if self.cpu.tr == 0 || self.cpu.tss_limit < 0x67 {
            return Err(denied);
        }
        let base = self.cpu.tss_base;
        let map = self.sys_read(base.wrapping_add(0x66), 2)?;
        let first = map + u32::from(port) / 8;
        if first + 1 > self.cpu.tss_limit {
            return Err(denied);
        }
        let bits = self.sys_read(base.wrapping_add(first), 2)?;
        let mask = ((1u32 << width.bytes()) - 1) << (port % 8);
        if bits & mask != 0 {
            return Err(denied);
        }
        Ok(())
    }

    /// Loads a data segment register (DS, ES, FS, GS or SS) with the checks
    /// the SDM gives for `mov sreg` and `pop sreg`; in real mode the base
    /// becomes selector × 16 and the limit and size stay as they were.
    fn load_segment(&mut self, seg: Seg, selector: u16) -> Result<()> {
        if self.cpu.real_mode() {
            let cache = self.cpu.segment(seg).with_real_base(selector);
            self.cpu.load_seg(seg, selector, cache);
            return Ok(());
        }
        let cpl = u16::from(self.cpu.cpl());
        let sel_code = u32::from(selector & !3);
        if selector & !3 == 0 {
            if seg == Seg::Ss {
                return Err(Exception::GeneralProtection(0));
            }
            self.cpu.load_selector(seg, selector);
            return Ok(());
        }
        let (low, high) = self.descriptor(selector)?;
        let d = Descriptor::decode(high);
        let dpl = u16::from(d.dpl);
        let present = d.present;
        let system = !d.is_segment();
        let code = d.is_code();
        let writable_or_readable = d.readable_or_writable();
        let rpl = selector & 3;
        if seg == Seg::Ss {
            if rpl != cpl || dpl != cpl || system || code || !writable_or_readable {
                return Err(Exception::GeneralProtection(sel_code));
            }
            if !present {
                return Err(Exception::StackFault(sel_code));
            }
        } else {
            if system || (code && !writable_or_readable) || dpl < cpl.max(rpl) {
                return Err(Exception::GeneralProtection(sel_code));
            }
            if !present {
                return Err(Exception::NotPresent(sel_code));
            }
        }
        self.cpu
            .load_seg(seg, selector, Descriptor::cache(low, high));
        Ok(())
    }

    fn write_control_register(&mut self, n: u8, value: u32) {
        match n {
            0 => {
                let old = self.cpu.cr0;
                let value = value | Cr0::ET;
                self.cpu.cr0 = value;
                self.emit(EventKind::Cr0Write, || Event::Cr0Write { old, new: value });
                if (old ^ value) & (Cr0::PG | Cr0::WP) != 0 {
                    let dropped = self.tlb.flush_all();
                    self.emit(EventKind::TlbFlush, || Event::TlbFlush {
                        reason: FlushReason::Cr0Write,
                        page: None,
                        dropped,
                    });
                }
            }
            2 => self.cpu.cr2 = value,
            3 => {
                let old = self.cpu.cr3;
                self.cpu.cr3 = value;
                self.emit(EventKind::Cr3Write, || Event::Cr3Write { old, new: value });
                let dropped = self.tlb.flush_all();
                self.emit(EventKind::TlbFlush, || Event::TlbFlush {
                    reason: FlushReason::Cr3Write,
                    page: None,
                    dropped,
                });
            }
            _ => {
                let old = self.cpu.cr4;
                self.cpu.cr4 = value;
                if (old ^ value) & Cr4::PSE != 0 {
                    let dropped = self.tlb.flush_all();
                    self.emit(EventKind::TlbFlush, || Event::TlbFlush {
                        reason: FlushReason::Cr4Write,
                        page: None,
                        dropped,
                    });
                }
            }
        }
    }

    /// The CS a far jump, call or return to `selector` loads in real
    /// mode: the selector × 16 as base, limit and size kept (protected
    /// mode's far transfers are in `far.rs`).
    fn real_code_segment(&self, selector: u16) -> (u16, SegCache) {
        (selector, self.cpu.segment(Seg::Cs).with_real_base(selector))
    }

    /// A two-operand ALU instruction on its operands (`Cpu::binary` says
    /// what it computes).
    #[inline(always)]
    fn binary(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let b = self.read(&instr.src, w)?;
        if crate::alu::stores(instr.op) {
            let (loc, a) = self.rmw(&instr.dst, w)?;
            let r = self.cpu.binary(instr.op, w, a, b);
            self.store_loc(loc, w, r);
        } else {
            let loc = self.resolve(&instr.dst, w, Access::Read)?;
            let a = self.load_loc(loc, w);
            self.cpu.binary(instr.op, w, a, b);
        }
        Ok(())
    }

    /// Executes `instr`, which started at `eip` and whose length EIP has
    /// already stepped over. The common instructions are handled here; the
    /// rest in [`Machine::execute_rare`], kept out of line so that this hot
    /// function stays small.
    #[inline]
    pub(crate) fn execute(&mut self, instr: &Instr, eip: u32) -> Result<Flow> {
        let w = instr.width;
        match instr.op {
            Op::Add
            | Op::Adc
            | Op::Sub
            | Op::Sbb
            | Op::Cmp
            | Op::And
            | Op::Or
            | Op::Xor
            | Op::Test => self.binary(instr)?,
            Op::Inc | Op::Dec => {
                let (loc, a) = self.rmw(&instr.dst, w)?;
                let r = self.cpu.inc_dec(instr.op == Op::Inc, w, a);
                self.store_loc(loc, w, r);
            }
            Op::Movzx | Op::Movsx => {
                let v = self.read(&instr.src, w)?;
                let v = if instr.op == Op::Movsx {
                    w.sign_extend(v)
                } else {
                    v
                };
                let dst_width = if instr.extra == 1 {
                    Width::Word
                } else {
                    Width::Dword
                };
                self.write(&instr.dst, dst_width, v)?;
            }
            Op::Lea => {
                if let Operand::Mem(m) = instr.src {
                    let ea = self.effective_address(&m);
                    self.write(&instr.dst, w, ea)?;
                }
            }
            Op::Push => {
                let v = self.read(&instr.src, w)?;
                self.push(w, v)?;
            }
            Op::Pop => {
                let esp = self.cpu.reg(Reg::Esp);
                let at =
                    self.seg_linear(Seg::Ss, self.stack_offset(esp), w.bytes(), Access::Read)?;
                let v = self.lin_read(at, w.bytes())?;
                let after = self.stack_pointer_plus(esp, w.bytes());
                match instr.dst {
                    Operand::Sreg(s) => self.load_segment(Seg::from_index(s), v as u16)?,
                    dst => {
                        // ESP is incremented before a memory destination's
                        // address is computed, as the SDM specifies.
                        self.cpu.set_reg(Reg::Esp, after);
                        if let Err(e) = self.write(&dst, w, v) {
                            self.cpu.set_reg(Reg::Esp, esp);
                            return Err(e);
                        }
                        return Ok(Flow::Next);
                    }
                }
                self.cpu.set_reg(Reg::Esp, after);
            }
            Op::Cmov => {
                let v = self.read(&instr.src, w)?;
                if self.condition(instr.extra as u8) {
                    self.write(&instr.dst, w, v)?;
                }
            }
            Op::Setcc => {
                let v = u32::from(self.condition(instr.extra as u8));
                self.write(&instr.dst, Width::Byte, v)?;
            }
            Op::Jcc(cc) => {
                if self.condition(cc) {
                    self.jump_relative(instr)?;
                }
            }
            Op::Loop => {
                // The address size picks the counter: CX or ECX.
                let counter = if instr.addr16 {
                    Width::Word
                } else {
                    Width::Dword
                };
                let ecx = self.read_reg(Reg::Ecx as u8, counter);
                let take = if instr.extra == 3 {
                    ecx == 0
                } else {
                    let ecx = ecx.wrapping_sub(1) & counter.mask();
                    self.write_reg(Reg::Ecx as u8, counter, ecx);
                    let zf = self.cpu.flag(Flags::ZF);
                    ecx != 0
                        && match instr.extra {
                            1 => zf,
                            2 => !zf,
                            _ => true,
                        }
                };
                if take && let Err(e) = self.jump_relative(instr) {
                    // A fault leaves the counter as the instruction found it.
                    self.write_reg(Reg::Ecx as u8, counter, ecx);
                    return Err(e);
                }
            }
            Op::Jmp => self.jump_relative(instr)?,
            Op::Call => {
                // The target is checked before anything is pushed.
                let next = self.cpu.eip;
                self.jump_relative(instr)?;
                let target = self.cpu.eip;
                self.cpu.eip = next;
                self.push(w, next)?;
                self.cpu.eip = target;
            }
            Op::Ret => {
                let before = self.cpu.reg(Reg::Esp);
                let target = self.pop(w)?;
                if let Err(e) = self.near_target(target) {
                    self.cpu.set_reg(Reg::Esp, before);
                    return Err(e);
                }
                let esp = self.stack_pointer_plus(self.cpu.reg(Reg::Esp), instr.extra);
                self.cpu.set_reg(Reg::Esp, esp);
                self.cpu.eip = target;
            }
            Op::Leave if w == Width::Dword => self.leave_frame()?,
            Op::Leave => self.leave_segmented(w)?,
            Op::Nop => {}
            Op::Mov
                if matches!(
                    (instr.dst, instr.src),
                    (
                        Operand::Reg(_) | Operand::Mem(_),
                        Operand::Reg(_) | Operand::Mem(_) | Operand::Imm(_)
                    )
                ) =>
            {
                let v = self.read(&instr.src, w)?;
                self.write(&instr.dst, w, v)?;
            }
            _ => return self.execute_rare(instr, eip),
        }
        Ok(Flow::Next)
    }

    /// The instructions that are rare in running code: system instructions,
    /// multiply and divide, shifts, string operations, and the like.
    #[inline(never)]
    fn execute_rare(&mut self, instr: &Instr, eip: u32) -> Result<Flow> {
        let w = instr.width;
        match instr.op {
            Op::Not => {
                let (loc, a) = self.rmw(&instr.dst, w)?;
                self.store_loc(loc, w, !a & w.mask());
            }
            Op::Neg => {
                let (loc, a) = self.rmw(&instr.dst, w)?;
                let r = 0u32.wrapping_sub(a) & w.mask();
                self.cpu.set_lazy(LazyOp::Sub, w, 0, a, r, false);
                self.store_loc(loc, w, r);
            }
            Op::Shift(kind) => {
                let count = self.read(&instr.src, Width::Byte)? & 0x1F;
                let (loc, a) = self.rmw(&instr.dst, w)?;
                if count != 0 {
                    let r = self.shift(kind, w, a, count);
                    self.store_loc(loc, w, r);
                }
            }
            Op::Mul | Op::Imul1 => {
                let b = self.read(&instr.src, w)?;
                self.multiply(instr.op == Op::Imul1, w, b);
            }
            Op::Imul2 | Op::Imul3 => {
                let (a, b) = if instr.op == Op::Imul2 {
                    (self.read(&instr.dst, w)?, self.read(&instr.src, w)?)
                } else {
                    (self.read(&instr.src, w)?, instr.extra & w.mask())
                };
                let r = self.imul(w, a, b);
                self.write(&instr.dst, w, r)?;
            }
            Op::Div | Op::Idiv => {
                let divisor = self.read(&instr.src, w)?;
                self.divide(instr.op == Op::Idiv, w, divisor)?;
            }
            Op::Cdq => {
                let a = self.read_reg(0, w);
                let fill = if a & w.sign_bit() != 0 { w.mask() } else { 0 };
                self.write_reg(2, w, fill);
            }
            Op::Cwde => {
                let half = if w == Width::Dword {
                    Width::Word
                } else {
                    Width::Byte
                };
                let a = half.sign_extend(self.read_reg(0, half));
                self.write_reg(0, w, a);
            }
            Op::Mov => match (instr.dst, instr.src) {
                (Operand::Sreg(s), src) => {
                    let selector = self.read(&src, Width::Word)? as u16;
                    self.load_segment(Seg::from_index(s), selector)?;
                }
                (Operand::Cr(n), src) => {
                    self.require_ring0()?;
                    let v = self.read(&src, Width::Dword)?;
                    self.write_control_register(n, v);
                }
                (dst, Operand::Cr(_)) => {
                    self.require_ring0()?;
                    let v = self.read(&instr.src, Width::Dword)?;
                    self.write(&dst, Width::Dword, v)?;
                }
                (dst, src) => {
                    let v = self.read(&src, w)?;
                    self.write(&dst, w, v)?;
                }
            },
            Op::Xchg => {
                let (loc, a) = self.rmw(&instr.dst, w)?;
                let b = self.read(&instr.src, w)?;
                self.store_loc(loc, w, b);
                self.write(&instr.src, w, a)?;
            }
            Op::Pushad => {
                let esp = self.cpu.reg(Reg::Esp);
                let n = w.bytes();
                for (i, r) in Reg::ALL.iter().enumerate() {
                    let v = if *r == Reg::Esp {
                        esp
                    } else {
                        self.cpu.reg(*r)
                    };
                    let at = self.stack_pointer_minus(esp, n * (i as u32 + 1));
                    let at = self.seg_linear(Seg::Ss, self.stack_offset(at), n, Access::Write)?;
                    self.lin_write(at, n, v)?;
                }
                self.cpu
                    .set_reg(Reg::Esp, self.stack_pointer_minus(esp, 8 * n));
            }
            Op::Popad => {
                let esp = self.cpu.reg(Reg::Esp);
                let n = w.bytes();
                let mut values = [0u32; 8];
                for (i, v) in values.iter_mut().enumerate() {
                    let at = self.stack_pointer_plus(esp, n * i as u32);
                    let at = self.seg_linear(Seg::Ss, self.stack_offset(at), n, Access::Read)?;
                    *v = self.lin_read(at, n)?;
                }
                // values[0] is EDI (pushed last); ESP's slot is skipped.
                for (i, v) in values.iter().enumerate() {
                    let r = 7 - i as u8;
                    if r != Reg::Esp as u8 {
                        self.write_reg(r, w, *v);
                    }
                }
                self.cpu
                    .set_reg(Reg::Esp, self.stack_pointer_plus(esp, 8 * n));
            }
            Op::Pushfd => {
                let v = self.cpu.eflags();
                self.push(w, v)?;
            }
            Op::Popfd => {
                let v = self.pop(w)?;
                self.popf(v, w);
            }
            Op::LoadPtr(seg) => {
                // The offset (of the operand size), then the selector; the
                // segment register is loaded (and checked) before the
                // general register is written.
                let Operand::Mem(m) = instr.src else {
                    return Err(Exception::InvalidOpcode);
                };
                let at = self.mem_linear(&m, w.bytes() + 2, Access::Read)?;
                let offset = self.lin_read(at, w.bytes())?;
                let selector = self.lin_read(at.wrapping_add(w.bytes()), 2)? as u16;
                self.load_segment(Seg::from_index(seg), selector)?;
                self.write(&instr.dst, w, offset)?;
            }
            Op::Sahf => {
                // The SDM: EFLAGS(SF:ZF:0:AF:0:PF:1:CF) := AH; OF unchanged.
                let ah = self.read_reg(4, Width::Byte);
                let mask = Flags::SF | Flags::ZF | Flags::AF | Flags::PF | Flags::CF;
                self.cpu.set_status(ah, mask);
            }
            Op::Lahf => {
                // AH := EFLAGS(SF:ZF:0:AF:0:PF:1:CF).
                let mask = Flags::SF | Flags::ZF | Flags::AF | Flags::PF | Flags::CF;
                let ah = (self.cpu.eflags() & mask) | Flags::RESERVED_ONE;
                self.write_reg(4, Width::Byte, ah);
            }
            Op::JmpFar | Op::CallFar => {
                let (selector, offset) = match instr.src {
                    Operand::Mem(m) => {
                        // The pointer in memory: the offset, then the selector.
                        let at = self.mem_linear(&m, w.bytes() + 2, Access::Read)?;
                        let offset = self.lin_read(at, w.bytes())?;
                        let selector = self.lin_read(at.wrapping_add(w.bytes()), 2)? as u16;
                        (selector, offset)
                    }
                    Operand::Imm(offset) => (instr.extra as u16, offset),
                    _ => return Err(Exception::InvalidOpcode),
                };
                if !self.cpu.real_mode() {
                    self.far_transfer(instr.op == Op::CallFar, selector, offset, w)?;
                    return Ok(Flow::Next);
                }
                let (selector, cache) = self.real_code_segment(selector);
                if instr.op == Op::CallFar {
                    // CS, then the return offset, each of the operand size;
                    // both pushes are checked before either is made.
                    let cs = u32::from(self.cpu.sreg(Seg::Cs));
                    let esp = self.cpu.reg(Reg::Esp);
                    self.push(w, cs)?;
                    if let Err(e) = self.push(w, self.cpu.eip) {
                        self.cpu.set_reg(Reg::Esp, esp);
                        return Err(e);
                    }
                }
                self.load_cs(selector, cache);
                self.cpu.eip = offset & w.mask();
            }
            Op::RetFar if !self.cpu.real_mode() => self.far_return(w, instr.extra)?,
            Op::RetFar => {
                let esp = self.cpu.reg(Reg::Esp);
                let offset = self.lin_read(self.stack_linear(esp), w.bytes())?;
                let above = self.stack_pointer_plus(esp, w.bytes());
                let selector = self.lin_read(self.stack_linear(above), 2)? as u16;
                let (selector, cache) = self.real_code_segment(selector);
                let released = self.stack_pointer_plus(esp, 2 * w.bytes() + instr.extra);
                self.load_cs(selector, cache);
                self.cpu.set_reg(Reg::Esp, released);
                self.cpu.eip = offset & w.mask();
            }
            Op::JmpIndirect => {
                let target = self.read(&instr.src, w)?;
                self.near_target(target)?;
                self.cpu.eip = target;
            }
            Op::CallIndirect => {
                let target = self.read(&instr.src, w)?;
                self.near_target(target)?;
                self.push(w, self.cpu.eip)?;
                self.cpu.eip = target;
            }
            Op::Into if !self.cpu.flag(Flags::OF) => {}
            Op::Int | Op::Int3 | Op::Into => {
                let next = self.cpu.eip;
                return Ok(
                    match self.software_interrupt(instr.extra as u8, next, eip) {
                        Ok(true) => Flow::Next,
                        Ok(false) => Flow::Faulted,
                        Err(t) => {
                            self.triple_fault_stop(t.vector);
                            Flow::Stop
                        }
                    },
                );
            }
            Op::Iret => self.iret(w)?,
            Op::String(kind) => return self.string_op(kind, instr, eip),
            Op::Cli | Op::Sti => {
                self.require_io_privilege()?;
                if instr.op == Op::Sti && !self.cpu.flag(Flags::IF) {
                    // Interrupts are recognized only after the next instruction.
                    self.irq_inhibit = true;
                }
                self.cpu.set_flag(Flags::IF, instr.op == Op::Sti);
            }
            Op::Cld => self.cpu.set_flag(Flags::DF, false),
            Op::Std => self.cpu.set_flag(Flags::DF, true),
            Op::Clc => self.cpu.set_flag(Flags::CF, false),
            Op::Stc => self.cpu.set_flag(Flags::CF, true),
            Op::Cmc => {
                let cf = self.cpu.flag(Flags::CF);
                self.cpu.set_flag(Flags::CF, !cf);
            }
            Op::Hlt => {
                self.require_ring0()?;
                self.emit(EventKind::Halt, || Event::Halt { eip });
                return Ok(Flow::Halt);
            }
            Op::Lgdt | Op::Lidt => {
                self.require_ring0()?;
                if let Operand::Mem(m) = instr.src {
                    let addr = self.mem_linear(&m, 6, Access::Read)?;
                    let limit = self.lin_read(addr, 2)? as u16;
                    // With a 16-bit operand size only 24 bits of the base
                    // are loaded.
                    let base = self.lin_read(addr.wrapping_add(2), 4)?
                        & if w == Width::Word {
                            0x00FF_FFFF
                        } else {
                            u32::MAX
                        };
                    let reg = if instr.op == Op::Lgdt {
                        &mut self.cpu.gdtr
                    } else {
                        &mut self.cpu.idtr
                    };
                    reg.base = base;
                    reg.limit = limit;
                }
            }
            Op::Ltr => {
                self.require_ring0()?;
                let selector = self.read(&instr.src, Width::Word)? as u16;
                self.load_task_register(selector)?;
            }
            Op::Invlpg => {
                self.require_ring0()?;
                if let Operand::Mem(m) = instr.src {
                    let page = self.linear_address(&m) >> 12;
                    let dropped = u32::from(self.tlb.flush_page(page));
                    self.emit(EventKind::TlbFlush, || Event::TlbFlush {
                        reason: FlushReason::Invlpg,
                        page: Some(page),
                        dropped,
                    });
                }
            }
            Op::In => {
                let port = self.port_operand(&instr.src);
                self.require_port_access(port, w)?;
                let v = self.port_in(port, w);
                self.write_reg(0, w, v);
            }
            Op::Out => {
                let port = self.port_operand(&instr.dst);
                self.require_port_access(port, w)?;
                let v = self.read_reg(0, w);
                if let Some(stop) = self.port_out(port, w, v) {
                    self.stopped = Some(stop);
                    return Ok(Flow::Stop);
                }
            }
            Op::Ud2 => return Err(Exception::InvalidOpcode),
            // The system instructions of `protect.rs`; every other
            // operation is handled above or in `execute`, and should one
            // ever be missed, it is an invalid opcode, not a crash.
            _ => {
                return match self.execute_system(instr) {
                    Some(result) => result,
                    None => self
                        .execute_386(instr)
                        .unwrap_or(Err(Exception::InvalidOpcode)),
                };
            }
        }
        Ok(Flow::Next)
    }

    fn port_operand(&self, operand: &Operand) -> u16 {
        match *operand {
            Operand::Imm(p) => p as u16,
            _ => self.cpu.reg(Reg::Edx) as u16,
        }
    }

    /// A relative jump; with a 16-bit operand size IP wraps within 64 KiB.
    #[inline(always)]
    fn jump_relative(&mut self, instr: &Instr) -> Result<()> {
        if let Operand::Imm(rel) = instr.src {
            let target = self.cpu.eip.wrapping_add(rel) & instr.width.mask();
            self.near_target(target)?;
            self.cpu.eip = target;
        }
        Ok(())
    }

    /// A near jump, call or return to `target` faults with #GP(0), before
    /// it changes anything, when the target lies past CS's limit (never on
    /// a flat machine, whose CS holds every offset).
    #[inline(always)]
    fn near_target(&self, target: u32) -> Result<()> {
        if self.cpu.is_flat() || target <= self.cpu.segment(Seg::Cs).limit {
            Ok(())
        } else {
            Err(Exception::GeneralProtection(0))
        }
    }

    /// `popfd`: ring 0 may change every writable bit; ring 3 neither IOPL nor,
    /// unless IOPL allows it, IF.
    fn popf(&mut self, value: u32, w: Width) {
        let old = self.cpu.eflags();
        let writable = changeable_flags(self.cpu.cpl(), old) & w.mask();
        self.cpu.set_eflags((old & !writable) | (value & writable));
    }

    /// A shift or rotate of `a` by `count` (1 to 31, already masked; a
    /// count of 0 changes nothing and is not passed here): the result, with
    /// the flags set. Shared by the step and the block paths.
    #[inline(always)]
    pub(crate) fn shift(
        &mut self,
        kind: crate::decode::Shift,
        w: Width,
        a: u32,
        count: u32,
    ) -> u32 {
        let carry = self.cpu.flag(Flags::CF);
        let (r, status, mask) = alu::shift(kind, a, count, carry, w);
        self.cpu.set_status(status, mask);
        r
    }

    /// The two- and three-operand `imul`: the truncated signed product,
    /// with CF and OF set when it does not fit. Shared by the step and the
    /// block paths.
    #[inline(always)]
    pub(crate) fn imul(&mut self, w: Width, a: u32, b: u32) -> u32 {
        let wide = i64::from(w.sign_extend(a) as i32) * i64::from(w.sign_extend(b) as i32);
        let r = wide as u32 & w.mask();
        let overflow = i64::from(w.sign_extend(r) as i32) != wide;
        self.set_mul_flags(r, w, overflow);
        r
    }

    /// `leave`: ESP from EBP, then EBP popped. Shared by the step and the
    /// block paths.
    #[inline(always)]
    pub(crate) fn leave_frame(&mut self) -> Result<()> {
        if !self.cpu.is_flat() {
            return self.leave_segmented(Width::Dword);
        }
        let ebp = self.cpu.reg(Reg::Ebp);
        let saved = self.lin_read(ebp, 4)?;
        self.cpu.set_reg(Reg::Esp, ebp.wrapping_add(4));
        self.cpu.set_reg(Reg::Ebp, saved);
        Ok(())
    }

    /// `leave` through a stack segment with a base or a 16-bit one, or
    /// with a 16-bit operand size (BP popped): SP (or ESP) from BP (or
    /// EBP), then the frame pointer popped.
    fn leave_segmented(&mut self, w: Width) -> Result<()> {
        let sp = self.cpu.reg(Reg::Esp);
        let bp = self.cpu.reg(Reg::Ebp);
        let sp = if self.cpu.stack16() {
            (sp & 0xFFFF_0000) | (bp & 0xFFFF)
        } else {
            bp
        };
        let at = self.seg_linear(Seg::Ss, self.stack_offset(sp), w.bytes(), Access::Read)?;
        let saved = self.lin_read(at, w.bytes())?;
        self.cpu
            .set_reg(Reg::Esp, self.stack_pointer_plus(sp, w.bytes()));
        self.write_reg(Reg::Ebp as u8, w, saved);
        Ok(())
    }

    fn set_mul_flags(&mut self, low: u32, w: Width, overflow: bool) {
        let mut status = alu::logic(low, w);
        if overflow {
            status |= Flags::CF | Flags::OF;
        }
        self.cpu.set_status(status, Flags::STATUS);
    }

    fn multiply(&mut self, signed: bool, w: Width, b: u32) {
        let a = self.read_reg(0, w);
        let (low, high, overflow) = if signed {
            let wide = i64::from(w.sign_extend(a) as i32) * i64::from(w.sign_extend(b) as i32);
            let low = wide as u32 & w.mask();
            let high = (wide >> w.bits()) as u32 & w.mask();
            (low, high, i64::from(w.sign_extend(low) as i32) != wide)
        } else {
            let wide = u64::from(a) * u64::from(b);
            let high = (wide >> w.bits()) as u32 & w.mask();
            (wide as u32 & w.mask(), high, high != 0)
        };
        match w {
            Width::Byte => self.write_reg(0, Width::Word, (high << 8) | low),
            _ => {
                self.write_reg(0, w, low);
                self.write_reg(2, w, high);
            }
        }
        self.set_mul_flags(low, w, overflow);
    }

    fn divide(&mut self, signed: bool, w: Width, divisor: u32) -> Result<()> {
        if divisor == 0 {
            return Err(Exception::DivideError);
        }
        let bits = w.bits();
        let dividend: u64 = match w {
            Width::Byte => u64::from(self.read_reg(0, Width::Word)),
            _ => (u64::from(self.read_reg(2, w)) << bits) | u64::from(self.read_reg(0, w)),
        };
        let (q, r) = if signed {
            // Sign-extend the double-width dividend.
            let shift = 64 - 2 * bits;
            let n = ((dividend << shift) as i64) >> shift;
            let d = i64::from(w.sign_extend(divisor) as i32);
            // EDX:EAX = -2^63 over -1 is the one quotient i64 cannot hold
            // (it would panic); it is past any width's range, so #DE.
            let (Some(q), Some(r)) = (n.checked_div(d), n.checked_rem(d)) else {
                return Err(Exception::DivideError);
            };
            let min = -(1i64 << (bits - 1));
            let max = (1i64 << (bits - 1)) - 1;
            if q < min || q > max {
                return Err(Exception::DivideError);
            }
            (q as u32 & w.mask(), r as u32 & w.mask())
        } else {
            let q = dividend / u64::from(divisor);
            if q > u64::from(w.mask()) {
                return Err(Exception::DivideError);
            }
            (q as u32, (dividend % u64::from(divisor)) as u32)
        };
        match w {
            Width::Byte => self.write_reg(0, Width::Word, (r << 8) | q),
            _ => {
                self.write_reg(0, w, q);
                self.write_reg(2, w, r);
            }
        }
        Ok(())
    }

    fn load_task_register(&mut self, selector: u16) -> Result<()> {
        let (low, high) = self.descriptor(selector)?;
        let d = Descriptor::decode(high);
        if !d.is_available_tss() {
            return Err(Exception::GeneralProtection(u32::from(selector & !3)));
        }
        if !d.present {
            return Err(Exception::NotPresent(u32::from(selector & !3)));
        }
        // Mark the descriptor busy, as `ltr` does.
        let addr = self
            .cpu
            .gdtr
            .base
            .wrapping_add(u32::from(selector & !7))
            .wrapping_add(4);
        let span = self.locate_sys(addr, Access::Write)?;
        self.store_span(span, 4, high | (1 << 9));
        self.cpu.tr = selector;
        self.cpu.tss_base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000);
        self.cpu.tss_limit = Descriptor::limit(low, high);
        Ok(())
    }

    /// The fast form of `rep stos` and `rep movs` going forward while TLB
    /// hits are not noticed: the elements that lie in the current page (of
    /// the source and the destination) are moved at once. The first goes through the TLB
    /// as a single element would (so a fault, a miss or a first write is
    /// handled the usual way); the rest are hits on the same entries, which
    /// is all the TLB model counts. `None` when the fast form does not
    /// apply (one element, memory-mapped or overlapping ranges); the caller
    /// then moves one element the usual way.
    fn bulk_string(
        &mut self,
        kind: StringOp,
        w: Width,
        esi: u32,
        edi: u32,
        left: u32,
    ) -> Result<Option<u32>> {
        let n = w.bytes();
        let in_page = |a: u32| (PAGE_SIZE - (a & (PAGE_SIZE - 1))) / n;
        let ecx = self.cpu.reg(Reg::Ecx);
        let mut k = ecx.min(left).min(in_page(edi));
        if kind == StringOp::Movs {
            k = k.min(in_page(esi));
        }
        if k < 2 || !matches!(kind, StringOp::Stos | StringOp::Movs) {
            return Ok(None);
        }
        let paging = self.cpu.paging();
        let len = (k * n) as usize;
        match kind {
            StringOp::Stos => {
                let dst = self.locate(edi, n, Access::Write)?;
                let value = self.read_reg(0, w);
                if dst.split.is_some() || !self.mem.fill(dst.pa, k as usize, n as usize, value) {
                    self.store_span(dst, n, value);
                    self.cpu.set_reg(Reg::Edi, edi.wrapping_add(n));
                    return Ok(Some(1));
                }
                self.cpu.set_reg(Reg::Edi, edi.wrapping_add(k * n));
            }
            _ => {
                let src = self.locate(esi, n, Access::Read)?;
                let dst = self.locate(edi, n, Access::Write)?;
                if src.split.is_some() || dst.split.is_some() || !self.mem.copy(src.pa, dst.pa, len)
                {
                    let v = self.load_span(src, n);
                    self.store_span(dst, n, v);
                    self.cpu.set_reg(Reg::Esi, esi.wrapping_add(n));
                    self.cpu.set_reg(Reg::Edi, edi.wrapping_add(n));
                    return Ok(Some(1));
                }
                self.cpu.set_reg(Reg::Esi, esi.wrapping_add(k * n));
                self.cpu.set_reg(Reg::Edi, edi.wrapping_add(k * n));
            }
        }
        if paging {
            // Each later element would hit the entries the first one used:
            // one (the destination) for `stos`, two for `movs`.
            let per_element = if kind == StringOp::Movs { 2 } else { 1 };
            self.tlb.count_hits(per_element * u64::from(k - 1));
        }
        Ok(Some(k))
    }

    /// One step of a string instruction: up to `MachineConfig::rep_chunk`
    /// iterations.
    fn string_op(&mut self, kind: StringOp, instr: &Instr, eip: u32) -> Result<Flow> {
        let w = instr.width;
        let n = w.bytes();
        let step = if self.cpu.flag(Flags::DF) {
            n.wrapping_neg()
        } else {
            n
        };
        let repeated = instr.rep != Rep::None;
        let port = self.cpu.reg(Reg::Edx) as u16;
        if matches!(kind, StringOp::Ins | StringOp::Outs) {
            self.require_port_access(port, w)?;
        }
        // The address size picks SI, DI and CX or ESI, EDI and ECX; the
        // source goes through DS (or a prefix's segment), the destination
        // through ES.
        let index = Index::of(instr.addr16);
        // A source through a null FS or GS is checked even on a flat machine.
        let checked = !self.cpu.is_flat() || self.cpu.checked_when_flat(instr.seg);
        let flat = !checked && !instr.addr16;
        let src_base = self.cpu.seg_base(instr.seg);
        let dst_base = self.cpu.seg_base(Seg::Es);
        let mut left = self.config().rep_chunk.max(1);
        loop {
            if repeated && self.cpu.reg(Reg::Ecx) & index.mask == 0 {
                return Ok(Flow::Next);
            }
            let esi = self.cpu.reg(Reg::Esi);
            let edi = self.cpu.reg(Reg::Edi);
            let src = src_base.wrapping_add(esi & index.mask);
            let dst = dst_base.wrapping_add(edi & index.mask);
            if checked {
                if matches!(
                    kind,
                    StringOp::Movs | StringOp::Outs | StringOp::Lods | StringOp::Cmps
                ) {
                    self.seg_check(instr.seg, esi & index.mask, n, Access::Read)?;
                }
                match kind {
                    StringOp::Movs | StringOp::Stos | StringOp::Ins => {
                        self.seg_check(Seg::Es, edi & index.mask, n, Access::Write)?
                    }
                    StringOp::Cmps | StringOp::Scas => {
                        self.seg_check(Seg::Es, edi & index.mask, n, Access::Read)?
                    }
                    _ => {}
                }
            }
            // The fast form makes the same events as one element at a time
            // but for the TLB hits of the later elements, which it counts:
            // so it applies while hits are not noticed (events off, or
            // recorded as the page records at full speed).
            if repeated
                && flat
                && !self.notices(KindSet(EventKind::TlbHit.bit()))
                && step == n
                && let Some(done) = self.bulk_string(kind, w, esi, edi, left)?
            {
                // `done` elements moved at once, exactly as one at a time.
                let ecx = self.cpu.reg(Reg::Ecx) - done;
                self.cpu.set_reg(Reg::Ecx, ecx);
                if ecx == 0 {
                    return Ok(Flow::Next);
                }
                left -= done;
                if left == 0 {
                    self.cpu.eip = eip;
                    return Ok(Flow::Next);
                }
                continue;
            }
            match kind {
                StringOp::Movs => {
                    let v = self.lin_read(src, n)?;
                    self.lin_write(dst, n, v)?;
                    index.advance(&mut self.cpu, Reg::Esi, step);
                    index.advance(&mut self.cpu, Reg::Edi, step);
                }
                StringOp::Stos => {
                    let v = self.read_reg(0, w);
                    self.lin_write(dst, n, v)?;
                    index.advance(&mut self.cpu, Reg::Edi, step);
                }
                StringOp::Ins => {
                    // The destination is checked before the port is read,
                    // so that a page fault leaves the device untouched and
                    // the instruction restarts cleanly.
                    let span = self.locate(dst, n, Access::Write)?;
                    let v = self.port_in(port, w);
                    self.store_span(span, n, v);
                    index.advance(&mut self.cpu, Reg::Edi, step);
                }
                StringOp::Outs => {
                    let v = self.lin_read(src, n)?;
                    index.advance(&mut self.cpu, Reg::Esi, step);
                    if let Some(stop) = self.port_out(port, w, v) {
                        self.stopped = Some(stop);
                        return Ok(Flow::Stop);
                    }
                }
                StringOp::Lods => {
                    let v = self.lin_read(src, n)?;
                    self.write_reg(0, w, v);
                    index.advance(&mut self.cpu, Reg::Esi, step);
                }
                StringOp::Cmps | StringOp::Scas => {
                    let (a, b) = if kind == StringOp::Cmps {
                        (self.lin_read(src, n)?, self.lin_read(dst, n)?)
                    } else {
                        (self.read_reg(0, w), self.lin_read(dst, n)?)
                    };
                    let r = a.wrapping_sub(b) & w.mask();
                    self.cpu.set_lazy(LazyOp::Sub, w, a, b, r, false);
                    if kind == StringOp::Cmps {
                        index.advance(&mut self.cpu, Reg::Esi, step);
                    }
                    index.advance(&mut self.cpu, Reg::Edi, step);
                }
            }
            if !repeated {
                return Ok(Flow::Next);
            }
            let ecx = index.advance(&mut self.cpu, Reg::Ecx, u32::MAX);
            if matches!(kind, StringOp::Cmps | StringOp::Scas) {
                let zf = self.cpu.flag(Flags::ZF);
                let stop = match instr.rep {
                    Rep::Rep => !zf,
                    _ => zf,
                };
                if stop {
                    return Ok(Flow::Next);
                }
            }
            if ecx == 0 {
                return Ok(Flow::Next);
            }
            left -= 1;
            if left == 0 {
                // Continue in the next step from the same instruction.
                self.cpu.eip = eip;
                return Ok(Flow::Next);
            }
        }
    }
}

/// The index and count registers of a string operation, by its address
/// size: all of ESI, EDI and ECX, or only their low 16 bits.
#[derive(Clone, Copy)]
struct Index {
    mask: u32,
}

impl Index {
    fn of(addr16: bool) -> Index {
        Index {
            mask: if addr16 { 0xFFFF } else { u32::MAX },
        }
    }

    /// Adds `by` to register `r` within the address size (the bits above
    /// it stay) and returns the register's new value within that size.
    #[inline(always)]
    fn advance(self, cpu: &mut crate::cpu::Cpu, r: Reg, by: u32) -> u32 {
        let v = cpu.reg(r);
        let moved = v.wrapping_add(by) & self.mask;
        cpu.set_reg(r, (v & !self.mask) | moved);
        moved
    }
}
