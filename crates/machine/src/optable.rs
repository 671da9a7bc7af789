//! The one table of operations: for every [`Op`] the decoder produces, its
//! mnemonic and what kind of instruction it is.
//!
//! Three parts of the machine read this table instead of keeping lists of
//! their own: the disassembler (the name), the block path (which
//! instructions end a block and which have a register shortcut) and the
//! tests (every row is exercised through the decoder, see
//! `tests/opcode_map.rs`). The match is exhaustive, so a new operation does
//! not compile until it has a row here, and the row decides how every part
//! treats it.

use crate::decode::{Instr, Op, Operand, Shift, StringOp};

/// What kind of instruction an operation is, as far as the block path must
/// know: whether it can only fall through to the next instruction with
/// registers, flags and memory changed, or may do more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A two-operand ALU operation (`dst op= src`, flags set); computed by
    /// `Cpu::binary` on both paths, and the block path's register shortcut.
    Alu,
    /// Falls through, changing only registers, flags and memory through the
    /// TLB (so it may fault, which the block path checks after every
    /// instruction that is not a register shortcut).
    Straight,
    /// May change EIP to somewhere other than the next instruction.
    Branch,
    /// A string operation: under `rep` it re-executes itself at the same
    /// EIP, one element per step.
    String,
    /// Changes what the block path assumes stays fixed: the interrupt flag,
    /// privilege, the descriptor tables, paging or the TLB, or talks to a
    /// device, or stops the CPU.
    System,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// The assembler's name for the 32-bit form (a condition code or a
    /// width suffix is added by the disassembler where the operation has
    /// one).
    pub mnemonic: &'static str,
    pub class: Class,
}

const fn row(mnemonic: &'static str, class: Class) -> OpInfo {
    OpInfo { mnemonic, class }
}

