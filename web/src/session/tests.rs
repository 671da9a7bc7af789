//! The session's tests: a student's sequences of actions, natively.

use super::run_control::{MAX_RUN_MS, MIN_BUDGET, MIN_RUN_MS, run_target};
use super::*;
use crate::action::BuildFiles;
use osviz_machine::{Event, EventKind, StopReason};
use std::collections::BTreeMap;

/// Runs at full speed, frame by frame, until the page stops.
pub(crate) fn run_until_stopped(s: &mut Session) {
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    while s.running() {
        s.tick_for_test(0.016);
    }
}

/// The vectors the latest step trapped through.
fn trapped(s: &Session) -> Vec<u8> {
    s.system
        .machine()
        .last_events()
        .iter()
        .filter_map(|e| match e {
            Event::TrapEntry { vector, .. } => Some(*vector),
            _ => None,
        })
        .collect()
}

fn place(s: &Session) -> (String, usize) {
    let p = s.system.view().place_of_eip(s.system.machine());
    (p.file.unwrap(), p.line.unwrap())
}

/// The xv6 build scripts/xv6 makes, as the page fetches it.
pub(crate) fn xv6_build() -> BuildFiles {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let sources: BTreeMap<String, String> =
        serde_json::from_slice(&read("www/sources.json")).unwrap();
    BuildFiles {
        origin: "xv6 (test)".into(),
        kernel: read("kernel"),
        disk: read("fs.img"),
        sources,
        clock_start: osviz_machine::devices::DEFAULT_START,
        boot_block: Some(read("bootblock.o")),
        hypervisor: hypervisor_files(),
    }
}

/// The teaching hypervisor scripts/vmm makes, as the page fetches it.
pub(crate) fn hypervisor_files() -> Option<crate::action::HypervisorFiles> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vmm/www");
    let elf = std::fs::read(dir.join("vmm")).ok()?;
    let sources = serde_json::from_slice(&std::fs::read(dir.join("sources.json")).ok()?).ok()?;
    Some(crate::action::HypervisorFiles { elf, sources })
}

/// The build read, as the session reads what the page fetched.
pub(crate) fn xv6_read() -> std::rc::Rc<osviz_xv6::Xv6Build> {
    let f = xv6_build();
    let mut build = osviz_xv6::Xv6Build::new(&f.origin, f.kernel, f.disk, f.sources).unwrap();
    if let Some(elf) = f.boot_block {
        build.set_boot_block(elf).unwrap();
    }
    if let Some(h) = f.hypervisor {
        build.set_hypervisor(h.elf).unwrap();
        build.add_hypervisor_sources(h.sources);
    }
    std::rc::Rc::new(build)
}

#[test]
fn an_xv6_lesson_waits_for_xv6_then_boots_to_the_prompt_and_runs_ls() {
    let mut s = Session::new("memory-image");
    assert_eq!(
        s.apply(Action::ChooseLesson("xv6-shell".into())),
        Some(Effect::LoadXv6)
    );
    assert_eq!(
        s.lesson().id,
        "memory-image",
        "the lesson stays until xv6 is here"
    );
    s.apply(Action::Xv6Loaded(xv6_build()));
    assert_eq!(s.lesson().id, "xv6-shell");
    assert!(s.start_step() > 10_000_000, "{}", s.start_step());
    let screen = s.machine_for_test().text_screen().unwrap();
    assert!(
        screen.rows.iter().any(|r| r.starts_with("$ ")),
        "{screen:?}"
    );
    let names: Vec<String> = s
        .system
        .view()
        .processes(s.system.machine())
        .into_iter()
        .map(|p| format!("{} {} {}", p.pid, p.name, p.state))
        .collect();
    assert_eq!(names, ["1 init SLEEPING", "2 sh SLEEPING"]);
    // The lesson typed `ls`: running shows its listing and the prompt again.
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    let mut seen_ls = false;
    for _ in 0..2_000 {
        s.tick_for_test(0.016);
        seen_ls |= s
            .system
            .view()
            .processes(s.system.machine())
            .iter()
            .any(|p| p.name == "ls");
        let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
        if out.matches("$ ").count() >= 2 {
            break;
        }
    }
    let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
    assert!(out.contains("README"), "{out}");
    assert!(seen_ls, "ls appeared in the process table");
    // The code panel shows xv6's C, the kernel's or a program's.
    let code = crate::views::code::code(&s);
    assert!(
        code.file.ends_with(".c") || code.file.ends_with(".S"),
        "{}",
        code.file
    );
    assert!(!code.lines.is_empty());
    // A reveal answers from the prompt.
    s.apply(Action::Reveal(0));
    assert_eq!(
        s.answers()[0].as_ref().map(|a| a.text.as_str()),
        Some("pid 3 (sh)")
    );
}

#[test]
fn an_xv6_share_link_carries_the_kernel_the_typing_and_the_moment() {
    let build = xv6_build();
    let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
    assert!(s.lesson().typed().is_empty());
    s.apply(Action::TypeKeys("echo hi\n".into()));
    while !String::from_utf8_lossy(s.system.machine().serial_output()).ends_with("hi\n$ ") {
        assert!(
            s.system.machine().steps() < s.start_step() + 30_000_000,
            "no answer"
        );
        s.machine_for_test().run(100_000);
    }
    let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
    assert!(out.ends_with("hi\n$ "), "{out}");
    let fragment = s.link().encode();
    assert!(
        fragment.contains("lesson=xv6-idt") && fragment.contains("&k="),
        "{fragment}"
    );
    // Opened before xv6 is loaded, the link waits for it, then opens.
    let mut opened = Session::open_link(&fragment, Preferences::default());
    assert_eq!(opened.waiting_for_xv6(), Some("xv6-idt"));
    opened.apply(Action::Xv6Loaded(build));
    assert_eq!(opened.lesson().id, "xv6-idt");
    assert_eq!(opened.system.machine().steps(), s.system.machine().steps());
    assert_eq!(
        opened.system.machine().serial_output(),
        s.system.machine().serial_output()
    );
    assert_eq!(
        opened.system.machine().state_hash(),
        s.system.machine().state_hash()
    );
}

/// The first line (1-based) at or after `from` of a source the session
/// has, whose text trimmed is `text`.
fn source_line(s: &Session, file: &str, from: usize, text: &str) -> usize {
    let source = s.file_text(file).unwrap_or_else(|| panic!("no {file}"));
    source
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.trim() == text)
        .unwrap_or_else(|| panic!("no `{text}` in {file} from {from}"))
        .0
        + 1
}

