//! The kernel-view interface: what the page's panels, the lessons and the
//! tests read of a running kernel, as plain data. [`KernelView`] is one
//! trait with one implementation per kernel: the teaching kernel's
//! (`osviz-kernel`, through its symbols and `struc` layouts) and xv6's
//! (`osviz-xv6`, through its ELF symbols and DWARF). A panel asks the
//! trait and never knows which kernel runs.
//!
//! What both kernels share is written once here: decoding page tables,
//! a process's mappings, the IDT's gates, a kernel stack from its
//! trap frame and saved context ([`stack_of`]), and the scheduler's stack
//! with the frame an interrupt pushed on it ([`scheduler_stack_of`]).

pub use osviz_machine::DeviceClass;
use osviz_machine::{
    Exception, Gate, Instr, MAX_INSTR_LEN, Machine, Op, Operand, Pte, Width, decode as decode_instr,
};
use serde::{Deserialize, Serialize};

mod source_step;
pub mod vm;
pub use source_step::{LineStep, LineStop, call_stack, step_line};
pub use vm::{
    CpuSide, ExitReason, ExitView, Runner, TableRow, ThreeTables, Translation, VirtualMachineView,
    Walk,
};

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
    /// `fork`, which copied the parent's trap frame into its child's: no
    /// trap pushed this frame (see [`stack_of`] for how it is told).
    Fork,
    /// The kernel setting up a process that no trap and no fork made (the
    /// first process: xv6's `userinit`, the teaching kernel's `spawn`),
    /// writing a frame that "returns" to the program's start.
    Setup,
    /// `allocproc`, laying out a new process's kernel stack: the return
    /// address into `trapret` just below the trap frame, and the first
    /// context.
    Allocproc,
    /// The kernel's own code below the records: its function calls'
    /// return addresses, saved registers, locals and arguments.
    Kernel,
}

impl Pusher {
    /// The name a student reads.
    pub fn label(self) -> &'static str {
        match self {
            Pusher::Cpu => "CPU",
            Pusher::Stub => "vector stub",
            Pusher::Entry => "alltraps",
            Pusher::Swtch => "swtch",
            Pusher::Fork => "copied by fork from the parent's trap frame",
            Pusher::Setup => "set up by the kernel for the first run",
            Pusher::Allocproc => "allocproc",
            Pusher::Kernel => "kernel code (calls, locals)",
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

/// Whose kernel stack it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum StackOwner {
    /// A process's kernel stack (its PCB's `kstack`).
    Process { pid: u32 },
    /// The stack the CPU booted on, which the scheduler runs on: no
    /// process's (xv6's `stack` in entry.S, the teaching kernel's
    /// `boot_stack`). An interrupt taken while the scheduler idles pushes
    /// its frame here.
    Scheduler,
}

impl StackOwner {
    /// The process's pid, for a process's stack.
    pub fn pid(self) -> Option<u32> {
        match self {
            StackOwner::Process { pid } => Some(pid),
            StackOwner::Scheduler => None,
        }
    }

    /// Whose stack, in the words a student reads.
    pub fn words(self) -> String {
        match self {
            StackOwner::Process { pid } => format!("pid {pid}"),
            StackOwner::Scheduler => "the scheduler's (the CPU's boot stack, no process's)".into(),
        }
    }
}

/// A kernel stack: what is on it from its top down to ESP, the trap frame
/// with who pushed (or wrote) each slot, and, when switched out, the
/// context swtch saved. Slots below ESP (not pushed yet, or left over from
/// an earlier trap) are not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelStackView {
    pub owner: StackOwner,
    /// The top of the stack, which the TSS's ESP0 holds while a process
    /// runs on it.
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
    /// The trap frame's slots at or above ESP, lowest address first. A
    /// frame pushed without a change of privilege (a trap from the kernel,
    /// as on the scheduler's stack) has no ESP and SS slots.
    pub trap_frame: Vec<Field>,
    /// A new process's first return, while on the stack: the slot just
    /// below the trap frame where `allocproc` put `trapret`'s address
    /// (xv6's `forkret` returns through it), unless the context holds it.
    #[serde(default)]
    pub first_return: Option<Field>,
    pub context: Vec<Field>,
    /// Where the saved context returns to, as `symbol+offset`.
    pub context_return: Option<String>,
    /// While the CPU runs on the stack: the words from ESP up to the
    /// lowest record above (the trap frame, the first return; the whole
    /// stack when there is none), which the kernel's own code pushed:
    /// return addresses, saved registers, locals. Lowest first; a word
    /// that points into the kernel is named by its symbol.
    #[serde(default)]
    pub calls: Vec<Field>,
}

