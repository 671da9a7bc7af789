//! Architecture invariant: the page renders views; it does not recompute
//! machine or kernel state. No file of the page decodes instructions, reads
//! guest memory, or does the kernel's address arithmetic: the machine crate
//! (decoding, walks, the debugger queries) and the kernel crate
//! (introspection) own those, so the CLI and the wasm API see the same.
//!
//! Nor does the page know a kernel's or a board's facts: no kernel global
//! (xv6's `ptable`, `bcache`, `input.r`, ...), no vector or IRQ number, no
//! device port or register address, no device command byte and no page-table
//! bit is written in its code. The kernel view says what a sleep channel and
//! a trap are (`ChannelKind`, `TrapCause`), the board which device is on a
//! line (`Bus::device_on_line`, `Bus::source_of_vector`), the IDE controller
//! what a command is (`IdeOp`), the MMU what an entry's flags are
//! (`Pte::SHOWN`). [`scan`] finds what breaks this in a file's non-test
//! code; the tests below run it on the page's sources and on planted
//! offenders.

/// A small scanner of Rust source: it reads tokens (comments dropped,
/// strings kept whole, each token with its line), leaves out
/// `#[cfg(test)] mod ... { ... }` (tests hold example data such as
/// `"input.r"`), and checks the rest against the rules in [`offences`].
mod scan {
    #[derive(Clone, Debug, PartialEq)]
    pub enum Tok {
        Ident(String),
        /// A number literal: its value (when it parses) and whether it is
        /// written in hex.
        Num(Option<u64>, bool),
        Str(String),
        Punct(&'static str),
        /// Any other single character.
        Other(char),
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct Token {
        pub tok: Tok,
        pub line: usize,
    }

    const PUNCTS: [&str; 22] = [
        "..=", "==", "!=", "<=", ">=", "=>", "..", "::", "&&", "||", "->", "<", ">", "&", ":", "(",
        ")", "[", "]", "{", "}", ".",
    ];

    fn number(text: &str) -> (Option<u64>, bool) {
        let t: String = text.chars().filter(|&c| c != '_').collect();
        let (digits, radix) = if let Some(h) = t.strip_prefix("0x") {
            (h.to_string(), 16)
        } else if let Some(b) = t.strip_prefix("0b") {
            (b.to_string(), 2)
        } else if let Some(o) = t.strip_prefix("0o") {
            (o.to_string(), 8)
        } else {
            (t.clone(), 10)
        };
        // A type suffix (`u8`, `usize`, `i32`) ends the digits.
        let end = digits
            .find(|c: char| c == 'u' || c == 'i' || (radix != 16 && c.is_ascii_alphabetic()))
            .unwrap_or(digits.len());
        (u64::from_str_radix(&digits[..end], radix).ok(), radix == 16)
    }

    /// The tokens of `src`, comments left out.
    pub fn tokens(src: &str) -> Vec<Token> {
        let c: Vec<char> = src.chars().collect();
        let mut out = Vec::new();
        let (mut i, mut line) = (0, 1);
        let at = |i: usize| c.get(i).copied().unwrap_or('\0');
        while i < c.len() {
            let ch = c[i];
            let start_line = line;
            let mut push = |tok: Tok| {
                out.push(Token {
                    tok,
                    line: start_line,
                })
            };
            if ch == '\n' {
                line += 1;
                i += 1;
            } else if ch.is_whitespace() {
                i += 1;
            } else if ch == '/' && at(i + 1) == '/' {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            } else if ch == '/' && at(i + 1) == '*' {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            } else if ch == '"'
                || (ch == 'b' && at(i + 1) == '"')
                || ((ch == 'r' || (ch == 'b' && at(i + 1) == 'r'))
                    && matches!(at(i + 1 + usize::from(ch == 'b')), '"' | '#'))
            {
                // A string: plain or byte (escapes), or raw (`r#"..."#`).
                let mut j = i + usize::from(ch == 'b');
                let raw = at(j) == 'r';
                let mut hashes = 0;
                if raw {
                    j += 1;
                    while at(j) == '#' {
                        hashes += 1;
                        j += 1;
                    }
                }
                if at(j) != '"' {
                    // `r#ident` or a plain `r`/`b` identifier after all.
                    let end = (i..c.len())
                        .find(|&k| !(c[k].is_alphanumeric() || c[k] == '_'))
                        .unwrap_or(c.len());
                    push(Tok::Ident(c[i..end].iter().collect()));
                    i = end.max(i + 1);
                    continue;
                }
                j += 1;
                let mut text = String::new();
                loop {
                    if j >= c.len() {
                        break;
                    }
                    if !raw && c[j] == '\\' {
                        text.push(c[j]);
                        text.push(at(j + 1));
                        if at(j + 1) == '\n' {
                            line += 1;
                        }
                        j += 2;
                        continue;
                    }
                    if c[j] == '"' && (0..hashes).all(|k| at(j + 1 + k) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    if c[j] == '\n' {
                        line += 1;
                    }
                    text.push(c[j]);
                    j += 1;
                }
                push(Tok::Str(text));
                i = j;
            } else if ch == '\'' {
                // A char literal, or a lifetime or label (skipped).
                if at(i + 1) == '\\' {
                    let end = (i + 3..c.len()).find(|&k| c[k] == '\'').unwrap_or(c.len());
                    i = end + 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    i += 1;
                }
            } else if ch.is_ascii_digit() {
                let mut j = i;
                while j < c.len()
                    && (c[j].is_ascii_alphanumeric()
                        || c[j] == '_'
                        || (c[j] == '.' && at(j + 1).is_ascii_digit()))
                {
                    j += 1;
                }
                let text: String = c[i..j].iter().collect();
                let (value, hex) = number(&text);
                push(Tok::Num(value, hex));
                i = j;
            } else if ch.is_alphabetic() || ch == '_' {
                let mut j = i;
                while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                    j += 1;
                }
                push(Tok::Ident(c[i..j].iter().collect()));
                i = j;
            } else {
                let rest: String = c[i..(i + 3).min(c.len())].iter().collect();
                match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
                    Some(p) => {
                        push(Tok::Punct(p));
                        i += p.len();
                    }
                    None => {
                        push(Tok::Other(ch));
                        i += 1;
                    }
                }
            }
        }
        out
    }