#[test]
fn a_breakpoint_on_sys_write_stops_past_its_prologue_and_c_lines_step_on() {
    let mut s = Session::with_xv6("xv6-syscall", Some(xv6_read()));
    s.apply(Action::BreakAt("sys_write".into()));
    assert_eq!(s.breakpoints().len(), 1, "{:?}", s.notice);
    assert_eq!(s.breakpoints()[0].file, "sysfile.c");
    assert!(
        s.notice
            .as_deref()
            .is_some_and(|n| n.contains("past the prologue")),
        "{:?}",
        s.notice
    );
    // The function's braces, from the build's own source.
    let name = source_line(&s, "sysfile.c", 1, "sys_write(void)");
    let open = source_line(&s, "sysfile.c", name, "{");
    let close = source_line(&s, "sysfile.c", name, "}");
    // The breakpoint is listed on the opening line, as it was set.
    assert_eq!(s.breakpoints()[0].line, open);
    run_until_stopped(&mut s);
    assert!(
        matches!(s.stop, Some(StopReason::Breakpoint { .. })),
        "{:?}",
        s.stop
    );
    let code = crate::views::code::code(&s);
    // Past the prologue (push ebp; mov ebp, esp; the saved registers):
    // the first line of the body, not the opening brace.
    assert_eq!(code.file, "sysfile.c");
    assert!(code.place.starts_with("sys_write+"), "{}", code.place);
    assert_ne!(code.current, open);
    assert!(
        code.stack.len() >= 3 && code.stack[1].starts_with("syscall"),
        "{:?}",
        code.stack
    );
    {
        let view = s.system.view();
        let p = view.current(s.system.machine()).unwrap();
        let stack = view.kernel_stack(s.system.machine(), &p);
        assert_eq!(stack.vector, Some(64));
    }
    let line = code.current;
    // Next line: sys_write's next line, not the rest of the body at once.
    s.apply(Action::NextLine);
    let next = crate::views::code::code(&s);
    assert!(next.place.starts_with("sys_write+"), "{}", next.place);
    assert!(
        ![line, open, close].contains(&next.current),
        "{} after {line}",
        next.current
    );
    assert_eq!(s.notice, None);
    // Step back undoes the whole line step.
    s.apply(Action::StepBack);
    assert_eq!(crate::views::code::code(&s).current, line);
    s.apply(Action::NextLine);
    // Step line into the helpers sys_write calls (Step out of each comes
    // back to sys_write) until filewrite.
    let mut path = Vec::new();
    for _ in 0..60 {
        s.apply(Action::StepLine);
        let at = crate::views::code::code(&s).place;
        path.push(at.clone());
        if at.starts_with("filewrite") {
            break;
        }
        if !at.starts_with("sys_write") {
            s.apply(Action::StepOut);
            let back = crate::views::code::code(&s).place;
            assert!(back.starts_with("sys_write"), "out of {at}: {back}");
        }
    }
    assert!(
        path.last().is_some_and(|p| p.starts_with("filewrite+")),
        "{path:?}"
    );
    s.apply(Action::BreakAt("no_such_function".into()));
    assert!(
        s.notice.as_deref().is_some_and(|n| n.contains("neither")),
        "{:?}",
        s.notice
    );
}

/// Next line on a user program's `exit();` stops when the process has
/// ended, and says so.
#[test]
fn next_line_on_exit_says_the_process_ended() {
    let mut s = Session::with_xv6("xv6-syscall", Some(xv6_read()));
    let exit = source_line(&s, "echo.c", 1, "exit();");
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: "echo.c".into(),
        line: exit,
    }));
    run_until_stopped(&mut s);
    assert!(
        matches!(s.stop, Some(StopReason::Breakpoint { .. })),
        "{:?}",
        s.stop
    );
    assert_eq!(place(&s), ("echo.c".to_string(), exit));
    s.apply(Action::NextLine);
    assert!(
        s.notice
            .as_deref()
            .is_some_and(|n| n.contains("(echo) ended")),
        "{:?}",
        s.notice
    );
    assert_eq!(s.stop, None);
}

#[test]
fn the_timeline_shows_sh_asleep_on_console_input_and_woken_by_the_keyboard() {
    let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
    let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
    let sh = sleeps
        .iter()
        .find(|x| x.name == "sh")
        .expect("sh asleep at the prompt");
    assert_eq!((sh.chan.as_str(), sh.to), ("input.r", None));
    // sh went to sleep during the boot, before the record began at the
    // lesson's start: the timeline does not claim it fell asleep there.
    let start = s.system.machine().steps();
    assert!(sh.before, "{}", sh.text());
    assert_eq!(
        sh.text(),
        format!("pid 2 sh asleep on input.r (console input) since before step {start}")
    );
    s.apply(Action::TypeKeys("echo hi\n".into()));
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    // Long frames: many timer interrupts fall between two looks at the
    // process table, so only the moment of the wake-up can say who woke.
    s.run.set_budget(3_000_000);
    for _ in 0..200 {
        s.tick_for_test(0.016);
        if String::from_utf8_lossy(s.system.machine().serial_output()).ends_with("hi\n$ ") {
            break;
        }
    }
    let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
    let woke = sleeps
        .iter()
        .find(|x| x.name == "sh" && x.chan == "input.r" && x.to.is_some())
        .expect("sh woke");
    assert_eq!(
        woke.woken_by.as_deref(),
        Some("interrupt 33 (keyboard (IRQ 1))"),
        "{}",
        woke.text()
    );
    assert!(woke.text().contains("console input"), "{}", woke.text());
    // sh waited for echo, and echo's exit woke it; the record saw that
    // sleep begin.
    let waited = sleeps
        .iter()
        .find(|x| x.name == "sh" && x.chan.starts_with("ptable.proc") && x.to.is_some())
        .expect("sh waited for its child");
    assert!(!waited.before, "{}", waited.text());
    assert_eq!(
        waited.woken_by.as_deref(),
        Some("pid 3 echo in a system call"),
        "{}",
        waited.text()
    );
    // sh sleeps again on its next read, and init still waits for a child.
    assert!(
        sleeps
            .iter()
            .any(|x| x.name == "init" && x.chan.starts_with("ptable.proc"))
    );
}

