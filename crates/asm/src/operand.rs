//! Instruction operands: registers, immediates and memory references.

use crate::error::{Error, Pos};
use crate::expr::{BinOp, Expr, Tokens, parse_expr};
use crate::lexer::Tok;

/// An operand size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    Byte = 1,
    Word = 2,
    Dword = 4,
}

impl Size {
    pub fn bytes(self) -> u32 {
        self as u32
    }

    pub fn keyword(name: &str) -> Option<Size> {
        match name.to_ascii_lowercase().as_str() {
            "byte" => Some(Size::Byte),
            "word" => Some(Size::Word),
            "dword" => Some(Size::Dword),
            _ => None,
        }
    }
}

/// A register operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// A general register: encoding number and size.
    Gpr(u8, Size),
    /// ES, CS, SS, DS, FS, GS as 0 to 5.
    Seg(u8),
    /// CR0 to CR4.
    Cr(u8),
}

impl Register {
    pub fn parse(name: &str) -> Option<Register> {
        let n = name.to_ascii_lowercase();
        let index = |list: [&str; 8]| list.iter().position(|r| *r == n).map(|i| i as u8);
        if let Some(i) = index(["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]) {
            return Some(Register::Gpr(i, Size::Dword));
        }
        if let Some(i) = index(["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]) {
            return Some(Register::Gpr(i, Size::Word));
        }
        if let Some(i) = index(["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]) {
            return Some(Register::Gpr(i, Size::Byte));
        }
        if let Some(i) = ["es", "cs", "ss", "ds", "fs", "gs"]
            .iter()
            .position(|r| *r == n)
        {
            return Some(Register::Seg(i as u8));
        }
        match n.as_str() {
            "cr0" => Some(Register::Cr(0)),
            "cr2" => Some(Register::Cr(2)),
            "cr3" => Some(Register::Cr(3)),
            "cr4" => Some(Register::Cr(4)),
            _ => None,
        }
    }
}

/// A memory reference `[base + index*scale + disp]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mem {
    pub base: Option<u8>,
    pub index: Option<u8>,
    pub scale: u8,
    pub disp: Expr,
}

/// One operand as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Reg(Register),
    /// An immediate, with a size keyword if one was written.
    Imm(Expr, Option<Size>),
    /// A memory reference, with a size keyword if one was written.
    Mem(Mem, Option<Size>),
    /// `selector:offset` for far jumps.
    Far(Expr, Expr),
}

/// A parsed operand and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub operand: Operand,
    pub pos: Pos,
    /// `short` or `near` written before a jump target.
    pub jump: Option<JumpSize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JumpSize {
    Short,
    Near,
}

/// Parses one operand.
pub fn parse_operand(t: &mut Tokens) -> Result<Located, Error> {
    let pos = t.pos();
    let mut size = None;
    let mut jump = None;
    loop {
        match t.peek() {
            Some(Tok::Ident(w)) if Size::keyword(w).is_some() => {
                size = Size::keyword(w);
                t.next();
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("short") => {
                jump = Some(JumpSize::Short);
                t.next();
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("near") => {
                jump = Some(JumpSize::Near);
                t.next();
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("ptr") => {
                return Err(t.error("`ptr` is MASM syntax; write `dword [...]`"));
            }
            _ => break,
        }
    }
    if t.eat_punct("[") {
        let inner_pos = t.pos();
        let e = parse_expr(t)?;
        t.expect_punct("]", "to close the memory reference")?;
        let mem = split_memory(e, inner_pos)?;
        return Ok(Located {
            operand: Operand::Mem(mem, size),
            pos,
            jump,
        });
    }
    if let Some(Tok::Ident(name)) = t.peek()
        && let Some(r) = Register::parse(name)
    {
        t.next();
        if size.is_some() {
            // `dword eax` is legal NASM; the register decides the size.
        }
        return Ok(Located {
            operand: Operand::Reg(r),
            pos,
            jump,
        });
    }
    let e = parse_expr(t)?;
    if t.eat_punct(":") {
        let offset = parse_expr(t)?;
        return Ok(Located {
            operand: Operand::Far(e, offset),
            pos,
            jump,
        });
    }
    Ok(Located {
        operand: Operand::Imm(e, size),
        pos,
        jump,
    })
}

/// Splits the expression inside `[...]` into registers (with their scale)
/// and a displacement.
fn split_memory(e: Expr, pos: Pos) -> Result<Mem, Error> {
    let mut regs: Vec<(u8, i64, Pos)> = Vec::new();
    let mut disp: Option<Expr> = None;
    collect_terms(e, false, &mut regs, &mut disp, pos)?;
    let mut base = None;
    let mut index = None;
    let mut scale = 1u8;
    for (r, factor, rpos) in regs {
        match factor {
            1 if base.is_none() => base = Some(r),
            1 if index.is_none() => index = Some(r),
            2 | 4 | 8 if index.is_none() => {
                index = Some(r);
                scale = factor as u8;
            }
            _ => {
                return Err(Error::new(
                    rpos,
                    "invalid memory reference: at most a base and an index scaled by 1, 2, 4 or 8",
                ));
            }
        }
    }
    // NASM's choices: [reg*2] becomes [reg+reg]; ESP can only be a base.
    if base.is_none() && scale == 2 {
        base = index;
        scale = 1;
    } else if base.is_none() && scale == 1 {
        base = index.take();
    }
    if index == Some(4) {
        if scale == 1 && base != Some(4) {
            std::mem::swap(&mut base, &mut index);
        } else {
            return Err(Error::new(pos, "ESP cannot be an index register"));
        }
    }
    Ok(Mem {
        base,
        index,
        scale,
        disp: disp.unwrap_or(Expr::Num(0)),
    })
}

fn add_disp(disp: &mut Option<Expr>, e: Expr, negate: bool) {
    let e = if negate { Expr::Neg(Box::new(e)) } else { e };
    *disp = Some(match disp.take() {
        None => e,
        Some(d) => Expr::Bin(BinOp::Add, Box::new(d), Box::new(e)),
    });
}

fn gpr32(name: &str, pos: Pos) -> Result<u8, Error> {
    match Register::parse(name) {
        Some(Register::Gpr(r, Size::Dword)) => Ok(r),
        _ => Err(Error::new(
            pos,
            format!("`{name}` cannot address memory: use a 32-bit general register"),
        )),
    }
}

fn contains_reg(e: &Expr) -> bool {
    match e {
        Expr::Reg(..) => true,
        Expr::Neg(a) | Expr::Not(a) => contains_reg(a),
        Expr::Bin(_, a, b) => contains_reg(a) || contains_reg(b),
        _ => false,
    }
}

fn collect_terms(
    e: Expr,
    negate: bool,
    regs: &mut Vec<(u8, i64, Pos)>,
    disp: &mut Option<Expr>,
    pos: Pos,
) -> Result<(), Error> {
    if !contains_reg(&e) {
        add_disp(disp, e, negate);
        return Ok(());
    }
    match e {
        Expr::Reg(name, rpos) if !negate => regs.push((gpr32(&name, rpos)?, 1, rpos)),
        Expr::Bin(BinOp::Add, a, b) => {
            collect_terms(*a, negate, regs, disp, pos)?;
            collect_terms(*b, negate, regs, disp, pos)?;
        }
        Expr::Bin(BinOp::Sub, a, b) => {
            collect_terms(*a, negate, regs, disp, pos)?;
            collect_terms(*b, !negate, regs, disp, pos)?;
        }
        Expr::Bin(BinOp::Mul, a, b) if !negate => match (*a, *b) {
            (Expr::Reg(name, rpos), Expr::Num(n)) | (Expr::Num(n), Expr::Reg(name, rpos)) => {
                regs.push((gpr32(&name, rpos)?, n, rpos));
            }
            _ => return Err(Error::new(pos, "a register can only be scaled by a number")),
        },
        _ => {
            return Err(Error::new(
                pos,
                "invalid memory reference: registers can only be added (and scaled by 1, 2, 4 or 8)",
            ));
        }
    }
    Ok(())
}
