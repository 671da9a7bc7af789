//! The debugger views read the kernel's structures correctly.

use osviz_kernel::introspect::{
    ChannelKind, FrameOwner, Introspector, KernelStackView, KernelView, Pusher, RegionKind,
    StackOwner, StackState, TrapCause,
};
use osviz_kernel::{System, programs};
use osviz_machine::{Event, EventKind, StopReason};

/// Boots two busy processes and runs until the second timer preemption, so
/// that one process runs and the other is switched out.
fn two_processes() -> System {
    let mut system = System::boot(&[programs::SPIN, programs::SPIN]).unwrap();
    let m = &mut system.machine;
    m.break_on(EventKind::Cr3Write, true);
    // Boot, then the scheduler's switches: run until both have run once and
    // the first runs again.
    let mut switches = 0;
    while switches < 6 {
        m.run(1_000_000);
        switches += 1;
    }
    m.break_on(EventKind::Cr3Write, false);
    // Into user mode of whichever process runs now.
    while m.cpu().cpl() != 3 {
        m.step();
    }
    system
}

#[test]
fn the_process_table_and_kernel_stacks() {
    let system = two_processes();
    let m = &system.machine;
    let i = Introspector::of(&system);
    let procs = i.processes(m);
    assert_eq!(procs.len(), 2, "{procs:?}");
    assert!(procs.iter().all(|p| p.name == "spin"));
    let running: Vec<_> = procs.iter().filter(|p| p.state == "running").collect();
    let waiting: Vec<_> = procs.iter().filter(|p| p.state == "runnable").collect();
    assert_eq!((running.len(), waiting.len()), (1, 1), "{procs:?}");
    assert_eq!(i.current(m).map(|p| p.pid), Some(running[0].pid));
    // The running process's CR3 is its page directory.
    assert_eq!(m.cpu().cr3, running[0].pgdir);

    // The switched-out process: a trap frame from ring 3 (the timer
    // interrupted it), and the context swtch saved, returning into sched.
    let stack = i.kernel_stack(m, waiting[0]);
    let field = |name: &str| stack.trap_frame.iter().find(|f| f.name == name).unwrap();
    assert_eq!(field("cs").value, 0x1B);
    assert_eq!(field("cs").by, Pusher::Cpu);
    assert_eq!(field("trapno").value, 32);
    assert_eq!(field("trapno").by, Pusher::Stub);
    assert_eq!(field("eax").by, Pusher::Entry);
    assert!(field("eip").value < 0x8000_0000);
    assert_eq!(field("ss").value, 0x23);
    assert_eq!(stack.top, waiting[0].kstack + 4096);
    // The CPU pushed SS last-in-first: it sits at the very top of the stack.
    assert_eq!(field("ss").addr, stack.top - 4);
    let ret = stack.context_return.clone().unwrap();
    assert!(ret.starts_with("sched+"), "{ret}");
    assert_eq!(stack.context.len(), 5);
}

#[test]
fn mappings_frames_and_the_idt() {
    let system = two_processes();
    let m = &system.machine;
    let i = Introspector::of(&system);
    let p = i.current(m).unwrap();
    let maps = i.mappings(m, &p);
    let pages: Vec<u32> = maps.iter().map(|x| x.page).collect();
    assert!(pages.contains(&0x1000), "{pages:x?}");
    assert!(pages.contains(&0x7FFF_F000), "the stack page: {pages:x?}");
    assert!(maps.iter().all(|x| x.user && x.writable));

    let frames = i.frames(m);
    assert_eq!(frames.len(), 1024);
    let free = frames.iter().filter(|f| **f == FrameOwner::Free).count() as u32;
    assert_eq!(free, i.free_frames(m));
    // Read at once (as the page reads them), they are the same.
    assert_eq!(i.frames_and_free(m), (frames.clone(), free));
    let owned = frames
        .iter()
        .filter(|f| **f == FrameOwner::Process { pid: p.pid })
        .count();
    assert_eq!(owned, maps.len());
    // Every mapping's frame is one the core map gives to this process.
    for x in &maps {
        assert_eq!(frames[x.frame as usize], FrameOwner::Process { pid: p.pid });
    }

    let idt = i.idt(m);
    assert_eq!(idt[0x40].dpl, 3);
    assert_eq!(idt[0x40].handler_symbol.as_deref(), Some("vector64"));
    assert_eq!(idt[14].dpl, 0);
    assert_eq!(idt[14].handler_symbol.as_deref(), Some("vector14"));
    assert_eq!(idt[32].gate, "interrupt");

    // Source places: user code in spin.asm, kernel code in kernel.asm.
    let user = i.place(m, m.cpu().eip);
    assert_eq!(user.file.as_deref(), Some("spin.asm"));
    assert!(user.symbol.is_some());
    let trap = system.kernel.symbol("trap").unwrap();
    let k = i.place(m, trap + 1);
    assert_eq!((k.symbol.as_deref(), k.offset), (Some("trap"), 1));
    assert_eq!(k.file.as_deref(), Some("kernel.asm"));
}

