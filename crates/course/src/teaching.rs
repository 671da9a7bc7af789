//! The built-in lessons: one per concept of the course, each a few
//! paragraphs for students, the programs to run, suggested breakpoints, and
//! predict-then-reveal questions whose answers the machine computes.

use crate::lesson::{Lesson, Moment, Question, Setup};
use crate::panel::Panel;
use osviz_kernel::{KERNBASE, programs};
use osviz_machine::{Event, EventKind, Machine};
use osviz_view::KernelView;

fn current_pid_answer(m: &Machine, i: &dyn KernelView, _: &[Event]) -> String {
    current_pid(m, i)
}

fn hex(v: u32) -> String {
    format!("{v:#010x}")
}

fn current_pid(m: &Machine, i: &dyn KernelView) -> String {
    i.current(m)
        .map_or("none (the scheduler)".to_string(), |p| p.pid.to_string())
}

/// Every lesson, in course order; the playground last.
pub const TEACHING_LESSONS: &[Lesson] = &[
    Lesson {
        id: "memory-image",
        title: "The memory image and the CPU context",
        concept: "A process is a running program: its memory image (code, data, heap, stack) and the CPU registers while it runs.",
        paragraphs: &[
            "When the kernel starts a program it copies the program's code and data into fresh pages at address 0x1000; page 0 stays unmapped so that a null pointer faults.",
            "Above the program sits the heap, which grows when the program asks with sbrk. The stack lives just below 0x80000000 and grows down. Everything from 0x80000000 up is the kernel, mapped into every process but out of reach from user mode.",
            "While the process runs, EIP points at its next instruction and ESP at the top of its stack: together with the other registers they are its CPU context.",
        ],
        breakpoints: &[Moment::Symbol { symbol: "show" }],
        questions: &[
            Question {
                prompt: "When the program reaches `show`, what will ESP be?",
                moment: Moment::Symbol { symbol: "show" },
                answer: |m, _, _| hex(m.cpu().gpr[4]),
            },
            Question {
                prompt: "Where does the heap start (the address sbrk returned)?",
                moment: Moment::Symbol { symbol: "show" },
                answer: |m, _, _| hex(m.cpu().gpr[3]),
            },
        ],
        panels: &[Panel::MemoryImage, Panel::Registers, Panel::Code],
        setup: Setup::Teaching {
            programs: &[programs::IMAGE],
            expected_output: "heap starts at ",
        },
    },
    Lesson {
        id: "translation-tlb",
        title: "Address translation and the TLB",
        concept: "Every virtual address is translated to a physical one; the TLB caches recent translations.",
        paragraphs: &[
            "The program stores one value in each of eight pages, four times over. On the first pass every store misses the TLB: the CPU walks the page tables, then fills a TLB entry.",
            "On later passes the translations are still in the TLB and the stores hit. Watch the hit and miss counters, and the entries the TLB panel shows.",
        ],
        breakpoints: &[
            Moment::Symbol {
                symbol: "start.store",
            },
            Moment::Event {
                event: EventKind::TlbMiss,
                nth: 1,
            },
        ],
        questions: &[Question {
            prompt: "The store at `.store` writes to [ESI]. Which physical frame will it touch?",
            moment: Moment::Symbol {
                symbol: "start.store",
            },
            answer: |m, _, _| {
                let esi = m.cpu().gpr[6];
                match m.peek_translate(esi) {
                    Some(pa) => format!("frame {:#x}", pa >> 12),
                    None => "none yet (not mapped): the store will fault and the kernel will map a frame".to_string(),
                }
            },
        }],
        panels: &[Panel::Tlb, Panel::PageWalk, Panel::Code],
        setup: Setup::Teaching {
            programs: &[programs::TLB],
            expected_output: "8 pages, 4 passes",
        },
    },
    Lesson {
        id: "two-level",
        title: "Two-level page tables",
        concept: "A page directory of 1,024 entries points to page tables of 1,024 entries each; only the regions in use need a table.",
        paragraphs: &[
            "A virtual address splits into 10 bits of directory index, 10 bits of table index and 12 bits of offset. A process that uses a little memory near 0 and a little near 0x80000000 needs only two page tables, not the whole 4 MiB a flat table would take.",
            "This program also touches the far end of a large heap: a third region, a third table.",
        ],
        breakpoints: &[
            Moment::Symbol { symbol: "far" },
            Moment::Symbol { symbol: "counted" },
        ],
        questions: &[Question {
            prompt: "Once the stack is touched too (at `counted`), how many page tables does this process have below the kernel?",
            moment: Moment::Symbol { symbol: "counted" },
            answer: |m, i, _| {
                let Some(p) = i.current(m) else {
                    return "no process".into();
                };
                let tables = (0..(KERNBASE >> 22))
                    .filter(|d| m.mem().read(p.pgdir + d * 4, 4) & 1 != 0)
                    .count();
                tables.to_string()
            },
        }],
        panels: &[Panel::PageTables, Panel::PageWalk, Panel::MemoryImage],
        setup: Setup::Teaching {
            programs: &[programs::TWOLEVEL],
            expected_output: "three regions touched",
        },
    },
    Lesson {
        id: "demand-paging",
        title: "Demand paging",
        concept: "Pages are given a frame only when first touched: the page fault handler allocates it and the instruction restarts.",
        paragraphs: &[
            "sbrk only moves the end of the heap; no frame is allocated. The first touch of each new page finds a page table entry that is not present: the CPU raises a page fault (vector 14) with the address in CR2.",
            "The kernel's handler sees the address is inside the heap (or the stack), takes a free frame, maps it, and returns with iret. The faulting instruction runs again, and this time succeeds.",
        ],
        breakpoints: &[Moment::Event {
            event: EventKind::PageFault,
            nth: 1,
        }],
        questions: &[
            Question {
                prompt: "At the first page fault, which address faulted (CR2)?",
                moment: Moment::Event {
                    event: EventKind::PageFault,
                    nth: 1,
                },
                answer: |m, _, _| hex(m.cpu().cr2),
            },
            Question {
                prompt: "What error code did the CPU push (bit 0 present, bit 1 write, bit 2 user)?",
                moment: Moment::Event {
                    event: EventKind::PageFault,
                    nth: 1,
                },
                answer: |_, _, events| {
                    events
                        .iter()
                        .find_map(|e| match e {
                            Event::PageFault { error_code, .. } => Some(format!("{error_code:#x}")),
                            _ => None,
                        })
                        .unwrap_or_default()
                },
            },
        ],
        panels: &[Panel::PhysicalFrames, Panel::PageWalk, Panel::MemoryImage],
        setup: Setup::Teaching {
            programs: &[programs::HEAP],
            expected_output: "heap sum 7
stack ok
",
        },
    },
    Lesson {
        id: "user-kernel-mode",
        title: "User mode, kernel mode and privileged instructions",
        concept: "User code runs in ring 3; privileged instructions there raise a general protection fault and the kernel decides.",
        paragraphs: &[
            "The CPU's current privilege level is the low two bits of CS: 3 for user code, 0 for the kernel. Instructions that could take over the machine (cli, hlt, mov to CR3, in, out) are refused in ring 3.",
            "This program tries cli. The CPU raises vector 13, a general protection fault, switches to the kernel stack, and the kernel kills the process with a message.",
        ],
        breakpoints: &[Moment::Trap { vector: 13 }],
        questions: &[Question {
            prompt: "When the CPU refuses cli, which vector does it raise?",
            moment: Moment::Trap { vector: 13 },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::TrapEntry { vector, .. } => Some(vector.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default()
            },
        }],
        panels: &[Panel::Idt, Panel::Registers, Panel::Code],
        setup: Setup::Teaching {
            programs: &[programs::PRIVILEGED],
            expected_output: "general protection fault: pid 1",
        },
    },
    Lesson {
        id: "system-call",
        title: "A system call through the IDT",
        concept: "`int 0x40` enters the kernel through the IDT: the gate's privilege check, the stack switch from the TSS, the trap frame, and iret back.",
        paragraphs: &[
            "The program puts the call number in EAX and its arguments in EBX and ECX, then executes int 0x40. The gate for vector 0x40 has DPL 3, so ring 3 may use it.",
            "The CPU loads the kernel stack pointer from the TSS (ESP0), pushes the user SS, ESP, EFLAGS, CS and EIP there, and jumps to the handler. The vector stub and the entry code push the rest of the trap frame; the kernel reads the arguments from it, and iret returns to user mode.",
        ],
        breakpoints: &[Moment::Trap { vector: 0x40 }],
        questions: &[Question {
            prompt: "On the first system call, to which ESP does the CPU switch (the TSS's ESP0)?",
            moment: Moment::Trap { vector: 0x40 },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::TrapEntry {
                            stack_switch: Some(sw),
                            ..
                        } => Some(hex(sw.new_esp)),
                        _ => None,
                    })
                    .unwrap_or_default()
            },
        }],
        panels: &[Panel::Idt, Panel::KernelStack, Panel::Code],
        setup: Setup::Teaching {
            programs: &[programs::HELLO],
            expected_output: "hello from pid 1
",
        },
    },
    Lesson {
        id: "context-switch",
        title: "A timer interrupt and a context switch",
        concept: "The timer interrupts the running process; the kernel saves its context in its PCB's kernel stack and switches to the next.",
        paragraphs: &[
            "Two processes each print their pid in a busy loop. Every time slice the timer raises vector 32. The kernel's handler calls yield: the process becomes runnable and swtch saves its callee-saved registers on its kernel stack, then switches ESP to the scheduler's stack.",
            "The scheduler picks the next runnable process, loads its page directory into CR3 and its kernel stack top into the TSS, and swtch switches ESP to that process's kernel stack; returning from the timer interrupt there resumes the other program.",
        ],
        breakpoints: &[Moment::Event {
            event: EventKind::Cr3Write,
            nth: 3,
        }],
        questions: &[Question {
            prompt: "After the scheduler's third CR3 write, which process will run?",
            moment: Moment::Event {
                event: EventKind::Cr3Write,
                nth: 4,
            },
            answer: current_pid_answer,
        }],
        panels: &[Panel::Timeline, Panel::Processes, Panel::KernelStack],
        setup: Setup::Teaching {
            programs: &[programs::SPIN, programs::SPIN],
            expected_output: "1212",
        },
    },
    Lesson {
        id: "blocking-io",
        title: "Blocking I/O with DMA and an interrupt",
        concept: "A process that waits for a device sleeps; the scheduler runs another; the device's interrupt wakes the sleeper.",
        paragraphs: &[
            "The first program asks to read a disk block. The kernel tells the disk the block number and the physical address of its buffer, then puts the process to sleep: it cannot continue until the data is there.",
            "Meanwhile the second program runs. The disk copies the block into memory by DMA, without the CPU, and raises its interrupt (vector 46). The handler wakes the sleeper, which later copies the block to its own buffer and prints it.",
        ],
        breakpoints: &[
            Moment::Event {
                event: EventKind::DiskRequest,
                nth: 1,
            },
            Moment::Event {
                event: EventKind::Dma,
                nth: 1,
            },
        ],
        questions: &[Question {
            prompt: "When the DMA transfer happens, to which physical address does the disk write?",
            moment: Moment::Event {
                event: EventKind::Dma,
                nth: 1,
            },
            answer: |_, _, events| {
                events
                    .iter()
                    .find_map(|e| match e {
                        Event::Dma { addr, .. } => Some(hex(*addr)),
                        _ => None,
                    })
                    .unwrap_or_default()
            },
        }],
        panels: &[Panel::Timeline, Panel::Processes, Panel::Events],
        setup: Setup::Teaching {
            programs: &[programs::DISKREAD, programs::SPIN],
            expected_output: "osviz disk",
        },
    },
    Lesson {
        id: "playground",
        title: "Playground",
        concept: "Your own program on the kernel.",
        paragraphs: &[
            "Edit the program and run it. It starts at 0x1000 in ring 3; include user.inc for the system call numbers and ulib.inc (at the end) for print, print_dec and exit.",
        ],
        breakpoints: &[],
        questions: &[],
        panels: &[Panel::Code, Panel::Registers, Panel::Processes],
        setup: Setup::Teaching {
            programs: &[programs::HELLO],
            expected_output: "hello from pid 1
",
        },
    },
];
