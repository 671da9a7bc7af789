//! Source lines to statements: labels, directives and instructions.

use crate::error::{Error, Pos};
use crate::expr::{Expr, Tokens, parse_expr};
use crate::lexer::{Tok, Token};
use crate::operand::{Located, Operand, parse_operand};

/// One item of `db`, `dw` or `dd`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataItem {
    Value(Expr, Pos),
    /// A string: its bytes, padded to a whole number of units.
    Bytes(Vec<u8>),
}

/// What a line says, apart from its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    Nothing,
    Instr {
        mnemonic: String,
        pos: Pos,
        prefix: Vec<u8>,
        ops: Vec<Located>,
    },
    /// `db`, `dw`, `dd` or `dq`: `unit` is 1, 2, 4 or 8 bytes.
    Data {
        unit: u32,
        items: Vec<DataItem>,
    },
    /// `resb`, `resw`, `resd` or `resq`.
    Reserve {
        unit: u32,
        count: Expr,
        pos: Pos,
    },
    Times {
        count: Expr,
        pos: Pos,
        body: Box<Stmt>,
    },
    Align {
        to: Expr,
        pos: Pos,
    },
    Equ(Expr),
    Section(String, Pos),
    Org(Expr, Pos),
    Struc(String, Pos),
    EndStruc(Pos),
}

/// A parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The label defined here, already qualified (`main.loop` for `.loop`).
    pub label: Option<(String, Pos)>,
    pub stmt: Stmt,
    pub pos: Pos,
}

const DIRECTIVES: [&str; 24] = [
    "db", "dw", "dd", "dq", "resb", "resw", "resd", "resq", "times", "align", "equ", "section",
    "segment", "org", "bits", "global", "extern", "struc", "endstruc", "cpu", "default", "use32",
    "alignb", "istruc",
];

const PREFIXES: [(&str, u8); 6] = [
    ("rep", 0xF3),
    ("repe", 0xF3),
    ("repz", 0xF3),
    ("repne", 0xF2),
    ("repnz", 0xF2),
    ("lock", 0xF0),
];

fn is_directive(name: &str) -> bool {
    DIRECTIVES.contains(&name.to_ascii_lowercase().as_str())
}

/// Qualifies local labels (`.x`) in an expression with the current scope.
fn qualify(e: &mut Expr, scope: &str) {
    match e {
        Expr::Sym(name, _) if name.starts_with('.') && !name.starts_with("..") => {
            *name = format!("{scope}{name}");
        }
        Expr::Neg(a) | Expr::Not(a) => qualify(a, scope),
        Expr::Bin(_, a, b) => {
            qualify(a, scope);
            qualify(b, scope);
        }
        _ => {}
    }
}

fn qualify_operand(o: &mut Located, scope: &str) {
    match &mut o.operand {
        Operand::Imm(e, _) => qualify(e, scope),
        Operand::Mem(m, _) => qualify(&mut m.disp, scope),
        Operand::Far(a, b) => {
            qualify(a, scope);
            qualify(b, scope);
        }
        Operand::Reg(_) => {}
    }
}

fn qualify_stmt(s: &mut Stmt, scope: &str) {
    match s {
        Stmt::Instr { ops, .. } => ops.iter_mut().for_each(|o| qualify_operand(o, scope)),
        Stmt::Data { items, .. } => {
            for item in items {
                if let DataItem::Value(e, _) = item {
                    qualify(e, scope);
                }
            }
        }
        Stmt::Reserve { count, .. } => qualify(count, scope),
        Stmt::Times { count, body, .. } => {
            qualify(count, scope);
            qualify_stmt(body, scope);
        }
        Stmt::Align { to, .. } => qualify(to, scope),
        Stmt::Equ(e) | Stmt::Org(e, _) => qualify(e, scope),
        _ => {}
    }
}

/// Parses the lines of a program, keeping track of the scope of local labels.
#[derive(Debug, Default)]
pub struct Parser {
    /// The last non-local label, which local labels hang under.
    scope: String,
}

impl Parser {
    /// Parses one line's tokens.
    pub fn line(&mut self, toks: &[Token], line_pos: Pos, end: Pos) -> Result<Line, Error> {
        let mut t = Tokens::new(toks, end);
        let mut label = None;
        if let Some(Tok::Ident(first)) = t.peek() {
            let pos = t.pos();
            let colon = matches!(toks.get(1).map(|t| &t.tok), Some(Tok::Punct(":")));
            let next_is_directive =
                matches!(toks.get(1).map(|t| &t.tok), Some(Tok::Ident(n)) if is_directive(n));
            let alone = toks.len() == 1;
            let is_keyword = is_directive(first)
                || crate::is_mnemonic(first)
                || PREFIXES.iter().any(|(p, _)| first.eq_ignore_ascii_case(p));
            if colon || (!is_keyword && (next_is_directive || alone)) {
                let name = first.clone();
                t.next();
                if colon {
                    t.next();
                }
                let full = if name.starts_with('.') && !name.starts_with("..") {
                    format!("{}{name}", self.scope)
                } else {
                    name
                };
                label = Some((full, pos));
            }
        }
        let stmt = self.stmt(&mut t)?;
        if let Some((name, _)) = &label
            && !name.contains('.')
            && !matches!(stmt, Stmt::Equ(_))
        {
            self.scope = name.clone();
        }
        let mut stmt = stmt;
        qualify_stmt(&mut stmt, &self.scope);
        if !t.at_end() {
            return Err(t.error("expected the end of the line"));
        }
        if matches!(stmt, Stmt::Equ(_)) && label.is_none() {
            return Err(Error::new(line_pos, "`equ` needs a label before it"));
        }
        Ok(Line {
            label,
            stmt,
            pos: line_pos,
        })
    }