impl KernelStackView {
    /// Every slot shown, lowest address first: the kernel's calls, the
    /// context, the first return, the trap frame.
    pub fn slots(&self) -> Vec<&Field> {
        let mut all: Vec<&Field> = self
            .calls
            .iter()
            .chain(&self.context)
            .chain(&self.first_return)
            .chain(&self.trap_frame)
            .collect();
        all.sort_by_key(|f| f.addr);
        all
    }
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

impl IdtEntry {
    /// Whether the vector is one the CPU reserves for its exceptions (0 to
    /// 31, Intel SDM vol. 3A, 6.2), whatever the kernel does with it.
    pub fn is_cpu_exception(&self) -> bool {
        self.vector < 32
    }
}

/// A place in the source: symbol+offset, file and line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePlace {
    pub symbol: Option<String>,
    pub offset: u32,
    pub file: Option<String>,
    pub line: Option<usize>,
    /// The function whose line this is when the compiler inlined it into
    /// `symbol` (xv6's `getcallerpcs` in `acquire`): the line is that
    /// function's, the address `symbol`'s.
    pub inlined: Option<String>,
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

    /// Where the kernel's physical address 0 lies in the machine's memory:
    /// 0 when the kernel runs on the machine itself; under a hypervisor,
    /// where the hypervisor put the guest's physical memory. Every read of
    /// the kernel's structures and page tables adds it.
    fn phys_base(&self) -> u32 {
        0
    }

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

    /// The kernel stack ESP is on now, in the kernel: the kernel stack of
    /// the process whose `kstack` page holds ESP ([`KernelView::kernel_stack`]),
    /// or the scheduler's (the CPU's boot stack, no process's:
    /// [`StackOwner::Scheduler`]) with the trap frame an interrupt pushed
    /// on it while the scheduler idled. `None` in user mode, before
    /// paging, or on a stack the kernel view does not know.
    fn current_stack(&self, _m: &Machine) -> Option<KernelStackView> {
        None
    }

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

    /// What tells one address space from another: CR3 on the bare
    /// machine; under a hypervisor, the CR3 the guest believes it loaded
    /// (the real one is the shadow's).
    fn address_space(&self, m: &Machine) -> u32 {
        m.cpu().cr3
    }

    /// The virtual machine the kernel runs in, when a hypervisor runs it.
    fn virtual_machine(&self, _m: &Machine) -> Option<VirtualMachineView> {
        None
    }

    /// A guest-virtual address followed through the guest's tables, the
    /// hypervisor's map and the shadow tables, when a hypervisor runs the
    /// kernel.
    fn translate_three(&self, _m: &Machine, _gva: u32) -> Option<Translation> {
        None
    }

    /// The running guest process's user pages in the three tables, when a
    /// hypervisor runs the kernel.
    fn three_tables(&self, _m: &Machine) -> Option<ThreeTables> {
        None
    }

    /// Where the hypervisor counts exits of `reason` (bytes of the
    /// machine's memory), for a run to stop at the next one.
    fn exit_counter(&self, _reason: ExitReason) -> Option<(u32, u32)> {
        None
    }

    /// Where the hypervisor counts the exits it has logged (bytes of the
    /// machine's memory): it adds one after it wrote an exit's record.
    fn exit_log_count(&self) -> Option<(u32, u32)> {
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
        page_tables(m, p.pgdir, self.kernbase(), self.phys_base())
    }

    /// A process's user mappings, read from its page directory and tables.
    fn mappings(&self, m: &Machine, p: &ProcessView) -> Vec<Mapping> {
        mappings(m, p.pgdir, self.kernbase(), self.phys_base())
    }
}

