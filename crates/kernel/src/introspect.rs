//! The debugger's view of the kernel: its structures read out of the
//! machine's memory through the symbol table and the record layouts the
//! kernel declares (`struc proc`, `struc trapframe`, ...), the way a
//! debugger uses debug information. The kernel is never asked to help.

use crate::{KERNBASE, System};
use osviz_asm::Output;
use osviz_machine::{Exception, Gate, Machine, Pte};
use serde::{Deserialize, Serialize};

/// The states of a process, as the kernel numbers them.
pub const STATES: [&str; 6] = [
    "unused", "embryo", "sleeping", "runnable", "running", "zombie",
];

/// One PCB, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessView {
    /// The slot in the process table.
    pub slot: usize,
    /// The PCB's kernel address.
    pub addr: u32,
    pub pid: u32,
    pub state: String,
    pub name: String,
    /// The page directory's physical address.
    pub pgdir: u32,
    /// The kernel stack's page (kernel address).
    pub kstack: u32,
    /// The physical frame that holds the kernel stack.
    pub kstack_frame: u32,
    /// The trap frame's kernel address.
    pub tf: u32,
    /// The saved context's kernel address (the kernel ESP when switched out).
    pub context: u32,
    pub heap: u32,
    pub brk: u32,
    pub chan: u32,
    /// The parent's pid, if it has one.
    pub parent: Option<u32>,
    pub xstate: i32,
}

/// Who put a slot on a kernel stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pusher {
    /// The hardware, on the trap: EIP, CS, EFLAGS (and ESP, SS from ring
    /// 3), and the error code of the exceptions that have one.
    Cpu,
    /// The vector stub: the trap number, and a 0 error code where the CPU
    /// pushes none.
    Stub,
    /// The common entry code (`alltraps`): segment registers and `pushad`.
    Entry,
    /// The context switch, saving the callee-saved registers.
    Swtch,
}

impl Pusher {
    /// The name a student reads.
    pub fn label(self) -> &'static str {
        match self {
            Pusher::Cpu => "CPU",
            Pusher::Stub => "vector stub",
            Pusher::Entry => "entry code",
            Pusher::Swtch => "swtch",
        }
    }
}

/// One field of a record on a kernel stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub addr: u32,
    pub value: u32,
    pub by: Pusher,
}

/// Where a kernel stack's ESP comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackState {
    /// The process runs in user mode: its kernel stack is empty, and ESP0
    /// in the TSS points at the top for the next trap.
    UserMode,
    /// The process runs in the kernel on this stack: ESP is the CPU's.
    InKernel,
    /// The process is switched out: ESP is where swtch saved its context.
    SwitchedOut,
}

/// A process's kernel stack: what is on it from its top down to ESP, the
/// trap frame with who pushed each slot, and, when switched out, the
/// context swtch saved. Slots below ESP (not pushed yet, or left over from
/// an earlier trap) are not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelStackView {
    pub pid: u32,
    /// The top of the stack, which the TSS's ESP0 holds while it runs.
    pub top: u32,
    /// The stack pointer on this stack.
    pub esp: u32,
    pub state: StackState,
    /// The TSS's ESP0 now.
    pub esp0: u32,
    /// The vector the trap frame is for, once known.
    pub vector: Option<u8>,
    /// The trap frame's slots at or above ESP, lowest address first.
    pub trap_frame: Vec<Field>,
    pub context: Vec<Field>,
    /// Where the saved context returns to, as `symbol+offset`.
    pub context_return: Option<String>,
}

/// A part of a process's address space, as the kernel lays it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    NullPage,
    CodeData,
    Heap,
    Gap,
    Stack,
    Kernel,
}

impl RegionKind {
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::NullPage => "null page",
            RegionKind::CodeData => "code and data",
            RegionKind::Heap => "heap",
            RegionKind::Gap => "unmapped",
            RegionKind::Stack => "stack",
            RegionKind::Kernel => "kernel",
        }
    }
}

/// One region of an address space: `start` up to, not including, `end`
/// (which can be 2^32, for the kernel's region at the top).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryRegion {
    pub kind: RegionKind,
    pub start: u32,
    pub end: u64,
}

impl MemoryRegion {
    pub fn is_empty(&self) -> bool {
        u64::from(self.start) >= self.end
    }

    /// The last address in the region (for an empty one, `start`).
    pub fn last(&self) -> u32 {
        if self.is_empty() {
            self.start
        } else {
            (self.end - 1) as u32
        }
    }

    pub fn contains(&self, addr: u32) -> bool {
        u64::from(addr) >= u64::from(self.start) && u64::from(addr) < self.end
    }

    /// How many pages the region spans.
    pub fn pages(&self) -> u64 {
        self.end.saturating_sub(u64::from(self.start)) / 4096
    }
}

