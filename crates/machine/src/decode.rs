//! The instruction decoder: IA-32 bytes in, an [`Instr`] (plain data) out.
//!
//! Decoding never panics: any byte sequence yields either an instruction or a
//! [`DecodeError`] that the executor turns into the architectural #UD.

use crate::cpu::Reg;
use serde::{Deserialize, Serialize};

/// The longest legal IA-32 instruction, in bytes.
pub const MAX_INSTR_LEN: usize = 15;

/// The operand size of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Width {
    Byte,
    Word,
    Dword,
}

impl Width {
    /// The mask of the bits an operand of this width holds.
    #[inline]
    pub fn mask(self) -> u32 {
        match self {
            Width::Byte => 0xFF,
            Width::Word => 0xFFFF,
            Width::Dword => 0xFFFF_FFFF,
        }
    }

    /// The mask of the sign bit.
    #[inline]
    pub fn sign_bit(self) -> u32 {
        match self {
            Width::Byte => 0x80,
            Width::Word => 0x8000,
            Width::Dword => 0x8000_0000,
        }
    }

    /// The size in bytes.
    #[inline]
    pub fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Word => 2,
            Width::Dword => 4,
        }
    }
}

/// A memory operand: `[base + index*scale + disp]`, all flat (segment base 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemRef {
    pub base: Option<Reg>,
    pub index: Option<Reg>,
    pub scale: u8,
    pub disp: u32,
}

/// One operand of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    None,
    /// A register by its encoding; its width is the instruction's width
    /// (so index 4 at byte width is AH, at dword width ESP).
    Reg(u8),
    Mem(MemRef),
    Imm(u32),
}

/// What an instruction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Add,
    Or,
    Adc,
    Sbb,
    And,
    Sub,
    Xor,
    Cmp,
    Mov,
    Inc,
    Dec,
    Push,
    Pop,
    /// A conditional jump; the condition is the low nibble of its opcode.
    Jcc(u8),
    Jmp,
    Call,
    Ret,
    Hlt,
    Nop,
    /// `in`: `dst` is the accumulator, `src` the port (an immediate or DX).
    In,
    /// `out`: `dst` is the port (an immediate or DX), `src` the accumulator.
    Out,
}

/// One decoded instruction. For relative jumps and calls, `src` holds the
/// displacement sign-extended to 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instr {
    pub op: Op,
    pub width: Width,
    pub dst: Operand,
    pub src: Operand,
    pub len: u8,
}

