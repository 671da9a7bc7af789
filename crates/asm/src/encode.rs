//! Encoding one instruction into IA-32 bytes, choosing the forms NASM
//! chooses (the shortest immediate and displacement forms, the accumulator
//! short forms, short jumps when the target is in reach).

use crate::error::{Error, Pos};
use crate::expr::{Expr, Scope, Value};
use crate::operand::{JumpSize, Located, Mem, Operand, Register, Size};

/// Evaluating operands: in early passes an unknown symbol stands for "large",
/// in the final pass it is an error.
pub struct Ctx<'a> {
    pub scope: &'a dyn Scope,
    pub last_pass: bool,
    /// The address of the instruction.
    pub here: i64,
}

impl Ctx<'_> {
    /// The value of `e`, or `None` if a symbol is not known yet.
    pub fn value(&self, e: &Expr) -> Result<Option<i64>, Error> {
        match e.eval(self.scope)? {
            Value::Known(v) => Ok(Some(v)),
            Value::Unknown(name, pos) if self.last_pass => {
                Err(Error::new(pos, format!("undefined symbol `{name}`")))
            }
            Value::Unknown(..) => Ok(None),
        }
    }
}

fn fits_i8(v: i64) -> bool {
    (-128..=127).contains(&v)
}

/// Whether an immediate, read at `size`, fits a sign-extended byte.
fn fits_simm8(v: Option<i64>, size: Size) -> bool {
    let Some(v) = v else { return false };
    let v = match size {
        Size::Byte => v as i8 as i64,
        Size::Word => v as i16 as i64,
        Size::Dword => v as i32 as i64,
    };
    fits_i8(v)
}

fn push_imm(out: &mut Vec<u8>, v: i64, size: Size) {
    out.extend_from_slice(&(v as u32).to_le_bytes()[..size.bytes() as usize]);
}

/// The ModRM (and SIB and displacement) bytes for a memory operand.
fn modrm_mem(out: &mut Vec<u8>, reg: u8, mem: &Mem, disp: Option<i64>) {
    let reg = (reg & 7) << 3;
    let d = disp.unwrap_or(i64::MAX);
    let push32 =
        |out: &mut Vec<u8>| out.extend_from_slice(&(disp.unwrap_or(0) as u32).to_le_bytes());
    match (mem.base, mem.index) {
        (None, None) => {
            out.push(reg | 0b101);
            push32(out);
        }
        (None, Some(index)) => {
            out.push(reg | 0b100);
            out.push((scale_bits(mem.scale) << 6) | (index << 3) | 0b101);
            push32(out);
        }
        (Some(base), index) => {
            let (md, size) = if d == 0 && base != 5 {
                (0, 0)
            } else if fits_i8(d) {
                (1, 1)
            } else {
                (2, 4)
            };
            if index.is_some() || base == 4 {
                out.push((md << 6) | reg | 0b100);
                let index = index.unwrap_or(4);
                out.push((scale_bits(mem.scale) << 6) | (index << 3) | base);
            } else {
                out.push((md << 6) | reg | base);
            }
            match size {
                1 => out.push(d as u8),
                4 => push32(out),
                _ => {}
            }
        }
    }
}

fn scale_bits(scale: u8) -> u8 {
    match scale {
        2 => 1,
        4 => 2,
        8 => 3,
        _ => 0,
    }
}

/// The condition-code numbers of the Jcc, SETcc and CMOVcc mnemonics.
pub fn condition(suffix: &str) -> Option<u8> {
    Some(match suffix {
        "o" => 0,
        "no" => 1,
        "b" | "c" | "nae" => 2,
        "ae" | "nb" | "nc" => 3,
        "e" | "z" => 4,
        "ne" | "nz" => 5,
        "be" | "na" => 6,
        "a" | "nbe" => 7,
        "s" => 8,
        "ns" => 9,
        "p" | "pe" => 10,
        "np" | "po" => 11,
        "l" | "nge" => 12,
        "ge" | "nl" => 13,
        "le" | "ng" => 14,
        "g" | "nle" => 15,
        _ => return None,
    })
}

