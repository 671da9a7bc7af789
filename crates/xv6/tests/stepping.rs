//! Stepping by C line on the real xv6 build, as a debugger steps: a
//! function's breakpoint stops past its prologue; Next line and Step out
//! keep to the frame the step began in, whatever the instruction; a step
//! that outlives its process says so. Lines are found in the build's own
//! sources, never written here.

use osviz_machine::{Machine, PcConfig, StopReason};
use osviz_view::{KernelView, LineStep, LineStop, SourcePlace, step_line};
use osviz_xv6::Xv6;
use std::path::PathBuf;

fn build() -> PathBuf {
    osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"))
}

fn boot() -> (Machine, Xv6) {
    let dir = build();
    let (m, mut xv6) = osviz_xv6::boot_build(&dir, PcConfig::default()).unwrap();
    xv6.read_programs(&std::fs::read(dir.join("fs.img")).unwrap());
    (m, xv6)
}

/// The source of `file` in the build.
fn source(file: &str) -> Vec<String> {
    std::fs::read_to_string(build().join("src").join(file))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The first line (1-based) at or after `from` whose text, trimmed, is `text`.
fn line_of(lines: &[String], from: usize, text: &str) -> usize {
    (from..=lines.len())
        .find(|&n| lines[n - 1].trim() == text)
        .unwrap_or_else(|| panic!("no `{text}` from line {from}"))
}

/// A function's opening and closing lines (`{` and `}`) in its file.
fn braces(file: &str, signature: &str) -> (usize, usize) {
    let lines = source(file);
    let name = line_of(&lines, 1, signature);
    (line_of(&lines, name, "{"), line_of(&lines, name, "}"))
}

/// Runs to the breakpoint a student's `break name` sets: the function's
/// first address past its prologue.
fn break_at(m: &mut Machine, view: &dyn KernelView, name: &str) -> SourcePlace {
    let (body, place) = view.function_body(m, name).expect("a function");
    m.add_breakpoint(body);
    let stop = m.run(40_000_000);
    assert_eq!(stop, StopReason::Breakpoint { eip: body }, "{name}");
    m.remove_breakpoint(body);
    place
}

fn line(stop: LineStop) -> SourcePlace {
    match stop {
        LineStop::Line(p) => p,
        other => panic!("no line: {other:?}"),
    }
}

#[test]
fn a_function_breakpoint_stops_past_the_prologue_and_next_line_stays_in_its_body() {
    let (mut m, xv6) = boot();
    let view: &dyn KernelView = &xv6;
    let (open, close) = braces("sysfile.c", "sys_write(void)");
    let start = view.symbol_address("sys_write").unwrap();
    let (body, _) = view.function_body(&m, "sys_write").unwrap();
    assert!(body > start, "past the prologue");
    // The opening line, as the page keeps a function's breakpoint, binds
    // there too.
    assert_eq!(view.place(&m, start).line, Some(open));
    assert_eq!(view.line_address("sysfile.c", open), Some(body));

    let at = break_at(&mut m, view, "sys_write");
    assert_eq!(at.symbol.as_deref(), Some("sys_write"));
    assert_eq!(at.file.as_deref(), Some("sysfile.c"));
    assert_ne!(at.line, Some(open), "not the opening brace");
    // The frame is made: the frame pointers lead to the caller.
    let stack = osviz_view::call_stack(&m, view, 3);
    assert_eq!(stack[1].symbol.as_deref(), Some("syscall"), "{stack:?}");

    // Next line: the next line of sys_write, its calls taken whole, not
    // the whole body.
    let next = line(step_line(&mut m, view, LineStep::Over, 1_000_000));
    assert_eq!(next.symbol.as_deref(), Some("sys_write"), "{next:?}");
    assert!(
        ![Some(open), Some(close), at.line].contains(&next.line),
        "{next:?} after {at:?} ({open}..{close})"
    );

    // Step into, line by line, reaches filewrite (past its prologue);
    // out of the helpers it enters on the way (argint, argptr), Step out
    // comes back to sys_write.
    let mut seen = vec![next];
    for _ in 0..60 {
        let p = line(step_line(&mut m, view, LineStep::Into, 1_000_000));
        let inside = p.symbol.clone();
        seen.push(p);
        match inside.as_deref() {
            Some("filewrite") => break,
            Some("sys_write") => {}
            _ => {
                let back = line(step_line(&mut m, view, LineStep::Out, 1_000_000));
                assert_eq!(
                    back.symbol.as_deref(),
                    Some("sys_write"),
                    "out of {inside:?}"
                );
                seen.push(back);
            }
        }
    }
    let last = seen.last().unwrap();
    let path: Vec<String> = seen
        .iter()
        .map(|p| format!("{:?}+{} {:?}", p.symbol, p.offset, p.line))
        .collect();
    assert_eq!(last.symbol.as_deref(), Some("filewrite"), "{path:?}");
    assert!(last.offset > 0, "past filewrite's prologue: {last:?}");
}

#[test]
fn step_out_of_allocproc_lands_in_its_caller_fork() {
    // sh forks to run the command.
    let (mut m, xv6) = typed("echo hi\n");
    let view: &dyn KernelView = &xv6;
    let at = break_at(&mut m, view, "allocproc");
    assert_eq!(at.symbol.as_deref(), Some("allocproc"));
    let before = m.steps();
    let out = line(step_line(&mut m, view, LineStep::Out, 1_000_000));
    assert_eq!(
        (out.symbol.as_deref(), out.file.as_deref()),
        (Some("fork"), Some("proc.c")),
        "{out:?}"
    );
    assert!(m.steps() - before < 100_000, "{} steps", m.steps() - before);
}

/// Boots to the prompt and types `command`.
fn typed(command: &str) -> (Machine, Xv6) {
    let (mut m, xv6) = boot();
    while !m.serial_output().ends_with(b"$ ") {
        assert!(m.steps() < 40_000_000, "no prompt");
        m.run(100_000);
    }
    for b in command.bytes() {
        m.send_serial(b);
    }
    (m, xv6)
}

/// Runs until the process running `program` reaches `file:line`.
fn run_to_user_line(m: &mut Machine, view: &dyn KernelView, program: &str, file: &str, n: usize) {
    let addr = view
        .line_addresses(file, n)
        .into_iter()
        .find(|l| l.program.as_deref() == Some(program))
        .unwrap_or_else(|| panic!("{file}:{n} not in {program}"))
        .addr;
    m.add_breakpoint(addr);
    loop {
        let stop = m.run(40_000_000);
        assert_eq!(stop, StopReason::Breakpoint { eip: addr });
        if view.current_program(m).as_deref() == Some(program) {
            break;
        }
    }
    m.remove_breakpoint(addr);
}

#[test]
fn next_line_on_exit_says_the_process_ended() {
    let (mut m, xv6) = typed("echo hi\n");
    let view: &dyn KernelView = &xv6;
    let lines = source("echo.c");
    let exit = line_of(&lines, 1, "exit();");
    run_to_user_line(&mut m, view, "echo", "echo.c", exit);
    let pid = view.current(&m).unwrap().pid;
    let before = m.steps();
    let stop = step_line(&mut m, view, LineStep::Over, 5_000_000);
    let LineStop::ProcessEnded {
        pid: ended, name, ..
    } = stop
    else {
        panic!("{stop:?}");
    };
    assert_eq!((ended, name.as_str()), (pid, "echo"));
    assert!(m.steps() - before < 100_000, "{} steps", m.steps() - before);
}

#[test]
fn next_line_over_a_system_call_comes_back_to_the_next_line_of_the_same_process() {
    let (mut m, xv6) = typed("echo a b c\n");
    let view: &dyn KernelView = &xv6;
    let lines = source("echo.c");
    let print = line_of(
        &lines,
        1,
        r#"printf(1, "%s%s", argv[i], i+1 < argc ? " " : "\n");"#,
    );
    run_to_user_line(&mut m, view, "echo", "echo.c", print);
    let pid = view.current(&m).unwrap().pid;
    // printf makes a write system call per character: the kernel, the
    // console and the scheduler run through.
    let next = line(step_line(&mut m, view, LineStep::Over, 5_000_000));
    assert_eq!(view.current(&m).map(|p| p.pid), Some(pid));
    assert_eq!(
        (next.symbol.as_deref(), next.file.as_deref()),
        (Some("main"), Some("echo.c")),
        "{next:?}"
    );
    assert_ne!(next.line, Some(print));
    assert!(m.cpu().cpl() == 3);
}

/// From the `iret` that ends a system call, Next line comes to the user
/// line the call returns to, in the same process.
#[test]
fn next_line_on_trapret_iret_lands_on_a_user_line() {
    let (mut m, xv6) = typed("echo hi\n");
    let view: &dyn KernelView = &xv6;
    let lines = source("echo.c");
    let exit = line_of(&lines, 1, "exit();");
    // Into echo, then to the iret of its next system call.
    let print = exit - 1;
    run_to_user_line(&mut m, view, "echo", "echo.c", print);
    let pid = view.current(&m).unwrap().pid;
    let trapret = view.symbol_address("trapret").unwrap();
    let iret = (trapret..trapret + 32)
        .find(|&a| {
            m.instruction_at(a)
                .is_ok_and(|i| i.op == osviz_machine::Op::Iret)
        })
        .unwrap();
    m.add_breakpoint(iret);
    while view.current(&m).map(|p| p.pid) != Some(pid) || m.cpu().eip != iret {
        assert_eq!(m.run(10_000_000), StopReason::Breakpoint { eip: iret });
    }
    m.remove_breakpoint(iret);
    let next = line(step_line(&mut m, view, LineStep::Over, 5_000_000));
    assert_eq!(m.cpu().cpl(), 3, "{next:?}");
    assert_eq!(view.current(&m).map(|p| p.pid), Some(pid));
    assert!(next.line.is_some(), "{next:?}");
}