/// The present entries of the directory at physical `pgdir` below
/// `kernbase`, each with its table's present entries. A 4 MiB entry has
/// no table. Physical addresses (the directory's, and the tables' its
/// entries hold) lie at `phys_base` in the machine's memory.
pub fn page_tables(m: &Machine, pgdir: u32, kernbase: u32, phys_base: u32) -> Vec<PageTable> {
    let read = |pa: u32| m.mem().read(pa.wrapping_add(phys_base), 4);
    (0..(kernbase >> 22))
        .filter_map(|dir| {
            let pde = read(pgdir.wrapping_add(dir * 4));
            if pde & Pte::PRESENT == 0 {
                return None;
            }
            let entries = if pde & Pte::LARGE != 0 {
                Vec::new()
            } else {
                (0..1024)
                    .map(|i| (i, read((pde & Pte::FRAME) + i * 4)))
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

/// Every present 4 KiB user-part mapping of the directory at `pgdir` (at
/// `phys_base` in the machine's memory, as [`page_tables`]).
pub fn mappings(m: &Machine, pgdir: u32, kernbase: u32, phys_base: u32) -> Vec<Mapping> {
    page_tables(m, pgdir, kernbase, phys_base)
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

/// How a kernel lays out what its trap path pushes, for [`stack_of`] and
/// [`scheduler_stack_of`].
#[derive(Debug)]
pub struct StackLayout<'a> {
    /// The top of the kernel stack (kernel address).
    pub top: u32,
    /// The trap frame's fields with their offsets, lowest first.
    pub trap_frame: &'a [(String, u32)],
    /// The saved context's fields with their offsets, lowest first.
    pub context: &'a [(String, u32)],
    /// Kernel virtual minus physical address.
    pub kernbase: u32,
    /// Where the kernel's physical memory lies in the machine's
    /// ([`KernelView::phys_base`]).
    pub phys_base: u32,
    /// The TSS's ESP0 now.
    pub esp0: u32,
    /// The address of `trapret`, where `allocproc` makes a new process's
    /// first return go (and `alltraps` falls through to after `trap`).
    pub trapret: Option<u32>,
    /// The address of `alltraps`, the entry code every vector stub jumps
    /// to: straight-line code up to its `call trap`, then `trapret`'s pops
    /// up to `iret`.
    pub alltraps: Option<u32>,
}

impl<'a> StackLayout<'a> {
    /// Kernel virtual address minus where it lies in the machine's memory.
    fn virt_minus_host(&self) -> u32 {
        self.kernbase.wrapping_sub(self.phys_base)
    }

    /// The layout of a kernel stack whose top is `top`, as `view`'s kernel
    /// names its trap path (`alltraps`, `trapret`) and as the machine is now
    /// (ESP0): both kernels lay it out this way.
    pub fn of(
        view: &(impl KernelView + ?Sized),
        m: &Machine,
        top: u32,
        trap_frame: &'a [(String, u32)],
        context: &'a [(String, u32)],
    ) -> StackLayout<'a> {
        StackLayout {
            top,
            trap_frame,
            context,
            kernbase: view.kernbase(),
            phys_base: view.phys_base(),
            esp0: view.esp0(m),
            trapret: view.symbol_address("trapret"),
            alltraps: view.symbol_address("alltraps"),
        }
    }
}

/// What a kernel view names on a kernel stack, for [`stack_of`] and
/// [`scheduler_stack_of`].
pub struct StackNames<'a> {
    /// The vector whose stub the CPU is in (before the stub pushed the
    /// trap number).
    pub vector_of_eip: &'a dyn Fn(u32) -> Option<u8>,
    /// Where a vector's stub starts (xv6's `vectorN`).
    pub stub_start: &'a dyn Fn(u8) -> Option<u32>,
    /// A kernel address as `symbol+offset`.
    pub symbolize: &'a dyn Fn(u32) -> Option<String>,
    /// What the kernel calls a vector.
    pub name_of: &'a dyn Fn(u8) -> Option<&'static str>,
}

impl std::fmt::Debug for StackNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StackNames")
    }
}

