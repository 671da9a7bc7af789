//! The osviz assembler: Intel syntax in the NASM style to IA-32 bytes.
//!
//! It reads what the course material writes (`mov eax, [ebx+4]`, `int 0x40`,
//! `iret`): labels and local labels, `section .text/.data/.bss`, `db dw dd
//! times resb resw resd align`, `equ`, constant expressions over labels,
//! `struc`/`endstruc`, `%include` and `%define`, and the size keywords
//! `byte`, `word`, `dword`. It produces the bytes of each section at its
//! address, the symbol table, and a line table (address to file and line),
//! choosing the same encodings as NASM (the tests compare with NASM).
//!
//! Every error names a file, a line and a column; no input makes it panic.
//!
//! ```
//! let out = osviz_asm::assemble_str("demo.asm", "org 0x1000\nstart: mov eax, 1\n jmp start\n").unwrap();
//! assert_eq!(out.image().1, [0xB8, 1, 0, 0, 0, 0xEB, 0xF9]);
//! assert_eq!(out.symbol("start"), Some(0x1000));
//! ```

mod encode;
mod error;
mod expr;
mod lexer;
mod operand;
mod parse;

pub use error::{Diagnostic, Error, Pos};

use encode::{Ctx, encode};
use expr::{Scope, Value};
use parse::{DataItem, Line, Parser, Stmt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The mnemonics the assembler knows.
const MNEMONICS: &[&str] = &[
    "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test", "not", "neg", "inc", "dec",
    "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar", "mul", "imul", "div", "idiv", "cdq",
    "cwd", "cwde", "cbw", "mov", "movzx", "movsx", "lea", "xchg", "push", "pop", "pusha", "pushad",
    "popa", "popad", "pushf", "pushfd", "popf", "popfd", "jmp", "call", "ret", "retn", "leave",
    "loop", "loope", "loopz", "loopne", "loopnz", "jecxz", "int", "int3", "iret", "iretd", "movsb",
    "movsw", "movsd", "cmpsb", "cmpsw", "cmpsd", "stosb", "stosw", "stosd", "lodsb", "lodsw",
    "lodsd", "scasb", "scasw", "scasd", "cli", "sti", "cld", "std", "clc", "stc", "cmc", "hlt",
    "nop", "lgdt", "lidt", "ltr", "invlpg", "in", "out", "ud2", "rdtsc",
];

/// Whether `name` is an instruction mnemonic (including Jcc, SETcc, CMOVcc).
pub fn is_mnemonic(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if MNEMONICS.contains(&n.as_str()) {
        return true;
    }
    let cc = |prefix: &str| n.strip_prefix(prefix).and_then(encode::condition).is_some();
    cc("j") || cc("set") || cc("cmov")
}

/// A named value: a label's address or an `equ` constant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    pub name: String,
    pub value: u32,
    /// The section a label is in; `None` for `equ` constants and structure fields.
    pub section: Option<String>,
    pub file: usize,
    pub line: usize,
}

/// Where the bytes at an address came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineInfo {
    pub addr: u32,
    pub len: u32,
    pub file: usize,
    pub line: usize,
}

/// One output section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    pub start: u32,
    /// The section's bytes (empty for `.bss`, which has only a size).
    pub bytes: Vec<u8>,
    pub size: u32,
}

/// What an assembly produces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// The source files, by index (the first is the main file).
    pub files: Vec<String>,
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
    /// Sorted by address.
    pub lines: Vec<LineInfo>,
}

