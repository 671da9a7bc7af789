//! The kernel-view interface: what the page's panels, the lessons and the
//! tests read of a running kernel, as plain data. [`KernelView`] is one
//! trait with one implementation per kernel: the teaching kernel's
//! (`osviz-kernel`, through its symbols and `struc` layouts) and xv6's
//! (`osviz-xv6`, through its ELF symbols and DWARF). A panel asks the
//! trait and never knows which kernel runs.
//!
//! What both kernels share is written once here: decoding page tables,
//! a process's mappings, the IDT's gates, and a kernel stack from its
//! trap frame and saved context ([`stack_of`]).

pub use osviz_machine::DeviceClass;
use osviz_machine::{Exception, Gate, Machine, Pte};
use serde::{Deserialize, Serialize};

mod source_step;
pub use source_step::{LineStep, LineStop, call_stack, step_line};

/// Where a process is in its life, whatever its kernel calls the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Being set up (`EMBRYO`).
    Embryo,
    Sleeping,
    Runnable,
    Running,
    /// Exited, waiting for its parent (`ZOMBIE`).
    Zombie,
    /// A state the kernel added that osviz has no name for.
    Other,
}

impl Phase {
    /// The phase of a state named `name` (either kernel's spelling).
    pub fn of_name(name: &str) -> Phase {
        match name.to_ascii_lowercase().as_str() {
            "embryo" => Phase::Embryo,
            "sleeping" => Phase::Sleeping,
            "runnable" => Phase::Runnable,
            "running" => Phase::Running,
            "zombie" => Phase::Zombie,
            _ => Phase::Other,
        }
    }
}

/// What a sleep channel stands for, as the kernel that sleeps on it means
/// it: the kernel view says it (from the global the channel points into),
/// so the page never names a kernel's globals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The console's input: a read waits for a line (xv6's `input.r`, the
    /// teaching kernel's `kbd_buf`).
    ConsoleInput,
    /// A disk buffer: the request on it is served (xv6's `bcache.buf[i]`,
    /// the teaching kernel's `disk_buf`).
    DiskBuffer,
    /// The disk itself, busy with another process's request (the teaching
    /// kernel serves one at a time: `disk_owner`).
    DiskBusy,
    /// A child's exit: `wait` sleeps on the parent's own process slot.
    ChildExit,
    /// The timer: `sleep(n)` waits on the kernel's tick count.
    Timer,
    /// A channel the kernel view has no words for (a pipe, the log, ...).
    #[default]
    Other,
}

impl ChannelKind {
    /// What one sleep on such a channel waits for, in words; `None` for
    /// [`ChannelKind::Other`].
    pub fn words(self) -> Option<&'static str> {
        match self {
            ChannelKind::ConsoleInput => Some("console input"),
            ChannelKind::DiskBuffer => Some("a disk buffer"),
            ChannelKind::DiskBusy => Some("the disk, busy with another request"),
            ChannelKind::ChildExit => Some("its child's exit, in wait"),
            ChannelKind::Timer => Some("the timer, in sleep"),
            ChannelKind::Other => None,
        }
    }

    /// The words for a run of sleeps on channels of this kind.
    pub fn plural(self) -> Option<&'static str> {
        match self {
            ChannelKind::ConsoleInput => Some("console input"),
            ChannelKind::DiskBuffer => Some("disk buffers"),
            ChannelKind::DiskBusy => Some("the busy disk"),
            ChannelKind::ChildExit => Some("its children's exits"),
            ChannelKind::Timer => Some("the timer"),
            ChannelKind::Other => None,
        }
    }
}

/// What the trap the kernel is in was for, as the kernel and the board
/// say it: the page never compares vector numbers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum TrapCause {
    /// A device's interrupt: the device the board wires to the vector (as
    /// the interrupt controller routes it now) and its line (none for the
    /// local APIC's own timer).
    DeviceInterrupt {
        vector: u8,
        device: DeviceClass,
        line: Option<u8>,
    },
    /// The kernel's system call (`KernelView::syscall_vector`).
    SystemCall { vector: u8 },
    /// An exception (vectors 0–31: a page fault, a protection fault, ...).
    Exception { vector: u8 },
    /// Any other vector: an `int n` the kernel does not serve as its system
    /// call, a spurious interrupt, an unrouted one.
    Other { vector: u8 },
}

impl TrapCause {
    /// The vector trapped through.
    pub fn vector(self) -> u8 {
        match self {
            TrapCause::DeviceInterrupt { vector, .. }
            | TrapCause::SystemCall { vector }
            | TrapCause::Exception { vector }
            | TrapCause::Other { vector } => vector,
        }
    }