    fn is_ident(t: Option<&Token>, name: &str) -> bool {
        matches!(t, Some(Token { tok: Tok::Ident(n), .. }) if n == name)
    }

    fn is_punct(t: Option<&Token>, p: &str) -> bool {
        matches!(t, Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
            || matches!(t, Some(Token { tok: Tok::Other(c), .. }) if p.len() == 1 && p.starts_with(*c))
    }

    /// `tokens` without the test modules: `#[cfg(test)]`, an optional
    /// `pub` or `pub(crate)`, `mod name { ... }`.
    pub fn non_test(tokens: Vec<Token>) -> Vec<Token> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let t = |k: usize| tokens.get(i + k);
            let attr = is_punct(t(0), "#")
                && is_punct(t(1), "[")
                && is_ident(t(2), "cfg")
                && is_punct(t(3), "(")
                && is_ident(t(4), "test")
                && is_punct(t(5), ")")
                && is_punct(t(6), "]");
            if attr {
                let mut k = 7;
                if is_ident(t(k), "pub") {
                    k += 1;
                    if is_punct(t(k), "(") {
                        k += 3;
                    }
                }
                if is_ident(t(k), "mod") && is_punct(t(k + 2), "{") {
                    let mut depth = 0;
                    let mut j = i + k + 2;
                    while j < tokens.len() {
                        if is_punct(tokens.get(j), "{") {
                            depth += 1;
                        } else if is_punct(tokens.get(j), "}") {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        j += 1;
                    }
                    i = j + 1;
                    continue;
                }
            }
            out.push(tokens[i].clone());
            i += 1;
        }
        out
    }

    /// xv6's globals, which only the xv6 crate names (`input` and `ticks`
    /// are also plain words: they count only as a whole string, or one
    /// followed by a field or an index, `"input.r"`).
    const GLOBALS: [&str; 5] = ["ptable", "bcache", "kmem", "cpus", "idequeue"];
    const WORD_GLOBALS: [&str; 2] = ["input", "ticks"];

