//! xv6 through the kernel-view interface the page's panels use: the same
//! questions the teaching kernel answers (processes, the running one, its
//! kernel stack, address space, frames, the IDT, source lines), answered
//! from xv6's own DWARF on a running xv6.

use osviz_machine::{Event, EventKind, Machine, PcConfig, StopReason};
use osviz_view::{
    ChannelKind, DeviceClass, FrameOwner, KernelStackView, KernelView, Phase, Pusher, RegionKind,
    StackOwner, StackState, TrapCause,
};
use osviz_xv6::Xv6;

fn boot() -> (Machine, Xv6) {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    osviz_xv6::boot_build(&dir, PcConfig::default()).unwrap()
}

fn to_prompt(m: &mut Machine) {
    while !m.serial_output().ends_with(b"$ ") {
        assert!(m.steps() < 30_000_000, "no prompt");
        m.run(100_000);
    }
}

#[test]
fn at_the_prompt_the_views_show_init_and_sh_asleep_their_memory_and_the_idt() {
    let (mut m, xv6) = boot();
    to_prompt(&mut m);
    let view: &dyn KernelView = &xv6;
    assert_eq!(view.kernel_name(), "xv6");
    let procs = view.processes(&m);
    let summary: Vec<_> = procs
        .iter()
        .map(|p| (p.pid, p.name.as_str(), p.phase, p.parent))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "init", Phase::Sleeping, None),
            (2, "sh", Phase::Sleeping, Some(1))
        ]
    );
    // init waits for its child (wait sleeps on its own proc); sh reads the
    // console (consoleread sleeps on &input.r).
    assert_eq!(procs[0].chan_name.as_deref(), Some("ptable.proc[0]"));
    // What each channel stands for, from the global it points into.
    assert_eq!(
        (procs[0].chan_kind, procs[1].chan_kind),
        (ChannelKind::ChildExit, ChannelKind::ConsoleInput)
    );
    assert!(
        procs[1]
            .chan_name
            .as_deref()
            .is_some_and(|c| c.starts_with("input")),
        "{:?}",
        procs[1].chan_name
    );
    // Between processes the CPU is in the scheduler: no current process.
    assert_eq!(view.current(&m), None);
    let kdir = view.kernel_dir(&m);
    assert!(kdir > 0 && kdir % 4096 == 0);
    assert_ne!(procs[1].pgdir, kdir);

    // sh's address space as exec made it.
    let sh = &procs[1];
    let regions = view.regions(&m, sh);
    let kinds: Vec<_> = regions.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RegionKind::CodeData,
            RegionKind::Guard,
            RegionKind::Stack,
            RegionKind::Heap,
            RegionKind::Gap,
            RegionKind::Kernel
        ]
    );
    assert_eq!(regions[0].start, 0, "xv6 maps code at address 0");
    assert_eq!(regions[2].end, u64::from(sh.heap));
    let maps = view.mappings(&m, sh);
    assert!(maps.iter().any(|p| p.page == regions[1].start && !p.user));
    assert!(maps.iter().any(|p| p.page == regions[2].start && p.user));
    // A switched-out process's kernel stack holds the context swtch saved.
    let stack = view.kernel_stack(&m, sh);
    assert_eq!(stack.state, StackState::SwitchedOut);
    let context: Vec<_> = stack.context.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(context, ["edi", "esi", "ebx", "ebp", "eip"]);
    assert!(
        stack
            .context_return
            .as_deref()
            .is_some_and(|r| r.starts_with("sched")),
        "{:?}",
        stack.context_return
    );

    // Frames: the free list, the processes' pages and tables.
    let frames = view.frames(&m);
    assert_eq!(frames.len(), m.mem().len() / 4096);
    let free = frames.iter().filter(|f| **f == FrameOwner::Free).count() as u32;
    assert_eq!(free, view.free_frames(&m));
    // Read at once (as the page reads them), they are the same.
    assert_eq!(view.frames_and_free(&m), (frames.clone(), free));
    assert!(free > 50_000, "{free} free frames of {}", frames.len());
    for p in &procs {
        assert!(
            frames.contains(&FrameOwner::Process { pid: p.pid }),
            "pid {} owns frames",
            p.pid
        );
    }
    assert!(
        maps.iter()
            .all(|p| frames[p.frame as usize] == FrameOwner::Process { pid: 2 })
    );

    // The IDT tvinit filled: the system call gate is a trap gate user code may use.
    let idt = view.idt(&m);
    assert_eq!(idt[64].handler_symbol.as_deref(), Some("vector64"));
    assert_eq!((idt[64].dpl, idt[64].gate.as_str()), (3, "trap"));
    assert_eq!(idt[32].handler_symbol.as_deref(), Some("vector32"));
    assert_eq!(idt[32].dpl, 0);
    assert_eq!(view.vector_name(64), Some("system call (T_SYSCALL)"));
}