    /// Whether a device's interrupt.
    pub fn is_device(self) -> bool {
        matches!(self, TrapCause::DeviceInterrupt { .. })
    }

    /// The device, for a device's interrupt.
    pub fn device(self) -> Option<DeviceClass> {
        match self {
            TrapCause::DeviceInterrupt { device, .. } => Some(device),
            _ => None,
        }
    }
}

/// One PCB, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessView {
    /// The slot in the process table.
    pub slot: usize,
    /// The PCB's kernel address.
    pub addr: u32,
    pub pid: u32,
    /// The state as the kernel names it (`sleeping`, `SLEEPING`).
    pub state: String,
    pub phase: Phase,
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
    /// Where the heap starts.
    pub heap: u32,
    /// The end of the process's memory (the break, xv6's `sz`).
    pub brk: u32,
    /// What it sleeps on (0 when it does not sleep).
    pub chan: u32,
    /// The channel as `symbol+offset` in the kernel, when it names one.
    pub chan_name: Option<String>,
    /// What the channel stands for ([`ChannelKind::Other`] when the
    /// process does not sleep, or the kernel view has no words for it).
    #[serde(default)]
    pub chan_kind: ChannelKind,
    /// The parent's pid, if it has one.
    pub parent: Option<u32>,
    /// The exit status, in a kernel that keeps one.
    pub xstate: Option<i32>,
    pub killed: bool,
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
    /// The common entry code (`alltraps`): segment registers and `pushal`.
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
            Pusher::Entry => "alltraps",
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
    /// What the kernel uses that vector for.
    pub vector_name: Option<String>,
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
    /// A page mapped without user access below the stack, so that a stack
    /// overflow faults (xv6's guard page).
    Guard,
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
            RegionKind::Guard => "guard page",
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum FrameOwner {
    Free,
    Kernel,
    PageTable,
    Process { pid: u32 },
}

/// A request in the kernel's disk queue (the first is the one the disk
/// serves now).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskRequestView {
    /// The buffer's kernel address and its name in the kernel's data
    /// (`bcache.buf[3]`, `disk_buf`).
    pub buf: u32,
    pub buf_name: Option<String>,
    /// The disk block, where the kernel keeps it in memory.
    pub block: Option<u32>,
    pub write: bool,
    /// The processes asleep on the buffer, waiting for the request.
    pub waiters: Vec<u32>,
}

/// One IDT gate, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdtEntry {
    pub vector: u8,
    /// What the kernel uses the vector for, when it names it.
    pub name: Option<String>,
    pub handler: u32,
    pub handler_symbol: Option<String>,
    /// "interrupt" or "trap".
    pub gate: String,
    pub dpl: u8,
    pub present: bool,
}

/// A place in the source: symbol+offset, file and line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePlace {
    pub symbol: Option<String>,
    pub offset: u32,
    pub file: Option<String>,
    pub line: Option<usize>,
}

/// Where a source line's code starts: a kernel address (`program: None`),
/// or an address in the named user program. Every process has its own user
/// address space, so a user address means that line only in a process that
/// runs that program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineAddress {
    pub addr: u32,
    pub program: Option<String>,
}

/// What a panel reads of the running kernel. Every method reads the
/// machine's memory; none changes it.
pub trait KernelView {
    /// The kernel's name as the page says it ("the teaching kernel", "xv6").
    fn kernel_name(&self) -> &str;

    /// Where the kernel is mapped in every address space (KERNBASE): user
    /// addresses are below it.
    fn kernbase(&self) -> u32;

    /// The process table, every slot in use, in table order.
    fn processes(&self, m: &Machine) -> Vec<ProcessView>;

    /// The PCB of the process the CPU runs, if it runs one.
    fn current(&self, m: &Machine) -> Option<ProcessView>;

    /// The physical address of the kernel's own page directory (the one
    /// the scheduler runs on), once the kernel made it.
    fn kernel_dir(&self, m: &Machine) -> u32;

    /// The TSS's ESP0: the kernel stack the next trap from user mode uses.
    fn esp0(&self, m: &Machine) -> u32;

    /// A process's kernel stack, from its top down to ESP.
    fn kernel_stack(&self, m: &Machine, p: &ProcessView) -> KernelStackView;

    /// The user EIP and ESP of a process: the CPU's while it runs in user
    /// mode, else the ones its trap frame saved.
    fn user_context(&self, m: &Machine, p: &ProcessView) -> (u32, u32);

    /// A process's address space, region by region, as its kernel lays it out.
    fn regions(&self, m: &Machine, p: &ProcessView) -> Vec<MemoryRegion>;

