//! Every xv6 lesson runs to each of its moments headless, from its own
//! start (the prompt, with the lesson's command typed), and each question
//! gets the machine's answer there, as the teaching kernel's lessons do.

use osviz_kernel::lessons::{Kernel, run_to};
use osviz_kernel::xv6_lessons::XV6_LESSONS;
use osviz_machine::{Machine, PcConfig};
use osviz_xv6::Xv6;

fn start(typed: &str) -> (Machine, Xv6) {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let (mut m, xv6) = osviz_xv6::boot_build(&dir, PcConfig::default()).unwrap();
    osviz_xv6::run_to_prompt(&mut m, 40_000_000).unwrap();
    for b in typed.bytes() {
        m.press_key(b);
    }
    (m, xv6)
}

#[test]
fn every_xv6_lesson_reaches_its_moments_and_answers_its_questions() {
    let (at_start, xv6) = start("");
    let mut answers = Vec::new();
    for l in XV6_LESSONS {
        assert_eq!(l.kernel, Kernel::Xv6);
        let mut base = at_start.clone();
        for b in l.typed.bytes() {
            base.press_key(b);
        }
        for moment in l.breakpoints {
            let mut m = base.clone();
            run_to(&mut m, &xv6, *moment, 30_000_000)
                .unwrap_or_else(|e| panic!("{}: {moment:?}: {e}", l.id));
        }
        for q in l.questions {
            let mut m = base.clone();
            let events = run_to(&mut m, &xv6, q.moment, 30_000_000)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", l.id, q.prompt));
            let answer = (q.answer)(&m, &xv6, &events);
            println!("{}: {} -> {answer}", l.id, q.prompt);
            answers.push((l.id, answer));
        }
    }
    let answer = |id: &str| {
        answers
            .iter()
            .find(|(l, _)| *l == id)
            .map(|(_, a)| a.as_str())
            .unwrap()
    };
    // What xv6's source implies.
    assert_eq!(
        answer("xv6-shell"),
        "pid 3 (sh)",
        "the child is still named sh until exec"
    );
    assert_eq!(answer("xv6-pcb"), "0", "fork returns 0 in the child");
    assert_eq!(answer("xv6-syscall"), "16", "SYS_write");
    assert_eq!(answer("xv6-rings"), "ring 3");
    assert_eq!(answer("xv6-idt"), "3 for 64, 0 for 32");
    assert!(
        answer("xv6-blocking-io").contains("on bcache"),
        "{}",
        answer("xv6-blocking-io")
    );
}
