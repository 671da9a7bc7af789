//! Grading a student's prediction against the machine's answer.
//!
//! The machine's answer (the text [`crate::read_answers`] and the page show)
//! is the only source of truth: nothing here knows a lesson or an answer.
//! A prediction is right when it says what the answer says:
//!
//! - **Numbers** compare by value, in any radix: `0x10` = `16` = `0o20` =
//!   `0b10000`, and `0x00002000` = `0x2000` = `8192`. Where the answer writes
//!   a number in hex, bare digits are also read as hex (`80000000` for
//!   `0x80000000`, `10f` for `0x10f`); where it writes it in decimal, `10`
//!   is ten.
//! - **Words** compare as words: case, spaces and punctuation are ignored
//!   (`Sched` = `sched`, `bcache.buf[29]` = `bcache buf 29`, `PID 3, sh` =
//!   `pid 3 (sh)`). Filler is never required: articles and prepositions
//!   (`the`, `in`, `on`, `for`, `from`, ...) and the labels that only say
//!   what kind a number is (`pid`, `ring`, `frame`, `vector`, `cpl`, `dpl`).
//!
//! Which of the answer's words are its substance follows from how the
//! answers are written (`crates/course/src/teaching.rs`, `xv6.rs`):
//!
//! - **The key comes first.** Text after the first `: ` or `; ` explains the
//!   key and is not required (`none yet (not mapped): the store will
//!   fault...`, `pid 2 (sh): directory 0xdf73000`, `...; in the kernel (CPL 0)`).
//! - **Parts.** The key splits into parts at top-level commas and at `←`
//!   (a call chain): `3 for 64, 0 for 32` has two parts, and both are needed.
//! - **A gloss in parentheses names the same thing another way**: `pid 3
//!   (sh)` is said by `pid 3`, by `3` or by `sh`; `none (the scheduler)` by
//!   `none` or `the scheduler`.
//! - **An offset after a symbol** (`sched+104`) is detail: `sched` says it
//!   (a wrong offset is still wrong, see below).
//!
//! A part is said when the prediction holds every required token of it.
//! With one part, the whole prediction is read; with several, each part must
//! be said within one clause of the prediction (clauses are split at `,`,
//! `;`, `and`, and arrows), so `0 for 64, 3 for 32` says neither part of
//! `3 for 64, 0 for 32`. Where every part is a number, a prediction of
//! exactly as many clauses answers them in order, clause by clause: `0, 1`
//! does not say `ring 1, ring 0` (the real ring, then the one believed). A
//! number the answer never mentions is a wrong
//! statement: the clause holding it says nothing (the whole prediction, for
//! a one-part answer), and beside every part said it counts as one more
//! part, a wrong one (`3 for 64, 0 for 32, 7 for 33` is two parts of
//! three). All parts said: [`Grade::Right`]; none: [`Grade::Wrong`]; some:
//! [`Grade::PartlyRight`].
//!
//! Known limits: a wrong gloss beside a right value is not caught
//! (`pid 3 (ls)` says `pid 3 (sh)`), nor is a word the answer does not have
//! (only numbers are checked that way: free text has too many harmless
//! words); a part spread over two clauses of a several-part answer is not
//! said.

use std::fmt;

/// How a prediction compares with the machine's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "grade", rename_all = "snake_case")]
pub enum Grade {
    /// The prediction says every part of the answer.
    Right,
    /// It says some of the answer's parts, not all.
    PartlyRight { parts_right: usize, parts: usize },
    /// It says none of them (or nothing).
    Wrong,
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grade::Right => write!(f, "right"),
            Grade::Wrong => write!(f, "wrong"),
            Grade::PartlyRight { parts_right, parts } => {
                write!(f, "partly right ({parts_right} of {parts} parts)")
            }
        }
    }
}

