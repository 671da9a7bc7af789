//! The course's concepts shown on xv6's own code. Each lesson starts at the
//! shell's prompt (the boot fast-forwarded), types its command, and stops
//! at moments in xv6's functions; its questions are answered by the
//! machine through the kernel-view interface, as the teaching kernel's are.
//! Where xv6 has no such mechanism the lesson says so and names the
//! teaching kernel's lesson that shows it.

use crate::lesson::{Lesson, Moment, Question, Setup};
use crate::panel::Panel;
use osviz_machine::{CodeSize, Event, EventKind, Machine, Seg};
use osviz_view::KernelView;
use osviz_view::{ChannelKind, Phase, RegionKind};

fn hex(v: u32) -> String {
    format!("{v:#x}")
}

/// The running process as `pid N (name)`.
fn who(m: &Machine, i: &dyn KernelView) -> String {
    i.current(m).map_or("none (the scheduler)".into(), |p| {
        format!("pid {} ({})", p.pid, p.name)
    })
}

/// A field of the running process's trap frame.
fn trap_field(m: &Machine, i: &dyn KernelView, name: &str) -> Option<u32> {
    let p = i.current(m)?;
    i.kernel_stack(m, &p)
        .trap_frame
        .into_iter()
        .find(|f| f.name == name)
        .map(|f| f.value)
}

fn region_start(m: &Machine, i: &dyn KernelView, kind: RegionKind) -> String {
    i.current(m)
        .and_then(|p| i.regions(m, &p).into_iter().find(|r| r.kind == kind))
        .map_or("none".into(), |r| hex(r.start))
}

/// What CS holds, read as a student reads it: the selector's GDT entry and
/// ring, and what the CPU loaded from the descriptor.
fn code_segment(m: &Machine) -> String {
    let cpu = m.cpu();
    let cs = cpu.sreg(Seg::Cs);
    let seg = cpu.segment(Seg::Cs);
    let bits = match cpu.code_size() {
        CodeSize::Bits16 => 16,
        CodeSize::Bits32 => 32,
    };
    if cpu.real_mode() {
        return format!(
            "{} (real mode: base {} = {} × 16): {bits}-bit code",
            hex(cs.into()),
            hex(seg.base),
            hex(cs.into())
        );
    }
    let span = if seg.base == 0 && seg.limit == u32::MAX {
        "flat (it spans all 4 GiB from address zero)".to_string()
    } else {
        format!("base {}, limit {}", hex(seg.base), hex(seg.limit))
    };
    format!(
        "{} (GDT entry {}): {bits}-bit code, {span}",
        hex(cs.into()),
        cs >> 3
    )
}

