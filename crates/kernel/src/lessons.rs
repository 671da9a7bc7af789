//! The built-in lessons: one per concept of the course, each a few
//! paragraphs for students, the programs to run, suggested breakpoints, and
//! predict-then-reveal questions whose answers the machine computes.

use crate::introspect::KernelView;
use crate::{KERNBASE, Program, System, programs};
use osviz_machine::{Event, EventKind, Machine, StopReason};
use serde::Serialize;

/// A point in a run a lesson stops at.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Moment {
    /// The `nth` (from 1) step that produces an event of this kind.
    Event { event: EventKind, nth: u32 },
    /// The first time EIP reaches this symbol of the lesson's first program.
    Symbol { symbol: &'static str },
    /// The first trap through this vector.
    Trap { vector: u8 },
}

/// A question asked before running to a moment, answered by the machine there.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Question {
    pub prompt: &'static str,
    pub moment: Moment,
    /// Computes the answer from the system and the events of the step that
    /// reached the moment.
    #[serde(skip)]
    pub answer: fn(&Machine, &dyn KernelView, &[Event]) -> String,
}

/// A lesson.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The concept of the course material it shows.
    pub concept: &'static str,
    pub paragraphs: &'static [&'static str],
    pub programs: &'static [Program],
    pub breakpoints: &'static [Moment],
    pub questions: &'static [Question],
    /// Text the console shows by the end of the run.
    pub expected_output: &'static str,
    /// The panels that show this lesson's concept, the key one first: what
    /// projector mode opens with (the lesson text and the console are
    /// always there).
    pub panels: &'static [&'static str],
    /// The kernel the lesson runs.
    pub kernel: Kernel,
    /// What the lesson types at the shell's prompt before its moments (xv6
    /// lessons; the teaching kernel's programs need no input).
    pub typed: &'static str,
}