/// Grades `prediction` against the machine's `answer` by the rule of the
/// module's documentation. An empty prediction is [`Grade::Wrong`].
pub fn grade(prediction: &str, answer: &str) -> Grade {
    let (key, _) = split_key(answer);
    let parts = key_parts(key);
    let mentioned: Vec<Num> = tokens(answer)
        .into_iter()
        .filter_map(|t| match t.tok {
            Tok::Num(n) => Some(n),
            Tok::Word(_) => None,
        })
        .collect();
    if parts.is_empty() {
        // An answer with nothing to say (empty): only an empty prediction
        // agrees with it.
        return if tokens(prediction).is_empty() {
            Grade::Right
        } else {
            Grade::Wrong
        };
    }
    let clauses: Vec<Vec<Tok>> = if parts.len() == 1 {
        vec![tokens(prediction).into_iter().map(|t| t.tok).collect()]
    } else {
        clauses(prediction)
    };
    // A clause with a number the answer never mentions says nothing.
    let stray = |c: &[Tok]| {
        c.iter().any(|t| match t {
            Tok::Num(n) => !mentioned.iter().any(|m| n.says(m)),
            Tok::Word(_) => false,
        })
    };
    let clean: Vec<&Vec<Tok>> = clauses.iter().filter(|c| !stray(c)).collect();
    // Numbers alone, in as many clauses as the key has parts, answer the
    // parts in the question's order: "1, 0" for "ring 1, ring 0" is not
    // "0, 1". (Named things may come in any order: a call chain read the
    // other way round says the same.)
    let in_order = parts.len() > 1
        && clauses.len() == parts.len()
        && parts.iter().all(Part::is_number)
        && clauses.iter().all(|c| parts.iter().any(|p| p.said_by(c)));
    let parts_right = parts
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            if in_order {
                let c = &clauses[*i];
                // A number there must be the part's own: its gloss does not
                // make a wrong number right (`1 (disabled)` for `0 (disabled)`).
                let numbered = c.iter().any(|t| matches!(t, Tok::Num(_)));
                !stray(c) && p.said_by(c) && (!numbered || p.number_said_by(c))
            } else {
                clean.iter().any(|c| p.said_by(c))
            }
        })
        .count();
    // A wrong statement beside every part keeps the prediction from being
    // fully right: it counts as one more part, a wrong one.
    let total =
        parts.len() + usize::from(clean.len() < clauses.len() && parts_right == parts.len());
    match parts_right {
        0 => Grade::Wrong,
        n if n == total => Grade::Right,
        n => Grade::PartlyRight {
            parts_right: n,
            parts: total,
        },
    }
}

/// The answer's key and its explanation: split at the first `: ` or `; `
/// outside parentheses.
fn split_key(answer: &str) -> (&str, &str) {
    let mut depth = 0i32;
    let bytes = answer.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b':' | b';' if depth <= 0 && bytes.get(i + 1).is_none_or(|c| *c == b' ') => {
                return (&answer[..i], &answer[i + 1..]);
            }
            _ => {}
        }
    }
    (answer, "")
}

/// A number as written: its value, and for bare digits their value read
/// as hex too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Num {
    value: u64,
    /// Written with `0x` (in an answer: bare digits compare as hex too).
    hex: bool,
    /// Bare decimal digits read as hex (`2000` as 0x2000).
    as_hex: Option<u64>,
}

impl Num {
    /// Whether this number (a prediction's) says `want` (an answer's).
    fn says(&self, want: &Num) -> bool {
        self.value == want.value || (want.hex && self.as_hex == Some(want.value))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Num(Num),
    Word(String),
}

/// A token with what precedes it in the text.
struct Located {
    tok: Tok,
    /// The character just before the token.
    before: Option<char>,
}

fn number(run: &str) -> Option<Num> {
    let clean: String = run.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let prefixed = |p: &str, radix| {
        lower
            .strip_prefix(p)
            .and_then(|d| u64::from_str_radix(d, radix).ok())
    };
    if let Some(v) = prefixed("0x", 16) {
        return Some(Num {
            value: v,
            hex: true,
            as_hex: None,
        });
    }
    if let Some(v) = prefixed("0o", 8).or_else(|| prefixed("0b", 2)) {
        return Some(Num {
            value: v,
            hex: false,
            as_hex: None,
        });
    }
    if lower.chars().all(|c| c.is_ascii_digit()) {
        return Some(Num {
            value: lower.parse().ok()?,
            hex: false,
            as_hex: u64::from_str_radix(&lower, 16).ok(),
        });
    }
    // Hex digits without a prefix, starting with a digit (`10f`).
    u64::from_str_radix(&lower, 16).ok().map(|v| Num {
        value: v,
        hex: true,
        as_hex: None,
    })
}

/// Runs of letters, digits and `_`, as numbers (a run starting with a
/// digit that reads as one) or lower-case words.
fn tokens(text: &str) -> Vec<Located> {
    let mut out = Vec::new();
    let mut run = String::new();
    let mut before = None;
    let mut last = None;
    let flush = |run: &mut String, before: Option<char>, out: &mut Vec<Located>| {
        if run.is_empty() {
            return;
        }
        let tok = if run.starts_with(|c: char| c.is_ascii_digit()) {
            number(run).map_or_else(|| Tok::Word(run.to_lowercase()), Tok::Num)
        } else {
            Tok::Word(run.to_lowercase())
        };
        out.push(Located { tok, before });
        run.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            if run.is_empty() {
                before = last;
            }
            run.push(c);
        } else {
            flush(&mut run, before, &mut out);
        }
        last = Some(c);
    }
    flush(&mut run, before, &mut out);
    out
}