impl Output {
    /// The value of a symbol.
    pub fn symbol(&self, name: &str) -> Option<u32> {
        self.symbols
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value)
    }

    /// The flat image: from the start of the first section with bytes to the
    /// end of the last, gaps filled with zeros (as NASM's bin format).
    pub fn image(&self) -> (u32, Vec<u8>) {
        let with_bytes: Vec<&Section> = self
            .sections
            .iter()
            .filter(|s| !s.bytes.is_empty())
            .collect();
        let Some(first) = with_bytes.first() else {
            return (0, Vec::new());
        };
        let start = first.start;
        let mut image = Vec::new();
        for s in with_bytes {
            let offset = (s.start - start) as usize;
            image.resize(offset, 0);
            image.extend_from_slice(&s.bytes);
        }
        (start, image)
    }

    /// The source line that produced the byte at `addr`.
    pub fn line_at(&self, addr: u32) -> Option<&LineInfo> {
        let i = self.lines.partition_point(|l| l.addr <= addr);
        self.lines[..i]
            .iter()
            .rev()
            .find(|l| addr < l.addr + l.len.max(1))
    }

    /// `label+offset` for an address: the nearest label at or below it.
    pub fn symbolize(&self, addr: u32) -> Option<(String, u32)> {
        self.symbols
            .iter()
            .filter(|s| s.section.is_some() && s.value <= addr)
            .max_by_key(|s| (s.value, std::cmp::Reverse(s.name.len())))
            .map(|s| (s.name.clone(), addr - s.value))
    }
}