/// One mapped user page of a process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub page: u32,
    pub frame: u32,
    pub writable: bool,
    pub user: bool,
    pub accessed: bool,
    pub dirty: bool,
}

/// One present entry of a page directory's user part, with its table's
/// present entries: the two levels as tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTable {
    /// The directory index (the top 10 bits of the addresses it covers).
    pub dir_index: u32,
    /// The directory entry itself.
    pub pde: u32,
    /// The first virtual address it covers.
    pub covers: u32,
    /// The present table entries: (table index, entry).
    pub entries: Vec<(u32, u32)>,
}

/// Who owns a physical frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum FrameOwner {
    Free,
    Kernel,
    PageTable,
    Process { pid: u32 },
}

/// One IDT gate, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdtEntry {
    pub vector: u8,
    pub handler: u32,
    pub handler_symbol: Option<String>,
    /// "interrupt" or "trap".
    pub gate: String,
    pub dpl: u8,
    pub present: bool,
}

/// A place in the source: symbol+offset, file and line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePlace {
    pub symbol: Option<String>,
    pub offset: u32,
    pub file: Option<String>,
    pub line: Option<usize>,
}

/// Reads the kernel's structures.
#[derive(Debug)]
pub struct Introspector<'a> {
    pub kernel: &'a Output,
    pub programs: &'a [(String, Output)],
}

fn read(m: &Machine, kernel_addr: u32) -> u32 {
    m.mem().read(kernel_addr.wrapping_sub(KERNBASE), 4)
}

impl<'a> Introspector<'a> {
    pub fn of(system: &'a System) -> Self {
        Introspector {
            kernel: &system.kernel,
            programs: &system.programs,
        }
    }

    fn sym(&self, name: &str) -> u32 {
        self.kernel.symbol(name).unwrap_or(0)
    }

    /// The field names of a record the kernel declares with `struc`, in
    /// address order, with their offsets.
    pub fn layout(&self, record: &str) -> Vec<(String, u32)> {
        let prefix = format!("{record}.");
        let mut fields: Vec<(String, u32)> = self
            .kernel
            .symbols
            .iter()
            .filter_map(|s| {
                s.name
                    .strip_prefix(&prefix)
                    .map(|f| (f.to_string(), s.value))
            })
            .collect();
        fields.sort_by_key(|(_, offset)| *offset);
        fields
    }

    fn field(&self, m: &Machine, record: u32, name: &str) -> u32 {
        read(m, record + self.sym(&format!("proc.{name}")))
    }

    /// The process table, every slot in use.
    pub fn processes(&self, m: &Machine) -> Vec<ProcessView> {
        let table = self.sym("ptable");
        let size = self.sym("proc_size");
        let nproc = self.sym("NPROC");
        (0..nproc)
            .filter_map(|slot| {
                let addr = table + slot * size;
                let state = self.field(m, addr, "state");
                if state == 0 {
                    return None;
                }
                let name_addr = addr + self.sym("proc.name");
                let name: String = (0..16)
                    .map(|i| m.mem().read_u8(name_addr - KERNBASE + i))
                    .take_while(|&b| b != 0)
                    .map(char::from)
                    .collect();
                let parent = self.field(m, addr, "parent");
                Some(ProcessView {
                    slot: slot as usize,
                    addr,
                    pid: self.field(m, addr, "pid"),
                    state: STATES.get(state as usize).unwrap_or(&"?").to_string(),
                    name,
                    pgdir: self.field(m, addr, "pgdir"),
                    kstack: self.field(m, addr, "kstack"),
                    kstack_frame: self.field(m, addr, "kstack").wrapping_sub(KERNBASE) >> 12,
                    tf: self.field(m, addr, "tf"),
                    context: self.field(m, addr, "context"),
                    heap: self.field(m, addr, "heap"),
                    brk: self.field(m, addr, "brk"),
                    chan: self.field(m, addr, "chan"),
                    parent: (parent != 0).then(|| read(m, parent + self.sym("proc.pid"))),
                    xstate: self.field(m, addr, "xstate") as i32,
                })
            })
            .collect()
    }

    /// The PCB of the running process, if a process is running.
    pub fn current(&self, m: &Machine) -> Option<ProcessView> {
        let current = read(m, self.sym("current"));
        self.processes(m).into_iter().find(|p| p.addr == current)
    }

    /// The physical address of the kernel's own page directory (the one
    /// the scheduler runs on).
    pub fn kernel_dir(&self) -> u32 {
        self.sym("kpgdir").wrapping_sub(KERNBASE)
    }

    /// The physical address of a kernel symbol's data, for symbols in the
    /// kernel's mapping of physical memory.
    pub fn symbol_physical(&self, name: &str) -> Option<u32> {
        self.kernel
            .symbol(name)
            .filter(|&v| v >= KERNBASE)
            .map(|v| v - KERNBASE)
    }

