//! Constant expressions over numbers and symbols, as NASM writes them.

use crate::error::{Error, Pos};
use crate::lexer::{Tok, Token};

/// An expression. Registers may appear inside memory operands only; the
/// operand parser takes them out before anything is evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Num(i64),
    /// A symbol, with where it was written (for "undefined symbol" errors).
    Sym(String, Pos),
    /// `$`: the address of the start of the current line.
    Here,
    /// `$$`: the address of the start of the current section.
    SectionStart,
    /// A register name, only valid inside `[...]`.
    Reg(String, Pos),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Shl,
    Shr,
    And,
    Or,
    Xor,
}

/// What evaluating needs to know: symbol values (which may be unknown in an
/// early pass), `$` and `$$`.
pub trait Scope {
    /// The value of a symbol, `None` if not (yet) known.
    fn symbol(&self, name: &str) -> Option<i64>;
    fn here(&self) -> i64;
    fn section_start(&self) -> i64;
}

/// The outcome of evaluating: a value, or "not known yet" naming the first
/// unknown symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Known(i64),
    Unknown(String, Pos),
}

impl Expr {
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, Error> {
        use Value::{Known, Unknown};
        Ok(match self {
            Expr::Num(n) => Known(*n),
            Expr::Here => Known(scope.here()),
            Expr::SectionStart => Known(scope.section_start()),
            Expr::Sym(name, pos) => match scope.symbol(name) {
                Some(v) => Known(v),
                None => Unknown(name.clone(), *pos),
            },
            Expr::Reg(name, pos) => {
                return Err(Error::new(
                    *pos,
                    format!("register `{name}` is not allowed in a constant expression"),
                ));
            }
            Expr::Neg(e) => match e.eval(scope)? {
                Known(v) => Known(v.wrapping_neg()),
                u => u,
            },
            Expr::Not(e) => match e.eval(scope)? {
                Known(v) => Known(!v),
                u => u,
            },
            Expr::Bin(op, a, b) => {
                let (a, b) = match (a.eval(scope)?, b.eval(scope)?) {
                    (Known(a), Known(b)) => (a, b),
                    (u @ Unknown(..), _) | (_, u @ Unknown(..)) => return Ok(u),
                };
                Known(match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                    BinOp::Div | BinOp::Mod if b == 0 => {
                        return Err(Error::new(self.pos(), "division by zero in an expression"));
                    }
                    // NASM's `/` and `%` are unsigned.
                    BinOp::Div => ((a as u64) / (b as u64)) as i64,
                    BinOp::Mod => ((a as u64) % (b as u64)) as i64,
                    BinOp::Shl => a.wrapping_shl(b as u32),
                    BinOp::Shr => ((a as u64).wrapping_shr(b as u32)) as i64,
                    BinOp::And => a & b,
                    BinOp::Or => a | b,
                    BinOp::Xor => a ^ b,
                })
            }
        })
    }

    /// A position for messages about this expression (its first symbol, if any).
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Sym(_, p) | Expr::Reg(_, p) => *p,
            Expr::Neg(e) | Expr::Not(e) => e.pos(),
            Expr::Bin(_, a, b) => {
                let p = a.pos();
                if p.line == 0 { b.pos() } else { p }
            }
            _ => Pos {
                file: 0,
                line: 0,
                column: 0,
            },
        }
    }
}

/// A cursor over the tokens of a line.
pub struct Tokens<'a> {
    pub toks: &'a [Token],
    pub at: usize,
    /// Where the line ends, for "expected ... at end of line" errors.
    pub end: Pos,
    /// How deep the expression being parsed is nested (parentheses and
    /// unary operators), and how many binary operators the line's
    /// expressions have: both bound the recursion of parsing, evaluating
    /// and dropping an expression (see `MAX_NESTING`).
    depth: usize,
    operators: usize,
}

/// The deepest an expression may nest, and the most binary operators a
/// line's expressions may have. Parsing, evaluating and dropping an
/// expression recurse on its tree: without a bound, a line of 5,000 `(`
/// overflowed the stack (found by the `assemble` fuzz target), and the
/// page's WebAssembly stack is smaller still.
pub const MAX_NESTING: usize = 32;
pub const MAX_OPERATORS: usize = 64;

impl<'a> Tokens<'a> {
    pub fn new(toks: &'a [Token], end: Pos) -> Self {
        Tokens {
            toks,
            at: 0,
            end,
            depth: 0,
            operators: 0,
        }
    }

    pub fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    pub fn pos(&self) -> Pos {
        self.toks.get(self.at).map_or(self.end, |t| t.pos)
    }