/// Where the assembler finds source files (`%include` names one).
pub trait Loader {
    fn load(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Loader for F {
    fn load(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Assembles one source text that includes no other file.
pub fn assemble_str(name: &str, source: &str) -> Result<Output, Vec<Diagnostic>> {
    let (name, source) = (name.to_string(), source.to_string());
    assemble(&name.clone(), &move |n: &str| {
        (n == name).then(|| source.clone())
    })
}

/// Assembles the file `main`, reading it and any included file through `loader`.
pub fn assemble(main: &str, loader: &dyn Loader) -> Result<Output, Vec<Diagnostic>> {
    let mut files = vec![main.to_string()];
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut parser = Parser::default();
    let mut defines = HashMap::new();
    match loader.load(main) {
        Some(text) => read_file(
            &text,
            0,
            loader,
            &mut files,
            &mut parser,
            &mut defines,
            &mut lines,
            &mut errors,
            0,
        ),
        None => errors.push(Error::new(
            Pos {
                file: 0,
                line: 0,
                column: 0,
            },
            format!("cannot read `{main}`"),
        )),
    }
    // Lay out what parsed even when some lines did not, so that every error
    // the assembler can find comes in one list, not in waves; an undefined
    // symbol that a line in error mentions is left out (that line may be the
    // one defining it).
    let parse_failed = !errors.is_empty();
    match Layout::run(&lines) {
        Ok(mut out) if !parse_failed => {
            out.files = files.clone();
            return Ok(out);
        }
        Ok(_) => {}
        Err(layout) if !parse_failed => errors = layout,
        Err(layout) => {
            let failed: Vec<String> = errors
                .iter()
                .filter_map(|e| {
                    let text = loader.load(files.get(e.pos.file)?)?;
                    text.lines()
                        .nth(e.pos.line.checked_sub(1)?)
                        .map(str::to_string)
                })
                .collect();
            let mentioned = |e: &Error| {
                e.message
                    .strip_prefix("undefined symbol `")
                    .and_then(|m| m.strip_suffix('`'))
                    .is_some_and(|name| failed.iter().any(|line| mentions(line, name)))
            };
            errors.extend(layout.into_iter().filter(|e| !mentioned(e)));
        }
    }
    errors.sort_by_key(|e| (e.pos.file, e.pos.line, e.pos.column));
    errors.dedup();
    Err(errors
        .into_iter()
        .map(|e| Diagnostic {
            file: files.get(e.pos.file).cloned().unwrap_or_default(),
            line: e.pos.line,
            column: e.pos.column,
            message: e.message,
        })
        .collect())
}

/// Whether `line` names `name` as a whole word.
fn mentions(line: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '@' | '?');
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The deepest `%include` nesting allowed (a file including itself stops here).
const MAX_INCLUDE_DEPTH: usize = 16;

#[allow(clippy::too_many_arguments)]
fn read_file(
    text: &str,
    file: usize,
    loader: &dyn Loader,
    files: &mut Vec<String>,
    parser: &mut Parser,
    defines: &mut HashMap<String, Vec<lexer::Token>>,
    lines: &mut Vec<Line>,
    errors: &mut Vec<Error>,
    depth: usize,
) {
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line_pos = Pos {
            file,
            line: line_no,
            column: 1,
        };
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        if let Some(rest) = trimmed.strip_prefix('%') {
            let directive: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let args = rest[directive.len()..].trim();
            let args = args.split(';').next().unwrap_or("").trim();
            let pos = Pos {
                file,
                line: line_no,
                column: indent + 1,
            };
            match directive.as_str() {
                "include" => {
                    let name = args.trim_matches(|c| c == '"' || c == '\'' || c == '<' || c == '>');
                    if depth >= MAX_INCLUDE_DEPTH {
                        errors.push(Error::new(pos, "too many nested %include files"));
                    } else if let Some(text) = loader.load(name) {
                        files.push(name.to_string());
                        let index = files.len() - 1;
                        read_file(
                            &text,
                            index,
                            loader,
                            files,
                            parser,
                            defines,
                            lines,
                            errors,
                            depth + 1,
                        );
                    } else {
                        errors.push(Error::new(
                            pos,
                            format!("cannot find the included file `{name}`"),
                        ));
                    }
                }
                "define" => {
                    let (name, value) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
                    if name.is_empty() {
                        errors.push(Error::new(pos, "expected a name after %define"));
                        continue;
                    }
                    match lexer::tokenize(value, file, line_no) {
                        Ok(toks) => {
                            defines.insert(name.to_string(), toks);
                        }
                        Err(e) => errors.push(e),
                    }
                }
                _ => errors.push(Error::new(
                    pos,
                    format!("unknown preprocessor directive `%{directive}`"),
                )),
            }
            continue;
        }
        let toks = match lexer::tokenize(raw, file, line_no) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let toks = substitute(toks, defines);
        let end = Pos {
            file,
            line: line_no,
            column: raw.chars().count() + 1,
        };
        match parser.line(&toks, line_pos, end) {
            Ok(line) => lines.push(line),
            Err(e) => errors.push(e),
        }
    }
}

/// Replaces `%define`d names by their tokens (keeping the use's position).
fn substitute(
    toks: Vec<lexer::Token>,
    defines: &HashMap<String, Vec<lexer::Token>>,
) -> Vec<lexer::Token> {
    if defines.is_empty() {
        return toks;
    }
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        match &t.tok {
            lexer::Tok::Ident(name) if defines.contains_key(name) => {
                out.extend(defines[name].iter().map(|d| lexer::Token {
                    tok: d.tok.clone(),
                    pos: t.pos,
                }));
            }
            _ => out.push(t),
        }
    }
    out
}

/// The sections in output order, as NASM's bin format lays them out.
const SECTION_ORDER: [&str; 3] = [".text", ".data", ".bss"];

/// Section alignment between sections in the flat image.
const SECTION_ALIGN: u32 = 4;

/// The most layout passes before giving up on settling jump sizes.
const MAX_PASSES: usize = 24;

struct PassScope<'a> {
    now: &'a HashMap<String, i64>,
    before: &'a HashMap<String, i64>,
    here: i64,
    section_start: i64,
}

impl Scope for PassScope<'_> {
    fn symbol(&self, name: &str) -> Option<i64> {
        self.now
            .get(name)
            .or_else(|| self.before.get(name))
            .copied()
    }
    fn here(&self) -> i64 {
        self.here
    }
    fn section_start(&self) -> i64 {
        self.section_start
    }
}

/// One pass over the program: where everything goes.
struct Layout<'a> {
    lines: &'a [Line],
    before: HashMap<String, i64>,
    last_pass: bool,
    org: i64,
    /// Section sizes found by the previous pass, which place the sections.
    sizes: [i64; 3],
}

struct PassResult {
    symbols: HashMap<String, i64>,
    symbol_list: Vec<Symbol>,
    sizes: [i64; 3],
    bytes: [Vec<u8>; 3],
    lines: Vec<LineInfo>,
    errors: Vec<Error>,
}