    /// The TSS's ESP0: the kernel stack the next trap from user mode uses.
    pub fn esp0(&self, m: &Machine) -> u32 {
        read(m, self.sym("tss") + 4)
    }

    /// A process's kernel stack, from its top down to ESP: the trap frame,
    /// with who pushed each slot, and the context swtch saved.
    pub fn kernel_stack(&self, m: &Machine, p: &ProcessView) -> KernelStackView {
        let top = p.kstack + 4096;
        let running = p.state == "running";
        let on_this_stack = (p.kstack..=top).contains(&m.cpu().gpr[4]);
        let (state, esp) = if running && m.cpu().cpl() == 3 {
            (StackState::UserMode, top)
        } else if running && on_this_stack {
            (StackState::InKernel, m.cpu().gpr[4])
        } else if p.context != 0 {
            (StackState::SwitchedOut, p.context)
        } else {
            (StackState::UserMode, top)
        };
        let pushed = |addr: u32| addr >= esp && addr < top;
        // The trap number, once the stub pushed it; before that, the stub
        // the CPU is in says which vector this is.
        let trapno_at = p.tf + self.sym("trapframe.trapno");
        let vector = if pushed(trapno_at) {
            u8::try_from(read(m, trapno_at)).ok()
        } else if state == StackState::InKernel {
            self.kernel
                .symbolize(m.cpu().eip)
                .and_then(|(s, _)| s.strip_prefix("vector")?.parse().ok())
        } else {
            None
        };
        let err_by = match vector {
            Some(v) if !Exception::pushes_error_code(v) => Pusher::Stub,
            _ => Pusher::Cpu,
        };
        let trap_frame = self
            .layout("trapframe")
            .into_iter()
            .filter(|(_, offset)| pushed(p.tf + offset))
            .map(|(name, offset)| {
                let by = match name.as_str() {
                    "eip" | "cs" | "eflags" | "esp" | "ss" => Pusher::Cpu,
                    "err" => err_by,
                    "trapno" => Pusher::Stub,
                    _ => Pusher::Entry,
                };
                Field {
                    addr: p.tf + offset,
                    value: read(m, p.tf + offset),
                    by,
                    name,
                }
            })
            .collect();
        let context: Vec<Field> = if state == StackState::SwitchedOut {
            self.layout("context")
                .into_iter()
                .map(|(name, offset)| Field {
                    addr: p.context + offset,
                    value: read(m, p.context + offset),
                    by: Pusher::Swtch,
                    name,
                })
                .collect()
        } else {
            Vec::new()
        };
        let context_return = context
            .iter()
            .find(|f| f.name == "eip")
            .and_then(|f| self.kernel.symbolize(f.value))
            .map(|(s, off)| if off == 0 { s } else { format!("{s}+{off}") });
        KernelStackView {
            pid: p.pid,
            top,
            esp,
            state,
            esp0: self.esp0(m),
            vector,
            trap_frame,
            context,
            context_return,
        }
    }

    /// The user EIP and ESP of a process: the CPU's while it runs in user
    /// mode, else the ones its trap frame saved.
    pub fn user_context(&self, m: &Machine, p: &ProcessView) -> (u32, u32) {
        if p.state == "running" && m.cpu().cpl() == 3 {
            return (m.cpu().eip, m.cpu().gpr[4]);
        }
        (
            read(m, p.tf + self.sym("trapframe.eip")),
            read(m, p.tf + self.sym("trapframe.esp")),
        )
    }

    /// A process's address space as the kernel lays it out: the null page,
    /// code and data from `USER_BASE`, the heap up to the break, the gap,
    /// the stack below `USTACK_TOP` (at most `USTACK_PAGES`), the kernel.
    pub fn regions(&self, p: &ProcessView) -> Vec<MemoryRegion> {
        let base = self.sym("USER_BASE");
        let stack_top = self.sym("USTACK_TOP");
        let stack_low = stack_top - self.sym("USTACK_PAGES") * 4096;
        let brk = p.brk.max(p.heap);
        let region = |kind, start: u32, end: u32| MemoryRegion {
            kind,
            start,
            end: u64::from(end),
        };
        vec![
            region(RegionKind::NullPage, 0, base),
            region(RegionKind::CodeData, base, p.heap),
            region(RegionKind::Heap, p.heap, brk),
            region(RegionKind::Gap, brk, stack_low),
            region(RegionKind::Stack, stack_low, stack_top),
            MemoryRegion {
                kind: RegionKind::Kernel,
                start: KERNBASE,
                end: 1 << 32,
            },
        ]
    }