/// Words never required: articles, prepositions, and labels that only say
/// what kind a number is.
const FILLER: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "s", "is", "its",
    "it", "yet", "pid", "ring", "frame", "vector", "cpl", "dpl",
];

fn required(t: &Located) -> bool {
    match &t.tok {
        Tok::Word(w) => !FILLER.contains(&w.as_str()),
        // An offset after a symbol (`sched+104`) is detail.
        Tok::Num(_) => t.before != Some('+'),
    }
}

/// One part of an answer's key: items, each said by any of its
/// alternatives (a thing and its gloss), an alternative by all its tokens.
#[derive(Debug)]
struct Part {
    items: Vec<Vec<Vec<Tok>>>,
}

impl Part {
    /// Whether the part is a number (a ring, a count, an address), with
    /// or without a gloss in words (`1 (on)`).
    fn is_number(&self) -> bool {
        self.items.iter().all(|alts| {
            alts.iter()
                .any(|all| all.iter().all(|t| matches!(t, Tok::Num(_))))
        })
    }

    /// Whether `clause` says the part's number (not only its gloss).
    fn number_said_by(&self, clause: &[Tok]) -> bool {
        let numeric = Part {
            items: self
                .items
                .iter()
                .map(|alts| {
                    alts.iter()
                        .filter(|all| all.iter().all(|t| matches!(t, Tok::Num(_))))
                        .cloned()
                        .collect()
                })
                .collect(),
        };
        numeric.said_by(clause)
    }

    fn said_by(&self, clause: &[Tok]) -> bool {
        let has = |want: &Tok| {
            clause.iter().any(|t| match (t, want) {
                (Tok::Num(n), Tok::Num(w)) => n.says(w),
                (Tok::Word(a), Tok::Word(b)) => a == b,
                _ => false,
            })
        };
        self.items
            .iter()
            .all(|alts| alts.iter().any(|all| all.iter().all(has)))
    }
}

