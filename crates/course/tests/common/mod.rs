//! What both kernels' answer tests share: each lesson's expected answers,
//! written in the test, compared with what the machine read.

use osviz_course::{Guest, Lesson};

/// Each lesson's expected answers, one per question, by lesson id.
pub type Expected<'a> = &'a [(&'a str, &'a [&'a str])];

/// Answers every question of `lessons`, each from the guest `start` gives
/// for its lesson (at the lesson's start), and returns what differs from
/// `expected` (empty when all is as the source implies). A lesson without
/// an expected answer for each question fails at once.
pub fn wrong_answers(
    lessons: &'static [Lesson],
    expected: Expected,
    max_steps: u64,
    mut start: impl FnMut(&'static Lesson) -> Guest,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for l in lessons {
        let want = expected
            .iter()
            .find(|(id, _)| *id == l.id)
            .map_or(&[][..], |(_, a)| *a);
        assert_eq!(
            want.len(),
            l.questions.len(),
            "{}: an expected answer per question",
            l.id
        );
        let answers = osviz_course::read_answers(l, &start(l), max_steps);
        for ((q, got), want) in l.questions.iter().zip(answers).zip(want) {
            let got = got.unwrap_or_else(|e| panic!("{}: {}: {e}", l.id, q.prompt));
            println!("{}: {} -> {}", l.id, q.prompt, got.answer);
            if &got.answer != want {
                wrong.push(format!(
                    "{}: {}: {} (expected {want})",
                    l.id, q.prompt, got.answer
                ));
            }
        }
    }
    wrong
}
