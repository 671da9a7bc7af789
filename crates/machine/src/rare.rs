//! The 386's rarely used instructions: bit scans and bit tests, double
//! shifts, decimal adjustment, `xlatb`, `enter` and `bound`. Where the SDM
//! leaves flags or results undefined, they are Bochs 2.7's (the reference
//! test386's expected output was made with), noted at each.

use crate::alu;
use crate::cpu::{Flags, Reg, Seg};
use crate::decode::{Instr, Op, Operand, Width};
use crate::event::Access;
use crate::execute::Flow;
use crate::machine::Machine;
use crate::trap::Exception;

type Result<T> = std::result::Result<T, Exception>;

impl Machine {
    /// The instructions of this module; `None` for any other.
    pub(crate) fn execute_386(&mut self, instr: &Instr) -> Option<Result<Flow>> {
        let result = match instr.op {
            Op::Bsf | Op::Bsr => self.bit_scan(instr),
            Op::Bt => self.bit_test(instr),
            Op::Shld | Op::Shrd => self.double_shift(instr),
            Op::Daa | Op::Das | Op::Aaa | Op::Aas => {
                self.decimal_adjust(instr.op);
                Ok(())
            }
            Op::Aam | Op::Aad => self.ascii_adjust(instr),
            Op::Xlat => self.xlat(instr),
            Op::Enter => self.enter(instr),
            Op::Bound => self.bound(instr),
            _ => return None,
        };
        Some(result.map(|()| Flow::Next))
    }

    /// Sets SF, ZF and PF from `result` and clears OF, AF and CF, as a
    /// logical operation does (Bochs's `SET_FLAGS_OSZAPC_LOGIC`); then the
    /// flags in `set` are set.
    fn logic_flags_with(&mut self, result: u32, w: Width, set: u32) {
        self.cpu
            .set_status(alu::logic(result, w) | set, Flags::STATUS);
    }

    /// `bsf`/`bsr`: with a zero source ZF is set and the rest left alone
    /// (the destination too: "undefined" in the SDM, unchanged on Bochs);
    /// else the index is written and the flags are a logical result's of
    /// it, with ZF clear.
    fn bit_scan(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let v = self.read_operand(&instr.src, w)?;
        if v == 0 {
            self.cpu.set_flag(Flags::ZF, true);
            return Ok(());
        }
        let index = if instr.op == Op::Bsf {
            v.trailing_zeros()
        } else {
            31 - v.leading_zeros()
        };
        self.write_operand(&instr.dst, w, index)?;
        self.logic_flags_with(index, w, 0);
        self.cpu.set_flag(Flags::ZF, false);
        Ok(())
    }

    /// `bt`, `bts`, `btr`, `btc`: CF gets the bit (the other flags are
    /// kept, as Bochs does). A register bit offset into memory is signed
    /// and may reach outside the operand: the word or dword it falls in is
    /// addressed (the SDM's "bit base" and "bit offset").
    fn bit_test(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let bits = w.bits();
        let (dst, bit) = match (instr.dst, instr.src) {
            (Operand::Mem(mut m), Operand::Reg(r)) => {
                let offset = self.read_reg(r, w);
                let signed = w.sign_extend(offset) as i32;
                let unit = signed.div_euclid(bits as i32);
                m.disp = m.disp.wrapping_add((unit as u32).wrapping_mul(w.bytes()));
                (Operand::Mem(m), offset & (bits - 1))
            }
            (dst, src) => (dst, self.read_operand(&src, w)? & (bits - 1)),
        };
        let kind = instr.extra & 3;
        let value = if kind == 0 {
            self.read_operand(&dst, w)?
        } else {
            let value = self.read_operand(&dst, w)?;
            let mask = 1 << bit;
            let changed = match kind {
                1 => value | mask,
                2 => value & !mask,
                _ => value ^ mask,
            };
            self.write_operand(&dst, w, changed)?;
            value
        };
        self.cpu.set_flag(Flags::CF, (value >> bit) & 1 != 0);
        Ok(())
    }