    /// What a name compared with a number, or given one in a pattern,
    /// makes the number: a vector or an IRQ line, a port, a command byte.
    fn kind_of_name(name: &str) -> Option<&'static str> {
        match name {
            "vector" | "irq" | "trapno" | "v" => Some("a vector or IRQ number written in the page"),
            "port" => Some("a device port written in the page"),
            "command" | "cmd" => Some("a device command byte written in the page"),
            _ => None,
        }
    }

    /// The registers of the boards' devices: the IDE (and the lessons'
    /// disk) at 0x1F0–0x1F8, the IDE control at 0x3F6, COM1 at
    /// 0x3F8–0x3FF, the local APIC's and the I/O APIC's pages.
    fn is_register(value: u64) -> bool {
        (0x1F0..=0x1F8).contains(&value)
            || value == 0x3F6
            || (0x3F8..=0x3FF).contains(&value)
            || (0xFEE0_0000..=0xFEE0_0FFF).contains(&value)
            || (0xFEC0_0000..=0xFEC0_0FFF).contains(&value)
    }

    const COMPARISONS: [&str; 6] = ["==", "!=", "<", ">", "<=", ">="];

    /// The last name of the path that ends just before token `end`
    /// (`e.vector` → `vector`, `*irq` → `irq`).
    fn name_before(tokens: &[Token], end: usize) -> Option<&str> {
        match tokens.get(end.checked_sub(1)?)?.tok {
            Tok::Ident(ref n) => Some(n),
            _ => None,
        }
    }

    /// The last name of the path that starts at token `start`
    /// (`e.vector` → `vector`, `&i.trapno` → `trapno`).
    fn name_from(tokens: &[Token], start: usize) -> Option<&str> {
        let mut k = start;
        while is_punct(tokens.get(k), "&") || is_punct(tokens.get(k), "*") {
            k += 1;
        }
        let mut name = None;
        while let Some(Token {
            tok: Tok::Ident(n), ..
        }) = tokens.get(k)
        {
            name = Some(n.as_str());
            if !is_punct(tokens.get(k + 1), ".") {
                break;
            }
            k += 2;
        }
        name
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct Offence {
        pub line: usize,
        pub rule: &'static str,
    }

    /// What in `src`'s non-test code names a kernel's or a board's facts.
    pub fn offences(src: &str) -> Vec<Offence> {
        let t = non_test(tokens(src));
        let mut out = Vec::new();
        let mut flag = |line: usize, rule: &'static str| {
            let o = Offence { line, rule };
            if !out.contains(&o) {
                out.push(o);
            }
        };
        for (i, token) in t.iter().enumerate() {
            let line = token.line;
            match &token.tok {
                Tok::Ident(name) if GLOBALS.contains(&name.as_str()) => {
                    flag(line, "an xv6 global named in the page")
                }
                Tok::Str(s) => {
                    let words: Vec<&str> = s
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .collect();
                    let head = words.first().copied().unwrap_or("");
                    let rest = &s[head.len()..];
                    // `class="ticks"`: the page's own name for a style.
                    let css_class = is_punct(t.get(i.wrapping_sub(1)), "=")
                        && is_ident(t.get(i.wrapping_sub(2)), "class");
                    if words.iter().any(|w| GLOBALS.contains(w))
                        || (WORD_GLOBALS.contains(&head)
                            && !css_class
                            && (rest.is_empty() || rest.starts_with(['.', '[', '+', '-'])))
                    {
                        flag(line, "an xv6 global named in the page");
                    }
                    let lower = s.to_ascii_lowercase();
                    let numbered = |word: &str| {
                        lower.match_indices(word).any(|(k, _)| {
                            lower[k + word.len()..].starts_with(|c: char| c.is_ascii_digit())
                        })
                    };
                    if numbered("int 0x") || numbered("irq ") || numbered("vector ") {
                        flag(line, "a vector or IRQ number in the page's words");
                    }
                }
                Tok::Num(value, hex) => {
                    if *hex && value.is_some_and(is_register) {
                        flag(line, "a device register written in the page");
                    }
                    // `vector: 14`, `irq: 14` (a pattern or a field).
                    if is_punct(t.get(i.wrapping_sub(1)), ":")
                        && let Some(rule) = name_before(&t, i - 1).and_then(kind_of_name)
                    {
                        flag(line, rule);
                    }
                    // `vector == 0x40`, `v >= 32`, `32 <= e.vector`.
                    let before = i
                        .checked_sub(1)
                        .and_then(|k| t.get(k))
                        .is_some_and(|p| COMPARISONS.iter().any(|c| is_punct(Some(p), c)));
                    if before && let Some(rule) = name_before(&t, i - 1).and_then(kind_of_name) {
                        flag(line, rule);
                    }
                    let after = COMPARISONS.iter().any(|c| is_punct(t.get(i + 1), c));
                    if after && let Some(rule) = name_from(&t, i + 2).and_then(kind_of_name) {
                        flag(line, rule);
                    }
                    // `(32..48).contains(&e.vector)`: a range of numbers on
                    // a line that names a vector.
                    let range = is_punct(t.get(i + 1), "..") || is_punct(t.get(i + 1), "..=");
                    if range
                        && matches!(
                            t.get(i + 2),
                            Some(Token {
                                tok: Tok::Num(..),
                                ..
                            })
                        )
                        && let Some(rule) =
                            t.iter()
                                .filter(|x| x.line == line)
                                .find_map(|x| match &x.tok {
                                    Tok::Ident(n) => kind_of_name(n),
                                    _ => None,
                                })
                    {
                        flag(line, rule);
                    }
                    // `Focus::Vector(8)`, `Narrow::Vector(0x40)`.
                    if is_punct(t.get(i.wrapping_sub(1)), "(")
                        && is_ident(t.get(i.wrapping_sub(2)), "Vector")
                    {
                        flag(line, "a vector or IRQ number written in the page");
                    }
                    // `entry & 0x20`: a page-table bit by number.
                    if is_punct(t.get(i.wrapping_sub(1)), "&")
                        && name_before(&t, i - 1)
                            .is_some_and(|n| matches!(n, "pte" | "pde" | "entry" | "flags"))
                    {
                        flag(line, "a page-table entry's bit written in the page");
                    }
                }
                _ => {}
            }
        }
        out
    }
}