/// The lesson on xv6's boot, from the boot sector to `main`.
pub const XV6_BOOT: Lesson = Lesson {
    id: "xv6-boot",
    title: "xv6: from power-on to main (bootasm.S, bootmain.c, entry.S)",
    concept: "Booting: the BIOS loads the boot sector, which switches the CPU from real mode to protected mode and loads the kernel from the disk; the kernel turns on paging and enters main.",
    paragraphs: &[
        "A PC starts in real mode, as an 8086: 16-bit registers, and addresses made as segment × 16 + offset, with no protection and no paging. The BIOS reads the disk's first sector (512 bytes, ending in 55 AA) to 0x7C00 and jumps there: xv6's boot sector is bootasm.S and bootmain.c, the code this lesson starts on.",
        "bootasm.S turns interrupts off, opens the A20 gate through the keyboard controller (so that addresses from 1 MiB up stop wrapping to 0), loads a GDT with lgdt, sets CR0.PE, and far-jumps into 32-bit code: the jump loads CS from the GDT, whose descriptor says the code is 32-bit.",
        "bootmain (bootmain.c) reads the kernel's ELF header from the disk's second sector through the IDE controller's ports, then each program segment to its physical address, and jumps to the ELF's entry. entry.S turns on paging with entrypgdir, whose 4 MiB pages map both 0 and KERNBASE to the first 4 MiB, and jumps to main at its high address.",
        "Step through the boot sector (Step, Next line), watch CS and the code size in the Registers panel, the port writes and the disk's sectors in the Events panel.",
    ],
    setup: Setup::Xv6Boot,
    breakpoints: &[
        Moment::Symbol { symbol: "start32" },
        Moment::Symbol { symbol: "bootmain" },
        Moment::Symbol { symbol: "_start" },
        Moment::Symbol { symbol: "main" },
    ],
    questions: &[
        Question {
            prompt: "To open the A20 gate, which byte does the boot sector write to the keyboard controller's data port (0x60), after command 0xD1 (write the output port) at 0x64?",
            moment: Moment::Event {
                event: EventKind::PortOut,
                nth: 2,
            },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::PortOut {
                            port: 0x60, value, ..
                        } => Some(format!(
                            "{}: it sets the output port's A20 bit, and keeps its reset line high",
                            hex(*value)
                        )),
                        _ => None,
                    })
                    .unwrap_or_else(|| "no write to port 0x60".into())
            },
        },
        Question {
            prompt: "After `ljmp $(SEG_KCODE<<3), $start32`, what does CS hold, and how wide is the code from there on?",
            moment: Moment::Symbol { symbol: "start32" },
            answer: |m, _, _| code_segment(m),
        },
        Question {
            prompt: "bootmain reads the kernel's ELF header first. Which sector of the boot disk does it ask the IDE controller for?",
            moment: Moment::Event {
                event: EventKind::IdeCommand,
                nth: 1,
            },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::IdeCommand {
                            drive,
                            sector,
                            count,
                            ..
                        } => {
                            let disk = if *drive == 0 {
                                "the boot disk, the IDE master"
                            } else {
                                "the IDE slave"
                            };
                            let per = if *count == 1 {
                                "one sector per command".to_string()
                            } else {
                                format!("{count} sectors per command")
                            };
                            Some(format!(
                                "{sector} (on {disk}, {per}): the kernel's ELF starts right after the boot sector"
                            ))
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| "no IDE command".into())
            },
        },
        Question {
            prompt: "bootmain jumps to the ELF's entry point (entry.S's _start). At what address, and is paging on there?",
            moment: Moment::Symbol { symbol: "_start" },
            answer: |m, _, _| {
                let cpu = m.cpu();
                if cpu.paging() {
                    format!("{}: paging on", hex(cpu.eip))
                } else {
                    format!(
                        "{}: paging off (CR0.PG = 0), so that is a physical address, where bootmain loaded the kernel",
                        hex(cpu.eip)
                    )
                }
            },
        },
        Question {
            prompt: "In main, paging is on. Which page directory does CR3 hold, and how large are the pages it maps?",
            moment: Moment::Symbol { symbol: "main" },
            answer: |m, i, _| {
                let cpu = m.cpu();
                let dir = cpu.cr3 & !0xFFF;
                let name = match i.symbol_physical("entrypgdir") {
                    Some(pa) if pa == dir => "entrypgdir",
                    _ => "a directory",
                };
                let pages = if cpu.cr4 & osviz_machine::Cr4::PSE != 0 {
                    "4 MiB pages (CR4.PSE), mapping both 0 and KERNBASE to the first 4 MiB"
                } else {
                    "4 KiB pages"
                };
                format!("{} ({name}, physical): {pages}", hex(dir))
            },
        },
    ],
    panels: &[
        Panel::Registers,
        Panel::Code,
        Panel::Events,
        Panel::PageWalk,
    ],
};