    /// `shld`/`shrd` by a count taken mod 32 (0 changes nothing). A 16-bit
    /// operand shifted by more than 16 is undefined in the SDM; as on Bochs
    /// (its "P6 way"), the destination is shifted in again past the
    /// source, and `shrd`'s CF then comes from the source. Flags: a logical
    /// result's, then CF the last bit out and OF whether the sign changed.
    fn double_shift(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let count = if instr.extra == 0x100 {
            self.read_reg(1, Width::Byte)
        } else {
            instr.extra
        } & 0x1F;
        if count == 0 {
            return Ok(());
        }
        let src = self.read_operand(&instr.src, w)?;
        let dst = self.read_operand(&instr.dst, w)?;
        let left = instr.op == Op::Shld;
        let (result, cf, of) = if w == Width::Dword {
            if left {
                let r = (dst << count) | (src >> (32 - count));
                let cf = (dst >> (32 - count)) & 1;
                (r, cf, cf ^ (r >> 31))
            } else {
                let r = (src << (32 - count)) | (dst >> count);
                let cf = (dst >> (count - 1)) & 1;
                (r, cf, ((r << 1) ^ r) >> 31)
            }
        } else if left {
            let temp = (dst << 16) | src;
            let mut wide = temp << count;
            if count > 16 {
                wide |= dst << (count - 16);
            }
            let r = wide >> 16;
            let cf = (temp >> (32 - count)) & 1;
            (r, cf, cf ^ ((r >> 15) & 1))
        } else {
            let temp = (src << 16) | dst;
            let mut wide = temp >> count;
            if count > 16 {
                wide |= dst << (32 - count);
            }
            let r = wide & 0xFFFF;
            let cf = if count > 16 {
                (src >> (count - 17)) & 1
            } else {
                (dst >> (count - 1)) & 1
            };
            (r, cf, (((r << 1) ^ r) >> 15) & 1)
        };
        self.write_operand(&instr.dst, w, result)?;
        let mut set = 0;
        if cf != 0 {
            set |= Flags::CF;
        }
        if of != 0 {
            set |= Flags::OF;
        }
        self.logic_flags_with(result & w.mask(), w, set);
        Ok(())
    }

    /// `daa`, `das`, `aaa`, `aas` as Bochs implements them (checked there
    /// against hardware): AL (AX for `aaa`/`aas`) adjusted, CF and AF as
    /// the SDM gives them, SF, ZF and PF from AL and OF clear.
    fn decimal_adjust(&mut self, op: Op) {
        let al = self.read_reg(0, Width::Byte);
        let af = self.cpu.flag(Flags::AF);
        let cf = self.cpu.flag(Flags::CF);
        let (mut set_af, mut set_cf) = (false, false);
        match op {
            Op::Daa | Op::Das => {
                let mut r = al;
                if al & 0x0F > 9 || af {
                    set_cf = if op == Op::Daa { al > 0xF9 } else { al < 0x06 } || cf;
                    r = if op == Op::Daa {
                        r.wrapping_add(6)
                    } else {
                        r.wrapping_sub(6)
                    };
                    set_af = true;
                }
                if al > 0x99 || cf {
                    r = if op == Op::Daa {
                        r.wrapping_add(0x60)
                    } else {
                        r.wrapping_sub(0x60)
                    };
                    set_cf = true;
                }
                self.write_reg(0, Width::Byte, r);
            }
            _ => {
                let mut ax = self.read_reg(0, Width::Word);
                if al & 0x0F > 9 || af {
                    ax = if op == Op::Aaa {
                        ax.wrapping_add(0x106)
                    } else {
                        ax.wrapping_sub(0x106)
                    };
                    set_af = true;
                    set_cf = true;
                }
                self.write_reg(0, Width::Word, ax & 0xFF0F);
            }
        }
        let al = self.read_reg(0, Width::Byte);
        let mut set = 0;
        if set_cf {
            set |= Flags::CF;
        }
        if set_af {
            set |= Flags::AF;
        }
        self.logic_flags_with(al, Width::Byte, set);
    }