/// A process's kernel stack, decoded the same way for both kernels: the
/// trap frame's slots at or above ESP, each labelled by who pushed it for
/// its vector, and the context when it is switched out.
///
/// A frame no trap pushed is told from a pushed one by the slot just
/// below it. `allocproc` lays out a new process's stack with `trapret`'s
/// address there (xv6 then `forkret`'s context below; the teaching
/// kernel's context returns to `trapret` through that very slot), and the
/// frame above is written by the kernel: copied by `fork` from the
/// parent's, or set up for the first process. A trap entering the kernel
/// pushes its frame from the top down and then `alltraps`'s `push esp`
/// writes the frame's own address into that slot before anything lower is
/// pushed (its `call trap` pushes the address after the call, lower
/// still). So while the slot is on the stack (at or above ESP) and holds
/// exactly `trapret`'s address, the frame is the kernel's copy, and so it
/// stays while `trapret` pops it on the way to the first `iret` (EIP in
/// `trapret`, the slot just popped); while the CPU and the stub are still
/// pushing a new frame, ESP is above the slot and EIP is in the stub or
/// `alltraps`, and the frame's slots are labelled by their pushers. A new
/// process with a parent was made by `fork`; one without, by the kernel
/// itself.
pub fn stack_of(
    m: &Machine,
    p: &ProcessView,
    layout: &StackLayout,
    names: &StackNames,
) -> KernelStackView {
    let read = |va: u32| m.mem().read(va.wrapping_sub(layout.virt_minus_host()), 4);
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
    let below = p.tf.wrapping_sub(4);
    // trapret popping the frame (its first return taken, so the slot is
    // just below ESP): straight-line code from trapret to EIP.
    let popping = |trapret: u32| {
        state == StackState::InKernel
            && stack_effect(m, layout.virt_minus_host(), trapret, m.cpu().eip).is_some()
    };
    let written = state != StackState::UserMode
        && layout
            .trapret
            .is_some_and(|t| read(below) == t && (esp <= below || popping(t)));
    let made = written.then_some(if p.parent.is_some() {
        Pusher::Fork
    } else {
        Pusher::Setup
    });
    let context_at = (state == StackState::SwitchedOut).then_some(p.context);
    decode(
        m,
        StackOwner::Process { pid: p.pid },
        state,
        esp,
        Some(p.tf),
        made,
        context_at,
        layout,
        names,
    )
}

/// The scheduler's stack, `low` up to `layout.top`, with ESP on it: the
/// innermost trap frame on it (an interrupt taken while the scheduler
/// idles: the CPU pushed EIP, CS and EFLAGS, no ESP and SS as the
/// privilege did not change, then the stub and `alltraps` their parts),
/// and the words the kernel's code pushed below it. The frame is found
/// from where the CPU is on the trap path: in a vector stub or in
/// `alltraps`/`trapret`, by counting the pushes (and pops) of the
/// straight-line code from its start up to EIP; deeper, in `trap` or what
/// it calls, by the return address `alltraps`'s `call trap` left, with the
/// frame's address (its `push esp`) just above it.
pub fn scheduler_stack_of(
    m: &Machine,
    low: u32,
    layout: &StackLayout,
    names: &StackNames,
) -> KernelStackView {
    let esp = m.cpu().gpr[4];
    let tf = frame_on_stack(m, low, layout, names);
    decode(
        m,
        StackOwner::Scheduler,
        StackState::InKernel,
        esp,
        tf,
        None,
        None,
        layout,
        names,
    )
}

/// The instruction at kernel address `va`.
fn instr_at(m: &Machine, virt_minus_host: u32, va: u32) -> Option<Instr> {
    let pa = va.wrapping_sub(virt_minus_host);
    let bytes: Vec<u8> = (0..MAX_INSTR_LEN as u32)
        .map(|i| m.mem().read(pa.wrapping_add(i), 1) as u8)
        .collect();
    decode_instr(&bytes).ok()
}