#[test]
fn a_teaching_kernel_sleep_is_seen_from_its_first_step_to_the_disk_interrupt_that_ended_it() {
    let mut s = Session::new("blocking-io");
    // One long frame runs the whole lesson: only watching the process
    // states sees the sleep at all.
    s.run.set_budget(1_000_000);
    run_until_stopped(&mut s);
    let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
    let texts: Vec<String> = sleeps.iter().map(|x| x.text()).collect();
    let [disk] = &sleeps[..] else {
        panic!("one sleep: {texts:#?}")
    };
    assert_eq!(
        (disk.name.as_str(), disk.chan.as_str()),
        ("diskread", "disk_buf")
    );
    assert_eq!(
        disk.woken_by.as_deref(),
        Some("interrupt 46 (disk interrupt)"),
        "{texts:#?}"
    );
    // The span's ends are the steps the state changed at.
    let sleeping_at = |step: u64| {
        let mut m = s.system.machine().clone();
        m.seek(step).unwrap();
        s.system
            .view()
            .processes(&m)
            .iter()
            .any(|p| p.pid == disk.pid && p.phase == osviz_view::Phase::Sleeping)
    };
    let to = disk.to.expect("the sleep ended");
    assert!(!sleeping_at(disk.from - 1) && sleeping_at(disk.from));
    assert!(sleeping_at(to - 1) && !sleeping_at(to));
}

#[test]
fn a_breakpoint_in_one_programs_code_stops_in_that_program_only() {
    // diskread and spin share their user addresses; a breakpoint on a
    // line of spin's must not stop diskread at that address.
    let mut s = Session::new("blocking-io");
    // The user addresses diskread runs at after its first instruction.
    let mut m = s.system.machine().clone();
    let mut diskread = std::collections::BTreeSet::new();
    for _ in 0..200_000 {
        if m.step().stop.is_some() {
            break;
        }
        let running = s.system.view().current(&m).map(|p| p.name);
        if m.cpu().cpl() == 3 && running.as_deref() == Some("diskread") {
            diskread.insert(m.cpu().eip);
        }
    }
    let view = s.system.view();
    let (line, addr) = (1..200)
        .find_map(|line| {
            let places = view.line_addresses("spin.asm", line);
            let spin = places
                .iter()
                .find(|l| l.program.as_deref() == Some("spin"))?;
            diskread.contains(&spin.addr).then_some((line, spin.addr))
        })
        .expect("a line of spin's at an address diskread runs");
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: "spin.asm".into(),
        line,
    }));
    assert!(
        s.notice.as_deref().is_some_and(|n| n.contains("in spin")),
        "{:?}",
        s.notice
    );
    run_until_stopped(&mut s);
    assert_eq!(s.stop, Some(StopReason::Breakpoint { eip: addr }));
    let m = s.system.machine();
    let current = s.system.view().current(m).expect("a process runs");
    assert_eq!(current.name, "spin");
}

#[test]
fn xv6_user_lines_break_in_their_program_and_a_shared_file_in_each_program() {
    let build = xv6_read();
    let ls = build.xv6.program("ls").expect("ls in fs.img");
    let main = ls
        .symbols
        .iter()
        .find(|(_, _, n)| n == "main")
        .expect("ls has main")
        .0;
    let place = ls.lines.place(main).expect("main has a line");
    let mut s = Session::with_xv6("xv6-idt", Some(build.clone()));
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: place.file.clone(),
        line: place.line as usize,
    }));
    assert!(
        s.notice.as_deref().is_some_and(|n| n.contains("in ls")),
        "{:?}",
        s.notice
    );
    s.apply(Action::TypeKeys("ls\n".into()));
    run_until_stopped(&mut s);
    assert_eq!(s.stop, Some(StopReason::Breakpoint { eip: main }));
    let m = s.system.machine();
    let view = s.system.view();
    assert_eq!(view.current(m).map(|p| p.name).as_deref(), Some("ls"));
    assert_eq!(view.place_of_eip(m).file.as_deref(), Some("ls.c"));
    // printf.c is linked into every program: its line is in each.
    let printf = ls
        .symbols
        .iter()
        .find(|(_, _, n)| n == "printf")
        .expect("ls has printf")
        .0;
    let line = ls.lines.place(printf).expect("printf has a line").line as usize;
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: "printf.c".into(),
        line,
    }));
    let notice = s.notice.clone().unwrap_or_default();
    assert!(notice.contains("programs: "), "{notice}");
    for program in ["cat", "echo", "ls", "sh"] {
        assert!(notice.contains(&format!("{program} at 0x")), "{notice}");
    }
}

#[test]
fn a_line_breakpoint_lands_on_that_line_survives_reset_and_clears() {
    let mut s = Session::new("memory-image");
    s.apply(Action::SetBreak(Some(
        crate::session::BreakChoice::PageFault,
    )));
    run_until_stopped(&mut s);
    let eip = s.system.machine().cpu().eip;
    let (file, line) = place(&s);
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: file.clone(),
        line,
    }));
    assert_eq!(s.system.machine().breakpoints().collect::<Vec<_>>(), [eip]);
    s.apply(Action::Reset);
    assert_eq!(s.system.machine().breakpoints().collect::<Vec<_>>(), [eip]);
    s.apply(Action::SetBreak(None));
    run_until_stopped(&mut s);
    assert_eq!(s.stop, Some(StopReason::Breakpoint { eip }));
    assert_eq!(place(&s), (file.clone(), line));
    s.apply(Action::ToggleBreakpoint(SourceLine { file, line }));
    assert_eq!(s.system.machine().breakpoints().count(), 0);
}

#[test]
fn breakpoints_are_bound_again_by_line_when_the_program_changes() {
    let mut s = Session::new("system-call");
    let file = s.program_file();
    // The line of `int 0x40` in the lesson's program.
    let line = 1 + s
        .program()
        .lines()
        .position(|l| l.contains("int 0x40"))
        .unwrap();
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: file.clone(),
        line,
    }));
    let before = s.breakpoints()[0].addr.unwrap();
    // One byte of code more before it, on the same line count: the
    // line's address moves by one.
    let edited = s
        .program()
        .replacen("mov eax, SYS_getpid", "lea eax, [SYS_getpid]", 1);
    s.apply(Action::Edit(edited));
    s.apply(Action::RunDraft);
    assert!(s.errors().is_empty(), "{:?}", s.errors());
    let b = &s.breakpoints()[0];
    assert_eq!((b.file.as_str(), b.line), (file.as_str(), line));
    assert_eq!(b.addr, Some(before + 1));
    assert_eq!(
        s.system.machine().breakpoints().collect::<Vec<_>>(),
        [before + 1]
    );
}

#[test]
fn the_break_on_shortcut_cycles_through_every_kind_and_back_to_none() {
    let mut s = Session::new("memory-image");
    let mut seen = Vec::new();
    for _ in 0..BreakChoice::ALL.len() {
        s.apply(Action::NextBreak);
        seen.push(s.break_choice().map(|b| b.name()));
    }
    let all: Vec<_> = BreakChoice::ALL.iter().map(|b| Some(b.name())).collect();
    assert_eq!(seen, all);
    s.apply(Action::NextBreak);
    assert_eq!(s.break_choice(), None);
}