/// Boots the teaching kernel with `program` and the lessons' disk.
fn boot(program: osviz_kernel::Program) -> System {
    let mut system = System::boot(&[program]).unwrap();
    system
        .machine
        .load_disk(&osviz_kernel::disk_image())
        .unwrap();
    system
}

/// Runs `program` until the first step that produces an event of `kind`.
fn program_at(program: osviz_kernel::Program, kind: EventKind) -> System {
    let mut system = boot(program);
    system.machine.break_on(kind, true);
    assert!(matches!(
        system.machine.run(5_000_000),
        osviz_machine::StopReason::Event { .. }
    ));
    system.machine.break_on(kind, false);
    system
}

/// At a page fault the CPU has pushed the error code; the trap number is
/// not pushed yet, so it is not shown (whatever an earlier trap left there).
#[test]
fn at_a_page_fault_the_error_code_is_the_cpus_and_nothing_below_esp_is_shown() {
    let system = program_at(osviz_kernel::programs::HEAP, EventKind::PageFault);
    let m = &system.machine;
    let i = Introspector::of(&system);
    let p = i.current(m).unwrap();
    let stack = i.kernel_stack(m, &p);
    assert_eq!(stack.state, StackState::InKernel);
    assert_eq!(stack.esp, m.cpu().gpr[4]);
    assert_eq!(stack.vector, Some(14));
    let names: Vec<_> = stack.trap_frame.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["err", "eip", "cs", "eflags", "esp", "ss"]);
    let err = &stack.trap_frame[0];
    assert_eq!((err.by, err.addr), (Pusher::Cpu, stack.esp));
    assert_eq!(err.value & 4, 4, "a user-mode access");
    assert!(stack.trap_frame.iter().all(|f| f.addr >= stack.esp));
    assert_eq!(stack.esp0, stack.top);
}

/// A system call has no error code: the stub pushes the 0, then the vector.
#[test]
fn at_a_system_call_the_stub_pushes_the_error_code_and_the_vector() {
    let mut system = program_at(osviz_kernel::programs::HELLO, EventKind::TrapEntry);
    let by_after = |system: &System| {
        let i = Introspector::of(system);
        let p = i.current(&system.machine).unwrap();
        let s = i.kernel_stack(&system.machine, &p);
        let fields: Vec<_> = s
            .trap_frame
            .iter()
            .map(|f| (f.name.clone(), f.by))
            .collect();
        (s.vector, fields)
    };
    let (vector, fields) = by_after(&system);
    assert_eq!(vector, Some(0x40), "the CPU is at the start of vector64");
    assert_eq!(fields.len(), 5, "only what the CPU pushed: {fields:?}");
    system.machine.step(); // push 0
    let (_, fields) = by_after(&system);
    assert_eq!(fields[0], ("err".to_string(), Pusher::Stub));
    system.machine.step(); // push 64
    let (_, fields) = by_after(&system);
    assert_eq!(fields[0], ("trapno".to_string(), Pusher::Stub));
    assert_eq!(fields.len(), 7);
}