#[test]
fn a_breakpoint_on_sys_write_shows_the_trap_frame_and_the_c_line() {
    let (mut m, xv6) = boot();
    let view: &dyn KernelView = &xv6;
    let sys_write = view.symbol_address("sys_write").unwrap();
    let place = view.place(&m, sys_write);
    assert_eq!(place.file.as_deref(), Some("sysfile.c"));
    assert_eq!(place.symbol.as_deref(), Some("sys_write"));
    let line = place.line.unwrap();
    // A breakpoint on the function's first line binds past its prologue,
    // as a debugger's `break sys_write` does.
    let body = view.body_address(&m, sys_write);
    assert!(body > sys_write);
    assert_eq!(view.line_address("sysfile.c", line), Some(body));
    m.add_breakpoint(sys_write);
    let stop = m.run(30_000_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    let p = view.current(&m).expect("a process made the call");
    assert_eq!(p.phase, Phase::Running);
    let stack = view.kernel_stack(&m, &p);
    assert_eq!(stack.state, StackState::InKernel);
    assert_eq!(stack.vector, Some(64));
    assert_eq!(
        view.trap_cause(&m),
        Some(TrapCause::SystemCall { vector: 64 }),
        "in a system call"
    );
    let by = |name: &str| {
        stack
            .trap_frame
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.value, f.by))
    };
    assert_eq!(by("trapno"), Some((64, Pusher::Stub)));
    assert_eq!(by("err").map(|f| f.1), Some(Pusher::Stub));
    assert_eq!(by("edi").map(|f| f.1), Some(Pusher::Entry));
    assert_eq!(by("cs").map(|f| (f.0 & 3, f.1)), Some((3, Pusher::Cpu)));
    let (eip, esp) = view.user_context(&m, &p);
    assert_eq!(by("eip").map(|f| f.0), Some(eip));
    assert_eq!(by("esp").map(|f| f.0), Some(esp));
    assert!(eip < view.kernbase() && esp < view.kernbase());
    assert_eq!(
        stack.top,
        p.kstack + 4096,
        "allocproc's kstack + KSTACKSIZE"
    );
    assert_eq!(
        stack.esp0, stack.top,
        "switchuvm set ESP0 to the stack's top"
    );
}

