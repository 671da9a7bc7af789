//! Disassembly: an [`Instr`] as text in the assembler's own syntax, for the
//! views (the text assembles back to the same bytes; see the tests).

use crate::cpu::{CodeSize, Reg, Seg};
use crate::decode::{Instr, MemRef, Op, Operand, Rep, Width};

fn reg_name(index: u8, width: Width) -> &'static str {
    let i = usize::from(index & 7);
    match width {
        Width::Dword => ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"][i],
        Width::Word => ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"][i],
        Width::Byte => ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"][i],
    }
}

fn size_name(width: Width) -> &'static str {
    match width {
        Width::Byte => "byte",
        Width::Word => "word",
        Width::Dword => "dword",
    }
}

fn mem(m: &MemRef) -> String {
    // A 16-bit address names the 16-bit registers (`[bx+si]`).
    let name = |r: Reg| {
        if m.addr16 {
            reg_name(r as u8, Width::Word)
        } else {
            Reg::name(r)
        }
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(b) = m.base {
        parts.push(name(b).to_string());
    }
    if let Some(i) = m.index {
        parts.push(if m.scale > 1 {
            format!("{}*{}", name(i), m.scale)
        } else {
            name(i).to_string()
        });
    }
    // The segment is written only where a prefix named it.
    let default = if m.base == Some(Reg::Ebp) || (!m.addr16 && m.base == Some(Reg::Esp)) {
        Seg::Ss
    } else {
        Seg::Ds
    };
    let seg = if m.seg == default {
        String::new()
    } else {
        format!("{}:", m.seg.name())
    };
    let disp = if m.addr16 {
        i32::from(m.disp as u16 as i16)
    } else {
        m.disp as i32
    };
    let text = parts.join("+");
    if parts.is_empty() {
        format!("[{seg}{:#x}]", m.disp)
    } else if disp > 0 {
        format!("[{seg}{text}+{disp:#x}]")
    } else if disp < 0 {
        format!("[{seg}{text}-{:#x}]", -(disp as i64))
    } else {
        format!("[{seg}{text}]")
    }
}

fn cond(cc: u8) -> &'static str {
    [
        "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
    ][usize::from(cc & 15)]
}

impl Instr {
    /// The instruction as text, in 32-bit code; `eip` is its address (for
    /// jump targets).
    pub fn disassemble(&self, eip: u32) -> String {
        self.disassemble_in(eip, CodeSize::Bits32)
    }

    /// The instruction as text, in code of `size`. A branch, `leave`,
    /// `iret` or `lgdt` whose operand size is not the code's default has
    /// no operand to carry its size, so it takes NASM's `o16` or `o32`.
    pub fn disassemble_in(&self, eip: u32, size: CodeSize) -> String {
        let text = self.text(eip);
        let default = match size {
            CodeSize::Bits16 => Width::Word,
            CodeSize::Bits32 => Width::Dword,
        };
        // A jump or call carries its size as a keyword on the target.
        let far_pointer =
            matches!(self.op, Op::JmpFar | Op::CallFar) && matches!(self.src, Operand::Imm(_));
        if (matches!(self.op, Op::Jcc(_) | Op::Jmp | Op::Call) || far_pointer)
            && self.width != default
        {
            // NASM takes the size of a conditional jump only with `near`.
            let near = if matches!(self.op, Op::Jcc(_)) {
                "near "
            } else {
                ""
            };
            return match text.split_once(' ') {
                Some((name, target)) => {
                    format!("{name} {near}{} {target}", size_name(self.width))
                }
                None => text,
            };
        }
        let unsized_op = matches!(
            self.op,
            Op::Ret
                | Op::RetFar
                | Op::JmpFar
                | Op::CallFar
                | Op::Loop
                | Op::Leave
                | Op::Iret
                | Op::Lgdt
                | Op::Lidt
                | Op::Sgdt
                | Op::Sidt
                | Op::Enter
        );
        if unsized_op && self.width != default {
            let prefix = if self.width == Width::Word {
                "o16"
            } else {
                "o32"
            };
            format!("{prefix} {text}")
        } else {
            text
        }
    }

