//! The debugger's view of the kernel: its structures read out of the
//! machine's memory through the symbol table and the record layouts the
//! kernel declares (`struc proc`, `struc trapframe`, ...), the way a
//! debugger uses debug information. The kernel is never asked to help.

use crate::{KERNBASE, System};
use osviz_asm::Output;
use osviz_machine::Machine;
pub use osviz_view::{
    ChannelKind, DiskRequestView, Field, FrameOwner, IdtEntry, KernelStackView, KernelView,
    LineAddress, Mapping, MemoryRegion, PageTable, Phase, ProcessView, Pusher, RegionKind,
    SourcePlace, StackOwner, StackState, TrapCause,
};
use osviz_view::{
    StackLayout, StackNames, esp_in_kernel, idt_at, process_holding, scheduler_stack_of, stack_of,
    symbol_plus,
};

/// The states of a process, as the kernel numbers them.
pub const STATES: [&str; 6] = [
    "unused", "embryo", "sleeping", "runnable", "running", "zombie",
];

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
    /// The introspector of a system, and its machine to run: the two
    /// borrows a lesson's run needs at once.
    pub fn split(system: &'a mut System) -> (&'a mut Machine, Introspector<'a>) {
        (
            &mut system.machine,
            Introspector {
                kernel: &system.kernel,
                programs: &system.programs,
            },
        )
    }

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

    /// What a sleep channel stands for: the kernel's `sleep` callers in
    /// kernel.asm sleep on `kbd_buf` (sys_read of the keyboard), `disk_buf`
    /// (the disk's request), `disk_owner` (the disk busy with another's),
    /// `ticks` (sys_sleep) and their own process slot (sys_wait).
    pub fn channel_kind(&self, chan: u32) -> ChannelKind {
        let at = |name: &str| self.kernel.symbol(name) == Some(chan);
        let table = self.sym("ptable");
        let end = table + self.sym("NPROC") * self.sym("proc_size");
        if chan == 0 {
            ChannelKind::Other
        } else if at("kbd_buf") {
            ChannelKind::ConsoleInput
        } else if at("disk_buf") {
            ChannelKind::DiskBuffer
        } else if at("disk_owner") {
            ChannelKind::DiskBusy
        } else if at("ticks") {
            ChannelKind::Timer
        } else if (table..end).contains(&chan) {
            ChannelKind::ChildExit
        } else {
            ChannelKind::Other
        }
    }

    /// What the kernel names on a kernel stack: its stubs `vectorN`
    /// (vectors.inc), its symbols and vectors.
    fn with_stack_names<T>(&self, f: impl FnOnce(&StackNames) -> T) -> T {
        let vector_of_eip = |eip: u32| {
            self.kernel
                .symbolize(eip)
                .and_then(|(s, _)| s.strip_prefix("vector")?.parse().ok())
        };
        let stub_start = |v: u8| self.kernel.symbol(&format!("vector{v}"));
        let symbolize = |a: u32| self.symbolize(a);
        let name_of = |v: u8| self.vector_name(v);
        f(&StackNames {
            vector_of_eip: &vector_of_eip,
            stub_start: &stub_start,
            symbolize: &symbolize,
            name_of: &name_of,
        })
    }

    fn symbolize(&self, addr: u32) -> Option<String> {
        self.kernel
            .symbolize(addr)
            .map(|(s, off)| symbol_plus(&s, off))
    }
}