fn section_index(name: &str) -> Option<usize> {
    match name {
        ".text" | "text" | ".code" => Some(0),
        ".data" | "data" | ".rodata" => Some(1),
        ".bss" | "bss" => Some(2),
        _ => None,
    }
}

impl<'a> Layout<'a> {
    fn run(lines: &'a [Line]) -> Result<Output, Vec<Error>> {
        let mut layout = Layout {
            lines,
            before: HashMap::new(),
            last_pass: false,
            org: 0,
            sizes: [0; 3],
        };
        for _ in 0..MAX_PASSES {
            let r = layout.pass();
            let settled = r.symbols == layout.before && r.sizes == layout.sizes;
            layout.before = r.symbols;
            layout.sizes = r.sizes;
            if settled {
                break;
            }
        }
        layout.last_pass = true;
        let r = layout.pass();
        if !r.errors.is_empty() {
            return Err(r.errors);
        }
        if r.symbols != layout.before {
            let pos = lines.first().map_or(
                Pos {
                    file: 0,
                    line: 0,
                    column: 0,
                },
                |l| l.pos,
            );
            return Err(vec![Error::new(
                pos,
                "the layout did not settle: jump sizes keep changing",
            )]);
        }
        let starts = layout.starts();
        let mut sections = Vec::new();
        for (i, name) in SECTION_ORDER.iter().enumerate() {
            if r.sizes[i] > 0 {
                sections.push(Section {
                    name: name.to_string(),
                    start: starts[i] as u32,
                    bytes: if i == 2 {
                        Vec::new()
                    } else {
                        r.bytes[i].clone()
                    },
                    size: r.sizes[i] as u32,
                });
            }
        }
        let mut line_table = r.lines;
        line_table.sort_by_key(|l| l.addr);
        Ok(Output {
            files: Vec::new(),
            sections,
            symbols: r.symbol_list,
            lines: line_table,
        })
    }

    /// Where each section starts, from the previous pass's sizes.
    fn starts(&self) -> [i64; 3] {
        let align = |v: i64| (v + i64::from(SECTION_ALIGN) - 1) & !(i64::from(SECTION_ALIGN) - 1);
        let text = self.org;
        let data = align(text + self.sizes[0]);
        let bss = align(data + self.sizes[1]);
        [text, data, bss]
    }