use scan::offences;

/// The page's source files, but this one (which holds planted offenders).
fn page_sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        // A module of its own that holds only tests (`#[cfg(test)] mod
        // tests;`, in `tests.rs`) is test code, as the blocks the scan cuts.
        if path.ends_with("invariants.rs")
            || path.ends_with("tests.rs")
            || path.extension().is_none_or(|e| e != "rs")
        {
            continue;
        }
        let name = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        out.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    out.sort();
    out
}

#[test]
fn the_page_reads_no_raw_machine_state() {
    let forbidden = [
        "osviz_machine::decode",
        "osviz_machine::{decode",
        ".mem().read",
        ".mem.read",
        "read_u8(",
        "peek_virtual",
        "KERNBASE",
        "trapframe.",
        "vector_name(v: u8)",
    ];
    let sources = page_sources();
    for (name, text) in &sources {
        for f in forbidden {
            assert!(!text.contains(f), "{name} uses `{f}`");
        }
    }
    assert!(sources.len() > 20, "only {} files read", sources.len());
}

/// The page's thread holds no machine: the top-level component, the kept
/// panels and every panel component render frames (`views::frame`) and
/// send actions; only the machine's thread (`worker.rs`, `host.rs`) owns a
/// session. A component that reached for the session would not build in
/// the page once the session is not there; this keeps it from trying.
#[test]
fn the_page_thread_renders_frames_and_never_names_the_session() {
    let sources = page_sources();
    let page_thread: Vec<&(String, String)> = sources
        .iter()
        .filter(|(name, _)| {
            name == "app.rs"
                || name == "kept.rs"
                || name == "main.rs"
                || name.starts_with("panels/")
        })
        .collect();
    assert!(page_thread.len() > 15, "{} files", page_thread.len());
    for (name, text) in page_thread {
        for forbidden in [
            "Session",
            "FrameBuilder",
            "course::Guest",
            ".guest()",
            "osviz_machine::Machine",
        ] {
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let code = code.split("#[cfg(test)]").next().unwrap_or("");
            assert!(
                !code.contains(forbidden),
                "{name} names `{forbidden}`: the page's thread renders frames only"
            );
        }
    }
}

/// The files that still name kernel or board facts: none. A file that
/// offends fails the test; listing one here is how a change would have to
/// say so openly.
const PENDING: &[&str] = &[];

