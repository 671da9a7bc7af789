//! Predictions graded against every question's answer as the machine
//! computes it, for every lesson of both kernels (xv6's also as the teaching
//! hypervisor's guest): the answer as the page shows it, read from the
//! lesson's start (`osviz_course::read_answers`),
//! and predictions written as a student would (other radixes, case,
//! spacing, punctuation; a name for a pid), right, partly right and wrong
//! (a number off by one, a wrong name, one part of two).

mod common;

use osviz_course::{Grade, Guest, Lesson, TEACHING_LESSONS, VMM_LESSONS, XV6_LESSONS, grade};
use osviz_xv6::Xv6Build;
use std::rc::Rc;

/// A question's predictions: `(lesson id, question index, right, partly
/// right, wrong)`.
type Row = (
    &'static str,
    usize,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const TEACHING: &[Row] = &[
    (
        "memory-image",
        0,
        &[
            "0x7ffffffc",
            "0x7FFFFFFC",
            "7ffffffc",
            "2147483644",
            "ESP = 0x7ffffffc",
        ],
        &[],
        &["0x7ffffffb", "0x80000000", "2147483645", "0x7ffffff0"],
    ),
    (
        "memory-image",
        1,
        &[
            "0x2000",
            "8192",
            "2000",
            "0x00002000",
            "0o20000",
            "at 0x2000",
        ],
        &[],
        &["0x1000", "0x2001", "8193", "0x3000"],
    ),
    (
        "translation-tlb",
        0,
        &[
            "none",
            "None yet",
            "not mapped",
            "NONE.",
            "none: it is not mapped",
        ],
        &[],
        &["frame 0x10f", "0x10f", "mapped", "frame 0"],
    ),
    (
        "two-level",
        0,
        &["3", "0x3", "3 tables", "0b11"],
        &[],
        &["2", "4", "0x4", "1"],
    ),
    (
        "demand-paging",
        0,
        &["0x2000", "8192", "0x00002000", "CR2 = 0x2000"],
        &[],
        &["0x1fff", "0x2001", "0x1000", "0x7ffffffc"],
    ),
    (
        "demand-paging",
        1,
        &["6", "0x6", "0b110", "0x00000006", "0o6"],
        &[],
        &["7", "0x7", "0b111", "4", "110"],
    ),
    (
        "user-kernel-mode",
        0,
        &["13", "0xd", "0xD", "vector 13", "#13"],
        &[],
        &["14", "12", "0x13", "vector 6"],
    ),
    (
        "system-call",
        0,
        &["0x80108000", "80108000", "0x8010_8000", "2148564992"],
        &[],
        &["0x80107000", "0x80108004", "0x80107fff", "0x80000000"],
    ),
    (
        "context-switch",
        0,
        &["1", "pid 1", "PID 1", "0x1"],
        &[],
        &["2", "pid 2", "0"],
    ),
    (
        "blocking-io",
        0,
        &["0x105000", "0x00105000", "105000", "1069056"],
        &[],
        &["0x104000", "0x105001", "0x106000", "1069057"],
    ),
];

const XV6: &[Row] = &[
    (
        "xv6-shell",
        0,
        &[
            "pid 3 (sh)",
            "pid 3 sh",
            "PID 3, sh",
            "3",
            "sh",
            "Pid 3 (SH)",
            "pid 0x3, sh",
        ],
        &[],
        &["pid 2", "pid 4 (sh)", "pid 2 (sh)", "ls", "pid 4 (ls)"],
    ),
    (
        "xv6-memory-image",
        0,
        &["0x3000", "12288", "3000", "0x00003000", "sz = 0x3000"],
        &[],
        &["0x2000", "0x3001", "0x4000", "12287"],
    ),
    (
        "xv6-memory-image",
        1,
        &["0x2000", "8192", "2000", "0x00002000"],
        &[],
        &["0x1000", "0x3000", "0x2001", "0"],
    ),
    (
        "xv6-context",
        0,
        &[
            "sched",
            "Sched",
            "sched+104",
            "SCHED + 0x68",
            "sched()",
            " sched ",
        ],
        &[],
        &["scheduler", "forkret", "sched+105", "trapret", "swtch"],
    ),
    (
        "xv6-boot",
        0,
        &["0xdf", "0xDF", "223", "0xdf (A20 on)", "0x00df"],
        &[],
        &["0xd1", "0xdd", "0x02", "2", "0xde"],
    ),
    (
        "xv6-boot",
        1,
        &["0x8", "8", "0x08", "0x8 (GDT entry 1)", "0x8, 32-bit code"],
        &[],
        &["0x10", "0", "0x18", "16", "0x7c00"],
    ),
    (
        "xv6-boot",
        2,
        &["1", "sector 1", "0x1", "1 (the second sector)"],
        &[],
        &["0", "2", "sector 0", "512"],
    ),
    (
        "xv6-boot",
        3,
        &["0x10000c", "0x0010000c", "1048588", "0x10000c, paging off"],
        &[],
        &["0x8010000c", "0x100000", "0x7c00", "0x10000d"],
    ),
    (
        "xv6-boot",
        4,
        &["0x109000", "0x109000 (entrypgdir)", "0x109000, 4 MiB pages"],
        &[],
        &["0x80109000", "0x10a000", "0x109000, 2 MiB pages", "0"],
    ),
    (
        "xv6-context-switch",
        0,
        &["pid 2", "sh", "pid 2 (sh)", "PID 2, sh", "2"],
        &[],
        &["pid 3", "pid 1 (init)", "init", "pid 3 (sh)", "1"],
    ),
    (
        "xv6-pcb",
        0,
        &["0", "0x0", "0x00000000", "eax = 0"],
        &[],
        &["1", "3", "-1", "0x1"],
    ),
    (
        "xv6-paging",
        0,
        &["1", "0x1", "1 table", "one: 1"],
        &[],
        &["2", "0", "3"],
    ),
    (
        "xv6-cr3-tlb",
        0,
        &["pid 2", "sh", "pid 2 (sh)", "PID 2, sh"],
        &[],
        &["pid 3", "the kernel's (kpgdir)", "kpgdir", "pid 1 (init)"],
    ),
    (
        "xv6-rings",
        0,
        &["ring 3", "3", "Ring 3", "RPL 3", "0x3", "user (ring 3)"],
        &[],
        &["ring 0", "0", "ring 1", "kernel"],
    ),
    (
        "xv6-syscall",
        0,
        &["16", "0x10", "0o20", "0b10000", "SYS_write = 16"],
        &[],
        &["15", "17", "10", "0x16"],
    ),
    (
        "xv6-idt",
        0,
        &[
            "3 for 64, 0 for 32",
            "3 for 64 and 0 for 32",
            "64: 3, 32: 0",
            "DPL 3 for vector 64, DPL 0 for vector 32",
            "0x3 for 0x40; 0 for 0x20",
        ],
        &[
            "3 for 64",
            "0 for 32",
            "3 for 64, 1 for 32",
            "0 for 64, 0 for 32",
        ],
        &["0 for 64, 3 for 32", "3", "1 for 64, 1 for 32"],
    ),
    (
        "xv6-blocking-io",
        0,
        &[
            "pid 3 (sh) on bcache.buf[29]",
            "sh on bcache.buf[29]",
            "pid 3 on bcache buf 29",
            "PID 3 (SH) ON BCACHE.BUF[0x1d]",
            "sh, on bcache.buf[29]",
        ],
        &[],
        &[
            "sh on bcache.buf[28]",
            "pid 2 (sh) on bcache.buf[29]",
            "sh",
            "pid 3 (sh) on input.r",
        ],
    ),
    (
        "xv6-demand-paging",
        0,
        &[
            "pid 3 (sh), from growproc ← sys_sbrk",
            "sh, growproc, sys_sbrk",
            "PID 3: growproc <- sys_sbrk",
            "sys_sbrk -> growproc, pid 3",
        ],
        &[
            "pid 3 (sh), from growproc",
            "pid 3 (sh)",
            "sh, growproc ← sys_sbrk, in the kernel (CPL 1)",
            "pid 2 (sh), from growproc ← sys_sbrk",
        ],
        &[
            "pid 2 (sh), from exec",
            "in the kernel",
            "ls, from exec ← sys_exec",
        ],
    ),
];

const VMM: &[Row] = &[
    (
        "vm-guest",
        0,
        &[
            "ring 1, ring 0",
            "1, 0",
            "1 and 0",
            "Ring 1; ring 0",
            "1 (real), 0 (virtual)",
        ],
        &["1", "1, 3", "3, 0", "1, 1"],
        // The two rings swapped: the real one is not the believed one.
        &["3", "ring 3", "2, 3", "0, 1", "ring 0, ring 1"],
    ),
    (
        "vm-guest",
        1,
        &[
            "0x10000000",
            "256 MiB",
            "268435456",
            "10000000",
            "0x1000_0000",
            "at 0x10000000",
        ],
        &[],
        &["0", "0x0", "0x100000", "0x1000000", "0x1000_0001"],
    ),
    (
        "vm-guest",
        2,
        &[
            "0xdf23000, 0x115000",
            "0xDF23000, 0X115000",
            "0xdf23000 and 0x115000",
        ],
        &["0xdf23000", "0xdf23000, 0x3ff000", "0x1df23000, 0x115000"],
        &["0x3ff000", "0x3ff000, 0x0", "0x115000, 0xdf23000"],
    ),
    (
        "vm-trap-emulate",
        0,
        &["sti, popcli", "STI in popcli", "sti (popcli)"],
        &["sti", "popcli", "cli, popcli", "sti, scheduler"],
        &["cli, pushcli", "hlt", "lgdt, seginit"],
    ),
    (
        "vm-trap-emulate",
        1,
        &[
            "0x64, keyboard",
            "100, the keyboard",
            "port 0x64 (keyboard)",
            "64, keyboard",
        ],
        &["keyboard", "0x60, keyboard", "0x64, disk"],
        &["0x60", "0x1f7, disk", "0x3f8, serial port"],
    ),
    (
        "vm-popek-goldberg",
        0,
        &[
            "mycpu ← cpuid ← seginit ← main",
            "mycpu <- cpuid <- seginit <- main",
            "main -> seginit -> cpuid -> mycpu",
            "mycpu, cpuid, seginit, main",
        ],
        &["mycpu", "main", "mycpu ← main", "mycpu ← pushcli ← acquire"],
        &["panic", "kinit1", "acquire ← pushcli", "pushcli"],
    ),
    (
        "vm-popek-goldberg",
        1,
        &[
            "1, 0",
            "IF=1, IF=0",
            "1 and 0",
            "enabled, disabled",
            "real enabled, virtual disabled",
        ],
        &["1, 1", "0, 0", "1"],
        &["2", "0, 1", "disabled, enabled"],
    ),
    (
        "vm-patching",
        0,
        &[
            "pushfd, mycpu, int3",
            "pushfl, mycpu, int3",
            "PUSHFL in mycpu, INT3",
            "pushfd (mycpu), int3",
        ],
        &[
            "mycpu",
            "mycpu, int3",
            "popfd, mycpu, int3",
            "pushfd, pushcli, int3",
            "pushfd, mycpu, 0xcc",
        ],
        &["cli", "popfl, popcli, cli", "sched, hlt"],
    ),
    (
        "vm-rings",
        0,
        &["1, 0", "ring 1, ring 0", "1 and 0"],
        &["1", "1, 3", "2, 0", "1, 1"],
        &["3", "3, 2"],
    ),
    (
        "vm-interrupts",
        0,
        &[
            "32, timer",
            "0x20, the timer",
            "vector 32 (timer)",
            "32 timer",
        ],
        &["32", "timer", "33, timer", "32, keyboard"],
        &["33, keyboard", "46, disk", "14"],
    ),
    (
        "vm-interrupts",
        1,
        &["sti, popcli", "STI in popcli", "sti (popcli)"],
        &["sti", "popcli", "cli, popcli", "sti, scheduler"],
        &["hlt", "iret, trapret", "cli, pushcli"],
    ),
    (
        "vm-shadow",
        0,
        &["11, 5", "0xb, 5", "11 and 5", "11 pages, 5 pages"],
        &["11", "11, 11", "12, 5", "3, 5"],
        &["3, 1", "12", "4", "5, 11"],
    ),
    (
        "vm-io",
        0,
        &[
            "46, disk",
            "0x2e, the disk",
            "46 (IDE disk)",
            "vector 46, the IDE disk",
            "IRQ 14, the disk",
        ],
        &["46", "disk", "46, keyboard", "14, disk"],
        &["32, timer", "33, keyboard", "14"],
    ),
    (
        "vm-cost",
        0,
        &[
            "patched pushfl/popfl",
            "the patched pushfl and popfl",
            "Patched PUSHFL/POPFL",
        ],
        &[],
        &[
            "hidden page faults",
            "shadow fill",
            "cli and sti",
            "privileged instruction",
            "interrupts",
        ],
    ),
];

/// The text with each number rewritten by `f` (`None` keeps it).
fn map_numbers(text: &str, f: impl Fn(u64) -> Option<String>) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let value = if let Some(h) = run.strip_prefix("0x") {
            u64::from_str_radix(h, 16).ok()
        } else if run.starts_with(|c: char| c.is_ascii_digit()) {
            run.parse().ok()
        } else {
            None
        };
        out.push_str(&value.and_then(&f).unwrap_or_else(|| run.clone()));
        run.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Checks every question of `lessons` against its row of `table`, and the
/// predictions made from the answer itself; returns what is graded amiss.
fn misgraded(
    lessons: &'static [Lesson],
    table: &[Row],
    start: impl Fn(&'static Lesson) -> Guest,
) -> Vec<String> {
    let mut bad = Vec::new();
    for l in lessons {
        let answers = osviz_course::read_answers(l, &start(l), 50_000_000);
        for (q, answer) in answers.into_iter().enumerate() {
            let answer = answer.unwrap_or_else(|e| panic!("{}: {e}", l.id)).answer;
            let (_, _, right, partly, wrong) = table
                .iter()
                .find(|r| r.0 == l.id && r.1 == q)
                .unwrap_or_else(|| panic!("{} question {q} ({answer}) has no row", l.id));
            let mut check = |prediction: &str, ok: &dyn Fn(Grade) -> bool, want: &str| {
                let g = grade(prediction, &answer);
                println!("{}[{q}] {answer:?} <- {prediction:?}: {g}", l.id);
                if !ok(g) {
                    bad.push(format!(
                        "{}[{q}]: {prediction:?} for {answer:?} is {g}, expected {want}",
                        l.id
                    ));
                }
            };
            // The answer itself, and as a student might retype it.
            let punctuation_free: String = answer
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' {
                        c
                    } else {
                        ' '
                    }
                })
                .collect();
            let derived = [
                answer.clone(),
                answer.to_uppercase(),
                format!("  {}  ", answer.replace(' ', "   ")),
                punctuation_free,
                map_numbers(&answer, |v| Some(v.to_string())),
                map_numbers(&answer, |v| Some(format!("{v:#x}"))),
                map_numbers(&answer, |v| Some(format!("{v:#o}"))),
                map_numbers(&answer, |v| Some(format!("{v:#b}"))),
                map_numbers(&answer, |v| Some(format!("{v:#010X}"))),
            ];
            for p in &derived {
                check(p, &|g| g == Grade::Right, "right");
            }
            for p in *right {
                check(p, &|g| g == Grade::Right, "right");
            }
            for p in *partly {
                check(
                    p,
                    &|g| matches!(g, Grade::PartlyRight { .. }),
                    "partly right",
                );
            }
            for p in *wrong {
                check(p, &|g| g == Grade::Wrong, "wrong");
            }
            // Each number of the answer off by one, alone: never right. A
            // number made one the answer mentions elsewhere is no wrong
            // statement to the grader (its documented limit): in the key,
            // the key alone is checked (the explanation may say the number
            // that was changed: "ring 1, ring 1: ... says ring 0"); in the
            // explanation, nothing is.
            let values = std::cell::RefCell::new(Vec::new());
            map_numbers(&answer, |v| {
                values.borrow_mut().push(v);
                None
            });
            let values = values.into_inner();
            let key = answer
                .find(": ")
                .into_iter()
                .chain(answer.find("; "))
                .min()
                .map_or(answer.as_str(), |i| &answer[..i]);
            let in_key = map_numbers(key, |_| Some("#".into())).matches('#').count()
                - key.matches('#').count();
            let off_by_one = |text: &str, k: usize| {
                let n = std::cell::Cell::new(0);
                map_numbers(text, |v| {
                    n.set(n.get() + 1);
                    (n.get() == k + 1).then(|| {
                        if answer.contains("0x") {
                            format!("{:#x}", v + 1)
                        } else {
                            (v + 1).to_string()
                        }
                    })
                })
            };
            for (k, v) in values.iter().enumerate() {
                let off = if !values.contains(&(v + 1)) {
                    off_by_one(&answer, k)
                } else if k < in_key {
                    off_by_one(key, k)
                } else {
                    continue;
                };
                check(&off, &|g| g != Grade::Right, "not right");
            }
        }
    }
    bad
}