    fn text(&self, eip: u32) -> String {
        let w = self.width;
        let next = eip.wrapping_add(u32::from(self.len));
        let operand = |o: &Operand, sized: bool| -> String {
            match o {
                Operand::None => String::new(),
                Operand::Reg(r) => reg_name(*r, w).to_string(),
                Operand::Mem(m) if sized => format!("{} {}", size_name(w), mem(m)),
                Operand::Mem(m) => mem(m),
                Operand::Imm(v) => format!("{v:#x}"),
                Operand::Sreg(s) => Seg::from_index(*s).name().to_string(),
                Operand::Cr(n) => format!("cr{n}"),
            }
        };
        // A memory operand needs a size keyword when nothing else gives one.
        let needs_size = !matches!(self.dst, Operand::Reg(_))
            && !matches!(self.src, Operand::Reg(_) | Operand::Sreg(_));
        let two = |name: &str| {
            format!(
                "{name} {}, {}",
                operand(&self.dst, needs_size),
                operand(&self.src, needs_size)
            )
        };
        let one = |name: &str, o: &Operand| format!("{name} {}", operand(o, true));
        let target = || match self.src {
            Operand::Imm(rel) => format!("{:#x}", next.wrapping_add(rel) & w.mask()),
            ref o => operand(o, false),
        };
        let rep = match self.rep {
            Rep::Rep => "rep ",
            Rep::Repne => "repne ",
            Rep::None => "",
        };
        // The name comes from the operation table; the arms below only lay
        // out the operands of each shape of instruction.
        let name = self.op.info().mnemonic;
        match self.op {
            Op::Add
            | Op::Or
            | Op::Adc
            | Op::Sbb
            | Op::And
            | Op::Sub
            | Op::Xor
            | Op::Cmp
            | Op::Test
            | Op::Xchg => two(name),
            Op::Mov => match (self.dst, self.src) {
                (Operand::Sreg(_), _)
                | (_, Operand::Sreg(_))
                | (Operand::Cr(_), _)
                | (_, Operand::Cr(_)) => {
                    format!(
                        "mov {}, {}",
                        operand(&self.dst, false),
                        operand(&self.src, false)
                    )
                }
                _ => two(name),
            },
            Op::Not | Op::Neg | Op::Inc | Op::Dec => match self.dst {
                Operand::Reg(r) => format!("{name} {}", reg_name(r, w)),
                ref o => one(name, o),
            },
            Op::Shift(_) => {
                let count = match self.src {
                    Operand::Reg(_) => "cl".to_string(),
                    Operand::Imm(v) => v.to_string(),
                    _ => String::new(),
                };
                let d = match self.dst {
                    Operand::Reg(r) => reg_name(r, w).to_string(),
                    ref o => operand(o, true),
                };
                format!("{name} {d}, {count}")
            }
            Op::Mul | Op::Imul1 | Op::Div | Op::Idiv => match self.src {
                Operand::Reg(r) => format!("{name} {}", reg_name(r, w)),
                ref o => one(name, o),
            },
            Op::Imul2 => format!(
                "{name} {}, {}",
                operand(&self.dst, false),
                operand(&self.src, false)
            ),
            Op::Imul3 => format!(
                "{name} {}, {}, {:#x}",
                operand(&self.dst, false),
                operand(&self.src, false),
                self.extra
            ),
            // The 16-bit forms of these two have names of their own.
            Op::Cdq => if w == Width::Word { "cwd" } else { name }.into(),
            Op::Cwde => if w == Width::Word { "cbw" } else { name }.into(),
            Op::Movzx | Op::Movsx => {
                let dst_width = if self.extra == 1 {
                    Width::Word
                } else {
                    Width::Dword
                };
                let d = match self.dst {
                    Operand::Reg(r) => reg_name(r, dst_width),
                    _ => "?",
                };
                let s = match self.src {
                    Operand::Reg(r) => reg_name(r, w).to_string(),
                    Operand::Mem(m) => format!("{} {}", size_name(w), mem(&m)),
                    _ => String::new(),
                };
                format!("{name} {d}, {s}")
            }
            Op::Lea | Op::LoadPtr(_) => format!(
                "{name} {}, {}",
                operand(&self.dst, false),
                operand(&self.src, false)
            ),
            // A 16-bit push of a segment register has no operand to carry
            // the size, so it takes NASM's `o16` prefix.
            Op::Push | Op::Pop
                if w == Width::Word
                    && matches!(
                        (self.dst, self.src),
                        (Operand::Sreg(_), _) | (_, Operand::Sreg(_))
                    ) =>
            {
                let seg = if let Operand::Sreg(s) = self.dst {
                    s
                } else if let Operand::Sreg(s) = self.src {
                    s
                } else {
                    0
                };
                format!("o16 {name} {}", Seg::from_index(seg).name())
            }
            Op::Push => match self.src {
                Operand::Imm(v) if w == Width::Word => format!("{name} word {v:#x}"),
                Operand::Imm(v) => format!("{name} {v:#x}"),
                Operand::Reg(r) => format!("{name} {}", reg_name(r, w)),
                ref o => one(name, o),
            },
            Op::Pop => match self.dst {
                Operand::Reg(r) => format!("{name} {}", reg_name(r, w)),
                ref o => one(name, o),
            },
            Op::Cmov => format!(
                "{name}{} {}, {}",
                cond(self.extra as u8),
                operand(&self.dst, false),
                operand(&self.src, false)
            ),
            Op::Setcc => format!(
                "{name}{} {}",
                cond(self.extra as u8),
                operand(&self.dst, false)
            ),
            Op::Jcc(cc) => format!("{name}{} {}", cond(cc), target()),
            Op::Loop => {
                let name = ["loop", "loope", "loopne", "jecxz"][(self.extra & 3) as usize];
                format!("{name} {}", target())
            }
            Op::Jmp | Op::Call => format!("{name} {}", target()),
            Op::JmpFar | Op::CallFar => match self.src {
                Operand::Mem(m) => format!("{name} far {}", mem(&m)),
                ref o => format!("{name} {:#x}:{}", self.extra, operand(o, false)),
            },
            Op::RetFar if self.extra != 0 => format!("{name} {:#x}", self.extra),
            Op::JmpIndirect | Op::CallIndirect => format!("{name} {}", operand(&self.src, true)),
            Op::Ret if self.extra != 0 => format!("{name} {:#x}", self.extra),
            Op::Int => format!("{name} {:#x}", self.extra),
            Op::String(_) => {
                let suffix = match w {
                    Width::Byte => "b",
                    Width::Word => "w",
                    Width::Dword => "d",
                };
                format!("{rep}{name}{suffix}")
            }
            // The 16-bit forms of these have names of their own.
            Op::Pushad | Op::Popad | Op::Pushfd | Op::Popfd if w == Width::Word => {
                format!("{}w", &name[..name.len() - 1])
            }
            Op::Ret
            | Op::RetFar
            | Op::Leave
            | Op::Int3
            | Op::Iret
            | Op::Pushad
            | Op::Popad
            | Op::Pushfd
            | Op::Popfd
            | Op::Sahf
            | Op::Lahf
            | Op::Cli
            | Op::Sti
            | Op::Cld
            | Op::Std
            | Op::Clc
            | Op::Stc
            | Op::Cmc
            | Op::Hlt
            | Op::Nop
            | Op::Clts
            | Op::Rdtsc
            | Op::Daa
            | Op::Das
            | Op::Aaa
            | Op::Aas
            | Op::Into
            | Op::Ud2 => name.into(),
            Op::Xlat => {
                // A segment prefix is written as NASM takes it before xlatb.
                if self.seg == Seg::Ds {
                    name.into()
                } else {
                    format!("{} {name}", self.seg.name())
                }
            }
            Op::Aam | Op::Aad => format!("{name} {:#x}", self.extra),
            Op::Enter => format!("{name} {:#x}, {:#x}", self.extra & 0xFFFF, self.extra >> 16),
            Op::Bsf | Op::Bsr | Op::Bound => format!(
                "{name} {}, {}",
                operand(&self.dst, false),
                operand(&self.src, false)
            ),
            Op::Bt => {
                let name = ["bt", "bts", "btr", "btc"][(self.extra & 3) as usize];
                match self.src {
                    Operand::Imm(v) => format!("{name} {}, {v:#x}", operand(&self.dst, true)),
                    ref o => format!(
                        "{name} {}, {}",
                        operand(&self.dst, false),
                        operand(o, false)
                    ),
                }
            }
            Op::Shld | Op::Shrd => {
                let count = if self.extra == 0x100 {
                    "cl".to_string()
                } else {
                    format!("{:#x}", self.extra)
                };
                format!(
                    "{name} {}, {}, {count}",
                    operand(&self.dst, false),
                    operand(&self.src, false)
                )
            }
            Op::Sgdt | Op::Sidt => format!("{name} {}", operand(&self.src, false)),
            Op::Sldt | Op::Str | Op::Smsw => format!("{name} {}", operand(&self.dst, false)),
            Op::Lldt | Op::Verr | Op::Verw | Op::Lmsw => format!(
                "{name} {}",
                match self.src {
                    Operand::Reg(r) => reg_name(r, Width::Word).to_string(),
                    ref o => operand(o, false),
                }
            ),
            Op::Lar | Op::Lsl => format!(
                "{name} {}, {}",
                operand(&self.dst, false),
                match self.src {
                    Operand::Reg(r) => reg_name(r, Width::Word).to_string(),
                    ref o => operand(o, false),
                }
            ),
            Op::Arpl => format!(
                "{name} {}, {}",
                operand(&self.dst, false),
                operand(&self.src, false)
            ),
            Op::Lgdt | Op::Lidt | Op::Invlpg => format!("{name} {}", operand(&self.src, false)),
            Op::Ltr => format!(
                "{name} {}",
                match self.src {
                    Operand::Reg(r) => reg_name(r, Width::Word).to_string(),
                    ref o => operand(o, false),
                }
            ),
            Op::In => {
                let port = match self.src {
                    Operand::Imm(p) => format!("{p:#x}"),
                    _ => "dx".into(),
                };
                format!("{name} {}, {port}", reg_name(0, w))
            }
            Op::Out => {
                let port = match self.dst {
                    Operand::Imm(p) => format!("{p:#x}"),
                    _ => "dx".into(),
                };
                format!("{name} {port}, {}", reg_name(0, w))
            }
        }
    }
}