#[test]
fn a_process_in_user_mode_has_an_empty_kernel_stack() {
    let system = two_processes();
    let i = Introspector::of(&system);
    let p = i.current(&system.machine).unwrap();
    let stack = i.kernel_stack(&system.machine, &p);
    assert_eq!(stack.state, StackState::UserMode);
    assert!(stack.trap_frame.is_empty());
    assert_eq!(stack.esp, stack.top);
}

#[test]
fn regions_are_laid_out_as_the_kernel_does_and_an_empty_heap_is_empty() {
    let mut system = boot(osviz_kernel::programs::HELLO);
    // To the program's first instruction: the first iret into ring 3.
    system.machine.break_on(EventKind::Iret, true);
    while system.machine.cpu().cpl() != 3 {
        system.machine.run(1_000_000);
    }
    assert_eq!(system.machine.cpu().cpl(), 3);
    assert_eq!(
        system.machine.cpu().eip,
        0x1000,
        "the program's first instruction"
    );
    let i = Introspector::of(&system);
    let p = i.current(&system.machine).unwrap();
    let regions = i.regions(&system.machine, &p);
    let kinds: Vec<_> = regions.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RegionKind::NullPage,
            RegionKind::CodeData,
            RegionKind::Heap,
            RegionKind::Gap,
            RegionKind::Stack,
            RegionKind::Kernel
        ]
    );
    let heap = regions[2];
    assert!(heap.is_empty(), "no sbrk yet: {heap:?}");
    assert_eq!(heap.last(), heap.start);
    assert_eq!(regions[5].last(), 0xFFFF_FFFF);
    assert_eq!(regions[4].pages(), 16);
    let (eip, esp) = i.user_context(&system.machine, &p);
    assert_eq!(eip, 0x1000);
    assert!(regions[4].contains(esp - 4));
}

#[test]
fn page_tables_list_the_two_levels_below_the_kernel() {
    let system = two_processes();
    let i = Introspector::of(&system);
    let p = i.current(&system.machine).unwrap();
    let tables = i.page_tables(&system.machine, &p);
    let dirs: Vec<u32> = tables.iter().map(|t| t.dir_index).collect();
    assert_eq!(dirs, [0, 511], "code near 0 and the stack under 0x80000000");
    let entries: usize = tables.iter().map(|t| t.entries.len()).sum();
    assert_eq!(entries, i.mappings(&system.machine, &p).len());
    assert_eq!(tables[1].covers, 511 << 22);
    assert_eq!(
        tables[1].entries.last().unwrap().0,
        1023,
        "the top stack page"
    );
}

/// Every sleep the program makes, as (channel name, kind), looked at every
/// few hundred steps until the machine stops or `steps` have run.
fn sleeps_of(program: osviz_kernel::Program, steps: u64) -> Vec<(String, ChannelKind)> {
    let mut system = boot(program);
    let mut seen: Vec<(String, ChannelKind)> = Vec::new();
    while system.machine.steps() < steps {
        if !matches!(
            system.machine.run(100),
            osviz_machine::StopReason::InstructionLimit
        ) {
            break;
        }
        let i = Introspector::of(&system);
        for p in i.processes(&system.machine) {
            if p.chan != 0 {
                let s = (p.chan_name.clone().unwrap_or_default(), p.chan_kind);
                if !seen.contains(&s) {
                    seen.push(s);
                }
            }
        }
    }
    seen
}

/// The kernel view says what each of the kernel's sleep channels stands
/// for: the page never names `disk_buf` or `ticks` itself.
#[test]
fn each_sleep_channel_is_named_for_what_it_waits_on() {
    let kind_of = |program, name: &str| {
        sleeps_of(program, 400_000)
            .into_iter()
            .find(|(n, _)| n.starts_with(name))
            .map(|(_, k)| k)
    };
    assert_eq!(
        kind_of(programs::DISKREAD, "disk_buf"),
        Some(ChannelKind::DiskBuffer)
    );
    assert_eq!(
        kind_of(programs::SLEEPER, "ticks"),
        Some(ChannelKind::Timer)
    );
    // sys_wait sleeps on the parent's own slot (forker's child exits
    // before its parent waits, so it is asked directly).
    let system = boot(programs::FORKER);
    let i = Introspector::of(&system);
    let slot = |n: u32| {
        system.kernel.symbol("ptable").unwrap() + n * system.kernel.symbol("proc_size").unwrap()
    };
    assert_eq!(i.channel_kind(slot(1)), ChannelKind::ChildExit);
    assert_eq!(i.channel_kind(slot(0) - 4), ChannelKind::Other);
    assert_eq!(
        kind_of(programs::ECHO, "kbd_buf"),
        Some(ChannelKind::ConsoleInput)
    );
    assert_eq!(ChannelKind::Timer.words(), Some("the timer, in sleep"));
    assert_eq!(ChannelKind::DiskBuffer.plural(), Some("disk buffers"));
    assert_eq!(ChannelKind::Other.words(), None);
}