/// What straight-line code from `from` does to the stack up to `to` (not
/// included): bytes pushed, less bytes popped (a call counts as nothing:
/// its callee returns), and the return address of the first call on the
/// way. `None` if `to` is not an instruction of that code (a jump, a
/// return or 64 instructions end it first).
fn stack_effect(
    m: &Machine,
    virt_minus_host: u32,
    from: u32,
    to: u32,
) -> Option<(i64, Option<u32>)> {
    let mut pc = from;
    let mut bytes = 0i64;
    let mut call_return = None;
    for _ in 0..64 {
        if pc == to {
            return Some((bytes, call_return));
        }
        let i = instr_at(m, virt_minus_host, pc)?;
        let size = i64::from(i.width.bytes());
        let esp_imm = match (i.dst, i.src) {
            (Operand::Reg(4), Operand::Imm(v)) if i.width == Width::Dword => Some(i64::from(v)),
            _ => None,
        };
        match i.op {
            Op::Push => bytes += size,
            Op::Pop => bytes -= size,
            Op::Pushad => bytes += 8 * size,
            Op::Popad => bytes -= 8 * size,
            Op::Add if esp_imm.is_some() => bytes -= esp_imm.unwrap_or(0),
            Op::Sub if esp_imm.is_some() => bytes += esp_imm.unwrap_or(0),
            Op::Call => {
                call_return.get_or_insert(pc.wrapping_add(u32::from(i.len)));
            }
            Op::Jmp
            | Op::JmpFar
            | Op::CallFar
            | Op::RetFar
            | Op::JmpIndirect
            | Op::Jcc(_)
            | Op::Ret
            | Op::Iret
            | Op::CallIndirect
            | Op::Hlt => return None,
            _ => {}
        }
        pc = pc.wrapping_add(u32::from(i.len));
    }
    None
}

/// Where the innermost trap frame on the stack `low`..`layout.top` begins
/// (see [`scheduler_stack_of`]).
fn frame_on_stack(m: &Machine, low: u32, layout: &StackLayout, names: &StackNames) -> Option<u32> {
    let (esp, eip) = (m.cpu().gpr[4], m.cpu().eip);
    let offset_of = |name: &str| {
        layout
            .trap_frame
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| i64::from(*o))
    };
    let at = |lowest_pushed: i64| {
        u32::try_from(i64::from(esp) - lowest_pushed)
            .ok()
            .filter(|&tf| tf >= low && tf < layout.top)
    };
    // In a vector stub: the CPU pushed down to EIP (or its error code),
    // the stub some words more.
    if let Some(v) = (names.vector_of_eip)(eip) {
        let start = (names.stub_start)(v)?;
        let (pushed, _) = stack_effect(m, layout.virt_minus_host(), start, eip)?;
        let cpu_lowest = offset_of(if Exception::pushes_error_code(v) {
            "err"
        } else {
            "eip"
        })?;
        return at(cpu_lowest - pushed);
    }
    let alltraps = layout.alltraps?;
    // In alltraps (or trapret): the stub pushed down to the trap number.
    if let Some((pushed, _)) = stack_effect(m, layout.virt_minus_host(), alltraps, eip) {
        return at(offset_of("trapno")? - pushed);
    }
    // In trap or deeper: alltraps's call left its return address, the
    // frame's address above it, the frame above that.
    let to = layout.trapret.unwrap_or(alltraps.wrapping_add(64));
    let (_, ret) = stack_effect(m, layout.virt_minus_host(), alltraps, to)?;
    let ret = ret?;
    let read = |va: u32| m.mem().read(va.wrapping_sub(layout.virt_minus_host()), 4);
    (esp..layout.top.saturating_sub(8))
        .step_by(4)
        .find(|&a| read(a) == ret && read(a + 4) == a + 8)
        .map(|a| a + 8)
}

