//! The debugger views read the kernel's structures correctly.

use osviz_kernel::introspect::{FrameOwner, Introspector};
use osviz_kernel::{System, programs};
use osviz_machine::EventKind;

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
    while m.cpu.cpl() != 3 {
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
    assert_eq!(m.cpu.cr3, running[0].pgdir);

    // The switched-out process: a trap frame from ring 3 (the timer
    // interrupted it), and the context swtch saved, returning into sched.
    let stack = i.kernel_stack(m, waiting[0]);
    let field = |name: &str| stack.trap_frame.iter().find(|f| f.name == name).unwrap();
    assert_eq!(field("cs").value, 0x1B);
    assert_eq!(field("cs").by, "cpu");
    assert_eq!(field("trapno").value, 32);
    assert_eq!(field("trapno").by, "stub");
    assert_eq!(field("eax").by, "entry");
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
    let user = i.place(m, m.cpu.eip);
    assert_eq!(user.file.as_deref(), Some("spin.asm"));
    assert!(user.symbol.is_some());
    let trap = system.kernel.symbol("trap").unwrap();
    let k = i.place(m, trap + 1);
    assert_eq!((k.symbol.as_deref(), k.offset), (Some("trap"), 1));
    assert_eq!(k.file.as_deref(), Some("kernel.asm"));
}