    fn pass(&mut self) -> PassResult {
        let mut r = PassResult {
            symbols: HashMap::new(),
            symbol_list: Vec::new(),
            sizes: [0; 3],
            bytes: [Vec::new(), Vec::new(), Vec::new()],
            lines: Vec::new(),
            errors: Vec::new(),
        };
        // `org` is found first: it places everything.
        for line in self.lines {
            if let Stmt::Org(e, pos) = &line.stmt {
                let scope = PassScope {
                    now: &r.symbols,
                    before: &self.before,
                    here: 0,
                    section_start: 0,
                };
                match e.eval(&scope) {
                    Ok(Value::Known(v)) => self.org = v,
                    Ok(Value::Unknown(name, p)) => r.errors.push(Error::new(
                        p,
                        format!("`org` needs a constant, but `{name}` is not known"),
                    )),
                    Err(e) => r.errors.push(e),
                }
                let _ = pos;
            }
        }
        let starts = self.starts();
        let mut section = 0usize;
        let mut offsets = [0i64; 3];
        let mut struc: Option<(String, i64)> = None;
        for line in self.lines {
            let here = match &struc {
                Some((_, off)) => *off,
                None => starts[section] + offsets[section],
            };
            let scope_start = starts[section];
            if let Some((name, pos)) = &line.label {
                let value = if let Stmt::Equ(e) = &line.stmt {
                    let scope = PassScope {
                        now: &r.symbols,
                        before: &self.before,
                        here,
                        section_start: scope_start,
                    };
                    match e.eval(&scope) {
                        Ok(Value::Known(v)) => Some(v),
                        Ok(Value::Unknown(n, p)) => {
                            if self.last_pass {
                                r.errors
                                    .push(Error::new(p, format!("undefined symbol `{n}`")));
                            }
                            None
                        }
                        Err(e) => {
                            r.errors.push(e);
                            None
                        }
                    }
                } else {
                    Some(here)
                };
                if let Some(v) = value {
                    if r.symbols.insert(name.clone(), v).is_some() {
                        r.errors.push(Error::new(
                            *pos,
                            format!("`{name}` is defined more than once"),
                        ));
                    }
                    r.symbol_list.push(Symbol {
                        name: name.clone(),
                        value: v as u32,
                        section: (struc.is_none() && !matches!(line.stmt, Stmt::Equ(_)))
                            .then(|| SECTION_ORDER[section].to_string()),
                        file: pos.file,
                        line: pos.line,
                    });
                }
            }
            let ctx_scope = PassScope {
                now: &r.symbols,
                before: &self.before,
                here,
                section_start: scope_start,
            };
            match &line.stmt {
                Stmt::Section(name, pos) => match section_index(name) {
                    Some(i) => section = i,
                    None => r.errors.push(Error::new(
                        *pos,
                        format!("unknown section `{name}`: use .text, .data or .bss"),
                    )),
                },
                Stmt::Struc(name, pos) => {
                    if struc.is_some() {
                        r.errors
                            .push(Error::new(*pos, "`struc` inside another `struc`"));
                    }
                    if r.symbols.insert(name.clone(), 0).is_none() {
                        r.symbol_list.push(Symbol {
                            name: name.clone(),
                            value: 0,
                            section: None,
                            file: pos.file,
                            line: pos.line,
                        });
                    }
                    struc = Some((name.clone(), 0));
                }
                Stmt::EndStruc(pos) => match struc.take() {
                    Some((name, size)) => {
                        let size_name = format!("{name}_size");
                        r.symbols.insert(size_name.clone(), size);
                        r.symbol_list.push(Symbol {
                            name: size_name,
                            value: size as u32,
                            section: None,
                            file: pos.file,
                            line: pos.line,
                        });
                    }
                    None => r
                        .errors
                        .push(Error::new(*pos, "`endstruc` without `struc`")),
                },
                Stmt::Nothing | Stmt::Equ(_) | Stmt::Org(..) => {}
                stmt => {
                    let bytes =
                        match self.emit(stmt, &ctx_scope, here, section == 2 || struc.is_some()) {
                            Ok(b) => b,
                            Err(mut e) => {
                                // An error in an expression of numbers alone
                                // has no position of its own: it is the line's.
                                if e.pos.line == 0 {
                                    e.pos = line.pos;
                                }
                                r.errors.push(e);
                                Emitted::Bytes(Vec::new())
                            }
                        };
                    let len = bytes.len() as i64;
                    if let Some((_, off)) = &mut struc {
                        *off += len;
                        continue;
                    }
                    match bytes {
                        Emitted::Bytes(b)
                            if section == 2 && b.iter().any(|&x| x != 0 && x != 0x90) =>
                        {
                            r.errors.push(Error::new(
                                line.pos,
                                "only reserved space (resb, resd, ...) can go in .bss",
                            ));
                        }
                        Emitted::Bytes(_) | Emitted::Space(_)
                            if section != 2
                                && r.bytes[0].len() + r.bytes[1].len() + len as usize
                                    > MAX_OUTPUT =>
                        {
                            // Every statement is bounded, but not their sum:
                            // many `times` lines would take gigabytes (the
                            // page's memory) without this.
                            r.errors.push(Error::new(
                                line.pos,
                                "the program would be larger than 64 MiB",
                            ));
                        }
                        Emitted::Bytes(b) => {
                            if self.last_pass && !b.is_empty() {
                                r.lines.push(LineInfo {
                                    addr: here as u32,
                                    len: b.len() as u32,
                                    file: line.pos.file,
                                    line: line.pos.line,
                                });
                            }
                            if section != 2 {
                                r.bytes[section].extend_from_slice(&b);
                            }
                        }
                        Emitted::Space(n) => {
                            if section != 2 {
                                r.bytes[section].resize(r.bytes[section].len() + n as usize, 0);
                            }
                        }
                    }
                    offsets[section] += len;
                }
            }
        }
        if let Some((name, _)) = struc {
            let pos = self.lines.last().map_or(
                Pos {
                    file: 0,
                    line: 0,
                    column: 0,
                },
                |l| l.pos,
            );
            r.errors
                .push(Error::new(pos, format!("`struc {name}` has no `endstruc`")));
        }
        r.sizes = offsets;
        r
    }