#[test]
fn every_teaching_question_grades_predictions_as_its_answer_says() {
    let bad = misgraded(TEACHING_LESSONS, TEACHING, |l| {
        let mut g = Guest::for_lesson(l, None, None).unwrap();
        g.go_to_start(l).unwrap();
        g
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn every_xv6_question_grades_predictions_as_its_answer_says() {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let build = Rc::new(Xv6Build::from_dir(&dir).unwrap());
    let mut at_prompt = Guest::for_lesson(&XV6_LESSONS[0], Some(&build), None).unwrap();
    let blank = Lesson {
        setup: osviz_course::Setup::Xv6 { typed: "" },
        ..XV6_LESSONS[0]
    };
    at_prompt.go_to_start(&blank).unwrap();
    let bad = misgraded(XV6_LESSONS, XV6, |l| {
        if let osviz_course::Setup::Xv6Boot = l.setup {
            return Guest::for_lesson(l, Some(&build), None).unwrap();
        }
        let mut start = at_prompt.fork();
        for b in l.typed().bytes() {
            start.machine_mut().press_key(b);
        }
        start
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn every_vmm_question_grades_predictions_as_its_answer_says() {
    let build = common::xv6_under_hypervisor();
    let first = VMM_LESSONS
        .iter()
        .find(|l| matches!(l.setup, osviz_course::Setup::Vmm { pure: false, .. }))
        .unwrap();
    let mut at_prompt = Guest::for_lesson(first, Some(&build), None).unwrap();
    let blank = Lesson {
        setup: osviz_course::Setup::Vmm {
            typed: "",
            pure: false,
        },
        ..*first
    };
    at_prompt.go_to_start(&blank).unwrap();
    let bad = misgraded(VMM_LESSONS, VMM, |l| {
        // The pure lesson starts at the hypervisor's first instruction.
        if let osviz_course::Setup::Vmm { pure: true, .. } = l.setup {
            return Guest::for_lesson(l, Some(&build), None).unwrap();
        }
        let mut start = at_prompt.fork();
        for b in l.typed().bytes() {
            start.machine_mut().press_key(b);
        }
        start
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Every row names a question there is.
#[test]
fn every_row_is_a_question() {
    for (id, q, ..) in TEACHING.iter().chain(XV6).chain(VMM) {
        let l = osviz_course::lesson(id).unwrap_or_else(|| panic!("no lesson {id}"));
        assert!(*q < l.questions.len(), "{id} has no question {q}");
    }
}