/// Why some bytes are not an instruction the machine executes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecodeError {
    /// The bytes run out before the instruction ends.
    Truncated,
    /// An encoding the machine does not implement, with its opcode bytes.
    Unsupported { opcode: Vec<u8> },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "instruction runs past the end of memory"),
            DecodeError::Unsupported { opcode } => {
                write!(f, "unsupported opcode")?;
                for b in opcode {
                    write!(f, " {b:02X}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over the bytes of one instruction.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_INSTR_LEN {
            return Err(DecodeError::Unsupported {
                opcode: self.bytes[..MAX_INSTR_LEN.min(self.bytes.len())].to_vec(),
            });
        }
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    /// An immediate of the given width, zero-extended.
    fn imm(&mut self, width: Width) -> Result<u32, DecodeError> {
        match width {
            Width::Byte => self.u8().map(u32::from),
            Width::Word => self.u16().map(u32::from),
            Width::Dword => self.u32(),
        }
    }

    /// A byte immediate sign-extended to 32 bits.
    fn simm8(&mut self) -> Result<u32, DecodeError> {
        Ok(self.u8()? as i8 as i32 as u32)
    }

    /// Reads a ModRM byte (and SIB and displacement) and returns the `reg`
    /// field and the `r/m` operand.
    fn modrm(&mut self) -> Result<(u8, Operand), DecodeError> {
        let modrm = self.u8()?;
        let md = modrm >> 6;
        let reg = (modrm >> 3) & 7;
        let rm = modrm & 7;
        if md == 3 {
            return Ok((reg, Operand::Reg(rm)));
        }
        let mut mem = MemRef {
            base: Some(Reg::from_index(rm)),
            index: None,
            scale: 1,
            disp: 0,
        };
        if rm == 4 {
            let sib = self.u8()?;
            let scale = 1 << (sib >> 6);
            let index = (sib >> 3) & 7;
            let base = sib & 7;
            mem.scale = scale;
            mem.index = (index != 4).then(|| Reg::from_index(index));
            mem.base = if base == 5 && md == 0 {
                mem.disp = self.u32()?;
                None
            } else {
                Some(Reg::from_index(base))
            };
        } else if rm == 5 && md == 0 {
            mem.base = None;
            mem.disp = self.u32()?;
        }
        match md {
            1 => mem.disp = mem.disp.wrapping_add(self.simm8()?),
            2 => mem.disp = mem.disp.wrapping_add(self.u32()?),
            _ => {}
        }
        Ok((reg, Operand::Mem(mem)))
    }
}

const ALU_OPS: [Op; 8] = [
    Op::Add,
    Op::Or,
    Op::Adc,
    Op::Sbb,
    Op::And,
    Op::Sub,
    Op::Xor,
    Op::Cmp,
];

/// Decodes the instruction at the start of `bytes` (32-bit code segment).
pub fn decode(bytes: &[u8]) -> Result<Instr, DecodeError> {
    let mut c = Cursor { bytes, pos: 0 };
    let mut opsize = Width::Dword;
    let mut opcode = c.u8()?;
    // Prefixes: operand size changes the width; segment overrides and LOCK
    // change nothing on a machine with flat segments and one CPU.
    loop {
        match opcode {
            0x66 => opsize = Width::Word,
            0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 | 0xF0 => {}
            _ => break,
        }
        opcode = c.u8()?;
    }
    let unsupported = |c: &Cursor| DecodeError::Unsupported {
        opcode: c.bytes[..c.pos].to_vec(),
    };
    let byte_or = |op: u8| if op & 1 == 0 { Width::Byte } else { opsize };
    let instr = |op, width, dst, src| (op, width, dst, src);

    let (op, width, dst, src) = match opcode {
        // The eight classic ALU operations in their six forms each.
        0x00..=0x3F if opcode & 7 < 6 => {
            let op = ALU_OPS[usize::from(opcode >> 3)];
            let width = byte_or(opcode);
            match opcode & 7 {
                0 | 1 => {
                    let (reg, rm) = c.modrm()?;
                    instr(op, width, rm, Operand::Reg(reg))
                }
                2 | 3 => {
                    let (reg, rm) = c.modrm()?;
                    instr(op, width, Operand::Reg(reg), rm)
                }
                _ => {
                    let imm = c.imm(width)?;
                    instr(op, width, Operand::Reg(0), Operand::Imm(imm))
                }
            }
        }
        0x40..=0x47 => instr(Op::Inc, opsize, Operand::Reg(opcode & 7), Operand::None),
        0x48..=0x4F => instr(Op::Dec, opsize, Operand::Reg(opcode & 7), Operand::None),
        0x50..=0x57 => instr(Op::Push, opsize, Operand::None, Operand::Reg(opcode & 7)),
        0x58..=0x5F => instr(Op::Pop, opsize, Operand::Reg(opcode & 7), Operand::None),
        0x68 => instr(
            Op::Push,
            opsize,
            Operand::None,
            Operand::Imm(c.imm(opsize)?),
        ),
        0x6A => instr(Op::Push, opsize, Operand::None, Operand::Imm(c.simm8()?)),
        0x70..=0x7F => instr(
            Op::Jcc(opcode & 0xF),
            Width::Dword,
            Operand::None,
            Operand::Imm(c.simm8()?),
        ),
        0x80 | 0x81 | 0x83 => {
            let width = byte_or(opcode);
            let (reg, rm) = c.modrm()?;
            let imm = if opcode == 0x83 {
                c.simm8()? & width.mask()
            } else {
                c.imm(width)?
            };
            instr(ALU_OPS[usize::from(reg)], width, rm, Operand::Imm(imm))
        }
        0x88..=0x8B => {
            let width = byte_or(opcode);
            let (reg, rm) = c.modrm()?;
            if opcode & 2 == 0 {
                instr(Op::Mov, width, rm, Operand::Reg(reg))
            } else {
                instr(Op::Mov, width, Operand::Reg(reg), rm)
            }
        }
        0x90 => instr(Op::Nop, opsize, Operand::None, Operand::None),
        0xB0..=0xB7 => instr(
            Op::Mov,
            Width::Byte,
            Operand::Reg(opcode & 7),
            Operand::Imm(c.imm(Width::Byte)?),
        ),
        0xB8..=0xBF => instr(
            Op::Mov,
            opsize,
            Operand::Reg(opcode & 7),
            Operand::Imm(c.imm(opsize)?),
        ),
        0xC3 => instr(Op::Ret, Width::Dword, Operand::None, Operand::None),
        0xC6 | 0xC7 => {
            let width = byte_or(opcode);
            let (reg, rm) = c.modrm()?;
            if reg != 0 {
                return Err(unsupported(&c));
            }
            instr(Op::Mov, width, rm, Operand::Imm(c.imm(width)?))
        }
        0xE4 | 0xE5 => {
            let width = byte_or(opcode);
            instr(
                Op::In,
                width,
                Operand::Reg(0),
                Operand::Imm(u32::from(c.u8()?)),
            )
        }
        0xE6 | 0xE7 => {
            let width = byte_or(opcode);
            instr(
                Op::Out,
                width,
                Operand::Imm(u32::from(c.u8()?)),
                Operand::Reg(0),
            )
        }
        0xE8 => instr(
            Op::Call,
            Width::Dword,
            Operand::None,
            Operand::Imm(c.u32()?),
        ),
        0xE9 => instr(Op::Jmp, Width::Dword, Operand::None, Operand::Imm(c.u32()?)),
        0xEB => instr(
            Op::Jmp,
            Width::Dword,
            Operand::None,
            Operand::Imm(c.simm8()?),
        ),
        0xEC | 0xED => instr(Op::In, byte_or(opcode), Operand::Reg(0), Operand::Reg(2)),
        0xEE | 0xEF => instr(Op::Out, byte_or(opcode), Operand::Reg(2), Operand::Reg(0)),
        0xF4 => instr(Op::Hlt, Width::Dword, Operand::None, Operand::None),
        0x0F => {
            let second = c.u8()?;
            match second {
                0x80..=0x8F => instr(
                    Op::Jcc(second & 0xF),
                    Width::Dword,
                    Operand::None,
                    Operand::Imm(c.u32()?),
                ),
                _ => return Err(unsupported(&c)),
            }
        }
        _ => return Err(unsupported(&c)),
    };
    Ok(Instr {
        op,
        width,
        dst,
        src,
        len: c.pos as u8,
    })
}
