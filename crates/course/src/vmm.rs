//! Virtualization: the same xv6, now the guest of the teaching hypervisor
//! (`guests/vmm`), which runs it by trap and emulate with shadow page
//! tables. Each lesson starts at xv6's prompt under the hypervisor (the
//! pure trap-and-emulate one at the hypervisor's first instruction) and
//! stops at moments of the hypervisor's exits or of xv6's functions; its
//! questions are answered by the machine, through the kernel view of the
//! guest and the virtual machine it runs in.

use crate::lesson::{Lesson, Moment, Question, Setup};
use crate::panel::Panel;
use osviz_machine::{Machine, Pte, Seg};
use osviz_view::{ExitReason, ExitView, KernelView, VirtualMachineView, call_stack};

fn hex(v: u32) -> String {
    format!("{v:#x}")
}

const NO_VM: &str = "no virtual machine: the kernel runs on the machine itself";

/// The virtual machine now, or why there is none.
fn vm(m: &Machine, i: &dyn KernelView) -> Result<VirtualMachineView, String> {
    i.virtual_machine(m).ok_or_else(|| NO_VM.to_string())
}

/// The hypervisor's latest exit.
fn latest(m: &Machine, i: &dyn KernelView) -> Result<ExitView, String> {
    vm(m, i)?
        .recent
        .pop()
        .ok_or_else(|| "the hypervisor has logged no exit".to_string())
}

/// An answer read from the virtual machine, or the reason it cannot be.
fn answer(f: impl FnOnce() -> Result<String, String>) -> String {
    f().unwrap_or_else(|why| why)
}

/// The function an exit's instruction is in (the one the compiler put
/// its code in, where an inlined helper's line is).
fn function(e: &ExitView) -> String {
    e.place.symbol.clone().unwrap_or_else(|| hex(e.eip))
}

/// The ring a selector's requested privilege level says.
fn rpl(selector: u16) -> u16 {
    selector & 3
}