/// In the disk's interrupt handler the trap in progress is the disk's
/// interrupt, as the board wires it; a system call is one, and a page
/// fault an exception.
#[test]
fn the_trap_in_progress_is_named_by_the_kernel_and_the_board() {
    use osviz_machine::{DeviceClass, Event};
    let mut system = boot(programs::DISKREAD);
    let trap = system.kernel.symbol("trap").unwrap();
    system.machine.set_recording(true);
    system.machine.break_on(EventKind::TrapEntry, true);
    let mut causes = Vec::new();
    for _ in 0..2_000 {
        let m = &mut system.machine;
        if !matches!(m.run(5_000_000), osviz_machine::StopReason::Event { .. }) {
            break;
        }
        let Some(vector) = m.last_events().iter().find_map(|e| match e {
            Event::TrapEntry { vector, .. } => Some(*vector),
            _ => None,
        }) else {
            continue;
        };
        // Into the handler: `alltraps` has called `trap`.
        while m.cpu().eip != trap {
            m.step();
        }
        let cause = Introspector::of(&system).trap_cause(&system.machine);
        assert_eq!(cause.map(TrapCause::vector), Some(vector));
        causes.push(cause.unwrap());
        if vector == osviz_kernel::vectors::DISK {
            break;
        }
    }
    assert!(
        causes.contains(&TrapCause::SystemCall {
            vector: osviz_kernel::vectors::SYSCALL
        }),
        "{causes:?}"
    );
    assert_eq!(
        causes.last(),
        Some(&TrapCause::DeviceInterrupt {
            vector: osviz_kernel::vectors::DISK,
            device: DeviceClass::Disk,
            line: Some(14)
        }),
        "{causes:?}"
    );
    let i = Introspector::of(&system);
    let m = &system.machine;
    assert_eq!(
        i.trap_cause_of(m, 14),
        TrapCause::Exception { vector: 14 },
        "the page fault"
    );
    assert_eq!(
        i.trap_cause_of(m, osviz_kernel::vectors::TIMER).device(),
        Some(DeviceClass::Timer)
    );
    assert_eq!(
        i.trap_cause_of(m, osviz_kernel::vectors::KEYBOARD).device(),
        Some(DeviceClass::Keyboard)
    );
}

/// Every slot of a stack view from ESP up to the top, one per word.
fn assert_every_slot_from_esp_to_top(stack: &KernelStackView) {
    let addrs: Vec<u32> = stack.slots().iter().map(|f| f.addr).collect();
    let words: Vec<u32> = (stack.esp..stack.top).step_by(4).collect();
    assert_eq!(addrs, words, "{stack:#?}");
}