/// A kernel stack from ESP up: the trap frame at `tf` (written by `made`
/// when no trap pushed it), a new process's first return, the context at
/// `context_at`, and the kernel's calls below them.
#[allow(clippy::too_many_arguments)]
fn decode(
    m: &Machine,
    owner: StackOwner,
    state: StackState,
    esp: u32,
    tf: Option<u32>,
    made: Option<Pusher>,
    context_at: Option<u32>,
    layout: &StackLayout,
    names: &StackNames,
) -> KernelStackView {
    let read = |va: u32| m.mem().read(va.wrapping_sub(layout.virt_minus_host()), 4);
    let top = layout.top;
    let pushed = |addr: u32| addr >= esp && addr < top;
    let offset_of = |name: &str| {
        layout
            .trap_frame
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| *o)
    };
    let slot = |name: &str| Some(tf? + offset_of(name)?).filter(|&a| pushed(a));
    // The trap number, once the stub pushed it; before that, the stub the
    // CPU is in says which vector this is. A frame the kernel set up for
    // a first run has none (a copied one has the parent's).
    let vector = match (made, slot("trapno")) {
        (Some(Pusher::Setup), _) => None,
        (_, Some(at)) => u8::try_from(read(at)).ok(),
        (None, None) if tf.is_some() && state == StackState::InKernel => {
            (names.vector_of_eip)(m.cpu().eip)
        }
        _ => None,
    };
    let err_by = match vector {
        Some(v) if !Exception::pushes_error_code(v) => Pusher::Stub,
        _ => Pusher::Cpu,
    };
    // From the kernel (CS's privilege 0), the CPU pushed no ESP and SS:
    // those words are the interrupted code's.
    let from_kernel = made.is_none() && slot("cs").is_some_and(|at| read(at) & 3 == 0);
    let trap_frame: Vec<Field> = tf
        .map(|tf| {
            layout
                .trap_frame
                .iter()
                .filter(|(name, offset)| {
                    !name.starts_with("padding")
                        && pushed(tf + offset)
                        && !(from_kernel && (name == "esp" || name == "ss"))
                })
                .map(|(name, offset)| {
                    let by = made.unwrap_or(match name.as_str() {
                        "eip" | "cs" | "eflags" | "esp" | "ss" => Pusher::Cpu,
                        "err" => err_by,
                        "trapno" => Pusher::Stub,
                        _ => Pusher::Entry,
                    });
                    Field {
                        addr: tf + offset,
                        value: read(tf + offset),
                        by,
                        name: name.clone(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let context: Vec<Field> = context_at
        .map(|c| {
            layout
                .context
                .iter()
                .map(|(name, offset)| Field {
                    addr: c + offset,
                    value: read(c + offset),
                    by: if made.is_some() {
                        Pusher::Allocproc
                    } else {
                        Pusher::Swtch
                    },
                    name: name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let first_return = tf
        .filter(|_| made.is_some())
        .map(|tf| tf.wrapping_sub(4))
        .filter(|&a| pushed(a) && !context.iter().any(|f| f.addr == a))
        .map(|a| {
            let value = read(a);
            Field {
                name: match (names.symbolize)(value) {
                    Some(s) => format!("return to {s}"),
                    None => "return address".into(),
                },
                addr: a,
                value,
                by: Pusher::Allocproc,
            }
        });
    let context_return = context
        .iter()
        .find(|f| f.name == "eip")
        .and_then(|f| (names.symbolize)(f.value));
    let lowest = trap_frame
        .iter()
        .chain(&first_return)
        .chain(&context)
        .map(|f| f.addr)
        .min()
        .unwrap_or(top);
    let calls = if state == StackState::InKernel && esp % 4 == 0 {
        (esp..lowest.min(top))
            .step_by(4)
            .map(|a| {
                let value = read(a);
                Field {
                    name: (value >= layout.kernbase)
                        .then(|| (names.symbolize)(value))
                        .flatten()
                        .unwrap_or_default(),
                    addr: a,
                    value,
                    by: Pusher::Kernel,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    KernelStackView {
        owner,
        top,
        esp,
        state,
        esp0: layout.esp0,
        vector,
        vector_name: vector.and_then(names.name_of).map(str::to_string),
        trap_frame,
        first_return,
        context,
        context_return,
        calls,
    }
}

/// Whether ESP is in the kernel (not user mode, paging on, above
/// `kernbase`): where [`KernelView::current_stack`] looks for its stack.
/// The kernel's privilege is not ring 0 alone: under a hypervisor it runs
/// in ring 1.
pub fn esp_in_kernel(m: &Machine, kernbase: u32) -> Option<u32> {
    let esp = m.cpu().gpr[4];
    (m.cpu().cpl() != 3 && m.cpu().paging() && esp >= kernbase).then_some(esp)
}

/// The process whose kernel stack, the page from `kstack` up, holds
/// `esp` (an empty stack's ESP is the page's end).
pub fn process_holding(procs: Vec<ProcessView>, esp: u32) -> Option<ProcessView> {
    procs
        .into_iter()
        .find(|p| p.kstack != 0 && esp > p.kstack && esp - p.kstack <= 4096)
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