#[test]
fn the_page_names_no_kernel_global_vector_irq_port_or_register() {
    let mut report = Vec::new();
    let mut offending = Vec::new();
    for (name, text) in page_sources() {
        let found = offences(&text);
        if found.is_empty() {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for o in &found {
            report.push(format!(
                "{name}:{}: {}: {}",
                o.line,
                o.rule,
                lines.get(o.line - 1).map_or("", |l| l.trim())
            ));
        }
        offending.push(name);
    }
    let pending: Vec<String> = PENDING.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        offending,
        pending,
        "the files that name kernel or board facts are not the pending ones:\n{}",
        report.join("\n")
    );
}

/// The scanner flags each kind of planted offender, and none of the clean
/// snippets (comments, test modules, the page's own words).
#[test]
fn the_scanner_catches_planted_offenders() {
    let planted = [
        ("if vector == 0x40 {}", "vector"),
        ("if 0x40 == e.vector {}", "vector"),
        ("if v >= 32 && v != i.syscall_vector() {}", "vector"),
        ("let n = c.starts_with(\"bcache\");", "global"),
        ("let n = chan == \"input.r\";", "global"),
        ("let n = chan == \"ticks\";", "global"),
        ("let f = |c: &str| c.starts_with(\"input\");", "global"),
        ("let s = \"pid 2 slept on ptable.proc[1]\";", "global"),
        ("let q = kmem.freelist;", "global"),
        ("matches!(e, Event::IrqRaised { irq: 14, .. })", "vector"),
        ("Event::TrapEntry { vector: 46, .. } => {}", "vector"),
        ("let r = (32..48).contains(&e.vector);", "vector"),
        ("let n = Narrow::Vector(0x40);", "vector"),
        ("let f = Focus::Vector(8);", "vector"),
        ("on(\"system call (int 0x40)\", k, n)", "words"),
        ("format!(\"woken by IRQ 14\")", "words"),
        ("let w = *command == 0x30 || *command == 0xC5;", "command"),
        ("Event::PortOut { port: 0x60, .. } => {}", "port"),
        ("if port == 0x20 {}", "port"),
        ("let ide = 0x1F7;", "register"),
        ("let lapic = 0xFEE0_00B0;", "register"),
        ("let ioapic = 0xFEC00000u32;", "register"),
        ("let on = entry & 0x20 != 0;", "bit"),
        ("let p = w.pde & 1 != 0;", "bit"),
    ];
    for (code, what) in planted {
        let src = format!("fn f() {{\n    {code}\n}}\n");
        let found = offences(&src);
        assert!(
            found.iter().any(|o| o.line == 2),
            "not flagged ({what}): {code}"
        );
    }
    let clean = r##"
        // A comment may say input.r, bcache, `vector == 0x40`, IRQ 14.
        /* and a block comment: ptable.proc[1], 0x1F7 */
        fn f(e: &Event, i: &dyn KernelView, input: &Input, v: u8, x: u32) -> String {
            let n = input.value();
            let t = kernel.ticks(m);
            let kind = span.kind.words();
            let text = format!("IRQ {irq} (vector {v:#x}), ticks = {t}");
            let label = "input value";
            let styled = html! { <p class="ticks">{ t }</p> };
            let raw = r#"the "quoted" text"#;
            let lifetime: &'static str = "a";
            let ch = '"';
            let mask = x & 0xFFF;
            let half = 0x20 + 2;
            let range = (0..48).len();
            let steps = x >= 32;
            match i.trap_cause(m) {
                Some(TrapCause::DeviceInterrupt { device, .. }) => device.words().into(),
                _ => String::new(),
            }
        }
        #[cfg(test)]
        pub(crate) mod tests {
            const EXAMPLE: &str = "input.r";
            fn t() { assert_eq!(e.vector, 0x40); let x = Event::IrqRaised { irq: 14, vector: 46 }; }
        }
        fn after_the_tests() {}
    "##;
    assert_eq!(offences(clean), Vec::new(), "the clean snippet");
    // Code after the test module is still scanned.
    let after = "#[cfg(test)]\nmod tests {\n}\nfn g() { if irq == 14 {} }\n";
    assert_eq!(offences(after).len(), 1);
}