#[test]
fn fork_s_child_has_a_copied_frame_and_allocproc_s_context_into_trapret() {
    let mut system = System::boot(&[programs::FORKER]).unwrap();
    let trapret = system.kernel.symbol("trapret").unwrap();
    // The parent's return from sys_fork through trapret: the child is
    // made, runnable, not run yet.
    system.machine.add_breakpoint(trapret);
    let child = loop {
        let m = &mut system.machine;
        if m.cpu().eip == trapret {
            m.step();
        }
        let stop = m.run(1_000_000);
        assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
        let i = Introspector::of(&system);
        if let Some(c) = i
            .processes(&system.machine)
            .into_iter()
            .find(|p| p.parent.is_some())
        {
            break c;
        }
    };
    assert_eq!(child.state, "runnable");
    let m = &system.machine;
    let i = Introspector::of(&system);
    let stack = i.kernel_stack(m, &child);
    assert_eq!(stack.owner, StackOwner::Process { pid: child.pid });
    assert_eq!(stack.state, StackState::SwitchedOut);
    // sys_fork copied the parent's frame (`rep movsd`), eax cleared.
    assert!(
        stack.trap_frame.iter().all(|f| f.by == Pusher::Fork),
        "{stack:#?}"
    );
    let eax = stack.trap_frame.iter().find(|f| f.name == "eax").unwrap();
    assert_eq!(eax.value, 0);
    assert_eq!(stack.vector, Some(0x40), "the parent's system call, copied");
    // allocproc's context: its return address, just below the frame, is
    // trapret (so the context holds the first return).
    assert!(stack.context.iter().all(|f| f.by == Pusher::Allocproc));
    let ret = stack.context.last().unwrap();
    assert_eq!((ret.addr, ret.value), (child.tf - 4, trapret));
    assert_eq!(stack.context_return.as_deref(), Some("trapret"));
    assert!(stack.first_return.is_none());
    assert_every_slot_from_esp_to_top(&stack);

    // Switched to, it returns into trapret, which pops the copy.
    let m = &mut system.machine;
    loop {
        if m.cpu().eip == trapret {
            m.step();
        }
        let stop = m.run(1_000_000);
        assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
        let i = Introspector {
            kernel: &system.kernel,
            programs: &system.programs,
        };
        if i.current(m).is_some_and(|p| p.pid == child.pid) {
            break;
        }
    }
    let i = Introspector::of(&system);
    let child = i.current(&system.machine).unwrap();
    let stack = i.kernel_stack(&system.machine, &child);
    assert_eq!(stack.state, StackState::InKernel);
    assert!(
        stack.trap_frame.iter().all(|f| f.by == Pusher::Fork),
        "{stack:#?}"
    );
    assert_every_slot_from_esp_to_top(&stack);
}

#[test]
fn a_timer_interrupt_while_the_scheduler_idles_is_on_the_boot_stack() {
    let mut system = System::boot(&[programs::SLEEPER]).unwrap();
    let m = &mut system.machine;
    m.set_recording(true);
    m.break_on(EventKind::TrapEntry, true);
    loop {
        let stop = m.run(5_000_000);
        assert!(matches!(stop, StopReason::Event { .. }), "{stop:?}");
        let idle = m.last_events().iter().any(|e| {
            matches!(
                e,
                Event::TrapEntry {
                    vector: 32,
                    cpl_before: 0,
                    ..
                }
            )
        });
        let i = Introspector {
            kernel: &system.kernel,
            programs: &system.programs,
        };
        if idle && i.current(m).is_none() {
            break;
        }
    }
    m.break_on(EventKind::TrapEntry, false);
    let i = Introspector::of(&system);
    let m = &system.machine;
    let stack = i.current_stack(m).expect("ESP on the boot stack");
    assert_eq!(stack.owner, StackOwner::Scheduler);
    assert_eq!(stack.top, system.kernel.symbol("boot_stack_top").unwrap());
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
    assert_eq!(stack.vector, Some(32));

    // Into trap: the stub's and alltraps's pushes below the CPU's.
    let trap = system.kernel.symbol("trap").unwrap();
    let m = &mut system.machine;
    m.add_breakpoint(trap);
    let stop = m.run(1_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    let i = Introspector::of(&system);
    let stack = i.current_stack(&system.machine).unwrap();
    assert_eq!(stack.owner, StackOwner::Scheduler);
    let by = |name: &str| {
        stack
            .trap_frame
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.value, f.by))
    };
    assert_eq!(by("trapno"), Some((32, Pusher::Stub)));
    assert_eq!(by("eax").map(|f| f.1), Some(Pusher::Entry));
    assert_eq!(by("esp"), None);
    assert_eq!(stack.trap_frame.last().unwrap().name, "eflags");
    assert_eq!(stack.calls.len(), 2, "{:#?}", stack.calls);
}
