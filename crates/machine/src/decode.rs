//! The instruction decoder: IA-32 bytes in, an [`Instr`] (plain data) out.
//!
//! Decoding never panics: any byte sequence yields either an instruction or a
//! [`DecodeError`] that the executor turns into the architectural #UD.

use crate::cpu::{CodeSize, Reg, Seg};
use serde::{Deserialize, Serialize};

/// The longest legal IA-32 instruction, in bytes.
pub const MAX_INSTR_LEN: usize = 15;

/// The operand size of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    /// The width of an access of `n` bytes (1, 2, else 4).
    #[inline]
    pub fn of_bytes(n: u32) -> Width {
        match n {
            1 => Width::Byte,
            2 => Width::Word,
            _ => Width::Dword,
        }
    }

    /// The size in bits.
    #[inline]
    pub fn bits(self) -> u32 {
        self.bytes() * 8
    }

    /// Sign-extends a value of this width to 32 bits.
    #[inline]
    pub fn sign_extend(self, v: u32) -> u32 {
        match self {
            Width::Byte => v as u8 as i8 as i32 as u32,
            Width::Word => v as u16 as i16 as i32 as u32,
            Width::Dword => v,
        }
    }
}

/// A memory operand: `seg:[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemRef {
    pub base: Option<Reg>,
    pub index: Option<Reg>,
    pub scale: u8,
    /// The segment: DS, SS when the base is ESP or EBP (BP with 16-bit
    /// addresses), or the one a prefix names.
    pub seg: Seg,
    /// A 16-bit address (`[bx+si+disp16]` forms): the offset wraps at 64 KiB.
    pub addr16: bool,
    pub disp: u32,
}

impl MemRef {
    /// A 32-bit `[base + index*scale + disp]` through DS (or SS for an ESP
    /// or EBP base), as code in a flat 32-bit segment addresses memory.
    pub fn flat(base: Option<Reg>, index: Option<Reg>, scale: u8, disp: u32) -> MemRef {
        MemRef {
            base,
            index,
            scale,
            seg: default_segment(base),
            addr16: false,
            disp,
        }
    }
}

/// The segment a 32-bit address with this base goes through by default.
fn default_segment(base: Option<Reg>) -> Seg {
    match base {
        Some(Reg::Esp | Reg::Ebp) => Seg::Ss,
        _ => Seg::Ds,
    }
}

/// One operand of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    None,
    /// A general register by its encoding; its width is the instruction's
    /// width (so index 4 at byte width is AH, at dword width ESP).
    Reg(u8),
    Mem(MemRef),
    Imm(u32),
    /// A segment register: 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS.
    Sreg(u8),
    /// A control register CR0 to CR4 by number.
    Cr(u8),
}

/// Shift and rotate kinds, in the order of the group-2 `reg` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shift {
    Rol,
    Ror,
    Rcl,
    Rcr,
    Shl,
    Shr,
    Sal,
    Sar,
}

/// The string instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StringOp {
    Movs,
    Cmps,
    Stos,
    Lods,
    Scas,
    /// `ins`: a port (DX) into memory at EDI.
    Ins,
    /// `outs`: memory at ESI out to a port (DX).
    Outs,
}