#[test]
fn stepping_by_c_line_goes_into_over_and_out_of_calls_and_the_stack_says_who_called() {
    use osviz_view::{LineStep, LineStop, call_stack, step_line};
    let (mut m, xv6) = boot();
    let view: &dyn KernelView = &xv6;
    let sys_write = view.symbol_address("sys_write").unwrap();
    m.add_breakpoint(sys_write);
    assert!(matches!(m.run(30_000_000), StopReason::Breakpoint { .. }));
    m.remove_breakpoint(sys_write);
    // Who called sys_write: the system call path, innermost first.
    let stack: Vec<String> = call_stack(&m, view, 8)
        .into_iter()
        .filter_map(|p| p.symbol)
        .collect();
    assert_eq!(stack[..3], ["sys_write", "syscall", "trap"], "{stack:?}");
    let start = view.place_of_eip(&m);
    // Over: the next line of sys_write itself, its calls taken whole.
    let LineStop::Line(next) = step_line(&mut m, view, LineStep::Over, 1_000_000) else {
        panic!("no next line");
    };
    assert_eq!(next.symbol.as_deref(), Some("sys_write"));
    assert_eq!(next.file.as_deref(), Some("sysfile.c"));
    assert_ne!(next.line, start.line);
    // Into, line by line, until the step enters another function; its
    // caller is then the stack's second frame, and Out returns to it.
    let mut inside = next;
    for _ in 0..50 {
        if inside.symbol.as_deref() != Some("sys_write") {
            break;
        }
        let LineStop::Line(p) = step_line(&mut m, view, LineStep::Into, 1_000_000) else {
            panic!("no line");
        };
        inside = p;
    }
    assert_ne!(inside.symbol.as_deref(), Some("sys_write"), "{inside:?}");
    let stack = call_stack(&m, view, 8);
    assert_eq!(stack[0].symbol, inside.symbol);
    let caller = stack[1].symbol.clone();
    let LineStop::Line(back) = step_line(&mut m, view, LineStep::Out, 1_000_000) else {
        panic!("did not return");
    };
    assert_eq!(back.symbol, caller, "out of {:?}", inside.symbol);
}

#[test]
fn a_kernel_without_dwarf_still_runs_and_the_views_say_why_they_are_empty() {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let stripped = std::env::temp_dir().join(format!("osviz-xv6-stripped-{}", std::process::id()));
    let status = std::process::Command::new("objcopy")
        .arg("--strip-debug")
        .arg(dir.join("kernel"))
        .arg(&stripped)
        .status()
        .unwrap();
    assert!(status.success());
    let kernel = std::fs::read(&stripped).unwrap();
    let _ = std::fs::remove_file(&stripped);
    let disk = std::fs::read(dir.join("fs.img")).unwrap();
    let mut m = Machine::pc(
        PcConfig {
            slave: Some(disk),
            ..PcConfig::default()
        },
        &kernel,
    )
    .unwrap();
    let xv6 = Xv6::new(&kernel).expect("a kernel without DWARF is still read");
    let view: &dyn KernelView = &xv6;
    to_prompt(&mut m);
    assert!(view.limitation().is_some_and(|w| w.contains("DWARF")));
    assert!(view.processes(&m).is_empty());
    assert_eq!(view.place(&m, m.cpu().eip).line, None);
    // What the symbols give still works: the IDT and its handlers' names.
    assert_eq!(view.idt(&m)[64].handler_symbol.as_deref(), Some("vector64"));
}

#[test]
fn user_programs_are_read_from_fs_img_and_their_c_lines_show() {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let (mut m, mut xv6) = osviz_xv6::boot_build(&dir, PcConfig::default()).unwrap();
    xv6.read_programs(&std::fs::read(dir.join("fs.img")).unwrap());
    for name in ["init", "sh", "ls", "cat", "usertests"] {
        assert!(xv6.program(name).is_some(), "{name} read from fs.img");
    }
    let view: &dyn KernelView = &xv6;
    let sys_write = view.symbol_address("sys_write").unwrap();
    m.add_breakpoint(sys_write);
    assert!(matches!(m.run(30_000_000), StopReason::Breakpoint { .. }));
    let p = view.current(&m).unwrap();
    let (eip, _) = view.user_context(&m, &p);
    // The trap came from the user library's write stub, called by printf.
    let at = view.place(&m, eip);
    assert_eq!(at.symbol.as_deref(), Some("write"), "{at:?} in {}", p.name);
    assert_eq!(at.file.as_deref(), Some("usys.S"));
    assert!(at.line.is_some());
    let printf = xv6.program(&p.name).unwrap();
    let main = printf.symbols.iter().find(|s| s.2 == "main").unwrap().0;
    let main_place = view.place(&m, main);
    assert_eq!(
        main_place.file.as_deref(),
        Some(format!("{}.c", p.name).as_str())
    );
}

