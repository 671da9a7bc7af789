//! Every lesson runs to completion with its expected output, and every
//! question can be answered at its moment.

mod common;

use osviz_course::{Guest, Lesson, Moment, TEACHING_LESSONS as LESSONS, lesson};
use osviz_machine::StopReason;

/// A lesson's guest at its first instruction (the boot not yet run).
fn boot(l: &'static Lesson) -> Guest {
    Guest::for_lesson(l, None, None).unwrap()
}

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
        assert!(!l.paragraphs.is_empty() && !l.title.is_empty() && !l.programs().is_empty());
        if l.id != "playground" {
            assert!(!l.questions.is_empty(), "{} has no question", l.id);
            assert!(!l.breakpoints.is_empty(), "{} has no breakpoint", l.id);
        }
    }
}

#[test]
fn every_lesson_runs_to_completion() {
    for l in LESSONS {
        let mut system = boot(l);
        let stop = system.machine_mut().run(50_000_000);
        let console = String::from_utf8_lossy(system.machine().console()).into_owned();
        assert_eq!(stop, StopReason::Halted, "{}: {console}", l.id);
        let osviz_course::Setup::Teaching {
            expected_output, ..
        } = l.setup
        else {
            panic!("{} is a teaching kernel lesson", l.id)
        };
        assert!(console.contains(expected_output), "{}: {console}", l.id);
        assert!(
            console
                .trim_end()
                .ends_with("all processes have exited; 761 frames free"),
            "{}: {console}",
            l.id
        );
    }
}