    /// The owner of every physical frame.
    fn frames(&self, m: &Machine) -> Vec<FrameOwner>;

    /// How many frames the kernel's allocator has free.
    fn free_frames(&self, m: &Machine) -> u32;

    /// [`KernelView::frames`] and [`KernelView::free_frames`] at once, for
    /// a kernel whose two answers come from one costly read (xv6 walks its
    /// free list for both).
    fn frames_and_free(&self, m: &Machine) -> (Vec<FrameOwner>, u32) {
        (self.frames(m), self.free_frames(m))
    }

    /// The IDT as the kernel filled it, with each handler's symbol.
    fn idt(&self, m: &Machine) -> Vec<IdtEntry>;

    /// Where an address is in the source (the kernel's, or the program the
    /// running process runs).
    fn place(&self, m: &Machine, addr: u32) -> SourcePlace;

    /// Where the CPU is in the source.
    fn place_of_eip(&self, m: &Machine) -> SourcePlace {
        self.place(m, m.cpu().eip)
    }

    /// The lowest code address of a source line.
    fn line_address(&self, file: &str, line: usize) -> Option<u32>;

    /// Every place a source line's code starts: in the kernel, or in each
    /// user program that has the line (a file linked into several programs,
    /// as xv6's `printf.c` is, has a line in each, at its own address).
    fn line_addresses(&self, file: &str, line: usize) -> Vec<LineAddress> {
        self.line_address(file, line)
            .map(|addr| LineAddress {
                addr,
                program: None,
            })
            .into_iter()
            .collect()
    }

    /// The user program the running process runs (the name
    /// [`LineAddress::program`] gives it), where the kernel view knows it.
    fn current_program(&self, _m: &Machine) -> Option<String> {
        None
    }

    /// The address of a kernel symbol (a function or a global).
    fn symbol_address(&self, name: &str) -> Option<u32>;

    /// The address of a code label a lesson stops at: the lesson's program's
    /// in the teaching kernel, a kernel function's in xv6.
    fn code_address(&self, name: &str) -> Option<u32> {
        self.symbol_address(name)
    }

    /// Where the function that starts at `addr` (in the kernel, or in the
    /// running process's program) begins its body: the first address past
    /// its prologue, as a debugger's `break function` stops (GDB takes the
    /// first row of the line table past the function's start whose line
    /// is not its opening line). `addr` itself where there is no prologue
    /// to skip (assembly, or an address that starts no function).
    fn body_address(&self, _m: &Machine, addr: u32) -> u32 {
        addr
    }

    /// Whether a source line's statement begins at `addr`: where stepping
    /// by line may stop. Optimized C interleaves lines within a statement
    /// (an instruction of the prologue among the body's); the line table
    /// marks where statements begin. Every line, where the kernel view
    /// has no such marks (assembly).
    fn is_statement(&self, _m: &Machine, _addr: u32) -> bool {
        true
    }

    /// A function's (a kernel function's, or a code label's) first address
    /// past its prologue ([`KernelView::body_address`]) and that place:
    /// where a breakpoint on the function stops.
    fn function_body(&self, m: &Machine, name: &str) -> Option<(u32, SourcePlace)> {
        let start = self
            .code_address(name)
            .or_else(|| self.symbol_address(name))?;
        let body = self.body_address(m, start);
        Some((body, self.place(m, body)))
    }

    /// The physical address of a kernel symbol's data.
    fn symbol_physical(&self, name: &str) -> Option<u32> {
        let kernbase = self.kernbase();
        self.symbol_address(name)
            .filter(|&v| v >= kernbase)
            .map(|v| v - kernbase)
    }

    /// What the kernel names a vector (`system call`, `timer`, `page fault`).
    fn vector_name(&self, vector: u8) -> Option<&'static str>;

    /// Why some views are empty, when they are (an ELF without DWARF).
    fn limitation(&self) -> Option<String> {
        None
    }

    /// The physical bytes (address, length) of `p`'s state field. The page
    /// watches them to see the moment a process goes to sleep or wakes up;
    /// `None` where the kernel view cannot say.
    fn state_field(&self, _p: &ProcessView) -> Option<(u32, u32)> {
        None
    }

    /// The vector of the trap the kernel is handling at this instruction
    /// (the innermost one, when traps nest), or `None` outside a trap or
    /// where the kernel view cannot say. Asked at the moment of a wake-up,
    /// it says who woke the sleeper: a device's interrupt handler, or a
    /// process in a system call.
    fn trap_in_progress(&self, _m: &Machine) -> Option<u8> {
        None
    }