    /// `aam n`: AH := AL / n, AL := AL mod n (#DE when n is 0); `aad n`:
    /// AL := AH × n + AL (low byte), AH := 0. SF, ZF and PF from AL; OF, AF
    /// and CF (undefined in the SDM) cleared, as on Bochs.
    fn ascii_adjust(&mut self, instr: &Instr) -> Result<()> {
        let base = instr.extra & 0xFF;
        let al = self.read_reg(0, Width::Byte);
        let ah = self.read_reg(4, Width::Byte);
        let ax = if instr.op == Op::Aam {
            if base == 0 {
                return Err(Exception::DivideError);
            }
            ((al / base) << 8) | (al % base)
        } else {
            (ah * base + al) & 0xFF
        };
        self.write_reg(0, Width::Word, ax);
        self.logic_flags_with(ax & 0xFF, Width::Byte, 0);
        Ok(())
    }

    /// `xlatb`: AL := the byte at seg:(E)BX + AL (DS unless a prefix names
    /// another segment; BX with a 16-bit address size).
    fn xlat(&mut self, instr: &Instr) -> Result<()> {
        let mask = if instr.addr16 { 0xFFFF } else { u32::MAX };
        let offset = self
            .cpu
            .reg(Reg::Ebx)
            .wrapping_add(self.read_reg(0, Width::Byte))
            & mask;
        let at = self.seg_linear(instr.seg, offset, 1, Access::Read)?;
        let v = self.lin_read(at, 1)?;
        self.write_reg(0, Width::Byte, v);
        Ok(())
    }

    /// `enter size, level` as Bochs 2.7 does it: push (E)BP, copy
    /// level − 1 frame pointers from the enclosing frames (read through
    /// (E)BP by the stack's size), push the new frame pointer, make room
    /// for `size` bytes and check that the new top of the stack may be
    /// written. Nothing changes if any step faults.
    fn enter(&mut self, instr: &Instr) -> Result<()> {
        let (esp, ebp) = (self.cpu.reg(Reg::Esp), self.cpu.reg(Reg::Ebp));
        let result = self.enter_frame(instr);
        if result.is_err() {
            self.cpu.set_reg(Reg::Esp, esp);
            self.cpu.set_reg(Reg::Ebp, ebp);
        }
        result
    }

    fn enter_frame(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let n = w.bytes();
        let size = instr.extra & 0xFFFF;
        let level = (instr.extra >> 16) & 0x1F;
        let stack16 = self.cpu.stack16();
        self.push(w, self.read_reg(Reg::Ebp as u8, w))?;
        let frame = self.read_reg(Reg::Esp as u8, w);
        if level > 0 {
            let mut bp = self.cpu.reg(Reg::Ebp);
            for _ in 1..level {
                bp = bp.wrapping_sub(n);
                if stack16 {
                    bp &= 0xFFFF;
                }
                let at = self.seg_linear(Seg::Ss, bp, n, Access::Read)?;
                let v = self.lin_read(at, n)?;
                self.push(w, v)?;
            }
            self.push(w, frame)?;
        }
        let esp = self.stack_pointer_minus(self.cpu.reg(Reg::Esp), size);
        self.cpu.set_reg(Reg::Esp, esp);
        let top = self.seg_linear(Seg::Ss, self.stack_offset(esp), n, Access::Write)?;
        self.locate(top, n, Access::Write)?;
        self.write_reg(Reg::Ebp as u8, w, frame);
        Ok(())
    }

    /// `bound r, m`: #BR unless lower ≤ r ≤ upper, all signed, the bounds
    /// at m and m + the operand size.
    fn bound(&mut self, instr: &Instr) -> Result<()> {
        let w = instr.width;
        let Operand::Mem(m) = instr.src else {
            return Err(Exception::InvalidOpcode);
        };
        let n = w.bytes();
        let at = self.mem_linear(&m, 2 * n, Access::Read)?;
        let lower = w.sign_extend(self.lin_read(at, n)?) as i32;
        let upper = w.sign_extend(self.lin_read(at.wrapping_add(n), n)?) as i32;
        let index = w.sign_extend(self.read_operand(&instr.dst, w)?) as i32;
        if index < lower || index > upper {
            return Err(Exception::BoundRange);
        }
        Ok(())
    }
}