/// Every question's answer, each written here as the kernel's source
/// implies it (`crates/kernel/src/asm/` and the lesson's program).
#[test]
fn every_answer_is_what_the_kernel_implies() {
    let expected: &[(&str, &[&str])] = &[
        // `show` runs after one push onto a fresh stack whose top is the
        // kernel's base; sbrk(0) returns the break, which `spawn` sets to
        // the page after the program's one page of image at 0x1000.
        ("memory-image", &["0x7ffffffc", "0x00002000"]),
        // The heap pages are not mapped before their first touch (demand
        // paging): the first store faults.
        (
            "translation-tlb",
            &["none yet (not mapped): the store will fault and the kernel will map a frame"],
        ),
        // Code near 0, the heap's far end, and the stack below the kernel:
        // three regions, three page tables.
        ("two-level", &["3"]),
        // The heap's first touch: CR2 is the heap's start, and the error
        // code a user write to a page that is not present (0b110).
        ("demand-paging", &["0x00002000", "0x6"]),
        // cli in ring 3 raises a general protection fault.
        ("user-kernel-mode", &["13"]),
        // ESP0 is the top of pid 1's kernel stack: the page `allocproc`
        // took from kalloc (frame 0x107, after the kernel's own) plus 4 KiB.
        ("system-call", &["0x80108000"]),
        // From pid 1's first instruction: the timer makes it yield (kpgdir),
        // the scheduler loads pid 2's directory, pid 2 yields (kpgdir), and
        // the fourth write loads pid 1's again.
        ("context-switch", &["1"]),
        // The disk writes into `disk_buf`, the 512-aligned buffer after the
        // kernel's tables (physical 0x105000).
        ("blocking-io", &["0x00105000"]),
    ];
    let wrong = common::wrong_answers(LESSONS, expected, 50_000_000, |l| {
        let mut start = boot(l);
        start.go_to_start(l).unwrap();
        start
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

use osviz_machine::{Event, EventKind};
use osviz_view::FrameOwner;

/// Runs a lesson with events recorded, returning every event with its step.
fn events_of(id: &str) -> (Guest, Vec<(u64, Event)>) {
    let mut system = boot(lesson(id).unwrap());
    let m = system.machine_mut();
    m.set_recording(true);
    let mut all = Vec::new();
    loop {
        let outcome = m.step();
        all.extend(outcome.events.into_iter().map(|e| (m.steps(), e)));
        if outcome.stop.is_some() || m.steps() > 5_000_000 {
            break;
        }
    }
    (system, all)
}

#[test]
fn the_system_call_lesson_enters_through_0x40_and_returns_with_iret() {
    let mut system = boot(lesson("system-call").unwrap());
    let events = system
        .run_to(Moment::Trap { vector: 0x40 }, 5_000_000)
        .unwrap();
    let i = system.view();
    let p = i.current(system.machine()).unwrap();
    let entry = events
        .iter()
        .find_map(|e| match e {
            Event::TrapEntry {
                vector: 0x40,
                cpl_before,
                cpl_after,
                stack_switch,
                pushed,
                ..
            } => Some((*cpl_before, *cpl_after, *stack_switch, pushed.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!((entry.0, entry.1), (3, 0));
    let switch = entry.2.expect("a stack switch from the TSS");
    assert_eq!(
        switch.new_esp,
        p.kstack + 4096,
        "ESP0 is the process's kernel stack top"
    );
    assert_eq!(switch.old_ss, 0x23);
    assert_eq!(entry.3.len(), 5, "SS, ESP, EFLAGS, CS, EIP");
    // The IDT view agrees: vector 0x40 is a DPL 3 gate to vector64.
    assert_eq!(
        i.idt(system.machine())[0x40].handler_symbol.as_deref(),
        Some("vector64")
    );
    // Then the kernel returns with iret, to CPL 3.
    let m = system.machine_mut();
    m.break_on(EventKind::Iret, true);
    m.run(1_000_000);
    let back = m.last_events().iter().find_map(|e| match e {
        Event::Iret {
            cpl_before,
            cpl_after,
            ..
        } => Some((*cpl_before, *cpl_after)),
        _ => None,
    });
    assert_eq!(back, Some((0, 3)));
}

#[test]
fn the_context_switch_lesson_writes_cr3_with_each_process_directory() {
    let (system, events) = events_of("context-switch");
    let writes: Vec<u32> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Cr3Write { new, .. } => Some(*new),
            _ => None,
        })
        .collect();
    // The kernel's directory, then the two processes' in turn (and the
    // kernel's between them, in the scheduler).
    let kernel = system.view().symbol_address("kpgdir").unwrap() - osviz_kernel::KERNBASE;
    let processes: std::collections::BTreeSet<u32> =
        writes.iter().copied().filter(|&d| d != kernel).collect();
    assert_eq!(processes.len(), 2, "{writes:x?}");
    let timer_switches = events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::TrapEntry {
                    vector: 32,
                    cpl_before: 3,
                    ..
                }
            )
        })
        .count();
    assert!(timer_switches >= 4, "{timer_switches}");
}

#[test]
fn the_demand_paging_lesson_faults_allocates_and_restarts() {
    let mut system = boot(lesson("demand-paging").unwrap());
    let events = system
        .run_to(
            Moment::Event {
                event: EventKind::PageFault,
                nth: 1,
            },
            5_000_000,
        )
        .unwrap();
    let (linear, code, eip) = events
        .iter()
        .find_map(|e| match e {
            Event::PageFault {
                linear,
                error_code,
                eip,
            } => Some((*linear, *error_code, *eip)),
            _ => None,
        })
        .unwrap();
    assert_eq!(code, 6, "a user write to a page that is not present");
    let owned = |system: &Guest, pid: u32| {
        system
            .view()
            .frames(system.machine())
            .iter()
            .filter(|f| **f == FrameOwner::Process { pid })
            .count()
    };
    let p = system.view().processes(system.machine())[0].clone();
    assert!(
        linear >= p.heap && linear < p.brk,
        "a heap page: {linear:#x}"
    );
    let owned_before = owned(&system, p.pid);
    // Run until the faulting instruction executes again, now without a fault.
    let m = system.machine_mut();
    m.add_breakpoint(eip);
    assert!(matches!(
        m.run(1_000_000),
        osviz_machine::StopReason::Breakpoint { .. }
    ));
    let owned_after = owned(&system, p.pid);
    assert_eq!(owned_after, owned_before + 1, "one frame allocated");
    let m = system.machine_mut();
    let retired = m.retired();
    let outcome = m.step();
    assert!(
        !outcome
            .events
            .iter()
            .any(|e| matches!(e, Event::PageFault { .. })),
        "the restarted instruction completes"
    );
    assert_eq!(m.retired(), retired + 1);
}

/// `run` takes the block fast path through the kernel and the programs;
/// single steps do not. For every lesson both must reach exactly the same
/// states (registers, memory, TLB and devices), checked at uneven points
/// that land inside blocks, loops and handlers.
#[test]
fn running_and_single_stepping_every_lesson_agree() {
    run_and_step_every_lesson(false);
}

/// Recording as the page does at full speed (every kind but TLB hits), the
/// block path runs between the steps that record something: the record is
/// the single steps' record, event for event and step for step.
#[test]
fn running_and_single_stepping_every_lesson_record_the_same_events() {
    run_and_step_every_lesson(true);
}

fn run_and_step_every_lesson(record: bool) {
    for l in LESSONS {
        let mut ran = boot(l);
        let mut stepped = boot(l);
        if record {
            for m in [ran.machine_mut(), stepped.machine_mut()] {
                m.set_recording(true);
                m.set_unrecorded(osviz_machine::KindSet::of(&[EventKind::TlbHit]));
            }
        }
        let mut chunk = 1u64;
        while ran.machine().stopped().is_none() && ran.machine().steps() < 3_000_000 {
            let stop = ran.machine_mut().run(chunk);
            while stepped.machine().steps() < ran.machine().steps()
                && stepped.machine().stopped().is_none()
            {
                stepped.machine_mut().step();
            }
            assert_eq!(
                (stepped.machine().steps(), stepped.machine().state_hash()),
                (ran.machine().steps(), ran.machine().state_hash()),
                "{}: state after {} steps (run stopped: {stop:?})",
                l.id,
                ran.machine().steps()
            );
            if record {
                let events = |m: &osviz_machine::Machine| -> Vec<_> {
                    m.events().map(|s| (s.step, s.event)).collect()
                };
                assert_eq!(
                    events(stepped.machine()),
                    events(ran.machine()),
                    "{}: events after {} steps",
                    l.id,
                    ran.machine().steps()
                );
            }
            if stop == StopReason::Halted {
                break;
            }
            // Uneven chunk sizes, so that the comparisons fall everywhere.
            chunk = (chunk * 7 + 13) % 20_011;
        }
        assert_eq!(
            ran.machine().stopped(),
            Some(&StopReason::Halted),
            "{}",
            l.id
        );
    }
}