    /// What the trap the kernel is handling at this instruction is for
    /// ([`KernelView::trap_in_progress`], named by
    /// [`KernelView::trap_cause_of`]): asked at a wake-up, a device's
    /// interrupt or a process's system call woke the sleeper.
    fn trap_cause(&self, m: &Machine) -> Option<TrapCause> {
        self.trap_in_progress(m).map(|v| self.trap_cause_of(m, v))
    }

    /// What a trap through `vector` is for: the kernel's system call, an
    /// exception, or the interrupt of the device the board routes there
    /// now (`Bus::source_of_vector`).
    fn trap_cause_of(&self, m: &Machine, vector: u8) -> TrapCause {
        if vector == self.syscall_vector() {
            return TrapCause::SystemCall { vector };
        }
        if Exception::is_reserved(vector) {
            return TrapCause::Exception { vector };
        }
        match m.bus().source_of_vector(vector) {
            Some(s) => TrapCause::DeviceInterrupt {
                vector,
                device: s.device,
                line: s.line,
            },
            None => TrapCause::Other { vector },
        }
    }

    /// The kernel's disk queue, first the request the disk serves now.
    fn disk_queue(&self, _m: &Machine) -> Vec<DiskRequestView> {
        Vec::new()
    }

    /// The kernel's clock: timer interrupts counted since the boot.
    fn ticks(&self, _m: &Machine) -> Option<u32> {
        None
    }

    /// The vector of the kernel's system call (both kernels use `int 0x40`;
    /// each says so itself).
    fn syscall_vector(&self) -> u8;

    /// A process's page directory below the kernel, as tables: each present
    /// directory entry with the present entries of its page table.
    fn page_tables(&self, m: &Machine, p: &ProcessView) -> Vec<PageTable> {
        page_tables(m, p.pgdir, self.kernbase())
    }

    /// A process's user mappings, read from its page directory and tables.
    fn mappings(&self, m: &Machine, p: &ProcessView) -> Vec<Mapping> {
        mappings(m, p.pgdir, self.kernbase())
    }
}

/// The present entries of the directory at physical `pgdir` below
/// `kernbase`, each with its table's present entries. A 4 MiB entry has
/// no table.
pub fn page_tables(m: &Machine, pgdir: u32, kernbase: u32) -> Vec<PageTable> {
    (0..(kernbase >> 22))
        .filter_map(|dir| {
            let pde = m.mem().read(pgdir.wrapping_add(dir * 4), 4);
            if pde & Pte::PRESENT == 0 {
                return None;
            }
            let entries = if pde & Pte::LARGE != 0 {
                Vec::new()
            } else {
                (0..1024)
                    .map(|i| (i, m.mem().read((pde & Pte::FRAME) + i * 4, 4)))
                    .filter(|(_, pte)| pte & Pte::PRESENT != 0)
                    .collect()
            };
            Some(PageTable {
                dir_index: dir,
                pde,
                covers: dir << 22,
                entries,
            })
        })
        .collect()
}

/// Every present 4 KiB user-part mapping of the directory at `pgdir`.
pub fn mappings(m: &Machine, pgdir: u32, kernbase: u32) -> Vec<Mapping> {
    page_tables(m, pgdir, kernbase)
        .into_iter()
        .flat_map(|t| {
            t.entries.into_iter().map(move |(index, pte)| Mapping {
                page: t.covers | (index << 12),
                frame: pte >> 12,
                writable: pte & Pte::WRITABLE != 0,
                user: pte & Pte::USER != 0,
                accessed: pte & Pte::ACCESSED != 0,
                dirty: pte & Pte::DIRTY != 0,
            })
        })
        .collect()
}