    fn stmt(&mut self, t: &mut Tokens) -> Result<Stmt, Error> {
        let Some(tok) = t.peek() else {
            return Ok(Stmt::Nothing);
        };
        let pos = t.pos();
        let Tok::Ident(word) = tok else {
            return Err(t.error("expected a label, an instruction or a directive"));
        };
        let word = word.to_ascii_lowercase();
        t.next();
        Ok(match word.as_str() {
            "db" | "dw" | "dd" | "dq" => {
                let unit = match word.as_str() {
                    "db" => 1,
                    "dw" => 2,
                    "dd" => 4,
                    _ => 8,
                };
                let mut items = Vec::new();
                loop {
                    match t.peek() {
                        Some(Tok::Str(bytes)) if bytes.len() > 1 || unit == 1 => {
                            let mut bytes = bytes.clone();
                            t.next();
                            while bytes.len() % unit as usize != 0 {
                                bytes.push(0);
                            }
                            items.push(DataItem::Bytes(bytes));
                        }
                        _ => {
                            let p = t.pos();
                            items.push(DataItem::Value(parse_expr(t)?, p));
                        }
                    }
                    if !t.eat_punct(",") {
                        break;
                    }
                }
                Stmt::Data { unit, items }
            }
            "resb" | "resw" | "resd" | "resq" => {
                let unit = match word.as_str() {
                    "resb" => 1,
                    "resw" => 2,
                    "resd" => 4,
                    _ => 8,
                };
                Stmt::Reserve {
                    unit,
                    count: parse_expr(t)?,
                    pos,
                }
            }
            "times" => {
                let count = parse_expr(t)?;
                let body = self.stmt(t)?;
                Stmt::Times {
                    count,
                    pos,
                    body: Box::new(body),
                }
            }
            "align" | "alignb" => Stmt::Align {
                to: parse_expr(t)?,
                pos,
            },
            "equ" => Stmt::Equ(parse_expr(t)?),
            "section" | "segment" => {
                let name = match t.next().map(|x| &x.tok) {
                    Some(Tok::Ident(n)) => n.to_ascii_lowercase(),
                    _ => return Err(Error::new(pos, "expected a section name, such as .text")),
                };
                // Section attributes (align=, progbits, ...) are accepted and ignored.
                while !t.at_end() {
                    t.next();
                }
                Stmt::Section(name, pos)
            }
            "org" => Stmt::Org(parse_expr(t)?, pos),
            "bits" | "use32" => {
                if word == "bits" {
                    match t.next().map(|x| &x.tok) {
                        Some(Tok::Number(32)) => {}
                        _ => return Err(Error::new(pos, "only `bits 32` is supported")),
                    }
                }
                Stmt::Nothing
            }
            "global" | "extern" | "cpu" | "default" => {
                while !t.at_end() {
                    t.next();
                }
                Stmt::Nothing
            }
            "struc" => match t.next().map(|x| &x.tok) {
                Some(Tok::Ident(n)) => {
                    self.scope = n.clone();
                    Stmt::Struc(n.clone(), pos)
                }
                _ => {
                    return Err(Error::new(
                        pos,
                        "expected the structure's name after `struc`",
                    ));
                }
            },
            "endstruc" => Stmt::EndStruc(pos),
            _ => {
                let mut prefix = Vec::new();
                let mut mnemonic = word;
                let mut mpos = pos;
                while let Some(&(_, byte)) = PREFIXES.iter().find(|(p, _)| *p == mnemonic) {
                    prefix.push(byte);
                    mpos = t.pos();
                    match t.next().map(|x| &x.tok) {
                        Some(Tok::Ident(n)) => mnemonic = n.to_ascii_lowercase(),
                        _ => {
                            return Err(Error::new(
                                mpos,
                                "expected an instruction after the prefix",
                            ));
                        }
                    }
                }
                if !crate::is_mnemonic(&mnemonic) {
                    return Err(Error::new(
                        mpos,
                        format!("unknown instruction `{mnemonic}`"),
                    ));
                }
                let mut ops = Vec::new();
                if !t.at_end() {
                    loop {
                        ops.push(parse_operand(t)?);
                        if !t.eat_punct(",") {
                            break;
                        }
                    }
                }
                Stmt::Instr {
                    mnemonic,
                    pos: mpos,
                    prefix,
                    ops,
                }
            }
        })
    }
}