impl Op {
    /// This operation's row of the table.
    pub const fn info(self) -> OpInfo {
        use Class::*;
        match self {
            Op::Add => row("add", Alu),
            Op::Or => row("or", Alu),
            Op::Adc => row("adc", Alu),
            Op::Sbb => row("sbb", Alu),
            Op::And => row("and", Alu),
            Op::Sub => row("sub", Alu),
            Op::Xor => row("xor", Alu),
            Op::Cmp => row("cmp", Alu),
            Op::Test => row("test", Alu),
            Op::Not => row("not", Straight),
            Op::Neg => row("neg", Straight),
            Op::Inc => row("inc", Straight),
            Op::Dec => row("dec", Straight),
            Op::Shift(kind) => row(kind.mnemonic(), Straight),
            Op::Mul => row("mul", Straight),
            Op::Imul1 | Op::Imul2 | Op::Imul3 => row("imul", Straight),
            // Division can raise #DE, which any Straight instruction may
            // (a fault is checked after each); it does not jump.
            Op::Div => row("div", Straight),
            Op::Idiv => row("idiv", Straight),
            Op::Cdq => row("cdq", Straight),
            Op::Cwde => row("cwde", Straight),
            // A move or pop into a segment or control register is System;
            // see `Instr::class`.
            Op::Mov => row("mov", Straight),
            Op::Movzx => row("movzx", Straight),
            Op::Movsx => row("movsx", Straight),
            Op::Lea => row("lea", Straight),
            Op::Xchg => row("xchg", Straight),
            Op::Push => row("push", Straight),
            Op::Pop => row("pop", Straight),
            Op::Pushad => row("pushad", Straight),
            Op::Popad => row("popad", Straight),
            Op::Pushfd => row("pushfd", Straight),
            // popfd may set IF or TF.
            Op::Popfd => row("popfd", System),
            // Loads a segment register.
            Op::LoadPtr(seg) => row(
                match seg {
                    0 => "les",
                    2 => "lss",
                    3 => "lds",
                    4 => "lfs",
                    _ => "lgs",
                },
                System,
            ),
            Op::Bsf => row("bsf", Straight),
            Op::Bsr => row("bsr", Straight),
            Op::Bt => row("bt", Straight),
            Op::Shld => row("shld", Straight),
            Op::Shrd => row("shrd", Straight),
            Op::Daa => row("daa", Straight),
            Op::Das => row("das", Straight),
            Op::Aaa => row("aaa", Straight),
            Op::Aas => row("aas", Straight),
            // `aam 0` raises #DE, as a division may.
            Op::Aam => row("aam", Straight),
            Op::Aad => row("aad", Straight),
            Op::Xlat => row("xlatb", Straight),
            Op::Enter => row("enter", Straight),
            // #BR, as any Straight instruction may fault.
            Op::Bound => row("bound", Straight),
            Op::Into => row("into", System),
            Op::Sahf => row("sahf", Straight),
            Op::Lahf => row("lahf", Straight),
            Op::Cmov => row("cmov", Straight),
            Op::Setcc => row("set", Straight),
            Op::Jcc(_) => row("j", Branch),
            Op::Loop => row("loop", Branch),
            Op::Jmp | Op::JmpIndirect => row("jmp", Branch),
            // A far jump, call or return loads CS.
            Op::JmpFar => row("jmp", System),
            Op::CallFar => row("call", System),
            Op::RetFar => row("retf", System),
            Op::Call | Op::CallIndirect => row("call", Branch),
            Op::Ret => row("ret", Branch),
            Op::Leave => row("leave", Straight),
            Op::Int => row("int", System),
            Op::Int3 => row("int3", System),
            Op::Iret => row("iret", System),
            Op::String(kind) => row(kind.mnemonic(), String),
            // Clearing IF can only hold interrupts off, which the block
            // path never needs to notice; setting it (`sti`, `popfd`,
            // `iret`) ends a block.
            Op::Cli => row("cli", Straight),
            Op::Sti => row("sti", System),
            Op::Cld => row("cld", Straight),
            Op::Std => row("std", Straight),
            Op::Clc => row("clc", Straight),
            Op::Stc => row("stc", Straight),
            Op::Cmc => row("cmc", Straight),
            Op::Hlt => row("hlt", System),
            Op::Nop => row("nop", Straight),
            Op::Lgdt => row("lgdt", System),
            Op::Lidt => row("lidt", System),
            Op::Ltr => row("ltr", System),
            Op::Sgdt => row("sgdt", Straight),
            Op::Sidt => row("sidt", Straight),
            Op::Sldt => row("sldt", Straight),
            Op::Str => row("str", Straight),
            Op::Lldt => row("lldt", System),
            Op::Verr => row("verr", Straight),
            Op::Verw => row("verw", Straight),
            Op::Lar => row("lar", Straight),
            Op::Lsl => row("lsl", Straight),
            Op::Arpl => row("arpl", Straight),
            Op::Smsw => row("smsw", Straight),
            Op::Lmsw => row("lmsw", System),
            Op::Clts => row("clts", System),
            // System: it reads the step count, which a block settles first.
            Op::Rdtsc => row("rdtsc", System),
            Op::Invlpg => row("invlpg", System),
            Op::In => row("in", System),
            Op::Out => row("out", System),
            Op::Ud2 => row("ud2", System),
        }
    }
}

impl Shift {
    /// The assembler's name (`sal` is written `shl`, as it assembles).
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Shift::Rol => "rol",
            Shift::Ror => "ror",
            Shift::Rcl => "rcl",
            Shift::Rcr => "rcr",
            Shift::Shl | Shift::Sal => "shl",
            Shift::Shr => "shr",
            Shift::Sar => "sar",
        }
    }
}

impl StringOp {
    /// The assembler's name without its width suffix.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            StringOp::Movs => "movs",
            StringOp::Cmps => "cmps",
            StringOp::Stos => "stos",
            StringOp::Lods => "lods",
            StringOp::Scas => "scas",
            StringOp::Ins => "ins",
            StringOp::Outs => "outs",
        }
    }
}

impl Instr {
    /// The class of this instruction: its operation's, except that a move
    /// or pop into a segment or control register is [`Class::System`]
    /// (it changes privilege checks or the mapping).
    pub fn class(&self) -> Class {
        match (self.op, self.dst) {
            (Op::Mov | Op::Pop, Operand::Sreg(_) | Operand::Cr(_)) => Class::System,
            _ => self.op.info().class,
        }
    }

    /// Whether this instruction ends a block of the run fast path: anything
    /// that is not [`Class::Alu`] or [`Class::Straight`].
    pub(crate) fn ends_block(&self) -> bool {
        !matches!(self.class(), Class::Alu | Class::Straight)
    }
}