/// The xv6 lessons, in course order.
pub const XV6_LESSONS: &[Lesson] = &[
    Lesson {
        id: "xv6-shell",
        title: "xv6: the shell and its processes",
        concept: "A process is a running program; the kernel keeps one PCB per process (xv6's struct proc in ptable.proc[]).",
        paragraphs: &[
            "This is xv6, the kernel the course reads, booted to its shell. init (pid 1) started sh (pid 2); both sleep: init in wait, sh in the console's read, until you type.",
            "The lesson has typed `ls` for you: press Run and watch the Processes panel. sh forks a child, the child execs ls, and sh waits for it. Then type your own commands in the Console (echo hi, cat README, wc README).",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[Moment::Symbol { symbol: "exec" }],
        questions: &[Question {
            prompt: "When sh's child reaches exec to run ls, which pid does it have, and what is it called?",
            moment: Moment::Symbol { symbol: "exec" },
            answer: |m, i, _| who(m, i),
        }],
        panels: &[Panel::Processes, Panel::Console, Panel::KernelStack],
    },
    Lesson {
        id: "xv6-memory-image",
        title: "xv6: a process's memory image (exec)",
        concept: "A process's memory image: code and data, the stack, the heap; the kernel mapped high in every address space.",
        paragraphs: &[
            "exec (exec.c) builds a new image: it loads each program segment from 0 with allocuvm and loaduvm, then allocates two more pages: a guard page (PTE_U cleared, so a stack overflow faults) and one page of user stack, on which it pushes argv.",
            "sz is the image's size; sbrk grows the heap up from there. Everything from KERNBASE (0x80000000) up is the kernel, in every process's page directory.",
            "Unlike the teaching kernel, xv6 maps page 0: code starts at address 0.",
        ],
        setup: Setup::Xv6 { typed: "echo hi\n" },
        breakpoints: &[Moment::Symbol { symbol: "freevm" }],
        questions: &[
            Question {
                prompt: "When exec frees the old image (freevm), what is echo's sz?",
                moment: Moment::Symbol { symbol: "freevm" },
                answer: |m, i, _| i.current(m).map_or("no process".into(), |p| hex(p.brk)),
            },
            Question {
                prompt: "At which address does echo's user stack page start?",
                moment: Moment::Symbol { symbol: "freevm" },
                answer: |m, i, _| region_start(m, i, RegionKind::Stack),
            },
        ],
        panels: &[Panel::MemoryImage, Panel::PageTables, Panel::Processes],
    },
    Lesson {
        id: "xv6-context",
        title: "xv6: the CPU context and the trap frame",
        concept: "The CPU context of a process: its registers, saved in the trap frame on entry to the kernel and in struct context by swtch.",
        paragraphs: &[
            "When a process enters the kernel (a system call, an interrupt), its user registers are saved in a struct trapframe at the top of its kernel stack: the CPU pushes ss, esp, eflags, cs and eip, the vectors.S stub the trap number, alltraps the rest.",
            "When the kernel switches away from a process, swtch (swtch.S) saves only the callee-saved registers and the return address: struct context, lower on the same kernel stack.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[Moment::Symbol { symbol: "swtch" }],
        questions: &[Question {
            prompt: "At the first swtch, into which function will the process switched to return (its context's eip)?",
            moment: Moment::Symbol { symbol: "swtch" },
            answer: |m, i, _| {
                let Some(p) = i.current(m) else {
                    return "none: the scheduler runs no process".into();
                };
                i.kernel_stack(m, &p)
                    .context_return
                    .unwrap_or_else(|| "unknown".into())
            },
        }],
        panels: &[Panel::KernelStack, Panel::Registers, Panel::Processes],
    },
    Lesson {
        id: "xv6-context-switch",
        title: "xv6: the context switch (sched, scheduler, swtch)",
        concept: "A context switch saves one process's context and restores another's; the scheduler picks who runs next.",
        paragraphs: &[
            "A process gives up the CPU by calling sched (proc.c), from sleep, yield (the timer) or exit. sched calls swtch(&p->context, mycpu()->scheduler): the process's registers go on its kernel stack and the scheduler's come back.",
            "scheduler loops over ptable.proc[] for a RUNNABLE process, switches to its address space (switchuvm) and swtch-es into it. On the timeline, each slice ends in sched and the next begins with the scheduler's swtch.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[
            Moment::Symbol { symbol: "sched" },
            Moment::Symbol { symbol: "swtch" },
        ],
        questions: &[Question {
            prompt: "Which process calls sched first?",
            moment: Moment::Symbol { symbol: "sched" },
            answer: |m, i, _| who(m, i),
        }],
        panels: &[Panel::Timeline, Panel::Processes, Panel::KernelStack],
    },
    Lesson {
        id: "xv6-pcb",
        title: "xv6: the PCB and its kernel stack (allocproc)",
        concept: "Each process has a PCB and a kernel stack; the trap frame and the saved context live on that stack.",
        paragraphs: &[
            "allocproc (proc.c) takes an UNUSED slot of ptable.proc[], gives it a pid and a page of kernel stack (kstack), and lays the stack out from the top: the trap frame (tf), the address of trapret, then a struct context whose eip is forkret.",
            "So a new process's first swtch returns into forkret, which returns into trapret, which pops the trap frame and irets to user mode: for fork's child, with the parent's registers and eax = 0.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[Moment::Symbol { symbol: "forkret" }],
        questions: &[Question {
            prompt: "When fork's child first runs (forkret), what is eax in its trap frame, the value fork returns in the child?",
            moment: Moment::Symbol { symbol: "forkret" },
            answer: |m, i, _| {
                trap_field(m, i, "eax").map_or("no trap frame".into(), |v| v.to_string())
            },
        }],
        panels: &[Panel::KernelStack, Panel::Processes, Panel::PhysicalFrames],
    },
    Lesson {
        id: "xv6-paging",
        title: "xv6: translation and two-level page tables (walkpgdir, mappages)",
        concept: "A virtual address is translated through a page directory and a page table to a physical frame.",
        paragraphs: &[
            "A virtual address splits into PDX (10 bits), PTX (10 bits) and the offset (12 bits) (mmu.h). walkpgdir (vm.c) finds the page table entry for an address, allocating the table if asked; mappages fills entries for a range.",
            "The Page walk panel follows CR3 through the directory and table entries to the frame, and the Page tables panel shows the directory's tables.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[
            Moment::Symbol { symbol: "mappages" },
            Moment::Symbol { symbol: "freevm" },
        ],
        questions: &[Question {
            prompt: "Once exec built ls's image (freevm), how many page tables does its directory have below KERNBASE?",
            moment: Moment::Symbol { symbol: "freevm" },
            answer: |m, i, _| {
                i.current(m).map_or("no process".into(), |p| {
                    i.page_tables(m, &p).len().to_string()
                })
            },
        }],
        panels: &[Panel::PageWalk, Panel::PageTables, Panel::MemoryImage],
    },
    Lesson {
        id: "xv6-cr3-tlb",
        title: "xv6: CR3 and the TLB (switchuvm)",
        concept: "CR3 holds the running process's page directory; switching it flushes the TLB's translations.",
        paragraphs: &[
            "switchuvm (vm.c) loads the process's directory with lcr3(V2P(p->pgdir)) before the scheduler runs it, and switchkvm goes back to the kernel's own kpgdir after.",
            "Each CR3 write empties the TLB: the next accesses miss and walk the tables again. Watch the TLB panel across a switch.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[Moment::Event {
            event: EventKind::Cr3Write,
            nth: 1,
        }],
        questions: &[Question {
            prompt: "At the first CR3 write, whose page directory is loaded?",
            moment: Moment::Event {
                event: EventKind::Cr3Write,
                nth: 1,
            },
            answer: |m, i, _| {
                let cr3 = m.cpu().cr3 & !0xFFF;
                if cr3 == i.kernel_dir(m) {
                    return format!("the kernel's (kpgdir): directory {}", hex(cr3));
                }
                i.processes(m)
                    .into_iter()
                    .find(|p| p.pgdir == cr3)
                    .map_or(hex(cr3), |p| {
                        format!("pid {} ({}): directory {}", p.pid, p.name, hex(cr3))
                    })
            },
        }],
        panels: &[Panel::Tlb, Panel::PageWalk, Panel::Timeline],
    },
    Lesson {
        id: "xv6-rings",
        title: "xv6: user mode, kernel mode and privileged instructions",
        concept: "User code runs in ring 3 and cannot run privileged instructions; a trap enters the kernel in ring 0.",
        paragraphs: &[
            "xv6's user segments have DPL 3 (seginit in vm.c) and the kernel's DPL 0: the low two bits of CS say which ring runs. In ring 3, cli, lcr3 or an in to a port raise a general-protection fault, and the kernel kills the process.",
            "From ring 3 the way in is a trap. An `int n` a program executes may only go through a gate whose DPL is 3, and xv6 gives DPL 3 to one gate, the system call's (64). Device interrupts and exceptions enter through DPL 0 gates all the same: the CPU checks a gate's DPL only for `int n`, not for what the hardware raises.",
        ],
        setup: Setup::Xv6 { typed: "echo hi\n" },
        breakpoints: &[Moment::Trap { vector: 64 }],
        questions: &[Question {
            prompt: "At the first system call after Enter (sh's read: gets reads the line a byte per call), which ring did the CPU come from (the low bits of the saved CS)?",
            moment: Moment::Trap { vector: 64 },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::TrapEntry { cpl_before, .. } => Some(format!("ring {cpl_before}")),
                        _ => None,
                    })
                    .unwrap_or_else(|| "no trap".into())
            },
        }],
        panels: &[Panel::Registers, Panel::KernelStack, Panel::Idt],
    },
    Lesson {
        id: "xv6-syscall",
        title: "xv6: the system call path",
        concept: "A system call is a trap: int 64 → vectors.S → alltraps → trap → syscall → sys_write → trapret → iret.",
        paragraphs: &[
            "The user library's write (usys.S) puts SYS_write in eax and executes int $64 (T_SYSCALL). The CPU switches to the kernel stack in the TSS, pushes the user's ss, esp, eflags, cs and eip, and jumps through the IDT to vector64, which pushes 0 and 64 and jumps to alltraps.",
            "alltraps saves the segment registers and pushal, loads the kernel's data segment, and calls trap(tf). trap calls syscall, which reads eax and calls sys_write; the result goes back in tf->eax. trapret pops it all and iret returns to user mode.",
            "Set a breakpoint on sys_write (or a line of it) in the Code panel, then Step by C line.",
        ],
        setup: Setup::Xv6 { typed: "echo hi\n" },
        breakpoints: &[
            Moment::Trap { vector: 64 },
            Moment::Symbol { symbol: "alltraps" },
            Moment::Symbol { symbol: "syscall" },
            Moment::Symbol {
                symbol: "sys_write",
            },
        ],
        questions: &[Question {
            prompt: "When echo's write reaches sys_write, what is eax in the trap frame (the system call number)?",
            moment: Moment::Symbol {
                symbol: "sys_write",
            },
            answer: |m, i, _| {
                trap_field(m, i, "eax").map_or("no trap frame".into(), |v| v.to_string())
            },
        }],
        panels: &[Panel::KernelStack, Panel::Code, Panel::Idt],
    },
    Lesson {
        id: "xv6-idt",
        title: "xv6: the interrupt descriptor table (tvinit, idtinit)",
        concept: "The IDT says, for each vector, where its handler is and from which ring it may be entered.",
        paragraphs: &[
            "tvinit (trap.c) fills idt[] from vectors[]: an interrupt gate for every vector, with DPL 0, and a trap gate with DPL 3 for T_SYSCALL (64), so only the system call can be raised from user code with int. idtinit loads it with lidt.",
            "Device interrupts arrive as vectors 32 and up: the timer (32), the keyboard (33), the serial port (36), the IDE disk (46).",
        ],
        setup: Setup::Xv6 { typed: "" },
        breakpoints: &[Moment::Trap { vector: 32 }],
        questions: &[Question {
            prompt: "Which DPL does xv6 give the system call's gate (vector 64), and which the timer's (32)?",
            moment: Moment::Trap { vector: 32 },
            answer: |m, i, _| {
                let idt = i.idt(m);
                match (idt.get(64), idt.get(32)) {
                    (Some(s), Some(t)) => format!("{} for 64, {} for 32", s.dpl, t.dpl),
                    _ => "no IDT".into(),
                }
            },
        }],
        panels: &[Panel::Idt, Panel::KernelStack, Panel::Events],
    },
    Lesson {
        id: "xv6-blocking-io",
        title: "xv6: blocking I/O (iderw sleeps, ideintr wakes)",
        concept: "A process that waits for I/O blocks: it sleeps until the device's interrupt wakes it, and others run meanwhile.",
        paragraphs: &[
            "To read a block that is not in the buffer cache, bread calls iderw (ide.c): it queues the buffer, starts the disk if the queue was empty, and sleeps on the buffer until it is valid. The process is SLEEPING; the scheduler runs someone else (or idles).",
            "The disk raises IRQ 14 (vector 46); ideintr reads the data in with insl (programmed I/O: xv6's disk driver has no DMA — the teaching kernel's blocking I/O lesson shows DMA), marks the buffer valid and wakes the sleeper.",
            "Likewise sh sleeps on console input until the keyboard interrupt (33) wakes it: see the Timeline.",
        ],
        setup: Setup::Xv6 {
            typed: "cat README\n",
        },
        breakpoints: &[
            Moment::Symbol { symbol: "iderw" },
            Moment::Trap { vector: 46 },
            Moment::Symbol { symbol: "ideintr" },
        ],
        questions: &[Question {
            prompt: "When the disk's first interrupt arrives (vector 46), which process sleeps, and on what?",
            moment: Moment::Trap { vector: 46 },
            answer: |m, i, _| {
                let asleep: Vec<String> = i
                    .processes(m)
                    .into_iter()
                    .filter(|p| {
                        p.phase == Phase::Sleeping && p.chan_kind == ChannelKind::DiskBuffer
                    })
                    .map(|p| {
                        format!(
                            "pid {} ({}) on {}",
                            p.pid,
                            p.name,
                            p.chan_name.unwrap_or_default()
                        )
                    })
                    .collect();
                if asleep.is_empty() {
                    "no process sleeps on a buffer".into()
                } else {
                    asleep.join(", ")
                }
            },
        }],
        panels: &[Panel::Timeline, Panel::Processes, Panel::Events],
    },
    Lesson {
        id: "xv6-demand-paging",
        title: "xv6: no demand paging (allocuvm allocates at once)",
        concept: "Demand paging maps a page only when it is first touched; xv6 does not do it.",
        paragraphs: &[
            "xv6 allocates eagerly: exec and sbrk (growproc → allocuvm) give every page a frame and map it at once, so xv6's page-fault handler only kills the process. The teaching kernel's demand-paging lesson shows a fault that maps a frame and restarts the instruction.",
            "Watch the Physical frames panel: the frames are taken from kmem.freelist when allocuvm runs, before the program touches them.",
        ],
        setup: Setup::Xv6 { typed: "ls\n" },
        breakpoints: &[Moment::Symbol { symbol: "allocuvm" }],
        questions: &[Question {
            prompt: "Who calls allocuvm first, and from which kernel functions (the call stack)?",
            moment: Moment::Symbol { symbol: "allocuvm" },
            answer: |m, i, _| {
                // The callers, innermost first, from the frame-pointer chain.
                let callers: Vec<String> = osviz_view::call_stack(m, i, 4)
                    .into_iter()
                    .skip(1)
                    .filter_map(|p| p.symbol)
                    .take(2)
                    .collect();
                format!(
                    "{}, from {}; in the kernel (CPL {})",
                    who(m, i),
                    callers.join(" ← "),
                    m.cpu().cpl()
                )
            },
        }],
        panels: &[Panel::PhysicalFrames, Panel::MemoryImage, Panel::PageTables],
    },
    XV6_BOOT,
];