/// Breaking on a system call runs past the timer and the page faults
/// (traps too, through other vectors) and stops at an `int 0x40`.
#[test]
fn break_on_system_call_skips_other_traps() {
    let mut s = Session::new("context-switch");
    s.apply(Action::SetBreak(Some(BreakChoice::Trap)));
    let mut vectors = Vec::new();
    for _ in 0..3 {
        run_until_stopped(&mut s);
        vectors.extend(trapped(&s));
    }
    assert!(
        vectors.iter().any(|&v| v != 0x40),
        "other traps come first: {vectors:?}"
    );
    let mut s = Session::new("context-switch");
    s.apply(Action::SetBreak(Some(BreakChoice::SystemCall)));
    for _ in 0..3 {
        run_until_stopped(&mut s);
        assert_eq!(trapped(&s), [0x40], "stopped at {:?}", s.stop);
    }
}

/// Breaking on a context switch stops only where the running process
/// changes: never at the kernel's own directory, never twice in a row
/// on the same process, and each stop names the other process.
#[test]
fn break_on_context_switch_stops_only_between_two_processes() {
    let mut s = Session::new("context-switch");
    s.apply(Action::ShowBoot);
    s.apply(Action::SetBreak(Some(BreakChoice::ContextSwitch)));
    let mut dirs = Vec::new();
    for _ in 0..4 {
        run_until_stopped(&mut s);
        assert!(
            matches!(s.stop, Some(StopReason::Event { .. })),
            "{:?}",
            s.stop
        );
        dirs.push(s.system.machine().cpu().cr3);
    }
    assert!(dirs.iter().all(|&d| d != s.kernel_dir()), "{dirs:x?}");
    for w in dirs.windows(2) {
        assert_ne!(w[0], w[1], "{dirs:x?}");
    }
    let i = s.system.view();
    let procs = i.processes(s.system.machine());
    assert!(dirs.iter().all(|d| procs.iter().any(|p| p.pgdir == *d)));
}

#[test]
fn break_on_context_switch_stops_at_the_lessons_first_switch() {
    // From the lesson's start (pid 1 running, the log empty), the first
    // switch is pid 1 to pid 2: the break stops there, not at the next.
    let mut s = Session::new("context-switch");
    s.apply(Action::SetBreak(Some(BreakChoice::ContextSwitch)));
    run_until_stopped(&mut s);
    assert!(
        matches!(s.stop, Some(StopReason::Event { .. })),
        "{:?}",
        s.stop
    );
    let m = s.system.machine();
    let now = s.system.view().current(m).map(|p| p.pid);
    assert_eq!(now, Some(2), "switched to pid 2 at step {}", m.steps());
}

#[test]
fn step_over_int_0x40_lands_after_it_in_user_mode_and_step_back_undoes_it() {
    let mut s = Session::new("system-call");
    while s
        .system
        .machine()
        .instruction_at(s.system.machine().cpu().eip)
        .map(|i| i.op)
        != Ok(osviz_machine::Op::Int)
    {
        s.apply(Action::Step);
    }
    let (eip, steps) = (s.system.machine().cpu().eip, s.system.machine().steps());
    s.apply(Action::StepOver);
    assert_eq!(s.system.machine().cpu().eip, eip + 2);
    assert_eq!(s.system.machine().cpu().cpl(), 3);
    assert!(
        s.system.machine().steps() > steps + 10,
        "the whole system call ran"
    );
    s.apply(Action::StepBack);
    assert_eq!(
        (s.system.machine().steps(), s.system.machine().cpu().eip),
        (steps, eip)
    );
    s.apply(Action::StepBack);
    assert_eq!(
        s.system.machine().steps(),
        steps - 1,
        "then one step at a time"
    );
}

/// Each question is answered from the lesson's start, whatever step the
/// student is at, and the page can go back to where they were.
#[test]
fn questions_are_answered_from_the_start_in_any_order() {
    for id in ["memory-image", "demand-paging"] {
        let mut fresh = Vec::new();
        for i in 0..2 {
            let mut s = Session::new(id);
            s.apply(Action::Reveal(i));
            fresh.push(s.answers()[i].clone().unwrap());
        }
        let mut s = Session::new(id);
        s.apply(Action::Reveal(0));
        s.apply(Action::Reveal(1));
        assert_eq!(s.answers()[1].as_ref(), Some(&fresh[1]), "{id}");
        s.apply(Action::Reveal(0));
        assert_eq!(s.answers()[0].as_ref(), Some(&fresh[0]), "{id}");
        assert!(fresh.iter().all(|a| a.step.is_some()), "{id}: {fresh:?}");
    }
    let mut s = Session::new("demand-paging");
    for _ in 0..50 {
        s.apply(Action::Step);
    }
    let here = s.system.machine().steps();
    s.apply(Action::Reveal(0));
    assert_ne!(s.system.machine().steps(), here);
    s.apply(Action::ReturnToWhereIWas);
    assert_eq!(s.system.machine().steps(), here);
}

#[test]
fn a_lesson_starts_at_its_program_and_the_boot_is_one_action_away() {
    let mut s = Session::new("memory-image");
    assert!(s.start_step() > 1000, "the boot ran: {}", s.start_step());
    assert_eq!(s.system.machine().cpu().cpl(), 3);
    s.apply(Action::ShowBoot);
    assert_eq!(s.system.machine().steps(), 0);
    s.apply(Action::ReturnToWhereIWas);
    assert_eq!(s.system.machine().steps(), s.start_step());
}

#[test]
fn drafts_survive_switching_lessons_and_reverting_restores_the_lesson() {
    let mut s = Session::new("playground");
    let mine = format!("{}\n; mine\n", s.program());
    s.apply(Action::Edit(mine.clone()));
    s.apply(Action::Step);
    assert_eq!(s.draft(), mine, "stepping keeps what was typed");
    s.apply(Action::ChooseLesson("memory-image".into()));
    s.apply(Action::ChooseLesson("playground".into()));
    assert_eq!(s.draft(), mine);
    s.apply(Action::RunDraft);
    assert_eq!(s.program(), mine);
    s.apply(Action::ChooseLesson("memory-image".into()));
    s.apply(Action::ChooseLesson("playground".into()));
    assert_eq!(s.program(), mine, "the program run there runs again");
    s.apply(Action::RevertDraft);
    assert!(!s.edited());
    assert_eq!(s.program(), s.lesson().programs()[0].source);
    // A prediction typed in a lesson is there again when the student comes back.
    s.apply(Action::ChooseLesson("memory-image".into()));
    s.apply(Action::Guess(1, "0x4000".into()));
    s.apply(Action::ChooseLesson("playground".into()));
    s.apply(Action::ChooseLesson("memory-image".into()));
    assert_eq!((s.guess(0), s.guess(1)), ("", "0x4000"));
}