/// The kernels a lesson can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// osviz's own teaching kernel, with the lesson's programs.
    Teaching,
    /// xv6 (the build the page serves, or one the student opened).
    Xv6,
}

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
pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "memory-image",
        title: "The memory image and the CPU context",
        concept: "A process is a running program: its memory image (code, data, heap, stack) and the CPU registers while it runs.",
        paragraphs: &[
            "When the kernel starts a program it copies the program's code and data into fresh pages at address 0x1000; page 0 stays unmapped so that a null pointer faults.",
            "Above the program sits the heap, which grows when the program asks with sbrk. The stack lives just below 0x80000000 and grows down. Everything from 0x80000000 up is the kernel, mapped into every process but out of reach from user mode.",
            "While the process runs, EIP points at its next instruction and ESP at the top of its stack: together with the other registers they are its CPU context.",
        ],
        programs: &[programs::IMAGE],
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
        expected_output: "heap starts at ",
        panels: &["Memory image", "Registers", "Code"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "translation-tlb",
        title: "Address translation and the TLB",
        concept: "Every virtual address is translated to a physical one; the TLB caches recent translations.",
        paragraphs: &[
            "The program stores one value in each of eight pages, four times over. On the first pass every store misses the TLB: the CPU walks the page tables, then fills a TLB entry.",
            "On later passes the translations are still in the TLB and the stores hit. Watch the hit and miss counters, and the entries the TLB panel shows.",
        ],
        programs: &[programs::TLB],
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
                    None => "none yet: the page is not mapped, so the store will fault and the kernel will map a frame".to_string(),
                }
            },
        }],
        expected_output: "8 pages, 4 passes",
        panels: &["TLB", "Page walk", "Code"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "two-level",
        title: "Two-level page tables",
        concept: "A page directory of 1,024 entries points to page tables of 1,024 entries each; only the regions in use need a table.",
        paragraphs: &[
            "A virtual address splits into 10 bits of directory index, 10 bits of table index and 12 bits of offset. A process that uses a little memory near 0 and a little near 0x80000000 needs only two page tables, not the whole 4 MiB a flat table would take.",
            "This program also touches the far end of a large heap: a third region, a third table.",
        ],
        programs: &[programs::TWOLEVEL],
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
        expected_output: "three regions touched",
        panels: &["Page tables", "Page walk", "Memory image"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "demand-paging",
        title: "Demand paging",
        concept: "Pages are given a frame only when first touched: the page fault handler allocates it and the instruction restarts.",
        paragraphs: &[
            "sbrk only moves the end of the heap; no frame is allocated. The first touch of each new page finds a page table entry that is not present: the CPU raises a page fault (vector 14) with the address in CR2.",
            "The kernel's handler sees the address is inside the heap (or the stack), takes a free frame, maps it, and returns with iret. The faulting instruction runs again, and this time succeeds.",
        ],
        programs: &[programs::HEAP],
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
        expected_output: "heap sum 7\nstack ok\n",
        panels: &["Physical frames", "Page walk", "Memory image"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "user-kernel-mode",
        title: "User mode, kernel mode and privileged instructions",
        concept: "User code runs in ring 3; privileged instructions there raise a general protection fault and the kernel decides.",
        paragraphs: &[
            "The CPU's current privilege level is the low two bits of CS: 3 for user code, 0 for the kernel. Instructions that could take over the machine (cli, hlt, mov to CR3, in, out) are refused in ring 3.",
            "This program tries cli. The CPU raises vector 13, a general protection fault, switches to the kernel stack, and the kernel kills the process with a message.",
        ],
        programs: &[programs::PRIVILEGED],
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
        expected_output: "general protection fault: pid 1",
        panels: &["IDT", "Registers", "Code"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "system-call",
        title: "A system call through the IDT",
        concept: "`int 0x40` enters the kernel through the IDT: the gate's privilege check, the stack switch from the TSS, the trap frame, and iret back.",
        paragraphs: &[
            "The program puts the call number in EAX and its arguments in EBX and ECX, then executes int 0x40. The gate for vector 0x40 has DPL 3, so ring 3 may use it.",
            "The CPU loads the kernel stack pointer from the TSS (ESP0), pushes the user SS, ESP, EFLAGS, CS and EIP there, and jumps to the handler. The vector stub and the entry code push the rest of the trap frame; the kernel reads the arguments from it, and iret returns to user mode.",
        ],
        programs: &[programs::HELLO],
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
        expected_output: "hello from pid 1\n",
        panels: &["IDT", "Kernel stack", "Code"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "context-switch",
        title: "A timer interrupt and a context switch",
        concept: "The timer interrupts the running process; the kernel saves its context in its PCB's kernel stack and switches to the next.",
        paragraphs: &[
            "Two processes each print their pid in a busy loop. Every time slice the timer raises vector 32. The kernel's handler calls yield: the process becomes runnable and swtch saves its callee-saved registers on its kernel stack, then switches ESP to the scheduler's stack.",
            "The scheduler picks the next runnable process, loads its page directory into CR3 and its kernel stack top into the TSS, and swtch switches ESP to that process's kernel stack; returning from the timer interrupt there resumes the other program.",
        ],
        programs: &[programs::SPIN, programs::SPIN],
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
        expected_output: "1212",
        panels: &["Timeline", "Processes", "Kernel stack"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "blocking-io",
        title: "Blocking I/O with DMA and an interrupt",
        concept: "A process that waits for a device sleeps; the scheduler runs another; the device's interrupt wakes the sleeper.",
        paragraphs: &[
            "The first program asks to read a disk block. The kernel tells the disk the block number and the physical address of its buffer, then puts the process to sleep: it cannot continue until the data is there.",
            "Meanwhile the second program runs. The disk copies the block into memory by DMA, without the CPU, and raises its interrupt (vector 46). The handler wakes the sleeper, which later copies the block to its own buffer and prints it.",
        ],
        programs: &[programs::DISKREAD, programs::SPIN],
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
        expected_output: "osviz disk",
        panels: &["Timeline", "Processes", "Events"],
        kernel: Kernel::Teaching,
        typed: "",
    },
    Lesson {
        id: "playground",
        title: "Playground",
        concept: "Your own program on the kernel.",
        paragraphs: &[
            "Edit the program and run it. It starts at 0x1000 in ring 3; include user.inc for the system call numbers and ulib.inc (at the end) for print, print_dec and exit.",
        ],
        programs: &[programs::HELLO],
        breakpoints: &[],
        questions: &[],
        expected_output: "hello from pid 1\n",
        panels: &["Code", "Registers", "Processes"],
        kernel: Kernel::Teaching,
        typed: "",
    },
];

/// The lesson with this id.
/// A lesson of either kernel by its id.
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    all().find(|l| l.id == id)
}

/// Every lesson: the teaching kernel's, then xv6's.
pub fn all() -> impl Iterator<Item = &'static Lesson> {
    LESSONS.iter().chain(crate::xv6_lessons::XV6_LESSONS)
}

/// The disk contents every lesson boots with: block 1 holds a line of text.
pub fn disk_image() -> Vec<u8> {
    let mut disk = vec![0u8; 2 * 512];
    let text = b"osviz disk: block 1, read by DMA\n";
    disk[512..512 + text.len()].copy_from_slice(text);
    disk
}

impl Lesson {
    /// Boots the lesson's programs, with its disk.
    pub fn boot(&self) -> Result<System, crate::BootError> {
        let mut system = System::boot(self.programs)?;
        system
            .machine
            .load_disk(&disk_image())
            .map_err(|e| crate::BootError::TooLarge(e.to_string()))?;
        Ok(system)
    }
}

/// Runs `system` to `moment` (at most `max_steps` steps); returns the
/// events of the step that reached it. Recording is turned on.
pub fn run_to(
    m: &mut Machine,
    view: &dyn KernelView,
    moment: Moment,
    max_steps: u64,
) -> Result<Vec<Event>, String> {
    let symbol_addr = match moment {
        Moment::Symbol { symbol } => Some(
            view.code_address(symbol)
                .ok_or_else(|| format!("no symbol `{symbol}` in the lesson's program"))?,
        ),
        _ => None,
    };
    // The student's breakpoints and break-on choice must not stop the run
    // short of the moment.
    m.with_breaks_set_aside(|m| run_machine_to(m, moment, symbol_addr, max_steps))
}

fn run_machine_to(
    m: &mut Machine,
    moment: Moment,
    symbol_addr: Option<u32>,
    max_steps: u64,
) -> Result<Vec<Event>, String> {
    m.set_recording(true);
    match moment {
        Moment::Event { event, nth } => {
            m.break_on(event, true);
            let mut seen = 0;
            let result = loop {
                match m.run(max_steps) {
                    StopReason::Event { kind } if kind == event => {
                        seen += 1;
                        if seen >= nth {
                            break Ok(m.last_events().to_vec());
                        }
                    }
                    StopReason::Event { .. } => {}
                    other => break Err(format!("the run ended ({other}) before the moment")),
                }
            };
            m.break_on(event, false);
            result
        }
        Moment::Trap { vector } => {
            m.break_on(EventKind::TrapEntry, true);
            let result = loop {
                match m.run(max_steps) {
                    StopReason::Event { .. } => {
                        let hit = m.last_events().iter().any(
                            |e| matches!(e, Event::TrapEntry { vector: v, .. } if *v == vector),
                        );
                        if hit {
                            break Ok(m.last_events().to_vec());
                        }
                    }
                    other => break Err(format!("the run ended ({other}) before trap {vector}")),
                }
            };
            m.break_on(EventKind::TrapEntry, false);
            result
        }
        Moment::Symbol { symbol } => {
            let addr = symbol_addr.unwrap_or_default();
            m.add_breakpoint(addr);
            let result = match m.run(max_steps) {
                StopReason::Breakpoint { .. } => Ok(m.last_events().to_vec()),
                other => Err(format!(
                    "the run ended ({other}) before reaching `{symbol}`"
                )),
            };
            m.remove_breakpoint(addr);
            result
        }
    }
}

/// Runs the boot to the first instruction of the first user program: where
/// a lesson starts, so that a student's first Step is in their program, not
/// in the kernel's page-table loops. Returns the step reached. The boot
/// stays in the history (the page's "show the boot" goes back to step 0).
pub fn run_to_user_mode(m: &mut Machine, max_steps: u64) -> Result<u64, String> {
    let recording = m.recording();
    m.set_recording(false);
    let was = m.break_kinds().contains(EventKind::Iret);
    m.break_on(EventKind::Iret, true);
    let end = m.steps() + max_steps;
    let result = loop {
        if m.cpu().cpl() == 3 {
            break Ok(m.steps());
        }
        if m.steps() >= end {
            break Err("the boot did not reach user mode".to_string());
        }
        match m.run(end - m.steps()) {
            StopReason::Event { .. } | StopReason::Breakpoint { .. } => {}
            StopReason::InstructionLimit => {}
            other => break Err(format!("the boot ended ({other}) before user mode")),
        }
    };
    m.break_on(EventKind::Iret, was);
    m.set_recording(recording);
    result
}

impl System {
    /// Runs the teaching kernel to a lesson's moment (see [`run_to`]).
    pub fn run_to(&mut self, moment: Moment, max_steps: u64) -> Result<Vec<Event>, String> {
        let (m, view) = crate::introspect::Introspector::split(self);
        run_to(m, &view, moment, max_steps)
    }

    /// A question's answer, read from the system as it is now.
    pub fn answer(&self, q: &Question, events: &[Event]) -> String {
        (q.answer)(
            &self.machine,
            &crate::introspect::Introspector::of(self),
            events,
        )
    }
}