/// The 256 gates of an IDT at physical address `pa`, each handler named by
/// `symbolize`.
pub fn idt_at(
    m: &Machine,
    pa: u32,
    symbolize: impl Fn(u32) -> Option<String>,
    name_of: impl Fn(u8) -> Option<&'static str>,
) -> Vec<IdtEntry> {
    (0..256u32)
        .map(|v| {
            let at = pa.wrapping_add(v * 8);
            let g = Gate::decode(m.mem().read(at, 4), m.mem().read(at.wrapping_add(4), 4));
            IdtEntry {
                vector: v as u8,
                name: name_of(v as u8).map(str::to_string),
                handler: g.offset,
                handler_symbol: symbolize(g.offset),
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

/// How a kernel lays out what its trap path pushes, for [`stack_of`].
#[derive(Debug)]
pub struct StackLayout<'a> {
    /// The top of the process's kernel stack (kernel address).
    pub top: u32,
    /// The trap frame's fields with their offsets, lowest first.
    pub trap_frame: &'a [(String, u32)],
    /// The saved context's fields with their offsets, lowest first.
    pub context: &'a [(String, u32)],
    /// Kernel virtual minus physical address.
    pub kernbase: u32,
    /// The TSS's ESP0 now.
    pub esp0: u32,
}

/// A process's kernel stack, decoded the same way for both kernels: the
/// trap frame's slots at or above ESP, each labelled by who pushed it for
/// its vector, and the context when it is switched out. `vector_of_eip`
/// names the vector whose stub the CPU is in (before the stub pushed the
/// trap number); `symbolize` names a code address.
pub fn stack_of(
    m: &Machine,
    p: &ProcessView,
    layout: &StackLayout,
    vector_of_eip: impl Fn(u32) -> Option<u8>,
    symbolize: impl Fn(u32) -> Option<String>,
    name_of: impl Fn(u8) -> Option<&'static str>,
) -> KernelStackView {
    let read = |va: u32| m.mem().read(va.wrapping_sub(layout.kernbase), 4);
    let top = layout.top;
    let esp_now = m.cpu().gpr[4];
    let running = p.phase == Phase::Running;
    let on_this_stack = (p.kstack..=top).contains(&esp_now);
    let (state, esp) = if running && m.cpu().cpl() == 3 {
        (StackState::UserMode, top)
    } else if running && on_this_stack {
        (StackState::InKernel, esp_now)
    } else if p.context != 0 {
        (StackState::SwitchedOut, p.context)
    } else {
        (StackState::UserMode, top)
    };
    let pushed = |addr: u32| addr >= esp && addr < top;
    let offset_of = |name: &str| {
        layout
            .trap_frame
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| *o)
    };
    // The trap number, once the stub pushed it; before that, the stub the
    // CPU is in says which vector this is.
    let trapno_at = offset_of("trapno").map(|o| p.tf + o);
    let vector = match trapno_at {
        Some(at) if pushed(at) => u8::try_from(read(at)).ok(),
        _ if state == StackState::InKernel => vector_of_eip(m.cpu().eip),
        _ => None,
    };
    let err_by = match vector {
        Some(v) if !Exception::pushes_error_code(v) => Pusher::Stub,
        _ => Pusher::Cpu,
    };
    let trap_frame = layout
        .trap_frame
        .iter()
        .filter(|(name, offset)| !name.starts_with("padding") && pushed(p.tf + offset))
        .map(|(name, offset)| {
            let by = match name.as_str() {
                "eip" | "cs" | "eflags" | "esp" | "ss" => Pusher::Cpu,
                "err" => err_by,
                "trapno" => Pusher::Stub,
                _ => Pusher::Entry,
            };
            Field {
                addr: p.tf + offset,
                value: read(p.tf + offset),
                by,
                name: name.clone(),
            }
        })
        .collect();
    let context: Vec<Field> = if state == StackState::SwitchedOut {
        layout
            .context
            .iter()
            .map(|(name, offset)| Field {
                addr: p.context + offset,
                value: read(p.context + offset),
                by: Pusher::Swtch,
                name: name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let context_return = context
        .iter()
        .find(|f| f.name == "eip")
        .and_then(|f| symbolize(f.value));
    KernelStackView {
        pid: p.pid,
        top,
        esp,
        state,
        esp0: layout.esp0,
        vector,
        vector_name: vector.and_then(&name_of).map(str::to_string),
        trap_frame,
        context,
        context_return,
    }
}

/// `symbol+offset`, or the symbol alone at offset 0.
pub fn symbol_plus(symbol: &str, offset: u32) -> String {
    if offset == 0 {
        symbol.to_string()
    } else {
        format!("{symbol}+{offset}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_kind_has_words_for_one_sleep_and_for_a_run_of_them() {
        assert_eq!(ChannelKind::default(), ChannelKind::Other);
        assert_eq!(
            (
                ChannelKind::ChildExit.words(),
                ChannelKind::ChildExit.plural()
            ),
            (
                Some("its child's exit, in wait"),
                Some("its children's exits")
            )
        );
        assert_eq!(ChannelKind::Other.plural(), None);
    }

    #[test]
    fn a_trap_cause_keeps_its_vector_and_names_its_device() {
        let disk = TrapCause::DeviceInterrupt {
            vector: 46,
            device: DeviceClass::Disk,
            line: Some(14),
        };
        assert_eq!(
            (disk.vector(), disk.device()),
            (46, Some(DeviceClass::Disk))
        );
        assert!(disk.is_device());
        let call = TrapCause::SystemCall { vector: 0x40 };
        assert!(!call.is_device() && call.device().is_none());
    }
}