#[test]
fn a_panel_out_of_view_is_not_built_while_running_and_is_when_it_comes_back_or_the_run_stops() {
    let mut s = Session::new("playground");
    let built = |s: &Session| -> Vec<bool> {
        [Panel::Registers, Panel::Tlb, Panel::Console]
            .iter()
            .map(|p| s.renders_panel(*p))
            .collect()
    };
    assert_eq!(built(&s), [true, true, true], "paused, all are built");
    s.apply(Action::PanelsInView(vec![
        (Panel::Registers, false),
        (Panel::Tlb, false),
        (Panel::Console, false),
    ]));
    assert_eq!(built(&s), [true, true, true], "still paused: all");
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    assert!(s.running());
    assert_eq!(
        built(&s),
        [false, false, true],
        "running: only in view, and the console"
    );
    s.apply(Action::PanelsInView(vec![(Panel::Tlb, true)]));
    assert_eq!(built(&s), [false, true, true], "scrolled back to the TLB");
    s.apply(Action::ToggleRun);
    assert_eq!(built(&s), [true, true, true], "paused again: all");
}

#[test]
fn running_at_full_speed_takes_what_the_frame_leaves_or_as_long_as_the_page_works() {
    // (ran, since the frame before, render) -> the next frame's run.
    let cases = [
        // A quick page on time: what a 60 fps frame leaves.
        ((5.0, 16.0, 2.0), 11.0),
        ((10.0, 16.7, 2.0), 10.0),
        // A slow page (22 ms of its own work a frame): as long as that
        // work, up to the most a run takes.
        ((3.0, 25.0, 10.0), MAX_RUN_MS),
        ((12.0, 30.0, 9.0), MAX_RUN_MS),
        // A slower one still: frames no slower than one in 40 ms.
        ((5.0, 40.0, 14.0), 5.0),
        // Lateness from elsewhere (a tab in the background): the floor.
        ((3.0, 1000.0, 2.0), MIN_RUN_MS),
    ];
    for ((ms, since_last, render), want) in cases {
        let got = run_target(ms, since_last, render);
        assert!(
            (got - want).abs() < 1e-9,
            "ran {ms}, {since_last} since the last, render {render}: {got}, not {want}"
        );
    }
}

#[test]
fn the_full_speed_budget_follows_the_frame_and_is_not_starved_by_outside_lateness() {
    let mut s = Session::new("playground");
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    let start = s.run.budget();
    // Running is cheap and frames are on time: the budget grows.
    for _ in 0..10 {
        s.run.adapt(1.0, 16.0);
    }
    assert!(s.run.budget() > start, "{} > {start}", s.run.budget());
    // The page's own work fills the frame (a slow host), and running
    // is still short of it: the budget grows, as long as frames stay
    // within 40 ms.
    let held = s.run.budget();
    for _ in 0..10 {
        s.run.adapt(MIN_RUN_MS, 25.0);
    }
    assert!(s.run.budget() > held, "{} > {held}", s.run.budget());
    // Frames come late while running is at its floor: something else is
    // busy, so the budget holds.
    let held = s.run.budget();
    for _ in 0..10 {
        s.run.adapt(MIN_RUN_MS, 60.0);
    }
    assert!(s.run.budget() >= held);
    // Frames come late and running takes much of them: it shrinks.
    for _ in 0..10 {
        s.run.adapt(MAX_RUN_MS, 60.0);
    }
    assert!(s.run.budget() < held);
    assert!(s.run.budget() >= MIN_BUDGET);
}

#[test]
fn a_program_without_start_is_warned_about() {
    let mut s = Session::new("playground");
    s.apply(Action::Edit("        mov eax, 1\n        jmp $\n".into()));
    s.apply(Action::RunDraft);
    assert!(s.errors().is_empty(), "{:?}", s.errors());
    assert!(s.warnings()[0].contains("no `start`"), "{:?}", s.warnings());
}

#[test]
fn bad_share_links_say_what_was_asked_and_what_opened() {
    let s = Session::open_link("#lesson=paging&step=100", Preferences::default());
    assert_eq!(s.lesson().id, osviz_course::first().id);
    let n = s.notice.clone().unwrap();
    assert!(n.contains("no lesson `paging`"), "{n}");
    assert_eq!(s.system.machine().steps(), 100);
    let s = Session::open_link("#lesson=system-call&step=4000000", Preferences::default());
    let n = s.notice.clone().unwrap();
    assert!(n.contains("past the end"), "{n}");
    assert!(s.system.machine().steps() < 4_000_000);
    let s = Session::open_link("#lesson=system-call&step=9000", Preferences::default());
    assert_eq!(s.system.machine().steps(), 9000);
    assert!(!s.notice.unwrap().contains(';'));
}

#[test]
fn a_share_link_round_trips_the_moment_the_program_and_the_breakpoints() {
    let mut s = Session::new("playground");
    let src = s.program().replace("hello", "howdy");
    s.apply(Action::Edit(src.clone()));
    s.apply(Action::RunDraft);
    s.apply(Action::ToggleBreakpoint(SourceLine {
        file: s.program_file(),
        line: 1 + src.lines().position(|l| l.contains("int 0x40")).unwrap(),
    }));
    s.apply(Action::TogglePanel(
        osviz_course::Panel::from_name("TLB").unwrap(),
    ));
    for _ in 0..30 {
        s.apply(Action::Step);
    }
    let Some(Effect::CopyLink { fragment, .. }) = s.apply(Action::Share) else {
        panic!("share gives a link");
    };
    let t = Session::open_link(&fragment, Preferences::default());
    assert_eq!(t.system.machine().steps(), s.system.machine().steps());
    assert_eq!(t.system.machine().cpu().eip, s.system.machine().cpu().eip);
    assert_eq!(t.program(), src);
    assert_eq!(t.breakpoints(), s.breakpoints());
    assert_eq!(t.projector_panels(), s.projector_panels());
}

/// Architecture invariant: the session is plain Rust that could run
/// anywhere (a worker next): it imports no view, and touches neither the
/// DOM, a clock nor local storage; actions come in and views read it.
#[test]
fn the_session_imports_no_view_and_touches_no_browser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/session");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [
            "crate::views",
            "crate::panels",
            "web_sys",
            "js_sys",
            "gloo",
            "yew",
            "LocalStorage",
            "performance()",
            "Instant::now",
        ] {
            assert!(!text.contains(banned), "{} uses `{banned}`", path.display());
        }
        read += 1;
    }
    assert!(read >= 9, "{read} files");
}

