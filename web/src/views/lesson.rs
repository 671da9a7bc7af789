//! The lesson panel's view: lesson text with its inline code marked, the
//! questions with the student's prediction graded against the machine's
//! answer, and the editor's text, errors and breakpoint lines.

use crate::session::{Answer, Session};
use osviz_asm::Diagnostic;

/// One predict-then-reveal question.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionView {
    pub prompt: Vec<Inline>,
    pub guess: String,
    pub answer: Option<Answer>,
    /// Whether the guess matches the answer, once both are there.
    pub right: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LessonView {
    pub id: &'static str,
    pub title: &'static str,
    pub concept: Vec<Inline>,
    pub paragraphs: Vec<Vec<Inline>>,
    pub questions: Vec<QuestionView>,
    pub file: String,
    pub draft: String,
    /// Whether the editor holds something other than the lesson's program.
    pub edited: bool,
    /// Whether the draft differs from what the machine runs.
    pub unsaved: bool,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<String>,
    /// Lines of the program with a breakpoint.
    pub breakpoint_lines: Vec<usize>,
    /// Every breakpoint as `file:line`, with whether it has code now.
    pub breakpoints: Vec<(String, bool)>,
    pub start_step: u64,
    /// The lesson runs xv6 (no program of its own to edit).
    pub xv6: bool,
    /// The panel offers to open an xv6 build: on xv6, and while the notice
    /// says this page has no xv6 of its own.
    pub open_build: bool,
    /// What the lesson typed at the prompt for the student.
    pub typed: &'static str,
    /// An xv6 lesson that waits for xv6 to load.
    pub loading: Option<String>,
    /// Which xv6 build runs, when xv6 runs.
    pub origin: Option<String>,
    /// Why some panels are empty (a kernel without DWARF).
    pub limitation: Option<String>,
}

pub fn of_session(s: &Session) -> LessonView {
    let l = s.lesson();
    let file = s.program_file();
    let breakpoints = s.breakpoints();
    LessonView {
        xv6: l.kernel() == osviz_course::Kernel::Xv6,
        open_build: l.kernel() == osviz_course::Kernel::Xv6
            || s.notice().is_some_and(crate::loader::says_not_served),
        typed: l.typed(),
        loading: s.waiting_for_xv6().map(str::to_string),
        origin: s.guest().xv6().map(|b| b.origin.clone()),
        limitation: s.guest().view().limitation(),
        id: l.id,
        title: l.title,
        concept: inline(l.concept),
        paragraphs: l.paragraphs.iter().map(|p| inline(p)).collect(),
        questions: l
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let guess = s.guess(i).to_string();
                let answer = s.answers().get(i).cloned().flatten();
                let right = answer
                    .as_ref()
                    .filter(|a| a.step.is_some())
                    .and_then(|a| grade(&guess, &a.text));
                QuestionView {
                    prompt: inline(q.prompt),
                    guess,
                    answer,
                    right,
                }
            })
            .collect(),
        draft: s.draft().to_string(),
        edited: s.edited(),
        unsaved: s.draft() != s.program(),
        errors: s.errors().to_vec(),
        warnings: s.warnings().to_vec(),
        breakpoint_lines: breakpoints
            .iter()
            .filter(|b| b.file == file)
            .map(|b| b.line)
            .collect(),
        breakpoints: breakpoints
            .iter()
            .map(|b| (format!("{}:{}", b.file, b.line), b.addr.is_some()))
            .collect(),
        file,
        start_step: s.start_step(),
    }
}

/// A piece of lesson text: prose, or code (written between backticks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Code(String),
}

/// Splits text at backticks into prose and code. Nothing becomes markup:
/// the panel renders each piece as text.
pub fn inline(text: &str) -> Vec<Inline> {
    text.split('`')
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(i, piece)| {
            if i % 2 == 1 {
                Inline::Code(piece.to_string())
            } else {
                Inline::Text(piece.to_string())
            }
        })
        .collect()
}

/// The first number in a text (hex with 0x, else decimal digits).
fn first_number(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find(|c: char| c.is_ascii_digit())?;
    let rest = &lower[start..];
    if let Some(hex) = rest.strip_prefix("0x") {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        return u64::from_str_radix(&digits, 16).ok();
    }
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether a guess matches the machine's answer: numbers compare by value
/// whichever way they are written (`0x80000000`, `80000000` read as hex,
/// `2147483648`); other answers compare as words, ignoring case. `None`
/// when there is no guess.
pub fn grade(guess: &str, answer: &str) -> Option<bool> {
    let g = guess.trim();
    if g.is_empty() {
        return None;
    }
    if let Some(want) = first_number(answer) {
        let g = g.to_ascii_lowercase();
        let g = g
            .trim_start_matches("frame")
            .trim_start_matches("vector")
            .trim();
        let as_hex = u64::from_str_radix(g.trim_start_matches("0x"), 16).ok();
        let as_dec = if g.starts_with("0x") {
            None
        } else {
            g.parse::<u64>().ok()
        };
        return Some(as_hex == Some(want) || as_dec == Some(want));
    }
    let words = |t: &str| {
        t.to_ascii_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(words(answer).starts_with(&words(g)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_mark_code_and_nothing_else() {
        assert_eq!(
            inline("run `int 0x40` then <b>"),
            [
                Inline::Text("run ".into()),
                Inline::Code("int 0x40".into()),
                Inline::Text(" then <b>".into())
            ]
        );
        assert_eq!(inline("plain"), [Inline::Text("plain".into())]);
    }

    #[test]
    fn guesses_are_graded_by_value() {
        assert_eq!(grade("", "0x80000000"), None);
        assert_eq!(grade("0x80000000", "0x80000000"), Some(true));
        assert_eq!(grade("80000000", "0x80000000"), Some(true));
        assert_eq!(grade("2147483648", "0x80000000"), Some(true));
        assert_eq!(grade("0x7fffffff", "0x80000000"), Some(false));
        assert_eq!(grade("13", "13"), Some(true));
        assert_eq!(grade("0xd", "13"), Some(true));
        assert_eq!(grade("frame 0x10f", "frame 0x10f"), Some(true));
        assert_eq!(grade("10F", "frame 0x10f"), Some(true));
        assert_eq!(grade("6", "0x6"), Some(true));
        assert_eq!(grade("2", "1"), Some(false));
        assert_eq!(grade("None", "none (the scheduler)"), Some(true));
    }
}
