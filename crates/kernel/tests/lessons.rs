//! Every lesson runs to completion with its expected output, and every
//! question can be answered at its moment.

use osviz_kernel::lessons::{LESSONS, lesson};
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
            let events = system
                .run_to(q.moment, 50_000_000)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", l.id, q.prompt));
            let answer = system.answer(q, &events);
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
        let events = system.run_to(q.moment, 50_000_000).unwrap();
        system.answer(q, &events)
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

use osviz_kernel::introspect::{FrameOwner, Introspector, KernelView};
use osviz_machine::{Event, EventKind};

/// Runs a lesson with events recorded, returning every event with its step.
fn events_of(id: &str) -> (osviz_kernel::System, Vec<(u64, Event)>) {
    let mut system = lesson(id).unwrap().boot().unwrap();
    let m = &mut system.machine;
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
    let mut system = lesson("system-call").unwrap().boot().unwrap();
    let events = system
        .run_to(
            osviz_kernel::lessons::Moment::Trap { vector: 0x40 },
            5_000_000,
        )
        .unwrap();
    let i = Introspector::of(&system);
    let p = i.current(&system.machine).unwrap();
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
        i.idt(&system.machine)[0x40].handler_symbol.as_deref(),
        Some("vector64")
    );
    // Then the kernel returns with iret, to CPL 3.
    let m = &mut system.machine;
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
    let kernel = system.kernel.symbol("kpgdir").unwrap() - osviz_kernel::KERNBASE;
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
    let mut system = lesson("demand-paging").unwrap().boot().unwrap();
    let events = system
        .run_to(
            osviz_kernel::lessons::Moment::Event {
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
    let owned = |system: &osviz_kernel::System, pid: u32| {
        Introspector::of(system)
            .frames(&system.machine)
            .iter()
            .filter(|f| **f == FrameOwner::Process { pid })
            .count()
    };
    let p = Introspector::of(&system).processes(&system.machine)[0].clone();
    assert!(
        linear >= p.heap && linear < p.brk,
        "a heap page: {linear:#x}"
    );
    let owned_before = owned(&system, p.pid);
    // Run until the faulting instruction executes again, now without a fault.
    let m = &mut system.machine;
    m.add_breakpoint(eip);
    assert!(matches!(
        m.run(1_000_000),
        osviz_machine::StopReason::Breakpoint { .. }
    ));
    let owned_after = owned(&system, p.pid);
    assert_eq!(owned_after, owned_before + 1, "one frame allocated");
    let m = &mut system.machine;
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
        let mut ran = l.boot().unwrap();
        let mut stepped = l.boot().unwrap();
        if record {
            for m in [&mut ran.machine, &mut stepped.machine] {
                m.set_recording(true);
                m.set_unrecorded(osviz_machine::KindSet::of(&[EventKind::TlbHit]));
            }
        }
        let mut chunk = 1u64;
        while ran.machine.stopped().is_none() && ran.machine.steps() < 3_000_000 {
            let stop = ran.machine.run(chunk);
            while stepped.machine.steps() < ran.machine.steps()
                && stepped.machine.stopped().is_none()
            {
                stepped.machine.step();
            }
            assert_eq!(
                (stepped.machine.steps(), stepped.machine.state_hash()),
                (ran.machine.steps(), ran.machine.state_hash()),
                "{}: state after {} steps (run stopped: {stop:?})",
                l.id,
                ran.machine.steps()
            );
            if record {
                let events = |m: &osviz_machine::Machine| -> Vec<_> {
                    m.events().map(|s| (s.step, s.event)).collect()
                };
                assert_eq!(
                    events(&stepped.machine),
                    events(&ran.machine),
                    "{}: events after {} steps",
                    l.id,
                    ran.machine.steps()
                );
            }
            if stop == StopReason::Halted {
                break;
            }
            // Uneven chunk sizes, so that the comparisons fall everywhere.
            chunk = (chunk * 7 + 13) % 20_011;
        }
        assert_eq!(ran.machine.stopped(), Some(&StopReason::Halted), "{}", l.id);
    }
}