const ALU: [&str; 8] = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const SHIFTS: [&str; 8] = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];

/// Encodes one instruction. `prefix` holds the bytes of a REP prefix written before it.
pub fn encode(
    ctx: &Ctx,
    mnemonic: &str,
    mnemonic_pos: Pos,
    prefix: &[u8],
    ops: &[Located],
) -> Result<Vec<u8>, Error> {
    let mut e = Enc {
        ctx,
        out: prefix.to_vec(),
        pos: mnemonic_pos,
        mnemonic,
    };
    e.instruction(ops)?;
    Ok(e.out)
}

struct Enc<'a, 'b> {
    ctx: &'a Ctx<'b>,
    out: Vec<u8>,
    pos: Pos,
    mnemonic: &'a str,
}

impl Enc<'_, '_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> Error {
        Error::new(pos, message.into())
    }

    fn bad_operands(&self, ops: &[Located]) -> Error {
        let pos = ops.first().map_or(self.pos, |o| o.pos);
        self.err(
            pos,
            format!("invalid combination of operands for `{}`", self.mnemonic),
        )
    }

    fn opsize(&mut self, size: Size) {
        if size == Size::Word {
            self.out.push(0x66);
        }
    }

    /// Emits `opcode` with a ModRM for `rm` (a register or memory operand).
    fn modrm(&mut self, opcode: &[u8], reg: u8, rm: &Operand) -> Result<(), Error> {
        self.out.extend_from_slice(opcode);
        match rm {
            Operand::Reg(Register::Gpr(r, _)) => self.out.push(0xC0 | ((reg & 7) << 3) | r),
            Operand::Mem(mem, _) => {
                let disp = self.ctx.value(&mem.disp)?;
                modrm_mem(&mut self.out, reg, mem, disp);
            }
            _ => return Err(self.err(self.pos, "expected a register or memory operand")),
        }
        Ok(())
    }

    /// The size an operand pair has: from a register, or from a size keyword.
    fn size_of(&self, ops: &[&Located]) -> Result<Size, Error> {
        for o in ops {
            match &o.operand {
                Operand::Reg(Register::Gpr(_, s)) => return Ok(*s),
                Operand::Mem(_, Some(s)) | Operand::Imm(_, Some(s)) => return Ok(*s),
                _ => {}
            }
        }
        Err(self.err(
            ops.first().map_or(self.pos, |o| o.pos),
            "operation size not specified: write byte, word or dword",
        ))
    }

    fn imm(&self, e: &Expr) -> Result<Option<i64>, Error> {
        self.ctx.value(e)
    }

    fn instruction(&mut self, ops: &[Located]) -> Result<(), Error> {
        let m = self.mnemonic;
        let simple: Option<&[u8]> = match m {
            "nop" => Some(&[0x90]),
            "hlt" => Some(&[0xF4]),
            "cli" => Some(&[0xFA]),
            "sti" => Some(&[0xFB]),
            "cld" => Some(&[0xFC]),
            "std" => Some(&[0xFD]),
            "clc" => Some(&[0xF8]),
            "stc" => Some(&[0xF9]),
            "cmc" => Some(&[0xF5]),
            "leave" => Some(&[0xC9]),
            "iret" | "iretd" => Some(&[0xCF]),
            "int3" => Some(&[0xCC]),
            "ud2" => Some(&[0x0F, 0x0B]),
            "rdtsc" => Some(&[0x0F, 0x31]),
            "cdq" => Some(&[0x99]),
            "cwd" => Some(&[0x66, 0x99]),
            "cwde" => Some(&[0x98]),
            "cbw" => Some(&[0x66, 0x98]),
            "pusha" | "pushad" => Some(&[0x60]),
            "popa" | "popad" => Some(&[0x61]),
            "pushf" | "pushfd" => Some(&[0x9C]),
            "popf" | "popfd" => Some(&[0x9D]),
            "movsb" => Some(&[0xA4]),
            "movsw" => Some(&[0x66, 0xA5]),
            "movsd" => Some(&[0xA5]),
            "cmpsb" => Some(&[0xA6]),
            "cmpsw" => Some(&[0x66, 0xA7]),
            "cmpsd" => Some(&[0xA7]),
            "stosb" => Some(&[0xAA]),
            "stosw" => Some(&[0x66, 0xAB]),
            "stosd" => Some(&[0xAB]),
            "lodsb" => Some(&[0xAC]),
            "lodsw" => Some(&[0x66, 0xAD]),
            "lodsd" => Some(&[0xAD]),
            "scasb" => Some(&[0xAE]),
            "scasw" => Some(&[0x66, 0xAF]),
            "scasd" => Some(&[0xAF]),
            _ => None,
        };
        if let Some(bytes) = simple {
            if !ops.is_empty() {
                return Err(self.err(ops[0].pos, format!("`{m}` takes no operands")));
            }
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        if let Some(n) = ALU.iter().position(|a| *a == m) {
            return self.alu(n as u8, ops);
        }
        if let Some(n) = SHIFTS.iter().position(|a| *a == m) {
            let n = if m == "sal" { 4 } else { n as u8 };
            return self.shift(n, ops);
        }
        if let Some(cc) = m.strip_prefix("set").and_then(condition) {
            let [o] = ops else {
                return Err(self.bad_operands(ops));
            };
            return match &o.operand {
                Operand::Reg(Register::Gpr(_, Size::Byte))
                | Operand::Mem(_, None | Some(Size::Byte)) => {
                    self.modrm(&[0x0F, 0x90 + cc], 0, &o.operand)
                }
                _ => Err(self.bad_operands(ops)),
            };
        }
        if let Some(cc) = m.strip_prefix("cmov").and_then(condition) {
            let [d, s] = ops else {
                return Err(self.bad_operands(ops));
            };
            let Operand::Reg(Register::Gpr(r, size)) = d.operand else {
                return Err(self.bad_operands(ops));
            };
            if size == Size::Byte
                || !matches!(
                    s.operand,
                    Operand::Reg(Register::Gpr(..)) | Operand::Mem(..)
                )
            {
                return Err(self.bad_operands(ops));
            }
            self.opsize(size);
            return self.modrm(&[0x0F, 0x40 + cc], r, &s.operand);
        }
        if m.starts_with('j') && m != "jmp" && m != "jecxz" {
            if let Some(cc) = condition(&m[1..]) {
                return self.jump(ops, Some(cc));
            }
        }
        match m {
            "mov" => self.mov(ops),
            "test" => self.test(ops),
            "xchg" => self.xchg(ops),
            "inc" | "dec" => self.inc_dec(m == "dec", ops),
            "not" | "neg" | "mul" | "div" | "idiv" => {
                let ext = match m {
                    "not" => 2,
                    "neg" => 3,
                    "mul" => 4,
                    "div" => 6,
                    _ => 7,
                };
                self.unary_f6(ext, ops)
            }
            "imul" => self.imul(ops),
            "push" => self.push(ops),
            "pop" => self.pop(ops),
            "lea" => {
                let [d, s] = ops else {
                    return Err(self.bad_operands(ops));
                };
                match (&d.operand, &s.operand) {
                    (Operand::Reg(Register::Gpr(r, size)), Operand::Mem(..))
                        if *size != Size::Byte =>
                    {
                        self.opsize(*size);
                        self.modrm(&[0x8D], *r, &s.operand)
                    }
                    _ => Err(self.bad_operands(ops)),
                }
            }
            "movzx" | "movsx" => self.movx(m == "movsx", ops),
            "jmp" => self.jump(ops, None),
            "call" => self.call(ops),
            "loop" | "loope" | "loopz" | "loopne" | "loopnz" | "jecxz" => {
                let op = match m {
                    "loop" => 0xE2,
                    "loope" | "loopz" => 0xE1,
                    "loopne" | "loopnz" => 0xE0,
                    _ => 0xE3,
                };
                self.short_only(op, ops)
            }
            "ret" | "retn" => match ops {
                [] => {
                    self.out.push(0xC3);
                    Ok(())
                }
                [n] => {
                    let Operand::Imm(e, _) = &n.operand else {
                        return Err(self.bad_operands(ops));
                    };
                    let v = self.imm(e)?.unwrap_or(0);
                    self.out.push(0xC2);
                    push_imm(&mut self.out, v, Size::Word);
                    Ok(())
                }
                _ => Err(self.bad_operands(ops)),
            },
            "int" => {
                let [n] = ops else {
                    return Err(self.bad_operands(ops));
                };
                let Operand::Imm(e, _) = &n.operand else {
                    return Err(self.bad_operands(ops));
                };
                let v = self.imm(e)?.unwrap_or(0);
                if self.ctx.last_pass && !(0..=255).contains(&v) {
                    return Err(self.err(n.pos, format!("interrupt vector {v} is not 0 to 255")));
                }
                self.out.extend_from_slice(&[0xCD, v as u8]);
                Ok(())
            }
            "in" => self.in_out(true, ops),
            "out" => self.in_out(false, ops),
            "lgdt" | "lidt" | "invlpg" => {
                let [o] = ops else {
                    return Err(self.bad_operands(ops));
                };
                if !matches!(o.operand, Operand::Mem(..)) {
                    return Err(self.err(o.pos, format!("`{m}` needs a memory operand")));
                }
                let ext = match m {
                    "lgdt" => 2,
                    "lidt" => 3,
                    _ => 7,
                };
                self.modrm(&[0x0F, 0x01], ext, &o.operand)
            }
            "ltr" => {
                let [o] = ops else {
                    return Err(self.bad_operands(ops));
                };
                match o.operand {
                    Operand::Reg(Register::Gpr(_, Size::Word))
                    | Operand::Mem(_, None | Some(Size::Word)) => {
                        self.modrm(&[0x0F, 0x00], 3, &o.operand)
                    }
                    _ => Err(self.bad_operands(ops)),
                }
            }
            _ => Err(self.err(self.pos, format!("unknown instruction `{m}`"))),
        }
    }

    fn alu(&mut self, n: u8, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        match (&d.operand, &s.operand) {
            (
                Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
                Operand::Reg(Register::Gpr(r, rsize)),
            ) => {
                if let Operand::Reg(Register::Gpr(_, dsize)) = d.operand
                    && dsize != *rsize
                {
                    return Err(self.err(s.pos, "operand sizes do not match"));
                }
                self.opsize(*rsize);
                let op = n * 8 + u8::from(*rsize != Size::Byte);
                self.modrm(&[op], *r, &d.operand)
            }
            (Operand::Reg(Register::Gpr(r, size)), Operand::Mem(..)) => {
                self.opsize(*size);
                let op = n * 8 + 2 + u8::from(*size != Size::Byte);
                self.modrm(&[op], *r, &s.operand)
            }
            (Operand::Reg(Register::Gpr(..)) | Operand::Mem(..), Operand::Imm(e, _)) => {
                let size = self.size_of(&[d, s])?;
                let v = self.imm(e)?;
                self.opsize(size);
                let is_acc = matches!(d.operand, Operand::Reg(Register::Gpr(0, _)));
                if size == Size::Byte {
                    if is_acc {
                        self.out.push(n * 8 + 4);
                    } else {
                        self.modrm(&[0x80], n, &d.operand)?;
                    }
                    push_imm(&mut self.out, v.unwrap_or(0), Size::Byte);
                } else if fits_simm8(v, size) {
                    self.modrm(&[0x83], n, &d.operand)?;
                    push_imm(&mut self.out, v.unwrap_or(0), Size::Byte);
                } else {
                    if is_acc {
                        self.out.push(n * 8 + 5);
                    } else {
                        self.modrm(&[0x81], n, &d.operand)?;
                    }
                    push_imm(&mut self.out, v.unwrap_or(0), size);
                }
                Ok(())
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn shift(&mut self, n: u8, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        if !matches!(
            d.operand,
            Operand::Reg(Register::Gpr(..)) | Operand::Mem(..)
        ) {
            return Err(self.bad_operands(ops));
        }
        let size = self.size_of(&[d])?;
        self.opsize(size);
        let wide = u8::from(size != Size::Byte);
        match &s.operand {
            Operand::Reg(Register::Gpr(1, Size::Byte)) => self.modrm(&[0xD2 + wide], n, &d.operand),
            Operand::Imm(e, _) => {
                let v = self.imm(e)?;
                if v == Some(1) {
                    self.modrm(&[0xD0 + wide], n, &d.operand)
                } else {
                    self.modrm(&[0xC0 + wide], n, &d.operand)?;
                    self.out.push(v.unwrap_or(0) as u8);
                    Ok(())
                }
            }
            _ => Err(self.err(s.pos, "a shift count is `cl` or a number")),
        }
    }

    fn mov(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        match (&d.operand, &s.operand) {
            (Operand::Reg(Register::Cr(c)), Operand::Reg(Register::Gpr(r, Size::Dword))) => {
                self.out
                    .extend_from_slice(&[0x0F, 0x22, 0xC0 | (c << 3) | r]);
                Ok(())
            }
            (Operand::Reg(Register::Gpr(r, Size::Dword)), Operand::Reg(Register::Cr(c))) => {
                self.out
                    .extend_from_slice(&[0x0F, 0x20, 0xC0 | (c << 3) | r]);
                Ok(())
            }
            (
                Operand::Reg(Register::Seg(sr)),
                Operand::Reg(Register::Gpr(_, Size::Word | Size::Dword)) | Operand::Mem(..),
            ) => {
                if *sr == 1 {
                    return Err(self.err(d.pos, "CS cannot be loaded with mov: use a far jump"));
                }
                self.modrm(&[0x8E], *sr, &s.operand)
            }
            (Operand::Reg(Register::Gpr(_, size)), Operand::Reg(Register::Seg(sr)))
                if *size != Size::Byte =>
            {
                self.opsize(*size);
                self.modrm(&[0x8C], *sr, &d.operand)
            }
            (Operand::Mem(_, None | Some(Size::Word)), Operand::Reg(Register::Seg(sr))) => {
                self.modrm(&[0x8C], *sr, &d.operand)
            }
            (Operand::Reg(Register::Gpr(0, size)), Operand::Mem(mem, _))
                if mem.base.is_none() && mem.index.is_none() =>
            {
                self.opsize(*size);
                self.out.push(if *size == Size::Byte { 0xA0 } else { 0xA1 });
                let v = self.imm(&mem.disp)?.unwrap_or(0);
                push_imm(&mut self.out, v, Size::Dword);
                Ok(())
            }
            (Operand::Mem(mem, _), Operand::Reg(Register::Gpr(0, size)))
                if mem.base.is_none() && mem.index.is_none() =>
            {
                self.opsize(*size);
                self.out.push(if *size == Size::Byte { 0xA2 } else { 0xA3 });
                let v = self.imm(&mem.disp)?.unwrap_or(0);
                push_imm(&mut self.out, v, Size::Dword);
                Ok(())
            }
            (
                Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
                Operand::Reg(Register::Gpr(r, size)),
            ) => {
                if let Operand::Reg(Register::Gpr(_, dsize)) = d.operand
                    && dsize != *size
                {
                    return Err(self.err(s.pos, "operand sizes do not match"));
                }
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x88 } else { 0x89 }],
                    *r,
                    &d.operand,
                )
            }
            (Operand::Reg(Register::Gpr(r, size)), Operand::Mem(..)) => {
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x8A } else { 0x8B }],
                    *r,
                    &s.operand,
                )
            }
            (Operand::Reg(Register::Gpr(r, size)), Operand::Imm(e, _)) => {
                let v = self.imm(e)?.unwrap_or(0);
                self.opsize(*size);
                self.out.push(if *size == Size::Byte {
                    0xB0 + r
                } else {
                    0xB8 + r
                });
                push_imm(&mut self.out, v, *size);
                Ok(())
            }
            (Operand::Mem(..), Operand::Imm(e, _)) => {
                let size = self.size_of(&[d, s])?;
                let v = self.imm(e)?.unwrap_or(0);
                self.opsize(size);
                self.modrm(
                    &[if size == Size::Byte { 0xC6 } else { 0xC7 }],
                    0,
                    &d.operand,
                )?;
                push_imm(&mut self.out, v, size);
                Ok(())
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn test(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        match (&d.operand, &s.operand) {
            (
                Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
                Operand::Reg(Register::Gpr(r, size)),
            ) => {
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x84 } else { 0x85 }],
                    *r,
                    &d.operand,
                )
            }
            (Operand::Reg(Register::Gpr(r, size)), Operand::Mem(..)) => {
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x84 } else { 0x85 }],
                    *r,
                    &s.operand,
                )
            }
            (Operand::Reg(Register::Gpr(..)) | Operand::Mem(..), Operand::Imm(e, _)) => {
                let size = self.size_of(&[d, s])?;
                let v = self.imm(e)?.unwrap_or(0);
                self.opsize(size);
                let byte = size == Size::Byte;
                if matches!(d.operand, Operand::Reg(Register::Gpr(0, _))) {
                    self.out.push(if byte { 0xA8 } else { 0xA9 });
                } else {
                    self.modrm(&[if byte { 0xF6 } else { 0xF7 }], 0, &d.operand)?;
                }
                push_imm(&mut self.out, v, size);
                Ok(())
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn xchg(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        match (&d.operand, &s.operand) {
            (Operand::Reg(Register::Gpr(0, a)), Operand::Reg(Register::Gpr(r, b)))
            | (Operand::Reg(Register::Gpr(r, b)), Operand::Reg(Register::Gpr(0, a)))
                if a == b && *a != Size::Byte =>
            {
                self.opsize(*a);
                self.out.push(0x90 + r);
                Ok(())
            }
            // Between registers NASM puts the first in the reg field.
            (
                Operand::Reg(Register::Gpr(r, size)),
                Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
            ) => {
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x86 } else { 0x87 }],
                    *r,
                    &s.operand,
                )
            }
            (Operand::Mem(..), Operand::Reg(Register::Gpr(r, size))) => {
                self.opsize(*size);
                self.modrm(
                    &[if *size == Size::Byte { 0x86 } else { 0x87 }],
                    *r,
                    &d.operand,
                )
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn inc_dec(&mut self, dec: bool, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        match o.operand {
            Operand::Reg(Register::Gpr(r, size)) if size != Size::Byte => {
                self.opsize(size);
                self.out.push(if dec { 0x48 } else { 0x40 } + r);
                Ok(())
            }
            Operand::Reg(Register::Gpr(..)) | Operand::Mem(..) => {
                let size = self.size_of(&[o])?;
                self.opsize(size);
                self.modrm(
                    &[if size == Size::Byte { 0xFE } else { 0xFF }],
                    u8::from(dec),
                    &o.operand,
                )
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn unary_f6(&mut self, ext: u8, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        if !matches!(
            o.operand,
            Operand::Reg(Register::Gpr(..)) | Operand::Mem(..)
        ) {
            return Err(self.bad_operands(ops));
        }
        let size = self.size_of(&[o])?;
        self.opsize(size);
        self.modrm(
            &[if size == Size::Byte { 0xF6 } else { 0xF7 }],
            ext,
            &o.operand,
        )
    }

    fn imul(&mut self, ops: &[Located]) -> Result<(), Error> {
        match ops {
            [_] => self.unary_f6(5, ops),
            [d, s] => match (&d.operand, &s.operand) {
                (
                    Operand::Reg(Register::Gpr(r, size)),
                    Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
                ) if *size != Size::Byte => {
                    self.opsize(*size);
                    self.modrm(&[0x0F, 0xAF], *r, &s.operand)
                }
                (Operand::Reg(Register::Gpr(..)), Operand::Imm(..)) => {
                    let again = [d.clone(), d.clone(), s.clone()];
                    self.imul(&again)
                }
                _ => Err(self.bad_operands(ops)),
            },
            [d, s, i] => match (&d.operand, &s.operand, &i.operand) {
                (
                    Operand::Reg(Register::Gpr(r, size)),
                    Operand::Reg(Register::Gpr(..)) | Operand::Mem(..),
                    Operand::Imm(e, _),
                ) if *size != Size::Byte => {
                    let v = self.imm(e)?;
                    self.opsize(*size);
                    if fits_simm8(v, *size) {
                        self.modrm(&[0x6B], *r, &s.operand)?;
                        push_imm(&mut self.out, v.unwrap_or(0), Size::Byte);
                    } else {
                        self.modrm(&[0x69], *r, &s.operand)?;
                        push_imm(&mut self.out, v.unwrap_or(0), *size);
                    }
                    Ok(())
                }
                _ => Err(self.bad_operands(ops)),
            },
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn push(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        match &o.operand {
            Operand::Reg(Register::Gpr(r, size)) if *size != Size::Byte => {
                self.opsize(*size);
                self.out.push(0x50 + r);
                Ok(())
            }
            Operand::Reg(Register::Seg(sr)) => {
                let bytes: &[u8] = match sr {
                    0 => &[0x06],
                    1 => &[0x0E],
                    2 => &[0x16],
                    3 => &[0x1E],
                    4 => &[0x0F, 0xA0],
                    _ => &[0x0F, 0xA8],
                };
                self.out.extend_from_slice(bytes);
                Ok(())
            }
            Operand::Imm(e, size) => {
                let v = self.imm(e)?;
                let size = size.unwrap_or(Size::Dword);
                self.opsize(size);
                if size != Size::Byte && fits_simm8(v, size) {
                    self.out.push(0x6A);
                    push_imm(&mut self.out, v.unwrap_or(0), Size::Byte);
                } else {
                    self.out.push(0x68);
                    push_imm(
                        &mut self.out,
                        v.unwrap_or(0),
                        if size == Size::Word {
                            Size::Word
                        } else {
                            Size::Dword
                        },
                    );
                }
                Ok(())
            }
            Operand::Mem(..) => {
                let size = self.size_of(&[o])?;
                self.opsize(size);
                self.modrm(&[0xFF], 6, &o.operand)
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn pop(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        match &o.operand {
            Operand::Reg(Register::Gpr(r, size)) if *size != Size::Byte => {
                self.opsize(*size);
                self.out.push(0x58 + r);
                Ok(())
            }
            Operand::Reg(Register::Seg(sr)) => {
                let bytes: &[u8] = match sr {
                    0 => &[0x07],
                    2 => &[0x17],
                    3 => &[0x1F],
                    4 => &[0x0F, 0xA1],
                    5 => &[0x0F, 0xA9],
                    _ => return Err(self.err(o.pos, "CS cannot be popped")),
                };
                self.out.extend_from_slice(bytes);
                Ok(())
            }
            Operand::Mem(..) => {
                let size = self.size_of(&[o])?;
                self.opsize(size);
                self.modrm(&[0x8F], 0, &o.operand)
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn movx(&mut self, signed: bool, ops: &[Located]) -> Result<(), Error> {
        let [d, s] = ops else {
            return Err(self.bad_operands(ops));
        };
        let Operand::Reg(Register::Gpr(r, dsize)) = d.operand else {
            return Err(self.bad_operands(ops));
        };
        let ssize = match &s.operand {
            Operand::Reg(Register::Gpr(_, size)) => *size,
            Operand::Mem(_, Some(size)) => *size,
            Operand::Mem(_, None) => {
                return Err(self.err(s.pos, "operation size not specified: write byte or word"));
            }
            _ => return Err(self.bad_operands(ops)),
        };
        if ssize >= dsize {
            return Err(self.err(s.pos, "the source must be smaller than the destination"));
        }
        self.opsize(dsize);
        let op = match (signed, ssize) {
            (false, Size::Byte) => 0xB6,
            (false, _) => 0xB7,
            (true, Size::Byte) => 0xBE,
            (true, _) => 0xBF,
        };
        self.modrm(&[0x0F, op], r, &s.operand)
    }

    /// A relative jump: `cc` for a conditional one.
    fn jump(&mut self, ops: &[Located], cc: Option<u8>) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        match &o.operand {
            Operand::Imm(e, _) => {
                let target = self.imm(e)?;
                let here = self.ctx.here + self.out.len() as i64;
                let short_len = 2;
                let near_len = if cc.is_some() { 6 } else { 5 };
                let fits_short = target.is_some_and(|t| fits_i8(t - (here + short_len)));
                let short = match o.jump {
                    Some(JumpSize::Short) => true,
                    Some(JumpSize::Near) => false,
                    None => fits_short,
                };
                if short {
                    if self.ctx.last_pass && !fits_short {
                        return Err(self.err(o.pos, "short jump is out of range"));
                    }
                    let rel = target.map_or(0, |t| t - (here + short_len));
                    self.out.push(match cc {
                        Some(c) => 0x70 + c,
                        None => 0xEB,
                    });
                    self.out.push(rel as u8);
                } else {
                    let rel = target.map_or(0, |t| t - (here + near_len));
                    match cc {
                        Some(c) => self.out.extend_from_slice(&[0x0F, 0x80 + c]),
                        None => self.out.push(0xE9),
                    }
                    push_imm(&mut self.out, rel, Size::Dword);
                }
                Ok(())
            }
            Operand::Reg(Register::Gpr(_, Size::Dword)) | Operand::Mem(..) if cc.is_none() => {
                self.modrm(&[0xFF], 4, &o.operand)
            }
            Operand::Far(sel, off) if cc.is_none() => {
                let sel = self.imm(sel)?.unwrap_or(0);
                let off = self.imm(off)?.unwrap_or(0);
                self.out.push(0xEA);
                push_imm(&mut self.out, off, Size::Dword);
                push_imm(&mut self.out, sel, Size::Word);
                Ok(())
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn call(&mut self, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        match &o.operand {
            Operand::Imm(e, _) => {
                let target = self.imm(e)?;
                let here = self.ctx.here + self.out.len() as i64;
                self.out.push(0xE8);
                push_imm(
                    &mut self.out,
                    target.map_or(0, |t| t - (here + 5)),
                    Size::Dword,
                );
                Ok(())
            }
            Operand::Reg(Register::Gpr(_, Size::Dword)) | Operand::Mem(..) => {
                self.modrm(&[0xFF], 2, &o.operand)
            }
            _ => Err(self.bad_operands(ops)),
        }
    }

    fn short_only(&mut self, opcode: u8, ops: &[Located]) -> Result<(), Error> {
        let [o] = ops else {
            return Err(self.bad_operands(ops));
        };
        let Operand::Imm(e, _) = &o.operand else {
            return Err(self.bad_operands(ops));
        };
        let target = self.imm(e)?;
        let here = self.ctx.here + self.out.len() as i64;
        let rel = target.map_or(0, |t| t - (here + 2));
        if self.ctx.last_pass && !fits_i8(rel) {
            return Err(self.err(
                o.pos,
                format!(
                    "`{}` target is out of range (-128 to 127 bytes)",
                    self.mnemonic
                ),
            ));
        }
        self.out.extend_from_slice(&[opcode, rel as u8]);
        Ok(())
    }

    fn in_out(&mut self, is_in: bool, ops: &[Located]) -> Result<(), Error> {
        let [a, b] = ops else {
            return Err(self.bad_operands(ops));
        };
        let (acc, port) = if is_in { (a, b) } else { (b, a) };
        let Operand::Reg(Register::Gpr(0, size)) = acc.operand else {
            return Err(self.err(acc.pos, "the data operand of in/out is al, ax or eax"));
        };
        let wide = u8::from(size != Size::Byte);
        self.opsize(size);
        match &port.operand {
            Operand::Reg(Register::Gpr(2, Size::Word)) => {
                self.out.push(if is_in { 0xEC } else { 0xEE } + wide);
                Ok(())
            }
            Operand::Imm(e, _) => {
                let v = self.imm(e)?.unwrap_or(0);
                if self.ctx.last_pass && !(0..=255).contains(&v) {
                    return Err(self.err(port.pos, "a port number above 255 needs dx"));
                }
                self.out.push(if is_in { 0xE4 } else { 0xE6 } + wide);
                self.out.push(v as u8);
                Ok(())
            }
            _ => Err(self.err(port.pos, "the port of in/out is a number or dx")),
        }
    }
}