/// A REP prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rep {
    None,
    /// F3: `rep` (or `repe` before `cmps`/`scas`).
    Rep,
    /// F2: `repne`.
    Repne,
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
    Test,
    Not,
    Neg,
    Inc,
    Dec,
    Shift(Shift),
    /// Unsigned multiply of the accumulator by `src` (EDX:EAX = EAX * src).
    Mul,
    /// One-operand signed multiply of the accumulator.
    Imul1,
    /// Two-operand signed multiply: `dst = dst * src`.
    Imul2,
    /// Three-operand signed multiply: `dst = src * imm`, the immediate in `extra`.
    Imul3,
    Div,
    Idiv,
    /// `cdq` (or `cwd` with the operand-size prefix).
    Cdq,
    /// `cwde` (or `cbw`).
    Cwde,
    Mov,
    Movzx,
    Movsx,
    Lea,
    Xchg,
    Push,
    Pop,
    Pushad,
    Popad,
    Pushfd,
    Popfd,
    /// `les`, `lds`, `lss`, `lfs`, `lgs`: a far pointer in memory (`src`)
    /// into the segment register numbered here and the register `dst`.
    LoadPtr(u8),
    /// `bsf`, `bsr`: the index of the lowest (highest) set bit of `src`
    /// into `dst`; ZF set, `dst` unchanged, when `src` is 0.
    Bsf,
    Bsr,
    /// `bt` (0), `bts` (1), `btr` (2), `btc` (3) in `extra`: bit `src` (a
    /// register, or an immediate) of `dst` into CF, then set, cleared or
    /// complemented.
    Bt,
    /// `shld`, `shrd`: `dst` shifted with bits from `src` shifted in; the
    /// count is the immediate in `extra`, or CL when `extra` is 0x100.
    Shld,
    Shrd,
    /// The decimal adjustments `daa`, `das`, `aaa`, `aas`.
    Daa,
    Das,
    Aaa,
    Aas,
    /// `aam`, `aad` with their base in `extra`.
    Aam,
    Aad,
    /// `xlatb`: AL := [seg:(E)BX + AL].
    Xlat,
    /// `enter` with the frame size in `extra`'s low 16 bits and the nesting
    /// level in bits 16-23.
    Enter,
    /// `bound dst, src`: #BR unless the signed `dst` lies within the two
    /// bounds at `src`.
    Bound,
    /// `into`: `int 4` when OF is set (the vector in `extra`).
    Into,
    /// `sahf`: SF, ZF, AF, PF and CF from AH.
    Sahf,
    /// `lahf`: AH from SF, ZF, AF, PF and CF.
    Lahf,
    /// Conditional move; the condition is in `extra`.
    Cmov,
    /// Set byte on condition; the condition is in `extra`.
    Setcc,
    /// A conditional jump; the condition is the low nibble of its opcode.
    Jcc(u8),
    /// `loop` (0), `loope` (1), `loopne` (2), `jecxz` (3), in `extra`.
    Loop,
    Jmp,
    /// A far jump: `jmp ptr16:32` (the offset in `src`, the selector in
    /// `extra`), or `jmp m16:32` (`src` the memory holding offset, then
    /// selector).
    JmpFar,
    /// A far call, with operands as [`Op::JmpFar`]'s.
    CallFar,
    /// `retf`, with the bytes to release in `extra`.
    RetFar,
    /// `jmp r/m32`: the target in `src`.
    JmpIndirect,
    Call,
    CallIndirect,
    /// `ret` with the bytes to release in `extra`.
    Ret,
    Leave,
    /// `int n` with the vector in `extra`.
    Int,
    /// `int3` (vector 3).
    Int3,
    Iret,
    String(StringOp),
    Cli,
    Sti,
    Cld,
    Std,
    Clc,
    Stc,
    Cmc,
    Hlt,
    Nop,
    Lgdt,
    Lidt,
    Ltr,
    /// `sgdt`, `sidt`: the table register stored to memory (`src`).
    Sgdt,
    Sidt,
    /// `sldt`, `str`: the LDT or task register's selector into `dst`.
    Sldt,
    Str,
    /// `lldt` of the selector in `src`.
    Lldt,
    /// `verr`, `verw` of the selector in `src`: ZF set if readable
    /// (writable) at the current privilege.
    Verr,
    Verw,
    /// `lar`, `lsl`: the access rights or limit of the descriptor whose
    /// selector is `src` into `dst`, ZF set if it may be read.
    Lar,
    Lsl,
    /// `arpl dst, src`: raises the RPL of the selector `dst` to `src`'s.
    Arpl,
    /// `smsw`: CR0's low bits into `dst`.
    Smsw,
    /// `lmsw`: CR0's PE, MP, EM and TS from `src` (PE can only be set).
    Lmsw,
    /// `clts`: clears CR0.TS.
    Clts,
    /// `rdtsc`: the time-stamp counter into EDX:EAX (osviz's counts steps).
    Rdtsc,
    Invlpg,
    /// `in`: `dst` is the accumulator, `src` the port (an immediate or DX).
    In,
    /// `out`: `dst` is the port (an immediate or DX), `src` the accumulator.
    Out,
    Ud2,
}

/// One decoded instruction.
///
/// For relative jumps and calls, `src` holds the displacement sign-extended
/// to 32 bits. `extra` holds a third value some instructions need (see
/// [`Op`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instr {
    pub op: Op,
    pub width: Width,
    pub dst: Operand,
    pub src: Operand,
    pub extra: u32,
    pub rep: Rep,
    /// The address size is 16 bits: string operations use SI, DI and CX,
    /// `loop` and `jcxz` CX.
    pub addr16: bool,
    /// The segment a string operation's source goes through (DS, or the
    /// one a prefix names; the destination is always ES).
    pub seg: Seg,
    pub len: u8,
}

