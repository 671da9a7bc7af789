//! The course osviz teaches: every guest's lessons (the teaching kernel's
//! and xv6's), each with a typed setup for its guest, and the [`Guest`]
//! that boots any of them, goes to a lesson's start, answers its questions
//! and hands out the kernel's view. The page, the command line and the
//! wasm API all use this one crate to run a lesson.
//!
//! ```
//! use osviz_course::{Guest, lesson};
//!
//! let l = lesson("system-call").unwrap();
//! let mut guest = Guest::for_lesson(l, None, None).unwrap();
//! guest.go_to_start(l).unwrap();
//! let answers = osviz_course::read_answers(l, &guest, 5_000_000);
//! assert_eq!(answers[0].as_ref().unwrap().answer, "0x80108000");
//! ```

pub mod grade;
pub mod guest;
pub mod lesson;
pub mod panel;
pub mod run;
pub mod teaching;
pub mod vmm;
pub mod xv6;

pub use grade::{Grade, grade};
pub use guest::{Guest, GuestError, ViewRef};
pub use lesson::{Kernel, Lesson, Moment, Question, Setup};
pub use panel::{Panel, UnknownPanel};
pub use teaching::TEACHING_LESSONS;
pub use vmm::VMM_LESSONS;
pub use xv6::XV6_LESSONS;

/// A lesson of either kernel by its id.
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    all().find(|l| l.id == id)
}

/// Every lesson: the teaching kernel's, then xv6's, then xv6's as the
/// hypervisor's guest.
pub fn all() -> impl Iterator<Item = &'static Lesson> {
    TEACHING_LESSONS
        .iter()
        .chain(XV6_LESSONS)
        .chain(VMM_LESSONS)
}

/// The first lesson, where a page with no lesson chosen opens.
pub fn first() -> &'static Lesson {
    &TEACHING_LESSONS[0]
}

/// A question's answer as the machine read it at the question's moment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reading {
    pub prompt: &'static str,
    pub moment: Moment,
    /// The step the moment was reached at.
    pub step: u64,
    pub answer: String,
}

/// Every question of `lesson` answered from `start` (a guest at the
/// lesson's start), each on its own copy run to the question's moment (at
/// most `max_steps` steps), so that no answer depends on another.
pub fn read_answers(
    lesson: &Lesson,
    start: &Guest,
    max_steps: u64,
) -> Vec<Result<Reading, String>> {
    lesson
        .questions
        .iter()
        .map(|q| {
            let mut g = start.fork();
            let events = g.run_to(q.moment, max_steps)?;
            Ok(Reading {
                prompt: q.prompt,
                moment: q.moment,
                step: g.machine().steps(),
                answer: g.answer(q, &events),
            })
        })
        .collect()
}