/// Splits at top-level separators (outside parentheses).
fn split_top<'a>(text: &'a str, separators: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth <= 0
            && let Some(sep) = separators.iter().find(|s| rest.starts_with(**s))
        {
            out.push(&text[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += c.len_utf8();
    }
    out.push(&text[start..]);
    out
}

fn key_parts(key: &str) -> Vec<Part> {
    split_top(key, &[",", "←"])
        .into_iter()
        .filter_map(|text| {
            let mut items = Vec::new();
            let mut pending: Vec<Tok> = Vec::new();
            for piece in split_glosses(text) {
                match piece {
                    Piece::Plain(t) => {
                        pending.extend(tokens(t).into_iter().filter(required).map(|t| t.tok))
                    }
                    Piece::Gloss(g) => {
                        let gloss: Vec<Tok> = tokens(g)
                            .into_iter()
                            .filter(required)
                            .map(|t| t.tok)
                            .collect();
                        match (pending.is_empty(), gloss.is_empty()) {
                            (_, true) => {}
                            (true, false) => items.extend(gloss.into_iter().map(|t| vec![vec![t]])),
                            (false, false) => {
                                items.push(vec![std::mem::take(&mut pending), gloss]);
                            }
                        }
                    }
                }
            }
            items.extend(pending.into_iter().map(|t| vec![vec![t]]));
            (!items.is_empty()).then_some(Part { items })
        })
        .collect()
}

enum Piece<'a> {
    Plain(&'a str),
    Gloss(&'a str),
}

/// Text outside parentheses and the glosses inside them, in order.
fn split_glosses(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        out.push(Piece::Plain(&rest[..open]));
        let inner = &rest[open + 1..];
        let close = inner.find(')').unwrap_or(inner.len());
        out.push(Piece::Gloss(&inner[..close]));
        rest = inner.get(close + 1..).unwrap_or("");
    }
    out.push(Piece::Plain(rest));
    out
}

/// The prediction's clauses, as tokens: split at `,`, `;`, `and`, arrows.
fn clauses(prediction: &str) -> Vec<Vec<Tok>> {
    let mut out = Vec::new();
    for piece in prediction.split([',', ';', '←', '→']) {
        for piece in piece.split("<-").flat_map(|p| p.split("->")) {
            let mut clause = Vec::new();
            for t in tokens(piece) {
                if t.tok == Tok::Word("and".into()) {
                    out.push(std::mem::take(&mut clause));
                } else {
                    clause.push(t.tok);
                }
            }
            out.push(clause);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Grade::*;

    fn partly(parts_right: usize, parts: usize) -> Grade {
        PartlyRight { parts_right, parts }
    }

    #[test]
    fn numbers_compare_by_value_in_any_radix() {
        for p in ["0x10", "16", "0o20", "0b10000", "0X10", "0x0010"] {
            assert_eq!(grade(p, "16"), Right, "{p}");
            assert_eq!(grade(p, "0x10"), Right, "{p}");
        }
        for p in ["0x00002000", "0x2000", "8192", "2000", "0x2_000"] {
            assert_eq!(grade(p, "0x00002000"), Right, "{p}");
        }
        assert_eq!(grade("0x80000000", "0x80000000"), Right);
        assert_eq!(grade("80000000", "0x80000000"), Right);
        assert_eq!(grade("2147483648", "0x80000000"), Right);
        assert_eq!(grade("0x7fffffff", "0x80000000"), Wrong);
        assert_eq!(grade("13", "13"), Right);
        assert_eq!(grade("0xd", "13"), Right);
        assert_eq!(grade("6", "0x6"), Right);
        assert_eq!(grade("0b110", "0x6"), Right);
        assert_eq!(grade("2", "1"), Wrong);
        // Bare digits are hex only against a number written in hex.
        assert_eq!(grade("10", "16"), Wrong);
        assert_eq!(grade("0x2001", "0x00002000"), Wrong);
        assert_eq!(grade("8193", "0x00002000"), Wrong);
    }

    #[test]
    fn words_compare_ignoring_case_spacing_and_punctuation() {
        assert_eq!(grade("Sched", "sched"), Right);
        assert_eq!(grade("  SCHED ", "sched"), Right);
        assert_eq!(grade("scheduler", "sched"), Wrong);
        assert_eq!(grade("no", "no"), Right);
        assert_eq!(grade("No.", "no"), Right);
        assert_eq!(grade("yes", "no"), Wrong);
        for p in ["pid 3 (sh)", "pid 3 sh", "PID 3, sh", "Pid 3 - SH"] {
            assert_eq!(grade(p, "pid 3 (sh)"), Right, "{p}");
        }
        assert_eq!(grade("frame 0x10f", "frame 0x10f"), Right);
        assert_eq!(grade("10F", "frame 0x10f"), Right);
        assert_eq!(grade("ring 3", "ring 3"), Right);
        assert_eq!(grade("3", "ring 3"), Right);
        assert_eq!(grade("ring 0", "ring 3"), Wrong);
        assert_eq!(grade("", "ring 3"), Wrong);
    }

    #[test]
    fn a_gloss_names_the_same_thing() {
        assert_eq!(grade("pid 2", "pid 2 (sh)"), Right);
        assert_eq!(grade("sh", "pid 2 (sh)"), Right);
        assert_eq!(grade("pid 3", "pid 2 (sh)"), Wrong);
        assert_eq!(grade("pid 3 (sh)", "pid 2 (sh)"), Wrong);
        assert_eq!(grade("None", "none (the scheduler)"), Right);
        assert_eq!(grade("the scheduler", "none (the scheduler)"), Right);
        assert_eq!(
            grade("sh on bcache.buf[29]", "pid 3 (sh) on bcache.buf[29]"),
            Right
        );
        assert_eq!(
            grade("pid 3 on bcache buf 29", "pid 3 (sh) on bcache.buf[29]"),
            Right
        );
        assert_eq!(
            grade("sh on bcache.buf[28]", "pid 3 (sh) on bcache.buf[29]"),
            Wrong
        );
        assert_eq!(grade("sh", "pid 3 (sh) on bcache.buf[29]"), Wrong);
    }

    #[test]
    fn an_offset_after_a_symbol_is_detail_but_not_a_wrong_one() {
        assert_eq!(grade("sched", "sched+104"), Right);
        assert_eq!(grade("sched+104", "sched+104"), Right);
        assert_eq!(grade("sched + 0x68", "sched+104"), Right);
        assert_eq!(grade("sched+100", "sched+104"), Wrong);
        assert_eq!(grade("scheduler", "sched+104"), Wrong);
    }

    #[test]
    fn every_part_is_needed() {
        let a = "3 for 64, 0 for 32";
        for p in [
            a,
            "3 for 64 and 0 for 32",
            "64: 3, 32: 0",
            "0x3 for 0x40; 0 for 0x20",
        ] {
            assert_eq!(grade(p, a), Right, "{p}");
        }
        assert_eq!(grade("3 for 64", a), partly(1, 2));
        assert_eq!(grade("0 for 32", a), partly(1, 2));
        assert_eq!(grade("0 for 64, 3 for 32", a), Wrong);
        assert_eq!(grade("3 for 64, 1 for 32", a), partly(1, 2));
        assert_eq!(grade("3 for 64, 0 for 32, 7 for 33", a), partly(2, 3));
        assert_eq!(grade("3", a), Wrong);
    }

    #[test]
    fn the_key_comes_before_its_explanation() {
        let a = "pid 3 (sh), from growproc ← sys_sbrk; in the kernel (CPL 0)";
        for p in [
            a,
            "pid 3 (sh), from growproc ← sys_sbrk",
            "sh, growproc, sys_sbrk",
            "PID 3 growproc <- sys_sbrk",
            "sys_sbrk -> growproc, pid 3",
        ] {
            assert_eq!(grade(p, a), Right, "{p}");
        }
        assert_eq!(grade("pid 3 (sh), from growproc", a), partly(2, 3));
        assert_eq!(
            grade("pid 2 (sh), from growproc ← sys_sbrk", a),
            partly(2, 3)
        );
        assert_eq!(grade("pid 3, from exec", a), partly(1, 3));
        assert_eq!(grade("in the kernel", a), Wrong);
        let a = "none yet (not mapped): the store will fault and the kernel will map a frame";
        assert_eq!(grade("none", a), Right);
        assert_eq!(grade("not mapped", a), Right);
        assert_eq!(grade("frame 0x10f", a), Wrong);
        assert_eq!(grade("pid 2", "pid 2 (sh): directory 0xdf73000"), Right);
        // Numbers alone answer in the question's order.
        let a = "ring 1, ring 0: the hypervisor runs the kernel in ring 1";
        assert_eq!(grade("1, 0", a), Right);
        assert_eq!(grade("ring 1, ring 0", a), Right);
        assert_eq!(grade("0, 1", a), Wrong);
        assert_eq!(grade("1, 1", a), partly(1, 2));
        // A clause that says no part makes no order: the clauses are not
        // the parts one by one.
        assert_eq!(grade("1 0 and more", a), Right);
        // A number's gloss keeps the order too.
        let a = "1 (enabled), 0 (disabled): pushfl reads the real flag";
        assert_eq!(grade("enabled, disabled", a), Right);
        assert_eq!(grade("1, disabled", a), Right);
        assert_eq!(grade("disabled, enabled", a), Wrong);
        assert_eq!(grade("1 (enabled), 1 (disabled)", a), partly(1, 2));
        assert_eq!(grade("pid 3", "pid 2 (sh): directory 0xdf73000"), Wrong);
    }
}