/// Why some bytes are not an instruction the machine executes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecodeError {
    /// The bytes run out before the instruction ends.
    Truncated,
    /// An encoding the machine does not implement, with its bytes so far.
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

/// A cursor over the bytes of one instruction, with what its prefixes say
/// about addresses.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The address size is 16 bits.
    addr16: bool,
    /// The segment a prefix names, if any.
    seg_override: Option<Seg>,
}

impl Cursor<'_> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_INSTR_LEN {
            return Err(self.unsupported());
        }
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn unsupported(&self) -> DecodeError {
        DecodeError::Unsupported {
            opcode: self.bytes[..self.pos.min(self.bytes.len())].to_vec(),
        }
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

    /// A relative branch displacement of the operand size, sign-extended
    /// to 32 bits.
    fn rel(&mut self, width: Width) -> Result<u32, DecodeError> {
        Ok(width.sign_extend(self.imm(width)?))
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
        let mut mem = if self.addr16 {
            self.memref16(md, rm)?
        } else {
            self.memref32(md, rm)?
        };
        if let Some(seg) = self.seg_override {
            mem.seg = seg;
        }
        Ok((reg, Operand::Mem(mem)))
    }

    /// The memory operand of a 16-bit ModRM: `[bx+si]`, `[bx+di]`,
    /// `[bp+si]`, `[bp+di]`, `[si]`, `[di]`, `[bp]` (a bare disp16 when
    /// mod is 0) or `[bx]`, plus a disp8 or disp16.
    fn memref16(&mut self, md: u8, rm: u8) -> Result<MemRef, DecodeError> {
        let (base, index) = match rm {
            0 => (Some(Reg::Ebx), Some(Reg::Esi)),
            1 => (Some(Reg::Ebx), Some(Reg::Edi)),
            2 => (Some(Reg::Ebp), Some(Reg::Esi)),
            3 => (Some(Reg::Ebp), Some(Reg::Edi)),
            4 => (Some(Reg::Esi), None),
            5 => (Some(Reg::Edi), None),
            6 if md == 0 => (None, None),
            6 => (Some(Reg::Ebp), None),
            _ => (Some(Reg::Ebx), None),
        };
        let disp = match (md, base) {
            (0, None) => u32::from(self.u16()?),
            (1, _) => self.simm8()?,
            (2, _) => u32::from(self.u16()?),
            _ => 0,
        };
        Ok(MemRef {
            base,
            index,
            scale: 1,
            seg: if base == Some(Reg::Ebp) {
                Seg::Ss
            } else {
                Seg::Ds
            },
            addr16: true,
            disp,
        })
    }

    /// The memory operand of a 32-bit ModRM (with its SIB byte).
    fn memref32(&mut self, md: u8, rm: u8) -> Result<MemRef, DecodeError> {
        let mut mem = MemRef::flat(Some(Reg::from_index(rm)), None, 1, 0);
        if rm == 4 {
            let sib = self.u8()?;
            let index = (sib >> 3) & 7;
            let base = sib & 7;
            mem.scale = 1 << (sib >> 6);
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
        mem.seg = default_segment(mem.base);
        Ok(mem)
    }

    /// A ModRM whose `r/m` must name memory (as for `lea` and `lgdt`).
    fn modrm_mem(&mut self) -> Result<(u8, Operand), DecodeError> {
        match self.modrm()? {
            (_, Operand::Reg(_)) => Err(self.unsupported()),
            other => Ok(other),
        }
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

const SHIFTS: [Shift; 8] = [
    Shift::Rol,
    Shift::Ror,
    Shift::Rcl,
    Shift::Rcr,
    Shift::Shl,
    Shift::Shr,
    Shift::Sal,
    Shift::Sar,
];

/// The decoder's working state for one instruction.
struct Decoder<'a> {
    c: Cursor<'a>,
    opsize: Width,
    rep: Rep,
}

/// The parts of an instruction a decoding arm produces; `len` and `rep` are
/// filled in afterwards.
struct Parts {
    op: Op,
    width: Width,
    dst: Operand,
    src: Operand,
    extra: u32,
}

fn parts(op: Op, width: Width, dst: Operand, src: Operand) -> Parts {
    Parts {
        op,
        width,
        dst,
        src,
        extra: 0,
    }
}

impl Parts {
    /// Whether a LOCK prefix may precede this: `add`, `adc`, `and`, `or`,
    /// `sbb`, `sub`, `xor`, `inc`, `dec`, `neg`, `not`, `xchg` and the bit
    /// tests that write, with a memory destination.
    fn lockable(&self) -> bool {
        let op_ok = matches!(
            self.op,
            Op::Add
                | Op::Adc
                | Op::And
                | Op::Or
                | Op::Sbb
                | Op::Sub
                | Op::Xor
                | Op::Inc
                | Op::Dec
                | Op::Neg
                | Op::Not
                | Op::Xchg
        ) || (self.op == Op::Bt && self.extra != 0);
        op_ok && matches!(self.dst, Operand::Mem(_))
    }

    fn extra(mut self, extra: u32) -> Self {
        self.extra = extra;
        self
    }
}

/// Decodes the instruction at the start of `bytes` in a 32-bit code segment.
pub fn decode(bytes: &[u8]) -> Result<Instr, DecodeError> {
    decode_in(bytes, CodeSize::Bits32)
}

/// Decodes the instruction at the start of `bytes` in code of `size` (16
/// bits in real mode): the operand- and address-size prefixes (0x66, 0x67)
/// switch to the other size.
pub fn decode_in(bytes: &[u8], size: CodeSize) -> Result<Instr, DecodeError> {
    let bits16 = size == CodeSize::Bits16;
    let mut d = Decoder {
        c: Cursor {
            bytes,
            pos: 0,
            addr16: bits16,
            seg_override: None,
        },
        opsize: if bits16 { Width::Word } else { Width::Dword },
        rep: Rep::None,
    };
    let mut lock = false;
    let mut opcode = d.c.u8()?;
    // Prefixes: operand and address size, REP, and segment overrides; LOCK
    // changes nothing on a machine with one CPU.
    loop {
        match opcode {
            0x66 => d.opsize = if bits16 { Width::Dword } else { Width::Word },
            0x67 => d.c.addr16 = !bits16,
            0xF3 => d.rep = Rep::Rep,
            0xF2 => d.rep = Rep::Repne,
            0x26 => d.c.seg_override = Some(Seg::Es),
            0x2E => d.c.seg_override = Some(Seg::Cs),
            0x36 => d.c.seg_override = Some(Seg::Ss),
            0x3E => d.c.seg_override = Some(Seg::Ds),
            0x64 => d.c.seg_override = Some(Seg::Fs),
            0x65 => d.c.seg_override = Some(Seg::Gs),
            0xF0 => lock = true,
            _ => break,
        }
        opcode = d.c.u8()?;
    }
    let p = if opcode == 0x0F {
        let second = d.c.u8()?;
        d.two_byte(second)?
    } else {
        d.one_byte(opcode)?
    };
    if lock && !p.lockable() {
        // LOCK before anything but a read-modify-write of memory by one of
        // the instructions the SDM lists is #UD.
        return Err(d.c.unsupported());
    }
    Ok(Instr {
        op: p.op,
        width: p.width,
        dst: p.dst,
        src: p.src,
        extra: p.extra,
        rep: d.rep,
        addr16: d.c.addr16,
        seg: d.c.seg_override.unwrap_or(Seg::Ds),
        len: d.c.pos as u8,
    })
}

impl Decoder<'_> {
    /// Byte width for even opcodes, the operand size for odd ones.
    fn byte_or(&self, opcode: u8) -> Width {
        if opcode & 1 == 0 {
            Width::Byte
        } else {
            self.opsize
        }
    }

    fn one_byte(&mut self, opcode: u8) -> Result<Parts, DecodeError> {
        use Operand::{Imm, Reg as R};
        let os = self.opsize;
        let none = Operand::None;
        Ok(match opcode {
            // The eight classic ALU operations in their six forms each.
            0x00..=0x3F if opcode & 7 < 6 => {
                let op = ALU_OPS[usize::from(opcode >> 3)];
                let width = self.byte_or(opcode);
                match opcode & 7 {
                    0 | 1 => {
                        let (reg, rm) = self.c.modrm()?;
                        parts(op, width, rm, R(reg))
                    }
                    2 | 3 => {
                        let (reg, rm) = self.c.modrm()?;
                        parts(op, width, R(reg), rm)
                    }
                    _ => parts(op, width, R(0), Imm(self.c.imm(width)?)),
                }
            }
            0x06 => parts(Op::Push, os, none, Operand::Sreg(0)),
            0x07 => parts(Op::Pop, os, Operand::Sreg(0), none),
            0x16 => parts(Op::Push, os, none, Operand::Sreg(2)),
            0x17 => parts(Op::Pop, os, Operand::Sreg(2), none),
            0x1E => parts(Op::Push, os, none, Operand::Sreg(3)),
            0x1F => parts(Op::Pop, os, Operand::Sreg(3), none),
            0x0E => parts(Op::Push, os, none, Operand::Sreg(1)),
            0x40..=0x47 => parts(Op::Inc, os, R(opcode & 7), none),
            0x48..=0x4F => parts(Op::Dec, os, R(opcode & 7), none),
            0x50..=0x57 => parts(Op::Push, os, none, R(opcode & 7)),
            0x58..=0x5F => parts(Op::Pop, os, R(opcode & 7), none),
            0x60 => parts(Op::Pushad, os, none, none),
            0x61 => parts(Op::Popad, os, none, none),
            0x68 => parts(Op::Push, os, none, Imm(self.c.imm(os)?)),
            0x6A => parts(Op::Push, os, none, Imm(self.c.simm8()? & os.mask())),
            0x63 => {
                let (reg, rm) = self.c.modrm()?;
                parts(Op::Arpl, Width::Word, rm, R(reg))
            }
            0x69 | 0x6B => {
                let (reg, rm) = self.c.modrm()?;
                let imm = if opcode == 0x6B {
                    self.c.simm8()?
                } else {
                    os.sign_extend(self.c.imm(os)?)
                };
                parts(Op::Imul3, os, R(reg), rm).extra(imm)
            }
            0x6C | 0x6D => parts(Op::String(StringOp::Ins), self.byte_or(opcode), none, none),
            0x6E | 0x6F => parts(Op::String(StringOp::Outs), self.byte_or(opcode), none, none),
            0x70..=0x7F => parts(Op::Jcc(opcode & 0xF), os, none, Imm(self.c.simm8()?)),
            0x80..=0x83 => {
                let width = self.byte_or(opcode);
                let (reg, rm) = self.c.modrm()?;
                let imm = if opcode == 0x83 {
                    self.c.simm8()? & width.mask()
                } else {
                    self.c.imm(width)?
                };
                parts(ALU_OPS[usize::from(reg)], width, rm, Imm(imm))
            }
            0x84 | 0x85 => {
                let (reg, rm) = self.c.modrm()?;
                parts(Op::Test, self.byte_or(opcode), rm, R(reg))
            }
            0x86 | 0x87 => {
                let (reg, rm) = self.c.modrm()?;
                parts(Op::Xchg, self.byte_or(opcode), rm, R(reg))
            }
            0x88..=0x8B => {
                let width = self.byte_or(opcode);
                let (reg, rm) = self.c.modrm()?;
                if opcode & 2 == 0 {
                    parts(Op::Mov, width, rm, R(reg))
                } else {
                    parts(Op::Mov, width, R(reg), rm)
                }
            }
            0x8C => {
                let (reg, rm) = self.c.modrm()?;
                if reg > 5 {
                    return Err(self.c.unsupported());
                }
                // A segment register stored to memory is always 16 bits wide.
                let width = if matches!(rm, Operand::Mem(_)) {
                    Width::Word
                } else {
                    os
                };
                parts(Op::Mov, width, rm, Operand::Sreg(reg))
            }
            0x8D => {
                let (reg, rm) = self.c.modrm_mem()?;
                parts(Op::Lea, os, R(reg), rm)
            }
            0x8E => {
                let (reg, rm) = self.c.modrm()?;
                if reg > 5 || reg == 1 {
                    return Err(self.c.unsupported());
                }
                parts(Op::Mov, Width::Word, Operand::Sreg(reg), rm)
            }
            0x8F => {
                let (reg, rm) = self.c.modrm()?;
                if reg != 0 {
                    return Err(self.c.unsupported());
                }
                parts(Op::Pop, os, rm, none)
            }
            0x90 => parts(Op::Nop, os, none, none),
            0x91..=0x97 => parts(Op::Xchg, os, R(opcode & 7), R(0)),
            0x98 => parts(Op::Cwde, os, none, none),
            0x99 => parts(Op::Cdq, os, none, none),
            0x9C => parts(Op::Pushfd, os, none, none),
            0x9D => parts(Op::Popfd, os, none, none),
            0x27 => parts(Op::Daa, Width::Byte, none, none),
            0x2F => parts(Op::Das, Width::Byte, none, none),
            0x37 => parts(Op::Aaa, Width::Byte, none, none),
            0x3F => parts(Op::Aas, Width::Byte, none, none),
            0xD4 => parts(Op::Aam, Width::Byte, none, none).extra(u32::from(self.c.u8()?)),
            0xD5 => parts(Op::Aad, Width::Byte, none, none).extra(u32::from(self.c.u8()?)),
            0xD7 => parts(Op::Xlat, Width::Byte, none, none),
            0xC8 => {
                let size = u32::from(self.c.u16()?);
                let level = u32::from(self.c.u8()?);
                parts(Op::Enter, os, none, none).extra(size | level << 16)
            }
            0x62 => {
                let (reg, rm) = self.c.modrm_mem()?;
                parts(Op::Bound, os, R(reg), rm)
            }
            0xCE => parts(Op::Into, Width::Dword, none, none).extra(4),
            0x9E => parts(Op::Sahf, Width::Byte, none, none),
            0x9F => parts(Op::Lahf, Width::Byte, none, none),
            0xA0..=0xA3 => {
                let width = self.byte_or(opcode);
                let disp = if self.c.addr16 {
                    u32::from(self.c.u16()?)
                } else {
                    self.c.u32()?
                };
                let mem = Operand::Mem(MemRef {
                    seg: self.c.seg_override.unwrap_or(Seg::Ds),
                    addr16: self.c.addr16,
                    ..MemRef::flat(None, None, 1, disp)
                });
                if opcode & 2 == 0 {
                    parts(Op::Mov, width, R(0), mem)
                } else {
                    parts(Op::Mov, width, mem, R(0))
                }
            }
            0xA4 | 0xA5 => parts(Op::String(StringOp::Movs), self.byte_or(opcode), none, none),
            0xA6 | 0xA7 => parts(Op::String(StringOp::Cmps), self.byte_or(opcode), none, none),
            0xA8 | 0xA9 => {
                let width = self.byte_or(opcode);
                parts(Op::Test, width, R(0), Imm(self.c.imm(width)?))
            }
            0xAA | 0xAB => parts(Op::String(StringOp::Stos), self.byte_or(opcode), none, none),
            0xAC | 0xAD => parts(Op::String(StringOp::Lods), self.byte_or(opcode), none, none),
            0xAE | 0xAF => parts(Op::String(StringOp::Scas), self.byte_or(opcode), none, none),
            0xB0..=0xB7 => parts(
                Op::Mov,
                Width::Byte,
                R(opcode & 7),
                Imm(self.c.imm(Width::Byte)?),
            ),
            0xB8..=0xBF => parts(Op::Mov, os, R(opcode & 7), Imm(self.c.imm(os)?)),
            0xC0 | 0xC1 | 0xD0..=0xD3 => {
                let width = self.byte_or(opcode);
                let (reg, rm) = self.c.modrm()?;
                let count = match opcode {
                    0xC0 | 0xC1 => Imm(u32::from(self.c.u8()?)),
                    0xD0 | 0xD1 => Imm(1),
                    _ => R(1), // CL
                };
                parts(Op::Shift(SHIFTS[usize::from(reg)]), width, rm, count)
            }
            0xC2 => parts(Op::Ret, os, none, none).extra(u32::from(self.c.u16()?)),
            0xC3 => parts(Op::Ret, os, none, none),
            0xCA => parts(Op::RetFar, os, none, none).extra(u32::from(self.c.u16()?)),
            0xCB => parts(Op::RetFar, os, none, none),
            0x9A => {
                let offset = self.c.imm(os)?;
                let selector = self.c.u16()?;
                parts(Op::CallFar, os, none, Imm(offset)).extra(u32::from(selector))
            }
            0xC6 | 0xC7 => {
                let width = self.byte_or(opcode);
                let (reg, rm) = self.c.modrm()?;
                if reg != 0 {
                    return Err(self.c.unsupported());
                }
                parts(Op::Mov, width, rm, Imm(self.c.imm(width)?))
            }
            0xC4 | 0xC5 => {
                let (reg, rm) = self.c.modrm_mem()?;
                let seg = if opcode == 0xC4 { 0 } else { 3 };
                parts(Op::LoadPtr(seg), os, R(reg), rm)
            }
            0xC9 => parts(Op::Leave, os, none, none),
            0xCC => parts(Op::Int3, Width::Dword, none, none).extra(3),
            0xCD => parts(Op::Int, Width::Dword, none, none).extra(u32::from(self.c.u8()?)),
            0xCF => parts(Op::Iret, os, none, none),
            0xE0..=0xE3 => {
                let kind = match opcode {
                    0xE2 => 0,
                    0xE1 => 1,
                    0xE0 => 2,
                    _ => 3,
                };
                parts(Op::Loop, os, none, Imm(self.c.simm8()?)).extra(kind)
            }
            0xE4 | 0xE5 => {
                let width = self.byte_or(opcode);
                parts(Op::In, width, R(0), Imm(u32::from(self.c.u8()?)))
            }
            0xE6 | 0xE7 => {
                let width = self.byte_or(opcode);
                parts(Op::Out, width, Imm(u32::from(self.c.u8()?)), R(0))
            }
            0xE8 => parts(Op::Call, os, none, Imm(self.c.rel(os)?)),
            0xE9 => parts(Op::Jmp, os, none, Imm(self.c.rel(os)?)),
            0xEA => {
                let offset = self.c.imm(os)?;
                let selector = self.c.u16()?;
                parts(Op::JmpFar, os, none, Imm(offset)).extra(u32::from(selector))
            }
            0xEB => parts(Op::Jmp, os, none, Imm(self.c.simm8()?)),
            0xEC | 0xED => parts(Op::In, self.byte_or(opcode), R(0), R(2)),
            0xEE | 0xEF => parts(Op::Out, self.byte_or(opcode), R(2), R(0)),
            0xF4 => parts(Op::Hlt, Width::Dword, none, none),
            0xF5 => parts(Op::Cmc, Width::Dword, none, none),
            0xF6 | 0xF7 => {
                let width = self.byte_or(opcode);
                let (reg, rm) = self.c.modrm()?;
                match reg {
                    0 | 1 => parts(Op::Test, width, rm, Imm(self.c.imm(width)?)),
                    2 => parts(Op::Not, width, rm, none),
                    3 => parts(Op::Neg, width, rm, none),
                    4 => parts(Op::Mul, width, none, rm),
                    5 => parts(Op::Imul1, width, none, rm),
                    6 => parts(Op::Div, width, none, rm),
                    _ => parts(Op::Idiv, width, none, rm),
                }
            }
            0xF8 => parts(Op::Clc, Width::Dword, none, none),
            0xF9 => parts(Op::Stc, Width::Dword, none, none),
            0xFA => parts(Op::Cli, Width::Dword, none, none),
            0xFB => parts(Op::Sti, Width::Dword, none, none),
            0xFC => parts(Op::Cld, Width::Dword, none, none),
            0xFD => parts(Op::Std, Width::Dword, none, none),
            0xFE => {
                let (reg, rm) = self.c.modrm()?;
                match reg {
                    0 => parts(Op::Inc, Width::Byte, rm, none),
                    1 => parts(Op::Dec, Width::Byte, rm, none),
                    _ => return Err(self.c.unsupported()),
                }
            }
            0xFF => {
                let (reg, rm) = self.c.modrm()?;
                match reg {
                    0 => parts(Op::Inc, os, rm, none),
                    1 => parts(Op::Dec, os, rm, none),
                    2 => parts(Op::CallIndirect, os, none, rm),
                    4 => parts(Op::JmpIndirect, os, none, rm),
                    3 | 5 if matches!(rm, Operand::Mem(_)) => {
                        let op = if reg == 3 { Op::CallFar } else { Op::JmpFar };
                        parts(op, os, none, rm)
                    }
                    6 => parts(Op::Push, os, none, rm),
                    _ => return Err(self.c.unsupported()),
                }
            }
            _ => return Err(self.c.unsupported()),
        })
    }

    fn two_byte(&mut self, opcode: u8) -> Result<Parts, DecodeError> {
        use Operand::{Imm, Reg as R};
        let os = self.opsize;
        let none = Operand::None;
        Ok(match opcode {
            0x00 => {
                let (reg, rm) = self.c.modrm()?;
                // A selector stored to memory is 16 bits; to a register, of
                // the operand size.
                let store = if matches!(rm, Operand::Mem(_)) {
                    Width::Word
                } else {
                    os
                };
                match reg {
                    0 => parts(Op::Sldt, store, rm, none),
                    1 => parts(Op::Str, store, rm, none),
                    2 => parts(Op::Lldt, Width::Word, none, rm),
                    3 => parts(Op::Ltr, Width::Word, none, rm),
                    4 => parts(Op::Verr, Width::Word, none, rm),
                    5 => parts(Op::Verw, Width::Word, none, rm),
                    _ => return Err(self.c.unsupported()),
                }
            }
            0x01 => {
                let (reg, rm) = self.c.modrm()?;
                let memory = matches!(rm, Operand::Mem(_));
                match reg {
                    0 if memory => parts(Op::Sgdt, os, none, rm),
                    1 if memory => parts(Op::Sidt, os, none, rm),
                    2 if memory => parts(Op::Lgdt, os, none, rm),
                    3 if memory => parts(Op::Lidt, os, none, rm),
                    4 => parts(Op::Smsw, if memory { Width::Word } else { os }, rm, none),
                    6 => parts(Op::Lmsw, Width::Word, none, rm),
                    7 if memory => parts(Op::Invlpg, Width::Dword, none, rm),
                    _ => return Err(self.c.unsupported()),
                }
            }
            0x02 | 0x03 => {
                let (reg, rm) = self.c.modrm()?;
                let op = if opcode == 0x02 { Op::Lar } else { Op::Lsl };
                parts(op, os, R(reg), rm)
            }
            0x06 => parts(Op::Clts, Width::Dword, none, none),
            0x0B => parts(Op::Ud2, Width::Dword, none, none),
            0x31 => parts(Op::Rdtsc, Width::Dword, none, none),
            0x20 | 0x22 => {
                // MOV to or from a control register always uses a register
                // operand, whatever the mod field says.
                let (cr, rm) = self.c.modrm()?;
                let reg = match rm {
                    R(r) => r,
                    _ => return Err(self.c.unsupported()),
                };
                if !matches!(cr, 0 | 2 | 3 | 4) {
                    return Err(self.c.unsupported());
                }
                if opcode == 0x20 {
                    parts(Op::Mov, Width::Dword, R(reg), Operand::Cr(cr))
                } else {
                    parts(Op::Mov, Width::Dword, Operand::Cr(cr), R(reg))
                }
            }
            0x40..=0x4F => {
                let (reg, rm) = self.c.modrm()?;
                parts(Op::Cmov, os, R(reg), rm).extra(u32::from(opcode & 0xF))
            }
            0x80..=0x8F => parts(Op::Jcc(opcode & 0xF), os, none, Imm(self.c.rel(os)?)),
            0x90..=0x9F => {
                let (_, rm) = self.c.modrm()?;
                parts(Op::Setcc, Width::Byte, rm, none).extra(u32::from(opcode & 0xF))
            }
            0xA0 => parts(Op::Push, os, none, Operand::Sreg(4)),
            0xA1 => parts(Op::Pop, os, Operand::Sreg(4), none),
            0xA8 => parts(Op::Push, os, none, Operand::Sreg(5)),
            0xA9 => parts(Op::Pop, os, Operand::Sreg(5), none),
            0xAF => {
                let (reg, rm) = self.c.modrm()?;
                parts(Op::Imul2, os, R(reg), rm)
            }
            0xBC | 0xBD => {
                let (reg, rm) = self.c.modrm()?;
                let op = if opcode == 0xBC { Op::Bsf } else { Op::Bsr };
                parts(op, os, R(reg), rm)
            }
            0xA3 | 0xAB | 0xB3 | 0xBB => {
                let (reg, rm) = self.c.modrm()?;
                let kind = u32::from((opcode >> 3) & 3);
                parts(Op::Bt, os, rm, R(reg)).extra(kind)
            }
            0xBA => {
                let (reg, rm) = self.c.modrm()?;
                if reg < 4 {
                    return Err(self.c.unsupported());
                }
                let bit = u32::from(self.c.u8()?);
                parts(Op::Bt, os, rm, Imm(bit)).extra(u32::from(reg - 4))
            }
            0xA4 | 0xA5 | 0xAC | 0xAD => {
                let (reg, rm) = self.c.modrm()?;
                let count = if opcode & 1 == 0 {
                    u32::from(self.c.u8()?)
                } else {
                    0x100
                };
                let op = if opcode < 0xA8 { Op::Shld } else { Op::Shrd };
                parts(op, os, rm, R(reg)).extra(count)
            }
            0xB2 | 0xB4 | 0xB5 => {
                let (reg, rm) = self.c.modrm_mem()?;
                parts(Op::LoadPtr(opcode - 0xB0), os, R(reg), rm)
            }
            0xB6 | 0xB7 | 0xBE | 0xBF => {
                let (reg, rm) = self.c.modrm()?;
                let src_width = if opcode & 1 == 0 {
                    Width::Byte
                } else {
                    Width::Word
                };
                let op = if opcode < 0xB8 { Op::Movzx } else { Op::Movsx };
                // `width` is the source width; the destination has the operand size.
                parts(op, src_width, R(reg), rm).extra(u32::from(os == Width::Word))
            }
            _ => return Err(self.c.unsupported()),
        })
    }
}