    pub fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.at);
        if t.is_some() {
            self.at += 1;
        }
        t
    }

    pub fn at_end(&self) -> bool {
        self.at >= self.toks.len()
    }

    pub fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub fn expect_punct(&mut self, p: &str, what: &str) -> Result<(), Error> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{p}` {what}")))
        }
    }

    /// An error at the current token, saying what was found there.
    pub fn error(&self, message: impl Into<String>) -> Error {
        let found = match self.toks.get(self.at).map(|t| &t.tok) {
            None => "end of line".to_string(),
            Some(Tok::Ident(s)) => format!("`{s}`"),
            Some(Tok::Number(n)) => format!("`{n}`"),
            Some(Tok::Str(_)) => "a string".to_string(),
            Some(Tok::Punct(p)) => format!("`{p}`"),
        };
        Error::new(self.pos(), format!("{}, found {found}", message.into()))
    }
}

/// Whether a name is a register (of any kind).
pub fn is_register(name: &str) -> bool {
    crate::operand::Register::parse(name).is_some()
}

/// Parses an expression (NASM precedence: `|`, `^`, `&`, shifts, `+ -`, `* / %`, unary).
pub fn parse_expr(t: &mut Tokens) -> Result<Expr, Error> {
    parse_binary(t, 0)
}

const LEVELS: [&[(&str, BinOp)]; 6] = [
    &[("|", BinOp::Or)],
    &[("^", BinOp::Xor)],
    &[("&", BinOp::And)],
    &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[
        ("*", BinOp::Mul),
        ("/", BinOp::Div),
        ("%", BinOp::Mod),
        ("//", BinOp::Div),
    ],
];

fn parse_binary(t: &mut Tokens, level: usize) -> Result<Expr, Error> {
    if level == LEVELS.len() {
        return parse_unary(t);
    }
    let mut left = parse_binary(t, level + 1)?;
    'outer: loop {
        for &(p, op) in LEVELS[level] {
            if t.eat_punct(p) {
                t.operators += 1;
                if t.operators > MAX_OPERATORS {
                    return Err(t.error(format!(
                        "an expression may have at most {MAX_OPERATORS} operators"
                    )));
                }
                let right = parse_binary(t, level + 1)?;
                left = Expr::Bin(op, Box::new(left), Box::new(right));
                continue 'outer;
            }
        }
        return Ok(left);
    }
}

fn parse_unary(t: &mut Tokens) -> Result<Expr, Error> {
    let nests = matches!(t.peek(), Some(Tok::Punct(p)) if matches!(*p, "-" | "+" | "~" | "("));
    if !nests {
        return parse_operand(t);
    }
    if t.depth == MAX_NESTING {
        return Err(t.error(format!(
            "an expression may nest at most {MAX_NESTING} levels deep"
        )));
    }
    t.depth += 1;
    let e = parse_nested(t);
    t.depth -= 1;
    e
}

/// A unary operator and its operand, or a parenthesized expression.
fn parse_nested(t: &mut Tokens) -> Result<Expr, Error> {
    if t.eat_punct("-") {
        return Ok(Expr::Neg(Box::new(parse_unary(t)?)));
    }
    if t.eat_punct("+") {
        return parse_unary(t);
    }
    if t.eat_punct("~") {
        return Ok(Expr::Not(Box::new(parse_unary(t)?)));
    }
    if t.eat_punct("(") {
        let e = parse_expr(t)?;
        t.expect_punct(")", "to close `(`")?;
        return Ok(e);
    }
    parse_operand(t)
}

/// A number, a character constant, a symbol, a register, `$` or `$$`.
fn parse_operand(t: &mut Tokens) -> Result<Expr, Error> {
    let pos = t.pos();
    match t.peek() {
        Some(Tok::Number(n)) => {
            let n = *n;
            t.next();
            Ok(Expr::Num(n))
        }
        Some(Tok::Str(bytes)) if bytes.len() <= 4 => {
            // A character constant: its bytes, little-endian.
            let v = bytes
                .iter()
                .rev()
                .fold(0i64, |acc, &b| (acc << 8) | i64::from(b));
            t.next();
            Ok(Expr::Num(v))
        }
        Some(Tok::Ident(name)) => {
            t.next();
            Ok(match name.as_str() {
                "$" => Expr::Here,
                "$$" => Expr::SectionStart,
                n if is_register(n) => Expr::Reg(n.to_ascii_lowercase(), pos),
                n => Expr::Sym(n.to_string(), pos),
            })
        }
        _ => Err(t.error("expected a number, a symbol or `(`")),
    }
}