/// In the disk's interrupt handler the trap in progress is the disk's
/// interrupt, as the board wires it and xv6 routed it (ideinit's
/// ioapicenable); the sleeper it wakes waits on a disk buffer.
#[test]
fn in_ideintr_the_trap_is_the_disks_interrupt_and_the_sleeper_waits_on_a_buffer() {
    let (mut m, xv6) = boot();
    let view: &dyn KernelView = &xv6;
    m.add_breakpoint(view.symbol_address("ideintr").unwrap());
    let stop = m.run(30_000_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    // Past ideintr's prologue (push ebp; mov ebp, esp): its frame is on
    // the frame-pointer chain the view follows back to trap's.
    m.step();
    m.step();
    assert_eq!(
        view.trap_cause(&m),
        Some(TrapCause::DeviceInterrupt {
            vector: 46,
            device: DeviceClass::Disk,
            line: Some(14)
        })
    );
    let waiting: Vec<ChannelKind> = view
        .processes(&m)
        .iter()
        .filter(|p| p.phase == Phase::Sleeping && p.chan_name.is_some())
        .map(|p| p.chan_kind)
        .collect();
    assert!(waiting.contains(&ChannelKind::DiskBuffer), "{waiting:?}");
    assert_eq!(
        view.trap_cause_of(&m, 32).device(),
        Some(DeviceClass::Timer),
        "the local APIC's timer"
    );
    assert_eq!(
        view.trap_cause_of(&m, 14),
        TrapCause::Exception { vector: 14 }
    );
}

/// Every slot of a stack view from ESP up to the top, one per word: no
/// slot below ESP, none left out.
fn assert_every_slot_from_esp_to_top(stack: &KernelStackView) {
    let addrs: Vec<u32> = stack.slots().iter().map(|f| f.addr).collect();
    let words: Vec<u32> = (stack.esp..stack.top).step_by(4).collect();
    assert_eq!(addrs, words, "{stack:#?}");
}

#[test]
fn at_forkret_the_childs_frame_is_forks_copy_below_it_allocprocs_return_into_trapret() {
    let (mut m, xv6) = boot();
    to_prompt(&mut m);
    for b in b"ls\n" {
        m.press_key(*b);
    }
    let view: &dyn KernelView = &xv6;
    let trapret = view.symbol_address("trapret").unwrap();
    // As the xv6-pcb lesson stops: at forkret's address, fork's child's
    // first instruction after the scheduler's swtch.
    let forkret = view.symbol_address("forkret").unwrap();
    m.add_breakpoint(forkret);
    let stop = m.run(30_000_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    m.remove_breakpoint(forkret);
    let child = view.current(&m).expect("fork's child runs");
    assert_eq!((child.pid, child.parent), (3, Some(2)));
    let stack = view.kernel_stack(&m, &child);
    assert_eq!(stack.owner, StackOwner::Process { pid: 3 });
    assert_eq!(stack.state, StackState::InKernel);
    // Every slot of the frame is fork's copy (`*np->tf = *curproc->tf`),
    // ESP and SS included (the parent came from user mode).
    let names: Vec<_> = stack.trap_frame.iter().map(|f| f.name.as_str()).collect();
    for name in [
        "edi", "eax", "gs", "trapno", "err", "eip", "cs", "esp", "ss",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        stack.trap_frame.iter().all(|f| f.by == Pusher::Fork),
        "{:#?}",
        stack.trap_frame
    );
    assert_eq!(
        Pusher::Fork.label(),
        "copied by fork from the parent's trap frame"
    );
    let value = |name: &str| {
        stack
            .trap_frame
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .value
    };
    assert_eq!(value("eax"), 0, "fork returns 0 in the child");
    assert_eq!(stack.vector, Some(64), "the parent's system call, copied");
    // allocproc's layout: trapret's address just below the trap frame,
    // where swtch's ret (to forkret) left ESP.
    let first = stack.first_return.clone().expect("allocproc's return slot");
    assert_eq!(
        (first.addr, first.value, first.by, first.name.as_str()),
        (
            child.tf - 4,
            trapret,
            Pusher::Allocproc,
            "return to trapret"
        )
    );
    assert_eq!(stack.esp, child.tf - 4);
    assert_every_slot_from_esp_to_top(&stack);
    // The parent's frame (sh has gone on, into wait) was pushed by its
    // trap.
    let parent = view.processes(&m).into_iter().find(|p| p.pid == 2).unwrap();
    let theirs = view.kernel_stack(&m, &parent);
    assert!(theirs.first_return.is_none());
    let by = |s: &KernelStackView, name: &str| {
        s.trap_frame
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.value, f.by))
            .unwrap()
    };
    for (name, pusher) in [
        ("eip", Pusher::Cpu),
        ("esp", Pusher::Cpu),
        ("trapno", Pusher::Stub),
        ("ebx", Pusher::Entry),
    ] {
        assert_eq!(by(&theirs, name).1, pusher, "{name}");
    }
    // The stack ESP is on now is the child's.
    assert_eq!(view.current_stack(&m), Some(stack));
    // forkret returns into trapret, which pops fork's copy: still the copy
    // (allocproc's slot now just below ESP, not shown).
    m.add_breakpoint(trapret);
    let stop = m.run(1_000_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    m.remove_breakpoint(trapret);
    assert_eq!(view.current(&m).map(|p| p.pid), Some(3));
    let stack = view.kernel_stack(&m, &child);
    assert_eq!(stack.esp, child.tf);
    assert!(stack.first_return.is_none());
    assert!(
        stack.trap_frame.iter().all(|f| f.by == Pusher::Fork),
        "{stack:#?}"
    );
    assert_every_slot_from_esp_to_top(&stack);

    // The child's next trap from user mode pushes a frame over the copy
    // while allocproc's trapret still lies below it: the slots are the
    // CPU's as it pushes them, not fork's.
    m.set_recording(true);
    m.break_on(EventKind::TrapEntry, true);
    loop {
        let stop = m.run(30_000_000);
        assert!(matches!(stop, StopReason::Event { .. }), "{stop:?}");
        let from_user = m
            .last_events()
            .iter()
            .any(|e| matches!(e, Event::TrapEntry { cpl_before: 3, .. }));
        if from_user && view.current(&m).is_some_and(|p| p.pid == 3) {
            break;
        }
    }
    m.break_on(EventKind::TrapEntry, false);
    assert_eq!(m.mem().read(child.tf - 4 - view.kernbase(), 4), trapret);
    let stack = view.kernel_stack(&m, &child);
    assert!(stack.first_return.is_none(), "{stack:#?}");
    let pushers: Vec<_> = stack.trap_frame.iter().map(|f| f.by).collect();
    assert!(
        pushers
            .iter()
            .all(|b| *b == Pusher::Cpu || *b == Pusher::Stub),
        "{stack:#?}"
    );
    assert_every_slot_from_esp_to_top(&stack);
}

#[test]
fn a_timer_interrupt_while_the_scheduler_idles_is_pushed_on_the_schedulers_stack() {
    let (mut m, xv6) = boot();
    to_prompt(&mut m);
    let view: &dyn KernelView = &xv6;
    m.set_recording(true);
    m.break_on(EventKind::TrapEntry, true);
    let return_eip = loop {
        let stop = m.run(30_000_000);
        assert!(matches!(stop, StopReason::Event { .. }), "{stop:?}");
        let entry = m.last_events().iter().find_map(|e| match e {
            Event::TrapEntry {
                vector: 32,
                cpl_before: 0,
                return_eip,
                ..
            } => Some(*return_eip),
            _ => None,
        });
        if let Some(eip) = entry
            && view.current(&m).is_none()
        {
            break eip;
        }
    };
    m.break_on(EventKind::TrapEntry, false);
    let stack = view
        .current_stack(&m)
        .expect("ESP on the scheduler's stack");
    assert_eq!(stack.owner, StackOwner::Scheduler);
    assert_eq!(stack.owner.pid(), None);
    let boot_stack = view.symbol_address("stack").unwrap();
    assert_eq!(stack.top, boot_stack + 4096, "entry.S: stack + KSTACKSIZE");
    assert_eq!(stack.state, StackState::InKernel);
    // At the entry the CPU has pushed EFLAGS, CS and EIP (no SS and ESP:
    // the privilege did not change); the stub names the vector.
    let frame: Vec<_> = stack
        .trap_frame
        .iter()
        .map(|f| (f.name.as_str(), f.by))
        .collect();
    assert_eq!(
        frame,
        [
            ("eip", Pusher::Cpu),
            ("cs", Pusher::Cpu),
            ("eflags", Pusher::Cpu)
        ]
    );
    assert_eq!(stack.trap_frame[0].addr, stack.esp);
    assert_eq!(stack.trap_frame[0].value, return_eip);
    assert_eq!(stack.trap_frame[1].value & 3, 0, "CS of ring 0");
    assert_eq!(stack.vector, Some(32));
    assert!(stack.calls.is_empty() && stack.context.is_empty());
    let eflags_at = stack.trap_frame[2].addr;

    // Step through the stub and alltraps into trap: the frame stays where
    // the CPU pushed it, and fills in below.
    let trap = view.symbol_address("trap").unwrap();
    let mut steps = 0;
    while m.cpu().eip != trap {
        m.step();
        steps += 1;
        assert!(steps < 100, "trap reached");
        let now = view.current_stack(&m).expect("still the scheduler's");
        assert_eq!(now.owner, StackOwner::Scheduler);
        let top = now.trap_frame.last().expect("the frame");
        assert_eq!((top.name.as_str(), top.addr), ("eflags", eflags_at));
        assert!(now.slots().iter().all(|f| f.addr >= now.esp));
    }
    let stack = view.current_stack(&m).unwrap();
    let by = |name: &str| {
        stack
            .trap_frame
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.value, f.by))
    };
    assert_eq!(by("trapno"), Some((32, Pusher::Stub)));
    assert_eq!(by("err"), Some((0, Pusher::Stub)));
    assert_eq!(by("edi").map(|f| f.1), Some(Pusher::Entry));
    assert_eq!(by("esp"), None, "no privilege change: no ESP pushed");
    assert_eq!(by("ss"), None);
    let names: Vec<_> = stack
        .trap_frame
        .iter()
        .rev()
        .take(3)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["eflags", "cs", "eip"], "the CPU's words at the top");
    assert_eq!(stack.vector_name.as_deref(), Some("timer (IRQ 0)"));
    // Below the frame: alltraps's argument (the frame's address) and its
    // call's return address, at ESP.
    let calls: Vec<_> = stack.calls.iter().map(|f| f.value).collect();
    let tf = stack.trap_frame[0].addr;
    assert_eq!(calls.len(), 2, "{:#?}", stack.calls);
    assert_eq!(calls[1], tf);
    assert!(
        stack.calls[0].name.starts_with("alltraps"),
        "{:?}",
        stack.calls[0]
    );
    assert_eq!(stack.calls[0].addr, stack.esp);
}

/// xv6's `acquire` calls `getcallerpcs`, which gcc inlines there: the lines
/// of that code are getcallerpcs's (spinlock.c), the address acquire's, and
/// the place says both, as the page's call stack then does.
#[test]
fn a_line_the_compiler_inlined_names_the_inlined_function_and_its_host() {
    let (m, xv6) = boot();
    let view: &dyn KernelView = &xv6;
    let acquire = xv6.layout().symbol("acquire").unwrap();
    let inlined = (acquire..acquire + 0x100)
        .map(|a| view.place(&m, a))
        .find(|p| p.inlined.as_deref() == Some("getcallerpcs"))
        .expect("getcallerpcs inlined somewhere in acquire");
    assert_eq!(inlined.symbol.as_deref(), Some("acquire"));
    assert_eq!(inlined.file.as_deref(), Some("spinlock.c"));
    // acquire's own first line is not inlined.
    assert_eq!(view.place(&m, acquire).inlined, None);
}
