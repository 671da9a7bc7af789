//! What the answer tests share: each lesson's expected answers, written in
//! the test, compared with what the machine read; and xv6's build with the
//! teaching hypervisor beside it. Each test crate uses some of these.
#![allow(dead_code)]

use osviz_course::{Guest, Lesson};
use osviz_xv6::Xv6Build;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

/// The teaching hypervisor's folder (`target/vmm`, or `VMM_OUT`), built
/// by `scripts/vmm` (the project's one way to build it) once per test
/// process, as the xv6 tests build xv6 with `scripts/xv6`. A failed build
/// fails the test with the script's error.
pub fn vmm_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/vmm");
        let out = Command::new("bash")
            .arg(script)
            .arg("--print-dir")
            .output()
            .map_err(|e| format!("cannot run scripts/vmm: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/vmm could not build the teaching hypervisor, so its lessons cannot run:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// xv6's default build (`target/xv6`) with the teaching hypervisor
/// (`target/vmm/vmm`) beside it: what the vm-* lessons boot.
pub fn xv6_under_hypervisor() -> Rc<Xv6Build> {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let mut build = Xv6Build::from_dir(&dir).unwrap();
    let vmm = vmm_dir().join("vmm");
    let elf = std::fs::read(&vmm).unwrap_or_else(|e| panic!("{}: {e}", vmm.display()));
    build.set_hypervisor(elf).unwrap();
    Rc::new(build)
}

/// Each lesson's expected answers, one per question, by lesson id.
pub type Expected<'a> = &'a [(&'a str, &'a [&'a str])];

/// `lesson`'s expected answers; it fails at once unless there is one per
/// question.
pub fn expected_for<'a>(expected: Expected<'a>, lesson: &Lesson) -> &'a [&'a str] {
    let want = expected
        .iter()
        .find(|(id, _)| *id == lesson.id)
        .map_or(&[][..], |(_, a)| *a);
    assert_eq!(
        want.len(),
        lesson.questions.len(),
        "{}: an expected answer per question",
        lesson.id
    );
    want
}

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
        let want = expected_for(expected, l);
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