    /// A process's page directory below the kernel, as tables: each present
    /// directory entry with the present entries of its page table.
    pub fn page_tables(&self, m: &Machine, p: &ProcessView) -> Vec<PageTable> {
        (0..(KERNBASE >> 22))
            .filter_map(|dir| {
                let pde = m.mem().read(p.pgdir + dir * 4, 4);
                if pde & Pte::PRESENT == 0 {
                    return None;
                }
                let entries = (0..1024)
                    .map(|i| (i, m.mem().read((pde & Pte::FRAME) + i * 4, 4)))
                    .filter(|(_, pte)| pte & Pte::PRESENT != 0)
                    .collect();
                Some(PageTable {
                    dir_index: dir,
                    pde,
                    covers: dir << 22,
                    entries,
                })
            })
            .collect()
    }

    /// A process's user mappings, read from its page directory and tables.
    pub fn mappings(&self, m: &Machine, p: &ProcessView) -> Vec<Mapping> {
        let mut out = Vec::new();
        for dir in 0..(KERNBASE >> 22) {
            let pde = m.mem().read(p.pgdir + dir * 4, 4);
            if pde & Pte::PRESENT == 0 {
                continue;
            }
            for index in 0..1024 {
                let pte = m.mem().read((pde & Pte::FRAME) + index * 4, 4);
                if pte & Pte::PRESENT == 0 {
                    continue;
                }
                out.push(Mapping {
                    page: (dir << 22) | (index << 12),
                    frame: pte >> 12,
                    writable: pte & Pte::WRITABLE != 0,
                    user: pte & Pte::USER != 0,
                    accessed: pte & Pte::ACCESSED != 0,
                    dirty: pte & Pte::DIRTY != 0,
                });
            }
        }
        out
    }

    /// The owner of every physical frame, from the kernel's core map.
    pub fn frames(&self, m: &Machine) -> Vec<FrameOwner> {
        let map = self.sym("coremap") - KERNBASE;
        let n = self.sym("NFRAMES");
        (0..n)
            .map(|f| match m.mem().read_u8(map + f) {
                0 => FrameOwner::Free,
                0xFF => FrameOwner::Kernel,
                0xFE => FrameOwner::PageTable,
                pid => FrameOwner::Process {
                    pid: u32::from(pid),
                },
            })
            .collect()
    }

    /// The free-frame count the kernel keeps.
    pub fn free_frames(&self, m: &Machine) -> u32 {
        read(m, self.sym("freecount"))
    }

    /// The IDT, decoded, with each handler's symbol.
    pub fn idt(&self, m: &Machine) -> Vec<IdtEntry> {
        let idt = self.sym("idt");
        (0..256u32)
            .map(|v| {
                let g = Gate::decode(read(m, idt + v * 8), read(m, idt + v * 8 + 4));
                IdtEntry {
                    vector: v as u8,
                    handler: g.offset,
                    handler_symbol: self
                        .kernel
                        .symbolize(g.offset)
                        .map(|(s, off)| if off == 0 { s } else { format!("{s}+{off}") }),
                    gate: if g.is_interrupt_gate() {
                        "interrupt"
                    } else {
                        "trap"
                    }
                    .into(),
                    dpl: g.dpl,
                    present: g.present,
                }
            })
            .collect()
    }

    /// Where the CPU is in the source. Before paging is on, the kernel
    /// runs at its physical addresses, its link addresses less KERNBASE.
    pub fn place_of_eip(&self, m: &Machine) -> SourcePlace {
        let eip = m.cpu().eip;
        let linked = if !m.cpu().paging() && eip < KERNBASE {
            eip + KERNBASE
        } else {
            eip
        };
        self.place(m, linked)
    }

    /// The code address of a source line, in the kernel or in a program.
    pub fn line_address(&self, file: &str, line: usize) -> Option<u32> {
        std::iter::once(self.kernel)
            .chain(self.programs.iter().map(|(_, o)| o))
            .find_map(|out| {
                let index = out.files.iter().position(|f| f == file)?;
                out.lines
                    .iter()
                    .find(|l| l.file == index && l.line == line)
                    .map(|l| l.addr)
            })
    }

    /// Where an address is in the source: the kernel's for kernel addresses,
    /// else the program the running process was started from.
    pub fn place(&self, m: &Machine, addr: u32) -> SourcePlace {
        let program = if addr >= KERNBASE {
            Some(self.kernel)
        } else {
            let name = self.current(m).map(|p| p.name);
            self.programs
                .iter()
                .find(|(n, _)| Some(n) == name.as_ref())
                .map(|(_, o)| o)
        };
        let Some(out) = program else {
            return SourcePlace {
                symbol: None,
                offset: 0,
                file: None,
                line: None,
            };
        };
        let (symbol, offset) = match out.symbolize(addr) {
            Some((s, off)) => (Some(s), off),
            None => (None, 0),
        };
        let line = out.line_at(addr);
        SourcePlace {
            symbol,
            offset,
            file: line.and_then(|l| out.files.get(l.file).cloned()),
            line: line.map(|l| l.line),
        }
    }
}
