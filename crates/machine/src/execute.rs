//! The interpreter: carries out one decoded [`Instr`] on the machine.

use crate::alu;
use crate::cpu::{Flags, Reg};
use crate::decode::{Instr, MemRef, Op, Operand, Width};
use crate::event::Event;
use crate::machine::{DEBUG_CONSOLE_PORT, DEBUG_EXIT_PORT, Machine, StopReason};

impl Machine {
    fn effective_address(&self, m: &MemRef) -> u32 {
        let base = m.base.map_or(0, |r| self.cpu.reg(r));
        let index = m
            .index
            .map_or(0, |r| self.cpu.reg(r).wrapping_mul(u32::from(m.scale)));
        base.wrapping_add(index).wrapping_add(m.disp)
    }

    fn read_reg(&self, index: u8, width: Width) -> u32 {
        match width {
            Width::Byte if index < 4 => self.cpu.gpr[usize::from(index)] & 0xFF,
            Width::Byte => (self.cpu.gpr[usize::from(index - 4)] >> 8) & 0xFF,
            Width::Word => self.cpu.gpr[usize::from(index)] & 0xFFFF,
            Width::Dword => self.cpu.gpr[usize::from(index)],
        }
    }

    fn write_reg(&mut self, index: u8, width: Width, value: u32) {
        let (slot, mask, shift) = match width {
            Width::Byte if index < 4 => (index, 0xFF, 0),
            Width::Byte => (index - 4, 0xFF, 8),
            Width::Word => (index, 0xFFFF, 0),
            Width::Dword => (index, 0xFFFF_FFFF, 0),
        };
        let r = &mut self.cpu.gpr[usize::from(slot)];
        *r = (*r & !(mask << shift)) | ((value & mask) << shift);
    }

    fn read(&self, operand: &Operand, width: Width) -> u32 {
        match *operand {
            Operand::None => 0,
            Operand::Reg(i) => self.read_reg(i, width),
            Operand::Mem(m) => self.mem.read(self.effective_address(&m), width.bytes()),
            Operand::Imm(v) => v & width.mask(),
        }
    }

    fn write(&mut self, operand: &Operand, width: Width, value: u32) {
        match *operand {
            Operand::Reg(i) => self.write_reg(i, width, value),
            Operand::Mem(m) => {
                let addr = self.effective_address(&m);
                self.mem.write(addr, width.bytes(), value);
            }
            Operand::None | Operand::Imm(_) => {}
        }
    }

    fn set_status(&mut self, flags: u32, mask: u32) {
        self.cpu.eflags = (self.cpu.eflags & !mask) | (flags & mask);
    }

    fn push(&mut self, value: u32) {
        let esp = self.cpu.reg(Reg::Esp).wrapping_sub(4);
        self.cpu.set_reg(Reg::Esp, esp);
        self.mem.write(esp, 4, value);
    }

    fn pop(&mut self) -> u32 {
        let esp = self.cpu.reg(Reg::Esp);
        let value = self.mem.read(esp, 4);
        self.cpu.set_reg(Reg::Esp, esp.wrapping_add(4));
        value
    }

    /// Evaluates condition `cc` (the low nibble of a Jcc opcode).
    fn condition(&self, cc: u8) -> bool {
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

    fn port_of(&self, operand: &Operand) -> u16 {
        match *operand {
            Operand::Imm(p) => p as u16,
            _ => self.cpu.reg(Reg::Edx) as u16,
        }
    }

    /// Executes `instr`, whose length EIP has already stepped over.
    pub(crate) fn execute(&mut self, instr: &Instr) -> Option<StopReason> {
        let w = instr.width;
        match instr.op {
            Op::Add | Op::Adc | Op::Sub | Op::Sbb | Op::Cmp => {
                let a = self.read(&instr.dst, w);
                let b = self.read(&instr.src, w);
                let carry = self.cpu.flag(Flags::CF);
                let (r, f) = match instr.op {
                    Op::Add => alu::add(a, b, false, w),
                    Op::Adc => alu::add(a, b, carry, w),
                    Op::Sbb => alu::sub(a, b, carry, w),
                    _ => alu::sub(a, b, false, w),
                };
                self.set_status(f, Flags::STATUS);
                if instr.op != Op::Cmp {
                    self.write(&instr.dst, w, r);
                }
            }
            Op::And | Op::Or | Op::Xor => {
                let a = self.read(&instr.dst, w);
                let b = self.read(&instr.src, w);
                let r = match instr.op {
                    Op::And => a & b,
                    Op::Or => a | b,
                    _ => a ^ b,
                };
                self.set_status(alu::logic(r, w), Flags::STATUS);
                self.write(&instr.dst, w, r);
            }
            Op::Inc | Op::Dec => {
                let a = self.read(&instr.dst, w);
                let (r, f) = if instr.op == Op::Inc {
                    alu::add(a, 1, false, w)
                } else {
                    alu::sub(a, 1, false, w)
                };
                // INC and DEC leave CF as it was.
                self.set_status(f, Flags::STATUS & !Flags::CF);
                self.write(&instr.dst, w, r);
            }
            Op::Mov => {
                let v = self.read(&instr.src, w);
                self.write(&instr.dst, w, v);
            }
            Op::Push => {
                let v = self.read(&instr.src, Width::Dword);
                self.push(v);
            }
            Op::Pop => {
                let v = self.pop();
                self.write(&instr.dst, Width::Dword, v);
            }
            Op::Jcc(cc) => {
                if self.condition(cc) {
                    self.jump_relative(instr);
                }
            }
            Op::Jmp => self.jump_relative(instr),
            Op::Call => {
                self.push(self.cpu.eip);
                self.jump_relative(instr);
            }
            Op::Ret => self.cpu.eip = self.pop(),
            Op::Nop => {}
            Op::Hlt => {
                let eip = self.cpu.eip.wrapping_sub(u32::from(instr.len));
                self.emit(|| Event::Halt { eip });
                return Some(StopReason::Halted);
            }
            Op::Out => {
                let port = self.port_of(&instr.dst);
                let value = self.read(&instr.src, w);
                self.emit(|| Event::PortOut {
                    port,
                    value,
                    size: w.bytes() as u8,
                });
                match port {
                    DEBUG_CONSOLE_PORT => self.console.push(value as u8),
                    DEBUG_EXIT_PORT => {
                        return Some(StopReason::DebugExit { code: value as u8 });
                    }
                    _ => {}
                }
            }
            Op::In => {
                let port = self.port_of(&instr.src);
                // No device answers yet: an empty port reads all ones, as on a PC.
                let value = w.mask();
                self.emit(|| Event::PortIn {
                    port,
                    value,
                    size: w.bytes() as u8,
                });
                self.write(&instr.dst, w, value);
            }
        }
        None
    }

    fn jump_relative(&mut self, instr: &Instr) {
        if let Operand::Imm(rel) = instr.src {
            self.cpu.eip = self.cpu.eip.wrapping_add(rel);
        }
    }
}