    fn emit(
        &self,
        stmt: &Stmt,
        scope: &PassScope,
        here: i64,
        reserve_only: bool,
    ) -> Result<Emitted, Error> {
        let ctx = Ctx {
            scope,
            last_pass: self.last_pass,
            here,
        };
        Ok(match stmt {
            Stmt::Instr {
                mnemonic,
                pos,
                prefix,
                ops,
            } => {
                if reserve_only {
                    return Err(Error::new(
                        *pos,
                        "instructions cannot go in .bss or a structure",
                    ));
                }
                Emitted::Bytes(encode(&ctx, mnemonic, *pos, prefix, ops)?)
            }
            Stmt::Data { unit, items } => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        DataItem::Bytes(b) => out.extend_from_slice(b),
                        DataItem::Value(e, _) => {
                            let v = ctx.value(e)?.unwrap_or(0);
                            out.extend_from_slice(&v.to_le_bytes()[..*unit as usize]);
                        }
                    }
                }
                Emitted::Bytes(out)
            }
            Stmt::Reserve { unit, count, pos } => {
                let n = count_value(&ctx, count, *pos)?;
                Emitted::Space(n * i64::from(*unit))
            }
            Stmt::Times { count, pos, body } => {
                let n = count_value(&ctx, count, *pos)?;
                let mut out = Vec::new();
                let mut space = 0;
                for i in 0..n {
                    let inner = PassScope {
                        now: scope.now,
                        before: scope.before,
                        here: scope.here,
                        section_start: scope.section_start,
                    };
                    match self.emit(
                        body,
                        &inner,
                        here + (out.len() as i64) + space,
                        reserve_only,
                    )? {
                        Emitted::Bytes(b) => out.extend_from_slice(&b),
                        Emitted::Space(s) => space += s,
                    }
                    if out.len() > MAX_OUTPUT || i > MAX_OUTPUT as i64 {
                        return Err(Error::new(*pos, "`times` makes more than 64 MiB"));
                    }
                }
                if space > 0 && out.is_empty() {
                    Emitted::Space(space)
                } else {
                    Emitted::Bytes(out)
                }
            }
            Stmt::Align { to, pos } => {
                let n = count_value(&ctx, to, *pos)?;
                if n == 0 || n & (n - 1) != 0 {
                    return Err(Error::new(*pos, "alignment must be a power of two"));
                }
                let pad = (n - (here % n)) % n;
                if reserve_only {
                    Emitted::Space(pad)
                } else {
                    Emitted::Bytes(vec![0x90; pad as usize])
                }
            }
            _ => Emitted::Bytes(Vec::new()),
        })
    }
}

/// The most bytes one statement may produce.
const MAX_OUTPUT: usize = 64 << 20;

fn count_value(ctx: &Ctx, e: &expr::Expr, pos: Pos) -> Result<i64, Error> {
    match ctx.value(e)? {
        Some(n) if (0..=MAX_OUTPUT as i64).contains(&n) => Ok(n),
        Some(n) => Err(Error::new(
            pos,
            format!("count {n} is out of range (0 to 64 Mi)"),
        )),
        None if ctx.last_pass => unreachable_count(pos),
        None => Ok(0),
    }
}

fn unreachable_count(pos: Pos) -> Result<i64, Error> {
    Err(Error::new(
        pos,
        "the count must be known: it uses a symbol defined later",
    ))
}

/// What a statement puts in its section.
enum Emitted {
    Bytes(Vec<u8>),
    /// Reserved space: zeros in a section with bytes, nothing in .bss.
    Space(i64),
}

impl Emitted {
    fn len(&self) -> usize {
        match self {
            Emitted::Bytes(b) => b.len(),
            Emitted::Space(n) => *n as usize,
        }
    }
}
