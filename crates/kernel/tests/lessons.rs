//! Every lesson runs to completion with its expected output, and every
//! question can be answered at its moment.

use osviz_kernel::lessons::{LESSONS, lesson, run_to};
use osviz_machine::StopReason;

#[test]
fn there_is_a_lesson_per_concept_and_a_playground() {
    let ids: Vec<&str> = LESSONS.iter().map(|l| l.id).collect();
    for id in [
        "memory-image",
        "translation-tlb",
        "two-level",
        "demand-paging",
        "user-kernel-mode",
        "system-call",
        "context-switch",
        "blocking-io",
        "playground",
    ] {
        assert!(ids.contains(&id), "missing lesson {id}");
    }
    for l in LESSONS {
        assert!(!l.paragraphs.is_empty() && !l.title.is_empty() && !l.programs.is_empty());
        if l.id != "playground" {
            assert!(!l.questions.is_empty(), "{} has no question", l.id);
            assert!(!l.breakpoints.is_empty(), "{} has no breakpoint", l.id);
        }
    }
}

#[test]
fn every_lesson_runs_to_completion() {
    for l in LESSONS {
        let mut system = l.boot().unwrap();
        let stop = system.machine.run(50_000_000);
        let console = String::from_utf8_lossy(system.machine.console()).into_owned();
        assert_eq!(stop, StopReason::Halted, "{}: {console}", l.id);
        assert!(console.contains(l.expected_output), "{}: {console}", l.id);
        assert!(
            console
                .trim_end()
                .ends_with("all processes have exited; 761 frames free"),
            "{}: {console}",
            l.id
        );
    }
}

#[test]
fn every_question_is_answered_by_the_machine() {
    for l in LESSONS {
        for q in l.questions {
            let mut system = l.boot().unwrap();
            let events = run_to(&mut system, q.moment, 50_000_000)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", l.id, q.prompt));
            let answer = (q.answer)(&system, &events);
            assert!(!answer.is_empty(), "{}: {} has no answer", l.id, q.prompt);
            println!("{}: {} -> {answer}", l.id, q.prompt);
        }
    }
}

#[test]
fn some_answers_are_what_the_kernel_implies() {
    let answer = |id: &str, n: usize| {
        let l = lesson(id).unwrap();
        let q = &l.questions[n];
        let mut system = l.boot().unwrap();
        let events = run_to(&mut system, q.moment, 50_000_000).unwrap();
        (q.answer)(&system, &events)
    };
    // The first page fault of the heap program is a user write to a page
    // that is not present: error code 6.
    assert_eq!(answer("demand-paging", 1), "0x6");
    // cli in ring 3 raises vector 13.
    assert_eq!(answer("user-kernel-mode", 0), "13");
    // Three regions, three page tables.
    assert_eq!(answer("two-level", 0), "3");
    // The user stack starts just below the kernel: one push and ESP is there.
    assert_eq!(answer("memory-image", 0), "0x7ffffffc");
}
