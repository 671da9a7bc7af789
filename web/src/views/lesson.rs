//! The lesson panel's view: lesson text with its inline code marked, the
//! questions with the student's prediction graded against the machine's
//! answer, and the editor's text, errors and breakpoint lines.

use crate::session::{Answer, Session};
use osviz_asm::Diagnostic;
use osviz_course::Grade;
use serde::{Deserialize, Serialize};

/// One predict-then-reveal question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    pub prompt: Vec<Inline>,
    pub guess: String,
    pub answer: Option<Answer>,
    /// How the guess compares with the answer (`osviz_course::grade`),
    /// once both are there.
    pub grade: Option<Grade>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonView {
    pub id: String,
    pub title: String,
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
    /// The lesson boots xv6 from its disk (it starts at the boot sector,
    /// not at the prompt).
    pub real_boot: bool,
    /// The lesson runs xv6 as the teaching hypervisor's guest.
    pub hypervisor: Option<HypervisorSetup>,
    /// The panel offers to open an xv6 build: on xv6, and while the notice
    /// says this page has no xv6 of its own.
    pub open_build: bool,
    /// What the lesson typed at the prompt for the student.
    pub typed: String,
    /// An xv6 lesson that waits for xv6 to load.
    pub loading: Option<String>,
    /// Which xv6 build runs, when xv6 runs.
    pub origin: Option<String>,
    /// Why some panels are empty (a kernel without DWARF).
    pub limitation: Option<String>,
}

/// How a virtualization lesson runs its guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypervisorSetup {
    /// Pure trap and emulate: nothing of the guest rewritten.
    pub pure: bool,
}

pub fn of_session(s: &Session) -> LessonView {
    let l = s.lesson();
    let file = s.program_file();
    let breakpoints = s.breakpoints();
    LessonView {
        xv6: l.kernel() == osviz_course::Kernel::Xv6,
        real_boot: matches!(l.setup, osviz_course::Setup::Xv6Boot),
        hypervisor: match l.setup {
            osviz_course::Setup::Vmm { pure, .. } => Some(HypervisorSetup { pure }),
            _ => None,
        },
        open_build: l.kernel() == osviz_course::Kernel::Xv6
            || s.notice().is_some_and(crate::loader::says_not_served),
        typed: l.typed().to_string(),
        loading: s.waiting_for_xv6().map(str::to_string),
        origin: s.guest().xv6().map(|b| b.origin.clone()),
        limitation: s.guest().view().limitation(),
        id: l.id.to_string(),
        title: l.title.to_string(),
        concept: inline(l.concept),
        paragraphs: l.paragraphs.iter().map(|p| inline(p)).collect(),
        questions: l
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let guess = s.guess(i).to_string();
                let answer = s.answers().get(i).cloned().flatten();
                let grade = answer
                    .as_ref()
                    .filter(|a| a.step.is_some() && !guess.trim().is_empty())
                    .map(|a| osviz_course::grade(&guess, &a.text));
                QuestionView {
                    prompt: inline(q.prompt),
                    guess,
                    answer,
                    grade,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}