#[test]
fn a_broken_build_is_refused_and_the_running_xv6_keeps_its_typed_line() {
    let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
    // Half a command typed, not yet entered.
    s.apply(Action::TypeKeys("ech".into()));
    run_for(&mut s, 2_000_000);
    let screen = |s: &Session| {
        let rows = s.guest().machine().text_screen().unwrap().rows;
        rows.iter()
            .map(|r| r.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(screen(&s).contains("$ ech"), "{}", screen(&s));
    let step = s.guest().machine().steps();
    let good = xv6_build();
    for (what, files, says) in [
        (
            "a 100-byte fs.img",
            BuildFiles {
                disk: vec![0; 100],
                ..good.clone()
            },
            "100 bytes is too small",
        ),
        (
            "a zeroed fs.img",
            BuildFiles {
                disk: vec![0; good.disk.len()],
                ..good.clone()
            },
            "superblock says the file system has 0 blocks",
        ),
        (
            "a truncated kernel",
            BuildFiles {
                kernel: good.kernel[..good.kernel.len() / 2].to_vec(),
                ..good.clone()
            },
            "the kernel file is cut short",
        ),
    ] {
        s.apply(Action::Xv6Opened(files));
        let notice = s.notice().unwrap_or_default().to_string();
        assert!(notice.contains(says), "{what}: {notice}");
        assert!(
            notice.contains("what you typed, are kept"),
            "{what}: {notice}"
        );
        assert_eq!(s.lesson().id, "xv6-idt", "{what}");
        assert_eq!(
            s.guest().machine().steps(),
            step,
            "{what}: the run is untouched"
        );
        assert!(screen(&s).contains("$ ech"), "{what}");
    }
    // A build whose kernel panics at boot (its root directory's inode has
    // no type: `ilock` panics mounting it) is reported with the panic's
    // line, and nothing else changes either.
    let layout = xv6_read().xv6.layout().clone();
    let field = |st: &str, f: &str| layout.structs[st].field(f).unwrap().offset as usize;
    let sb = 512 + field("superblock", "inodestart");
    let inodestart = u32::from_le_bytes(good.disk[sb..sb + 4].try_into().unwrap()) as usize;
    let at = inodestart * 512 + layout.structs["dinode"].size as usize + field("dinode", "type");
    let mut disk = good.disk.clone();
    disk[at..at + 2].copy_from_slice(&[0, 0]);
    s.apply(Action::Xv6Opened(BuildFiles { disk, ..good }));
    let notice = s.notice().unwrap_or_default().to_string();
    assert!(
        notice.contains("did not start") && notice.contains("panic: ilock: no type"),
        "{notice}"
    );
    assert_eq!(s.guest().machine().steps(), step);
    // The line goes on where the student left it.
    s.apply(Action::TypeKeys("o hi\n".into()));
    run_for(&mut s, 30_000_000);
    assert!(screen(&s).contains("$ echo hi\nhi"), "{}", screen(&s));
}

/// Runs the page's frames at full speed for about `steps` steps.
fn run_for(s: &mut Session, steps: u64) {
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    let end = s.guest().machine().steps() + steps;
    while s.running() && s.guest().machine().steps() < end {
        s.tick_for_test(0.016);
    }
    if s.running() {
        s.apply(Action::ToggleRun);
    }
}

#[test]
fn who_changed_a_page_table_entry_tells_the_walks_accessed_bit_from_a_store() {
    // After the program's first instruction, the code page's entry was
    // last changed by the walk that fetched it: the accessed bit, set by
    // the CPU, not by the instruction the machine goes back to (before it,
    // the kernel's store that mapped the page).
    let mut s = Session::new("two-level");
    s.apply(Action::Step);
    let walk = s.guest().machine().walk(0x1000);
    let pte = walk.pte_addr.expect("the code page has a table entry");
    s.apply(Action::WhoChanged(pte));
    let notice = s.notice().unwrap_or_default().to_string();
    assert!(
        notice.contains("only its accessed or dirty bit was set")
            && notice.contains("the CPU set the bit while walking"),
        "{notice}"
    );
    // A kernel virtual address the panels show is taken too: the process
    // table's first slot, by the address the Processes panel's PCB has.
    let s2 = Session::new("two-level");
    let pcb = s2.guest().view().processes(s2.guest().machine())[0].addr;
    let mut s2 = s2;
    s2.apply(Action::WhoChangedText(format!("{pcb:#x}")));
    let notice = s2.notice().unwrap_or_default().to_string();
    assert!(notice.contains("last changed at step"), "{notice}");
}

#[test]
fn a_commands_events_survive_xv6_idling_and_memory_mapped_reads_are_counted() {
    // `ls` runs, then xv6 idles at its prompt: its scheduler reads the
    // local APIC on every pass. Those reads are counted, not logged, so the
    // command's system calls stay in the log.
    let mut s = Session::with_xv6("xv6-shell", Some(xv6_read()));
    run_for(&mut s, 40_000_000);
    let m = s.system.machine();
    let syscalls = m
        .event_log()
        .iter()
        .filter(|e| matches!(e.event, Event::TrapEntry { vector: 64, .. }))
        .count();
    assert!(
        syscalls > 50,
        "ls's system calls are still logged: {syscalls}"
    );
    assert!(
        !m.event_log()
            .iter()
            .any(|e| matches!(e.event, Event::Mmio { .. })),
        "no memory-mapped access is logged while running"
    );
    let rows = crate::views::events::rows(&s);
    assert!(rows.mmio.0 > 100_000 && !rows.mmio.1, "{:?}", rows.mmio);
    // Listing them is the student's choice.
    s.apply(Action::Filter(Some(EventKind::Mmio)));
    run_for(&mut s, 1_000_000);
    assert!(
        s.system
            .machine()
            .event_log()
            .iter()
            .any(|e| matches!(e.event, Event::Mmio { .. }))
    );
    assert!(crate::views::events::rows(&s).mmio.1);
}

#[test]
fn keys_typed_while_paused_wait_in_view_and_the_output_can_be_read_back() {
    let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
    s.apply(Action::TypeKeys("cat README\n".into()));
    assert_eq!(s.pending_keys(), "cat README\n");
    let console = |s: &Session| {
        let shown = crate::views::panel::Shown::of(s);
        let cache = std::cell::RefCell::new(crate::views::panel::FramesCache::default());
        match crate::views::panel::panel_view(s, osviz_course::Panel::Console, &shown, &cache, 0.0)
        {
            crate::views::panel::PanelView::Console {
                scrollback,
                pending,
                ..
            } => (scrollback, pending),
            _ => unreachable!("the console's view"),
        }
    };
    assert_eq!(console(&s).1, "cat README\n");
    run_for(&mut s, 40_000_000);
    assert_eq!(s.pending_keys(), "", "the machine ran: nothing waits");
    // README is longer than the screen: its first lines scrolled off, and
    // the console keeps them to read back.
    let (scrollback, _) = console(&s);
    let first = "NOTE: we have stopped maintaining the x86 version of xv6, and switched";
    let screen = s.guest().machine().text_screen().unwrap().rows.join("\n");
    assert!(!screen.contains(first), "scrolled off the screen");
    assert!(
        scrollback.iter().any(|l| l.contains(first)),
        "{scrollback:?}"
    );
}

#[test]
fn an_idle_xv6_runs_slowly_until_someone_types_and_then_at_full_speed() {
    let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
    s.apply(Action::SetSpeed(SPEEDS.len() - 1));
    s.apply(Action::ToggleRun);
    s.tick_for_test(0.016);
    assert!(s.idle(), "init waits for sh, sh for input");
    assert!(crate::views::status::describe(&s).starts_with("Idle"));
    let before = s.guest().machine().steps();
    for _ in 0..10 {
        s.tick_for_test(0.016);
    }
    let per_frame = (s.guest().machine().steps() - before) / 10;
    assert!(per_frame <= super::run_control::IDLE_BUDGET, "{per_frame}");
    // A command: the shell wakes at the next frame, and the run goes on at
    // full speed until the answer is there.
    s.apply(Action::TypeKeys("echo hi\n".into()));
    let mut frames = 0;
    let answered = |s: &Session| {
        String::from_utf8_lossy(s.guest().machine().serial_output()).ends_with("hi\n$ ")
    };
    while !answered(&s) && frames < 200 {
        s.tick_for_test(0.016);
        frames += 1;
    }
    assert!(answered(&s), "echo answered within {frames} frames");
}

/// Runs xv6 quietly (the block path, as a replay does) to `step`.
fn xv6_run_to(s: &mut Session, step: u64) {
    s.machine_for_test().seek(step).unwrap();
    assert_eq!(s.system.machine().steps(), step);
}

/// xv6 typed at, then run past a billion steps (it idles in its scheduler
/// after answering, and steps still count), typed at again: the link
/// carries the steps and the keys, and reopens the same state.
#[test]
fn an_xv6_link_past_a_billion_steps_reopens_the_same_moment() {
    let build = xv6_read();
    // The page that shares booted xv6 with its host's clock...
    build.set_clock_start(1_796_646_896);
    let mut s = Session::with_xv6("xv6-idt", Some(build.clone()));
    s.apply(Action::TypeKeys("echo hi\n".into()));
    xv6_run_to(&mut s, 600_000_007);
    s.apply(Action::TypeKeys("echo later\n".into()));
    xv6_run_to(&mut s, 1_000_000_123);
    let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
    assert!(out.ends_with("hi\n$ echo later\nlater\n$ "), "{out}");
    let Some(Effect::CopyLink { fragment, step }) = s.apply(Action::Share) else {
        panic!("share gives a link");
    };
    assert_eq!(step, 1_000_000_123);
    assert!(fragment.contains("step=1000000123"), "{fragment}");
    assert!(
        fragment.contains("&k=14100000.6563686f2068690a,585900007.6563686f206c617465720a"),
        "the keys at the prompt and 600 M, each group after the one before: {fragment}"
    );
    assert!(fragment.ends_with("&clock=1796646896"), "{fragment}");
    // ...and the page that opens the link has another time: the guest's
    // clock reads the link's, so the state is the same.
    build.set_clock_start(1);
    let t = std::time::Instant::now();
    let opened = Session::open_link_with(
        &fragment,
        Some(build),
        Preferences::default(),
        Opening::Shared,
    );
    eprintln!("opened step 1,000,000,123 in {:?}", t.elapsed());
    assert_eq!(opened.system.machine().steps(), 1_000_000_123);
    assert_eq!(opened.system.machine().rtc_start(), Some(1_796_646_896));
    assert_eq!(
        opened.system.machine().serial_output(),
        s.system.machine().serial_output()
    );
    assert_eq!(
        opened.system.machine().state_hash(),
        s.system.machine().state_hash()
    );
    assert_eq!(
        opened.notice(),
        Some(
            "opened a shared link to “xv6: the interrupt descriptor table (tvinit, idtinit)” at step 1000000123"
        )
    );
}

/// A quiet replay (a link opened, a step back) skips xv6's idle loop whole
/// periods at a time, and reaches the very state a plain run reaches: the
/// same memory, devices, TLB order and counts, at steps inside a period and
/// after typing, forward and back.
#[test]
fn a_replay_that_skips_the_idle_loop_reaches_the_state_a_plain_run_does() {
    let build = xv6_read();
    build.set_clock_start(1_796_646_896);
    let mut plain = Session::with_xv6("xv6-idt", Some(build.clone()));
    let mut replayed = Session::with_xv6("xv6-idt", Some(build));
    let run_plainly = |s: &mut Session, target: u64| {
        s.machine_for_test().with_breaks_set_aside(|m| {
            while m.steps() < target {
                assert_eq!(m.run(target - m.steps()), StopReason::InstructionLimit);
            }
        })
    };
    let mut kept = Vec::new();
    for (target, keys) in [
        (30_000_017, "echo hi\n"),
        (61_234_567, ""),
        (150_000_001, "ls\n"),
        (203_456_789, ""),
    ] {
        run_plainly(&mut plain, target);
        xv6_run_to(&mut replayed, target);
        let (p, r) = (plain.system.machine(), replayed.system.machine());
        assert_eq!(r.serial_output(), p.serial_output(), "at {target}");
        assert_eq!(
            r.bus().mmio_accesses(),
            p.bus().mmio_accesses(),
            "at {target}"
        );
        assert_eq!(r.tlb().hits, p.tlb().hits, "at {target}");
        assert_eq!(r.state_hash(), p.state_hash(), "at {target}");
        kept.push((target, p.state_hash()));
        for b in keys.bytes() {
            plain.machine_for_test().press_key(b);
            replayed.machine_for_test().press_key(b);
        }
    }
    let skipped = replayed.system.machine().idle_steps_skipped();
    assert!(
        skipped > 150_000_000,
        "most of the idle time was skipped: {skipped}"
    );
    assert_eq!(plain.system.machine().idle_steps_skipped(), 0);
    // Back in time and forward again through the checkpoints it took.
    for &(target, hash) in kept.iter().rev().chain(kept.iter()) {
        replayed.machine_for_test().seek(target).unwrap();
        assert_eq!(
            replayed.system.machine().state_hash(),
            hash,
            "again at {target}"
        );
    }
}

/// Times opening xv6 links far into a run (release mode:
/// `cargo test --release -p osviz-web link_open_times -- --ignored --nocapture`).
#[test]
#[ignore]
fn link_open_times() {
    let build = xv6_read();
    let mut s = Session::with_xv6("xv6-idt", Some(build.clone()));
    s.apply(Action::TypeKeys("ls\n".into()));
    let t = std::time::Instant::now();
    let fresh = Session::with_xv6("xv6-idt", Some(build.clone()));
    eprintln!(
        "the lesson alone opens at step {} in {:?}",
        fresh.system.machine().steps(),
        t.elapsed()
    );
    for target in [99_000_000u64, 1_000_000_000] {
        xv6_run_to(&mut s, target);
        let fragment = s.link().encode();
        let t = std::time::Instant::now();
        let opened = Session::open_link_with(
            &fragment,
            Some(build.clone()),
            Preferences::default(),
            Opening::Shared,
        );
        eprintln!(
            "opened step {target} in {:?} ({} steps of idle loops skipped)",
            t.elapsed(),
            opened.system.machine().idle_steps_skipped()
        );
        assert_eq!(
            opened.system.machine().state_hash(),
            s.system.machine().state_hash()
        );
    }
}

#[test]
fn choosing_a_lesson_is_a_history_entry_and_back_reopens_the_moment_left() {
    let mut s = Session::new("demand-paging");
    for _ in 0..7 {
        s.apply(Action::Step);
    }
    let here = s.system.machine().steps();
    let Some(Effect::PushHistory { left, fragment }) =
        s.apply(Action::ChooseLesson("system-call".into()))
    else {
        panic!("a lesson chosen is a history entry");
    };
    assert!(left.contains("lesson=demand-paging") && left.contains(&format!("step={here}")));
    assert!(fragment.contains("lesson=system-call"), "{fragment}");
    assert_eq!(
        s.apply(Action::OpenMoment {
            fragment: left,
            how: Opening::History,
        }),
        None
    );
    assert_eq!(s.lesson().id, "demand-paging");
    assert_eq!(s.system.machine().steps(), here);
    assert!(
        s.notice().unwrap().starts_with("back to “"),
        "{:?}",
        s.notice()
    );
}

#[test]
fn a_reload_reopens_the_moment_and_keeps_the_draft_typed_since() {
    let mut s = Session::new("playground");
    let ran = s.program().replace("hello", "howdy");
    s.apply(Action::Edit(ran.clone()));
    s.apply(Action::RunDraft);
    for _ in 0..12 {
        s.apply(Action::Step);
    }
    let typed = format!("{ran}; typed after, not run\n");
    s.apply(Action::Edit(typed.clone()));
    let fragment = s.link().encode();
    let t = Session::reopen(&fragment, s.prefs().clone(), Opening::Reload);
    assert_eq!(t.system.machine().steps(), s.system.machine().steps());
    assert_eq!(t.program(), ran, "the program that ran runs");
    assert_eq!(t.draft(), typed, "nothing typed is lost");
    let step = s.system.machine().steps();
    assert_eq!(
        t.notice(),
        Some(
            format!(
                "reopened step {step} of “{}” where you were",
                s.lesson().title
            )
            .as_str()
        )
    );
}

#[test]
fn a_link_with_more_keys_than_it_carries_opens_before_the_rest_were_typed() {
    let mut s = Session::new("playground");
    let start = s.system.machine().steps();
    for k in 0..crate::share::MAX_LINK_KEYS as u64 + 10 {
        // Two keys a step from the start on.
        if k % 2 == 0 {
            s.apply(Action::Step);
        }
        s.apply(Action::TypeKeys("a".into()));
    }
    let link = s.link();
    assert_eq!(link.keys.len(), crate::share::MAX_LINK_KEYS);
    let cut = start + 1 + crate::share::MAX_LINK_KEYS as u64 / 2;
    assert_eq!(link.step, Some(cut));
    assert!(link.keys.iter().all(|k| k.0 < cut));
    let Some(Effect::CopyLink { step, .. }) = s.apply(Action::Share) else {
        panic!("share gives a link");
    };
    s.apply(Action::LinkCopied {
        url: String::new(),
        step,
        copied: true,
    });
    assert!(s.notice().unwrap().contains("before the rest were typed"));
}

/// The boot lesson: xv6 booted from its disk starts at the boot sector in
/// real mode, the Code panel shows bootasm.S, a line step stays in it, the
/// registers say real mode and show the segments, and the answers equal
/// what the machine gives headless.
#[test]
fn the_boot_lesson_starts_at_the_boot_sector_in_real_mode() {
    let mut s = Session::with_xv6("xv6-boot", Some(xv6_read()));
    assert_eq!(s.lesson().id, "xv6-boot");
    assert_eq!(s.start_step(), 0);
    assert_eq!(place(&s), ("bootasm.S".to_string(), 13));
    let regs = crate::views::registers::RegisterView::of(s.system.machine());
    assert!(
        regs.mode
            .starts_with("real mode · 16-bit code · CS:IP 0000:7C00"),
        "{}",
        regs.mode
    );
    assert_eq!(regs.segments.len(), 4);
    // `cli` is one line; the next line step stops on `xorw %ax,%ax`.
    s.apply(Action::NextLine);
    assert_eq!(place(&s), ("bootasm.S".to_string(), 16));
    // The segment loads, then the A20 loop (a label inside `start`, not a
    // function of its own: the step keeps to the line after).
    for next in [17, 18, 19, 24, 25] {
        s.apply(Action::NextLine);
        assert_eq!(place(&s), ("bootasm.S".to_string(), next));
    }
    // A reveal runs to the far jump's target: 32-bit code from the GDT.
    s.apply(Action::Reveal(1));
    assert_eq!(
        s.answers()[1].as_ref().map(|a| a.text.as_str()),
        Some("0x8 (GDT entry 1): 32-bit code, flat (it spans all 4 GiB from address zero)")
    );
    s.apply(Action::ReturnToWhereIWas);
    assert_eq!(place(&s), ("bootasm.S".to_string(), 25));
    // Run to bootmain: its C is shown, and the registers say protected
    // mode with paging off (the segments are flat: no table).
    s.apply(Action::BreakAt("bootmain".into()));
    run_until_stopped(&mut s);
    let (file, _) = place(&s);
    assert_eq!(file, "bootmain.c");
    let regs = crate::views::registers::RegisterView::of(s.system.machine());
    assert_eq!(regs.mode, "protected mode · 32-bit code · paging off");
    assert!(regs.segments.is_empty());
}