impl KernelView for Introspector<'_> {
    fn kernel_name(&self) -> &str {
        "the teaching kernel"
    }

    fn kernbase(&self) -> u32 {
        KERNBASE
    }

    fn processes(&self, m: &Machine) -> Vec<ProcessView> {
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
                let state = STATES.get(state as usize).unwrap_or(&"?").to_string();
                let chan = self.field(m, addr, "chan");
                Some(ProcessView {
                    slot: slot as usize,
                    addr,
                    pid: self.field(m, addr, "pid"),
                    phase: Phase::of_name(&state),
                    state,
                    name,
                    pgdir: self.field(m, addr, "pgdir"),
                    kstack: self.field(m, addr, "kstack"),
                    kstack_frame: self.field(m, addr, "kstack").wrapping_sub(KERNBASE) >> 12,
                    tf: self.field(m, addr, "tf"),
                    context: self.field(m, addr, "context"),
                    heap: self.field(m, addr, "heap"),
                    brk: self.field(m, addr, "brk"),
                    chan,
                    chan_name: (chan != 0).then(|| self.symbolize(chan)).flatten(),
                    chan_kind: self.channel_kind(chan),
                    parent: (parent != 0).then(|| read(m, parent + self.sym("proc.pid"))),
                    xstate: Some(self.field(m, addr, "xstate") as i32),
                    killed: false,
                })
            })
            .collect()
    }

    fn current(&self, m: &Machine) -> Option<ProcessView> {
        let current = read(m, self.sym("current"));
        self.processes(m).into_iter().find(|p| p.addr == current)
    }

    fn kernel_dir(&self, _m: &Machine) -> u32 {
        self.sym("kpgdir").wrapping_sub(KERNBASE)
    }

    fn esp0(&self, m: &Machine) -> u32 {
        read(m, self.sym("tss") + 4)
    }

    fn kernel_stack(&self, m: &Machine, p: &ProcessView) -> KernelStackView {
        let trap_frame = self.layout("trapframe");
        let context = self.layout("context");
        let layout = StackLayout::of(self, m, p.kstack + 4096, &trap_frame, &context);
        self.with_stack_names(|names| stack_of(m, p, &layout, names))
    }

    /// The process whose kernel stack holds ESP, else the scheduler's:
    /// `boot_stack` up to `boot_stack_top`, which `main` and then the
    /// scheduler run on.
    fn current_stack(&self, m: &Machine) -> Option<KernelStackView> {
        let esp = esp_in_kernel(m, KERNBASE)?;
        if let Some(p) = process_holding(self.processes(m), esp) {
            return Some(self.kernel_stack(m, &p));
        }
        let (low, top) = (
            self.kernel.symbol("boot_stack")?,
            self.kernel.symbol("boot_stack_top")?,
        );
        if !(esp > low && esp <= top) {
            return None;
        }
        let trap_frame = self.layout("trapframe");
        let context = self.layout("context");
        let layout = StackLayout::of(self, m, top, &trap_frame, &context);
        Some(self.with_stack_names(|names| scheduler_stack_of(m, low, &layout, names)))
    }

    fn user_context(&self, m: &Machine, p: &ProcessView) -> (u32, u32) {
        if p.phase == Phase::Running && m.cpu().cpl() == 3 {
            return (m.cpu().eip, m.cpu().gpr[4]);
        }
        (
            read(m, p.tf + self.sym("trapframe.eip")),
            read(m, p.tf + self.sym("trapframe.esp")),
        )
    }

    /// The null page, code and data from `USER_BASE`, the heap up to the
    /// break, the gap, the stack below `USTACK_TOP` (at most
    /// `USTACK_PAGES`), the kernel.
    fn regions(&self, _m: &Machine, p: &ProcessView) -> Vec<MemoryRegion> {
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

    /// From the kernel's core map.
    fn frames(&self, m: &Machine) -> Vec<FrameOwner> {
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

    fn free_frames(&self, m: &Machine) -> u32 {
        read(m, self.sym("freecount"))
    }

    fn idt(&self, m: &Machine) -> Vec<IdtEntry> {
        idt_at(
            m,
            self.sym("idt").wrapping_sub(KERNBASE),
            |a| self.symbolize(a),
            |v| self.vector_name(v),
        )
    }

    /// Before paging is on, the kernel runs at its physical addresses, its
    /// link addresses less KERNBASE.
    fn place_of_eip(&self, m: &Machine) -> SourcePlace {
        let eip = m.cpu().eip;
        let linked = if !m.cpu().paging() && eip < KERNBASE {
            eip + KERNBASE
        } else {
            eip
        };
        self.place(m, linked)
    }

    fn line_address(&self, file: &str, line: usize) -> Option<u32> {
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

    /// The kernel's line, and each lesson program's (a process runs the
    /// program it is named after).
    fn line_addresses(&self, file: &str, line: usize) -> Vec<LineAddress> {
        let at = |out: &Output| {
            let index = out.files.iter().position(|f| f == file)?;
            out.lines
                .iter()
                .find(|l| l.file == index && l.line == line)
                .map(|l| l.addr)
        };
        let kernel = at(self.kernel).map(|addr| LineAddress {
            addr,
            program: None,
        });
        let programs = self.programs.iter().filter_map(|(name, out)| {
            at(out).map(|addr| LineAddress {
                addr,
                program: Some(name.clone()),
            })
        });
        kernel.into_iter().chain(programs).collect()
    }

    fn current_program(&self, m: &Machine) -> Option<String> {
        let name = self.current(m)?.name;
        self.programs
            .iter()
            .any(|(n, _)| *n == name)
            .then_some(name)
    }

    fn symbol_address(&self, name: &str) -> Option<u32> {
        self.kernel.symbol(name)
    }

    /// A label of the lesson's first program.
    fn code_address(&self, name: &str) -> Option<u32> {
        self.programs.first()?.1.symbol(name)
    }

    fn vector_name(&self, vector: u8) -> Option<&'static str> {
        crate::vectors::vector_name(vector)
    }

    fn syscall_vector(&self) -> u8 {
        crate::vectors::SYSCALL
    }

    /// One request at a time: `disk_owner`'s, into `disk_buf`, the block
    /// its read system call asked for (EDX in its trap frame), until
    /// `disk_done`.
    fn disk_queue(&self, m: &Machine) -> Vec<DiskRequestView> {
        let owner = read(m, self.sym("disk_owner"));
        if owner == 0 {
            return Vec::new();
        }
        let procs = self.processes(m);
        let Some(p) = procs.iter().find(|p| p.addr == owner) else {
            return Vec::new();
        };
        let buf = self.sym("disk_buf");
        vec![DiskRequestView {
            buf,
            buf_name: Some("disk_buf".into()),
            block: Some(read(m, p.tf + self.sym("trapframe.edx"))),
            write: false,
            waiters: procs
                .iter()
                .filter(|q| q.phase == Phase::Sleeping && q.chan == buf)
                .map(|q| q.pid)
                .collect(),
        }]
    }

    fn ticks(&self, m: &Machine) -> Option<u32> {
        Some(read(m, self.sym("ticks")))
    }

    /// `proc.state`: `sleep` sets SLEEPING there, `wakeup` RUNNABLE.
    fn state_field(&self, p: &ProcessView) -> Option<(u32, u32)> {
        Some(((p.addr + self.sym("proc.state")).wrapping_sub(KERNBASE), 4))
    }

    /// `alltraps` calls `trap` as `push esp / call trap / add esp, 4`
    /// (3 bytes) before `trapret`: the innermost such return address on the
    /// kernel stack, from ESP up to its page's end, has the trap frame's
    /// address just above it.
    fn trap_in_progress(&self, m: &Machine) -> Option<u8> {
        let ret = self.sym("trapret").checked_sub(3)?;
        let esp = m.cpu().gpr[4];
        if esp < KERNBASE || m.cpu().cpl() != 0 {
            return None;
        }
        let end = (esp | 0xFFF).wrapping_add(1);
        let at = (esp..end.wrapping_sub(4))
            .step_by(4)
            .find(|&a| read(m, a) == ret)?;
        let tf = read(m, at + 4);
        u8::try_from(read(m, tf + self.sym("trapframe.trapno"))).ok()
    }

    /// The kernel's for kernel addresses, else the program the running
    /// process was started from.
    fn place(&self, m: &Machine, addr: u32) -> SourcePlace {
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
            return SourcePlace::default();
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
            // Assembly: nothing is inlined.
            inlined: None,
        }
    }
}
