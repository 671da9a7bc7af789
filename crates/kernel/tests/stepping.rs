//! Stepping by source line over the teaching kernel's assembly: Next line
//! keeps to the line's own code (a push is no new frame), comes back to the
//! next line of the same process after the kernel handled a page fault,
//! Step out comes to the caller's next line, and a step that outlives its
//! process says so.

use osviz_kernel::introspect::{Introspector, KernelView};
use osviz_kernel::{Program, System, programs};
use osviz_machine::StopReason;
use osviz_view::{LineStep, LineStop, SourcePlace, step_line};

/// The line (1-based) of `program`'s source that starts with `text`
/// (trimmed, labels included), in `file` (the program's, or ulib.inc).
fn line_of(source: &str, text: &str) -> usize {
    source
        .lines()
        .position(|l| l.trim().starts_with(text))
        .unwrap_or_else(|| panic!("no `{text}`"))
        + 1
}

fn ulib() -> &'static str {
    include_str!("../src/asm/user/ulib.inc")
}

/// Boots `program` and runs until it reaches `file:line`.
fn at_line(program: Program, file: &str, line: usize) -> System {
    let mut system = System::boot(&[program]).unwrap();
    let (m, view) = Introspector::split(&mut system);
    let addr = view
        .line_addresses(file, line)
        .into_iter()
        .find(|l| l.program.as_deref() == Some(program.name))
        .unwrap_or_else(|| panic!("{file}:{line} not in {}", program.name))
        .addr;
    m.add_breakpoint(addr);
    assert_eq!(m.run(5_000_000), StopReason::Breakpoint { eip: addr });
    m.remove_breakpoint(addr);
    system
}

fn step(system: &mut System, how: LineStep) -> LineStop {
    let (m, view) = Introspector::split(system);
    step_line(m, &view, how, 2_000_000)
}

fn line(stop: LineStop) -> SourcePlace {
    match stop {
        LineStop::Line(p) => p,
        other => panic!("no line: {other:?}"),
    }
}

#[test]
fn next_line_over_a_heap_store_that_faults_comes_back_to_the_next_user_line() {
    let source = programs::HEAP.source;
    let store = line_of(source, "mov dword [edi], 1");
    let mut system = at_line(programs::HEAP, "heap.asm", store);
    let pid = Introspector::of(&system)
        .current(&system.machine)
        .unwrap()
        .pid;
    let before = system.machine.steps();
    let next = line(step(&mut system, LineStep::Over));
    // The store faulted (demand paging): the kernel ran in between.
    assert!(system.machine.steps() - before > 10);
    assert_eq!(
        (next.file.as_deref(), next.line),
        (Some("heap.asm"), Some(store + 1))
    );
    let m = &system.machine;
    assert_eq!(m.cpu().cpl(), 3);
    assert_eq!(Introspector::of(&system).current(m).unwrap().pid, pid);
}

#[test]
fn in_assembly_next_line_goes_line_by_line_past_pushes_and_step_out_reaches_the_caller() {
    let print = line_of(ulib(), "print:  push eax");
    let mut system = at_line(programs::HEAP, "ulib.inc", print);
    let next = line(step(&mut system, LineStep::Over));
    assert_eq!(
        (next.file.as_deref(), next.line),
        (Some("ulib.inc"), Some(print + 1))
    );
    let out = line(step(&mut system, LineStep::Out));
    assert_eq!(out.file.as_deref(), Some("heap.asm"), "{out:?}");
    let call = line_of(programs::HEAP.source, "call print");
    assert_eq!(out.line, Some(call + 1), "the line after the call");
}

#[test]
fn next_line_over_a_line_that_kills_the_process_says_it_ended() {
    let source = programs::SEGV.source;
    let touch = line_of(source, "start:  mov eax, [0x50000000]");
    let mut system = at_line(programs::SEGV, "segv.asm", touch);
    let pid = Introspector::of(&system)
        .current(&system.machine)
        .unwrap()
        .pid;
    let before = system.machine.steps();
    let stop = step(&mut system, LineStep::Over);
    let LineStop::ProcessEnded {
        pid: ended, name, ..
    } = stop
    else {
        panic!("{stop:?}");
    };
    assert_eq!((ended, name.as_str()), (pid, "segv"));
    assert!(system.machine.steps() - before < 100_000);
}