pub const VMM_LESSONS: &[Lesson] = &[
    Lesson {
        id: "vm-guest",
        title: "Virtualization: xv6 as a guest of the hypervisor",
        concept: "A virtual machine monitor (hypervisor) runs a guest OS on a virtual CPU: the guest's kernel is deprivileged, and the VMM keeps the real machine.",
        paragraphs: &[
            "This is the same xv6 as in the earlier lessons, unmodified, but it no longer owns the machine: the teaching hypervisor (guests/vmm, a few hundred lines of C) booted first, took ring 0, gave xv6 224 MiB of guest-physical memory inside the real memory, and started xv6's kernel in ring 1. xv6's user programs still run in ring 3.",
            "The Virtual machine panel shows the real CPU beside the virtual CPU xv6 believes it has: its ring, its interrupt flag, its CR3 and its IDT. The lesson has typed `ls`: press Run, then compare the two sides at a breakpoint in xv6's kernel.",
        ],
        setup: Setup::Vmm {
            typed: "ls\n",
            pure: false,
        },
        breakpoints: &[Moment::Symbol {
            symbol: "sys_write",
        }],
        questions: &[
            Question {
                prompt: "At xv6's sys_write (ls printing its listing), in which ring does the CPU really run xv6's kernel, and in which ring does xv6 believe it runs?",
                moment: Moment::Symbol {
                    symbol: "sys_write",
                },
                answer: |m, i, _| {
                    answer(|| {
                        let v = vm(m, i)?;
                        Ok(format!(
                            "ring {}, ring {}: the hypervisor runs xv6's kernel deprivileged, and the virtual CPU it shows xv6 says ring {}",
                            v.real.ring, v.virtual_cpu.ring, v.virtual_cpu.ring
                        ))
                    })
                },
            },
            Question {
                prompt: "Where in the machine's memory is xv6's physical address 0?",
                moment: Moment::Symbol {
                    symbol: "sys_write",
                },
                answer: |m, i, _| {
                    answer(|| {
                        let v = vm(m, i)?;
                        Ok(format!(
                            "{} ({} MiB): the hypervisor gave the guest {} MiB of guest-physical memory from there",
                            hex(v.guest_base),
                            v.guest_base >> 20,
                            v.guest_size >> 20
                        ))
                    })
                },
            },
            Question {
                prompt: "Which page directory does xv6 believe CR3 holds, and which one does the MMU really walk?",
                moment: Moment::Symbol {
                    symbol: "sys_write",
                },
                answer: |m, i, _| {
                    answer(|| {
                        let v = vm(m, i)?;
                        Ok(format!(
                            "{}, {}: xv6's own (guest-physical) and the hypervisor's shadow (host-physical)",
                            hex(v.virtual_cpu.cr3),
                            hex(v.real.cr3)
                        ))
                    })
                },
            },
        ],
        panels: &[Panel::VirtualMachine, Panel::Registers, Panel::Console],
    },
    Lesson {
        id: "vm-trap-emulate",
        title: "Virtualization: trap and emulate",
        concept: "Trap and emulate: a privileged instruction in the deprivileged guest faults into the VMM, which performs its effect on the virtual CPU and resumes the guest after it.",
        paragraphs: &[
            "In ring 1, xv6's privileged instructions (cli, sti, mov to CR3, lgdt, hlt) and its port I/O fault with a general protection fault. The fault is a VM exit: the CPU enters the hypervisor, which decodes the instruction, does to the virtual CPU what it would have done to the real one (cli clears the virtual IF; in reads the device), steps the guest's EIP past it, and returns into the guest.",
            "The VM exits panel lists each exit with its reason, the guest's instruction and its C line. The lesson has typed `ls`: predict, then reveal.",
        ],
        setup: Setup::Vmm {
            typed: "ls\n",
            pure: false,
        },
        breakpoints: &[Moment::Exit {
            reason: ExitReason::Privileged,
            nth: 1,
        }],
        questions: &[
            Question {
                prompt: "From the lesson's start (sh finishing its prompt, the keys the lesson typed on their way), which privileged instruction of xv6's exits first, and in which function?",
                moment: Moment::Exit {
                    reason: ExitReason::Privileged,
                    nth: 1,
                },
                answer: |m, i, _| {
                    answer(|| {
                        let e = latest(m, i)?;
                        Ok(format!(
                            "{}, {}: it faulted in ring 1 and the hypervisor emulated it on the virtual CPU",
                            e.instruction.clone().unwrap_or_else(|| "?".into()),
                            function(&e)
                        ))
                    })
                },
            },
            Question {
                prompt: "From the lesson's start, which port does the first port I/O exit read or write, and which device is it?",
                moment: Moment::Exit {
                    reason: ExitReason::PortIo,
                    nth: 1,
                },
                answer: |m, i, _| {
                    answer(|| {
                        let e = latest(m, i)?;
                        Ok(format!(
                            "{}, {}: {} in {} exits, and the hypervisor passes it to the board's device",
                            hex(e.info),
                            e.device.map_or("no device", |d| d.words()),
                            e.instruction.clone().unwrap_or_else(|| "?".into()),
                            function(&e)
                        ))
                    })
                },
            },
        ],
        panels: &[Panel::VmExits, Panel::VirtualMachine, Panel::Code],
    },
    Lesson {
        id: "vm-popek-goldberg",
        title: "Virtualization: Popek and Goldberg, and why x86 breaks pure trap and emulate",
        concept: "Popek–Goldberg: a machine is classically virtualizable if every sensitive instruction is privileged (traps). x86's pushf/popf read and write IF without trapping in ring 1, so pure trap and emulate fails.",
        paragraphs: &[
            "Here the hypervisor runs xv6 by pure trap and emulate: nothing of xv6 is changed. Its cli in ring 1 traps, and the hypervisor clears the virtual IF, but the real IF stays on, so that the hypervisor keeps its interrupts.",
            "xv6's readeflags() is a pushfl: sensitive (it reads IF) but not privileged (it does not trap in ring 1). So xv6 reads the real IF, 1, where its virtual CPU says 0. Run, and see where xv6 notices.",
        ],
        setup: Setup::Vmm {
            typed: "",
            pure: true,
        },
        breakpoints: &[Moment::Symbol { symbol: "panic" }],
        questions: &[
            Question {
                prompt: "xv6 panics during its boot. Which function calls panic, and which calls led there?",
                moment: Moment::Symbol { symbol: "panic" },
                answer: |m, i, _| {
                    let chain: Vec<String> = call_stack(m, i, 8)
                        .into_iter()
                        .skip(1)
                        .filter_map(|p| p.inlined.or(p.symbol))
                        .collect();
                    format!(
                        "{}: its readeflags() (pushfl) saw interrupts enabled",
                        chain.join(" ← ")
                    )
                },
            },
            Question {
                prompt: "At the panic, what is the real IF, and what is the interrupt flag of xv6's virtual CPU?",
                moment: Moment::Symbol { symbol: "panic" },
                answer: |m, i, _| {
                    answer(|| {
                        let v = vm(m, i)?;
                        let flag = |on: bool| {
                            if on { "1 (enabled)" } else { "0 (disabled)" }
                        };
                        Ok(format!(
                            "{}, {}: pushfl in ring 1 reads the real flag without trapping; only the virtual one was cleared",
                            flag(v.real.interrupts_enabled),
                            flag(v.virtual_cpu.interrupts_enabled)
                        ))
                    })
                },
            },
        ],
        panels: &[Panel::VirtualMachine, Panel::Code, Panel::Console],
    },
    Lesson {
        id: "vm-patching",
        title: "Virtualization: the remedy, patching the sensitive instructions",
        concept: "Binary translation (here, patching): the VMM rewrites the guest's sensitive non-trapping instructions into ones that trap, and emulates them.",
        paragraphs: &[
            "Before xv6 runs, the hypervisor sweeps xv6's code from each function's start (with its own instruction-length decoder) and rewrites every pushfl and popfl (pushfd and popfd in the Code panel's NASM syntax) into int3, a one-byte instruction that traps. Its exit is emulated: pushfl pushes the guest's flags with the virtual IF.",
            "xv6 now boots to its prompt. The lesson has typed `ls`.",
        ],
        setup: Setup::Vmm {
            typed: "ls\n",
            pure: false,
        },
        breakpoints: &[Moment::Exit {
            reason: ExitReason::Patched,
            nth: 1,
        }],
        questions: &[Question {
            prompt: "From the lesson's start, which rewritten instruction exits first, in which function, and what does the guest's memory hold there now?",
            moment: Moment::Exit {
                reason: ExitReason::Patched,
                nth: 1,
            },
            answer: |m, i, _| {
                answer(|| {
                    let e = latest(m, i)?;
                    let original = e.original.clone().unwrap_or_else(|| "?".into());
                    // xv6's source writes it as GNU as does (pushfl), the
                    // Code panel as NASM does (pushfd): both name it.
                    let gnu = original
                        .strip_suffix('d')
                        .map_or_else(|| original.clone(), |s| format!("{s}l"));
                    Ok(format!(
                        "{gnu} ({original}), {}, {}: the hypervisor rewrote it before xv6 ran, and emulates it with the virtual IF",
                        function(&e),
                        e.instruction.clone().unwrap_or_else(|| "?".into())
                    ))
                })
            },
        }],
        panels: &[Panel::VmExits, Panel::VirtualMachine, Panel::Code],
    },
    Lesson {
        id: "vm-rings",
        title: "Virtualization: ring compression",
        concept: "Ring compression: the guest kernel runs in ring 1, not 0; the VMM hides the difference where the guest looks (the CS in a trap frame).",
        paragraphs: &[
            "The hypervisor copies xv6's GDT into the real one with each ring-0 descriptor made ring 1, so xv6's kernel runs with CS's low bits 1. xv6 checks (tf->cs & 3) in trap() to tell a trap from user mode from one in the kernel: the hypervisor delivers each interrupt into xv6's own IDT handler with the CS xv6 believes (ring 0) in the frame.",
            "The lesson has typed `ls`.",
        ],
        setup: Setup::Vmm {
            typed: "ls\n",
            pure: false,
        },
        breakpoints: &[Moment::Symbol {
            symbol: "sys_write",
        }],
        questions: &[Question {
            prompt: "At sys_write, what is the real CS's ring, and what does xv6's own GDT say its kernel code segment's ring is?",
            moment: Moment::Symbol {
                symbol: "sys_write",
            },
            answer: |m, i, _| {
                answer(|| {
                    let cs = m.cpu().sreg(Seg::Cs);
                    let v = vm(m, i)?;
                    // The descriptor's high word in xv6's own GDT, read
                    // through its page tables and the hypervisor's map.
                    let at = v.virtual_cpu.gdt_base + u32::from(cs >> 3) * 8 + 4;
                    let host = i
                        .translate_three(m, at)
                        .and_then(|t| t.host)
                        .ok_or_else(|| format!("xv6's GDT at {} is not mapped", hex(at)))?;
                    let dpl = (m.mem().read(host, 4) >> 13) & 3;
                    Ok(format!(
                        "{}, {dpl}: CS is {}, a selector of the hypervisor's GDT whose descriptor it copied from xv6's with ring 0 made ring 1",
                        rpl(cs),
                        hex(cs.into())
                    ))
                })
            },
        }],
        panels: &[Panel::VirtualMachine, Panel::Registers, Panel::KernelStack],
    },
    Lesson {
        id: "vm-interrupts",
        title: "Virtualization: interrupts go to the hypervisor first",
        concept: "Interrupt virtualization: a device's interrupt enters the VMM, which injects it into the guest through the guest's IDT when the virtual IF allows.",
        paragraphs: &[
            "A timer tick or a key press interrupts whatever runs: the CPU enters the hypervisor through the real IDT. The hypervisor acknowledges it, and if xv6's virtual IF is on, builds the frame xv6's CPU would have pushed and jumps to xv6's own handler (vector32 for the timer); if it is off, it holds it until xv6's sti (an exit too) and delivers it then. The Virtual machine panel shows the virtual IF; the VM exits panel each interrupt taken.",
        ],
        setup: Setup::Vmm {
            typed: "",
            pure: false,
        },
        breakpoints: &[
            Moment::Exit {
                reason: ExitReason::Interrupt,
                nth: 1,
            },
            Moment::Symbol { symbol: "vector32" },
        ],
        questions: &[
            Question {
                prompt: "At xv6's prompt, the first interrupt the hypervisor takes: which vector, and which device raised it?",
                moment: Moment::Exit {
                    reason: ExitReason::Interrupt,
                    nth: 1,
                },
                answer: |m, i, _| {
                    answer(|| {
                        let e = latest(m, i)?;
                        let vector = u8::try_from(e.info).map_err(|_| "no vector".to_string())?;
                        let device = m
                            .bus()
                            .source_of_vector(vector)
                            .map_or("no device", |s| s.device.words());
                        Ok(format!(
                            "{}, {}: the hypervisor takes it first; it delivers it through xv6's IDT to {} once xv6's virtual IF is on",
                            e.info,
                            device,
                            i.idt(m)
                                .get(usize::from(vector))
                                .and_then(|g| g.handler_symbol.clone())
                                .unwrap_or_else(|| "its handler".into())
                        ))
                    })
                },
            },
            Question {
                prompt: "When xv6's vector32 first runs, which of xv6's instructions let the hypervisor deliver the tick, and in which function?",
                moment: Moment::Symbol { symbol: "vector32" },
                answer: |m, i, _| {
                    answer(|| {
                        let e = latest(m, i)?;
                        Ok(format!(
                            "{}, {}: the hypervisor held the tick while xv6's virtual IF was off, and delivered it at this exit",
                            e.instruction.clone().unwrap_or_else(|| "?".into()),
                            function(&e)
                        ))
                    })
                },
            },
        ],
        panels: &[Panel::VmExits, Panel::VirtualMachine, Panel::Idt],
    },
    Lesson {
        id: "vm-shadow",
        title: "Virtualization: shadow page tables",
        concept: "Memory virtualization: guest virtual → guest physical (the guest's tables) → host physical (the VMM's map); the MMU walks shadow tables the VMM builds, filling them on hidden page faults.",
        paragraphs: &[
            "xv6's page tables map its virtual addresses to guest-physical ones, which are not the machine's. The hypervisor keeps a shadow page directory, the one CR3 really holds: empty after each of xv6's CR3 writes, and filled entry by entry as the guest touches pages. A miss is a hidden page fault: the hypervisor walks xv6's tables, adds its guest base, fills the shadow and resumes; the guest never sees it. A page xv6 itself has not mapped is a true fault, reflected into xv6's handler.",
            "The Three page tables panel follows one address through all three. The lesson has typed `ls`.",
        ],
        setup: Setup::Vmm {
            typed: "ls\n",
            pure: false,
        },
        breakpoints: &[Moment::Symbol { symbol: "sys_exec" }],
        questions: &[Question {
            prompt: "When the shell's child reaches sys_exec, how many user pages (PTE_U) does xv6's page table map for it, and how many of them does the shadow hold?",
            moment: Moment::Symbol { symbol: "sys_exec" },
            answer: |m, i, _| {
                answer(|| {
                    let t = i.three_tables(m).ok_or_else(|| NO_VM.to_string())?;
                    let user: Vec<_> = t
                        .rows
                        .iter()
                        .filter(|r| r.guest_pte & Pte::USER != 0)
                        .collect();
                    let filled = user.iter().filter(|r| r.shadow_pte.is_some()).count();
                    Ok(format!(
                        "{}, {filled}: the shadow was emptied at the last CR3 write and holds only the pages touched since",
                        user.len()
                    ))
                })
            },
        }],
        panels: &[Panel::ThreeTables, Panel::VmExits, Panel::PageWalk],
    },
    Lesson {
        id: "vm-io",
        title: "Virtualization: I/O by device emulation",
        concept: "I/O virtualization: each of the guest's port accesses traps to the VMM, which emulates the device or passes the access to a real one.",
        paragraphs: &[
            "xv6 drives the IDE disk through its ports: idestart writes the sector number and the command, ideintr reads the status. Each in and out exits; the hypervisor passes it to the board's disk, and forwards the disk's interrupt into xv6.",
            "The lesson has typed `cat README`: its blocks come from the disk.",
        ],
        setup: Setup::Vmm {
            typed: "cat README\n",
            pure: false,
        },
        breakpoints: &[Moment::Symbol { symbol: "ideintr" }],
        questions: &[Question {
            prompt: "When xv6's ideintr runs for the first read, which interrupt did the hypervisor inject, and which device raised it?",
            moment: Moment::Symbol { symbol: "ideintr" },
            answer: |m, i, _| {
                answer(|| {
                    let v = vm(m, i)?;
                    let e = v
                        .recent
                        .iter()
                        .rev()
                        .find(|e| e.reason == ExitReason::Interrupt)
                        .ok_or_else(|| "no interrupt in the hypervisor's log".to_string())?;
                    let source = u8::try_from(e.info)
                        .ok()
                        .and_then(|v| m.bus().source_of_vector(v));
                    let device = source.map_or("no device", |s| s.device.words());
                    let line = source
                        .and_then(|s| s.line)
                        .map_or(String::new(), |l| format!(" (IRQ {l})"));
                    Ok(format!(
                        "{}{line}, {device}: the disk's interrupt entered the hypervisor, which delivered it into xv6's handler",
                        e.info
                    ))
                })
            },
        }],
        panels: &[Panel::VmExits, Panel::Events, Panel::Console],
    },
    Lesson {
        id: "vm-cost",
        title: "Virtualization: the cost of trap and emulate",
        concept: "The cost of virtualization: every exit costs the VMM's instructions; hardware support (VT-x, EPT) removes most exits.",
        paragraphs: &[
            "Count the exits while a command runs, by reason: the patched pushfl/popfl of xv6's pushcli and popcli, its cli and sti, the hidden page faults after each CR3 write, the port I/O and the interrupts. The Virtual machine panel counts them, and the steps the hypervisor spent handling them (it times each exit with rdtsc, which counts the machine's steps): compare with the xv6 lessons without the hypervisor. The lesson has typed `echo hi`.",
        ],
        setup: Setup::Vmm {
            typed: "echo hi\n",
            pure: false,
        },
        breakpoints: &[Moment::Symbol { symbol: "exit" }],
        questions: &[Question {
            prompt: "When echo calls exit, which exit reason has the hypervisor counted most since it booted?",
            moment: Moment::Symbol { symbol: "exit" },
            answer: |m, i, _| {
                answer(|| {
                    let v = vm(m, i)?;
                    let (top, n) = v
                        .by_reason
                        .iter()
                        .max_by_key(|(_, n)| *n)
                        .copied()
                        .ok_or_else(|| "no exits".to_string())?;
                    Ok(format!(
                        "{}: {n} of {} exits, {:.1} per 1,000 of the guest's own steps; the hypervisor's handling took {:.0}% of the machine's {} steps",
                        top.label(),
                        v.exits,
                        v.exits_per_thousand(m.steps()),
                        v.vmm_steps as f64 * 100.0 / m.steps().max(1) as f64,
                        m.steps()
                    ))
                })
            },
        }],
        panels: &[Panel::VirtualMachine, Panel::VmExits, Panel::Console],
    },
];
