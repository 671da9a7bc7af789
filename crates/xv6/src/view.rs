//! xv6 behind the page's kernel-view interface ([`KernelView`]): every
//! panel reads a running xv6 the way it reads the teaching kernel. What
//! the DWARF gives (structures, globals, enums) is read from the build;
//! what only xv6's source says (its trap path's order, its vector numbers,
//! the user layout `exec` makes) is named here, with where it comes from.

use crate::{Type, Xv6};
use osviz_machine::{Machine, Pte};
use osviz_view::{
    ChannelKind, DiskRequestView, FrameOwner, IdtEntry, KernelStackView, KernelView, LineAddress,
    MemoryRegion, Phase, ProcessView, RegionKind, SourcePlace, StackLayout, StackNames,
    esp_in_kernel, idt_at, process_holding, scheduler_stack_of, stack_of, symbol_plus,
};

/// param.h's KSTACKSIZE: a process's kernel stack, and the boot stack
/// entry.S reserves (`stack`), which the scheduler runs on.
const KSTACKSIZE: u32 = 4096;

/// xv6's vectors (traps.h: T_SYSCALL, and IRQ n at T_IRQ0 + n as
/// trap.c and the device drivers route them); exceptions keep their
/// architectural names.
const VECTORS: [(u8, &str); 27] = [
    (0, "divide error"),
    (1, "debug"),
    (2, "NMI"),
    (3, "breakpoint"),
    (4, "overflow"),
    (5, "bound range"),
    (6, "invalid opcode"),
    (7, "device not available"),
    (8, "double fault"),
    (10, "invalid TSS"),
    (11, "segment not present"),
    (12, "stack fault"),
    (13, "general protection"),
    (14, "page fault"),
    (16, "x87 error"),
    (17, "alignment check"),
    (18, "machine check"),
    (19, "SIMD error"),
    (32, "timer (IRQ 0)"),
    (33, "keyboard (IRQ 1)"),
    (36, "serial COM1 (IRQ 4)"),
    (46, "IDE disk (IRQ 14)"),
    (51, "LAPIC error"),
    (63, "spurious"),
    (T_SYSCALL, "system call (T_SYSCALL)"),
    (39, "spurious IRQ 7"),
    (47, "spurious IRQ 15"),
];

/// traps.h's T_SYSCALL: `int $T_SYSCALL` (usys.S) enters the kernel.
const T_SYSCALL: u8 = 64;

/// The globals xv6 sleeps on, and what each stands for: consoleread
/// sleeps on `&input.r`, bget's and iderw's callers on a buffer in
/// `bcache`, wait on its own slot in `ptable.proc` (exit wakes its parent's),
/// sys_sleep on `&ticks`.
const CHANNELS: [(&str, ChannelKind); 4] = [
    ("input", ChannelKind::ConsoleInput),
    ("bcache", ChannelKind::DiskBuffer),
    ("ptable", ChannelKind::ChildExit),
    ("ticks", ChannelKind::Timer),
];

impl Xv6 {
    /// What a sleep channel stands for: the global it points into (by the
    /// DWARF's variables), as [`CHANNELS`] says.
    pub fn channel_kind(&self, chan: u32) -> ChannelKind {
        if chan == 0 {
            return ChannelKind::Other;
        }
        self.layout
            .variables
            .iter()
            .find(|(_, v)| chan >= v.addr && chan - v.addr < v.ty.size().max(1))
            .and_then(|(name, _)| CHANNELS.iter().find(|(global, _)| global == name))
            .map_or(ChannelKind::Other, |(_, kind)| *kind)
    }

    /// The address and type of `path` inside a global: `["cpus", "0",
    /// "proc"]` is `cpus[0].proc`.
    fn global(&self, path: &[&str]) -> Option<(u32, &Type)> {
        let (first, rest) = path.split_first()?;
        let var = self.layout.variables.get(*first)?;
        let mut addr = var.addr;
        let mut ty = &var.ty;
        for step in rest {
            match ty {
                Type::Struct(s) => {
                    let f = s.field(step)?;
                    addr += f.offset;
                    ty = &f.ty;
                }
                Type::Array { element, count } => {
                    let i: u32 = step.parse().ok().filter(|i| i < count)?;
                    addr += i * element.size();
                    ty = element;
                }
                Type::Scalar { .. } => return None,
            }
        }
        Some((addr, ty))
    }

    /// The value of a global scalar at `path`.
    fn global_value(&self, m: &Machine, path: &[&str]) -> Option<u32> {
        let (addr, ty) = self.global(path)?;
        Some(self.read(m, addr, ty.size()))
    }

    /// The fields of a struct as (name, offset), lowest first.
    fn struct_fields(&self, name: &str) -> Vec<(String, u32)> {
        let mut fields: Vec<(String, u32)> = self
            .layout
            .structs
            .get(name)
            .map(|s| {
                s.fields
                    .iter()
                    .map(|f| (f.name.clone(), f.offset))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort_by_key(|(_, o)| *o);
        fields
    }

    /// What xv6 names on a kernel stack: vectors.S's stubs `vectorN`,
    /// the ELF's symbols, its vectors.
    fn with_stack_names<T>(&self, f: impl FnOnce(&StackNames) -> T) -> T {
        let vector_of_eip = |eip: u32| {
            self.symbolize(eip)
                .and_then(|s| s.split('+').next()?.strip_prefix("vector")?.parse().ok())
        };
        let stub_start = |v: u8| self.layout.symbol(&format!("vector{v}"));
        let symbolize = |a: u32| self.symbolize(a);
        let name_of = |v: u8| self.vector_name(v);
        f(&StackNames {
            vector_of_eip: &vector_of_eip,
            stub_start: &stub_start,
            symbolize: &symbolize,
            name_of: &name_of,
        })
    }

    /// The boot block, when `addr` is its code and paging is still off
    /// (the boot block runs only before the kernel turns paging on); or
    /// the hypervisor, when `addr` is its code: the code that runs beside
    /// the kernel, each with its own line table.
    fn boot_code(&self, m: &Machine, addr: u32) -> Option<&crate::Program> {
        if let Some(hv) = self.hypervisor().filter(|hv| hv.holds(addr)) {
            return Some(hv.program());
        }
        let boot = self.boot_block()?;
        let inside = !m.cpu().paging() && boot.lines.place(addr).is_some();
        inside.then_some(boot)
    }

    /// The programs beside the kernel's own code (the boot block, the
    /// hypervisor), for labels.
    fn beside(&self) -> impl Iterator<Item = &crate::Program> {
        self.boot_block()
            .into_iter()
            .chain(self.hypervisor().map(|hv| hv.program()))
    }

    /// The first address of `file:line` outside the user programs: the
    /// hypervisor's for its files (named `vmm/…`), else the kernel's, else
    /// the boot block's.
    fn kernel_line_address(&self, file: &str, line: u32) -> Option<u32> {
        if let Some(name) = file.strip_prefix(crate::vmm::SOURCE_PREFIX) {
            return self.hypervisor()?.program().lines.line_address(name, line);
        }
        self.lines.line_address(file, line).or_else(|| {
            self.boot_block()
                .and_then(|b| b.lines.line_address(file, line))
        })
    }

    /// `symbol+offset` for a kernel address, from the ELF's symbols.
    pub fn symbolize(&self, addr: u32) -> Option<String> {
        crate::symbolize_in(&self.sorted, addr).map(|(name, off)| symbol_plus(&name, off))
    }

    /// A sleep channel in words a student reads: the C expression of the
    /// global it points into (`ptable.proc[0]`, what `wait` sleeps on;
    /// `input.r`, the console's read; `bcache.buf[3]`, a disk read), from
    /// the DWARF types; else the nearest symbol.
    fn channel_name(&self, chan: u32) -> Option<String> {
        if chan == 0 {
            return None;
        }
        let (name, var) = self
            .layout
            .variables
            .iter()
            .find(|(_, v)| chan >= v.addr && chan - v.addr < v.ty.size().max(1))?;
        let mut path = name.clone();
        let mut ty = &var.ty;
        let mut offset = chan - var.addr;
        loop {
            match ty {
                Type::Struct(s) => {
                    let Some(f) = s
                        .fields
                        .iter()
                        .find(|f| offset >= f.offset && offset - f.offset < f.ty.size().max(1))
                    else {
                        break;
                    };
                    path = format!("{path}.{}", f.name);
                    offset -= f.offset;
                    ty = &f.ty;
                    // A pointer to a struct field's start names the field;
                    // into an array, the element's index says more.
                    if offset == 0 && matches!(ty, Type::Struct(_)) {
                        break;
                    }
                }
                Type::Array { element, .. } => {
                    let size = element.size().max(1);
                    path = format!("{path}[{}]", offset / size);
                    offset %= size;
                    ty = element;
                    // A pointer to an element's start names the element.
                    if offset == 0 {
                        break;
                    }
                }
                Type::Scalar { .. } => break,
            }
        }
        Some(if offset == 0 {
            path
        } else {
            format!("{path}+{offset}")
        })
        .or_else(|| self.symbolize(chan))
    }

    /// The first user page a process's directory maps without PTE_U: the
    /// guard page `exec` puts below the user stack.
    fn guard_page(&self, m: &Machine, pgdir: u32, sz: u32) -> Option<u32> {
        // Walked in address order and stopped at the first such page: it
        // sits right above the code and data, and a process that grew its
        // heap to hundreds of megabytes must not cost a walk of all of it.
        let top = sz.min(self.kernbase());
        for dir in 0..=(top.saturating_sub(1) >> 22) {
            let pde = m.mem().read(self.host(pgdir.wrapping_add(dir * 4)), 4);
            if pde & Pte::PRESENT == 0 || pde & Pte::LARGE != 0 {
                continue;
            }
            for index in 0..1024 {
                let page = (dir << 22) | (index << 12);
                if page >= top {
                    return None;
                }
                let pte = m.mem().read(self.host((pde & Pte::FRAME) + index * 4), 4);
                if pte & Pte::PRESENT != 0 && pte & Pte::USER == 0 {
                    return Some(page);
                }
            }
        }
        None
    }

    fn to_view(&self, m: &Machine, p: &crate::Process) -> ProcessView {
        let kernbase = self.kernbase();
        let pgdir = p.pgdir.wrapping_sub(kernbase);
        // exec lays out code and data from 0, a guard page, one stack page,
        // and then the heap sbrk grows up to sz.
        let heap = match self.guard_page(m, pgdir, p.sz) {
            Some(guard) => (guard + 2 * 4096).min(p.sz),
            None => p.sz,
        };
        let parent = (p.parent != 0)
            .then(|| {
                let proc = self.layout.structs.get("proc")?;
                let f = proc.field("pid")?;
                Some(self.read(m, p.parent + f.offset, 4))
            })
            .flatten();
        ProcessView {
            slot: p.slot,
            addr: p.addr,
            pid: p.pid as u32,
            phase: Phase::of_name(&p.state),
            state: p.state.clone(),
            name: p.name.clone(),
            pgdir,
            kstack: p.kstack,
            kstack_frame: p.kstack.wrapping_sub(kernbase) >> 12,
            tf: p.tf,
            context: p.context,
            heap,
            brk: p.sz,
            chan: p.chan,
            chan_name: self.channel_name(p.chan),
            chan_kind: self.channel_kind(p.chan),
            parent,
            xstate: None,
            killed: p.killed,
        }
    }

    /// The running process's name (`cpus[0].proc->name`), read alone: the
    /// source place of every user address asks for it.
    fn current_name(&self, m: &Machine) -> Option<String> {
        let current = self
            .global_value(m, &["cpus", "0", "proc"])
            .filter(|&p| p != 0)?;
        let name = self.layout.structs.get("proc")?.field("name")?;
        let bytes: Vec<u8> = (0..name.ty.size())
            .map(|i| self.read(m, current + name.offset + i, 1) as u8)
            .take_while(|&b| b != 0)
            .collect();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The free list's frames (`kmem.freelist`, each free page's first word
    /// the next), at most one per frame of RAM.
    fn free_list(&self, m: &Machine) -> Vec<u32> {
        let limit = self.frame_count(m);
        let mut out = Vec::new();
        let mut run = self.global_value(m, &["kmem", "freelist"]).unwrap_or(0);
        while run != 0 && (out.len() as u32) < limit {
            let frame = run.wrapping_sub(self.kernbase()) >> 12;
            if frame >= limit {
                break;
            }
            out.push(frame);
            run = self.read(m, run, 4);
        }
        out
    }
}

impl KernelView for Xv6 {
    fn kernel_name(&self) -> &str {
        "xv6"
    }

    fn kernbase(&self) -> u32 {
        self.layout.virt_minus_phys
    }

    fn phys_base(&self) -> u32 {
        self.host(0)
    }

    fn processes(&self, m: &Machine) -> Vec<ProcessView> {
        self.process_table(m)
            .unwrap_or_default()
            .iter()
            .map(|p| self.to_view(m, p))
            .collect()
    }

    /// `cpus[0].proc`: xv6 runs on one CPU here.
    fn current(&self, m: &Machine) -> Option<ProcessView> {
        let current = self.global_value(m, &["cpus", "0", "proc"])?;
        if current == 0 {
            return None;
        }
        let table = self.process_table(m).ok()?;
        let p = table.iter().find(|p| p.addr == current)?;
        Some(self.to_view(m, p))
    }

    /// `kpgdir` once `kvmalloc` made it, else the boot's `entrypgdir`.
    fn kernel_dir(&self, m: &Machine) -> u32 {
        let k = self.global_value(m, &["kpgdir"]).unwrap_or(0);
        let va = if k != 0 {
            k
        } else {
            self.layout.symbol("entrypgdir").unwrap_or(0)
        };
        va.wrapping_sub(self.kernbase())
    }

    /// `cpus[0].ts.esp0`, which `switchuvm` sets.
    fn esp0(&self, m: &Machine) -> u32 {
        self.global_value(m, &["cpus", "0", "ts", "esp0"])
            .unwrap_or(0)
    }

    /// The top is where `allocproc` put the trap frame's end
    /// (`kstack + KSTACKSIZE`, `tf` just below it).
    fn kernel_stack(&self, m: &Machine, p: &ProcessView) -> KernelStackView {
        let trap_frame = self.struct_fields("trapframe");
        let context = self.struct_fields("context");
        let tf_size = self.layout.structs.get("trapframe").map_or(0, |s| s.size);
        let layout = StackLayout::of(self, m, p.tf + tf_size, &trap_frame, &context);
        self.with_stack_names(|names| stack_of(m, p, &layout, names))
    }

    /// The process whose kernel stack holds ESP, else the scheduler's:
    /// entry.S's `stack` (`.comm stack, KSTACKSIZE`), which `main` and
    /// then `mpmain`'s `scheduler` run on for CPU 0.
    fn current_stack(&self, m: &Machine) -> Option<KernelStackView> {
        let esp = esp_in_kernel(m, self.kernbase())?;
        if let Some(p) = process_holding(KernelView::processes(self, m), esp) {
            return Some(self.kernel_stack(m, &p));
        }
        let low = self.layout.symbol("stack")?;
        let top = low + KSTACKSIZE;
        if !(esp > low && esp <= top) {
            return None;
        }
        let trap_frame = self.struct_fields("trapframe");
        let context = self.struct_fields("context");
        let layout = StackLayout::of(self, m, top, &trap_frame, &context);
        Some(self.with_stack_names(|names| scheduler_stack_of(m, low, &layout, names)))
    }

    fn user_context(&self, m: &Machine, p: &ProcessView) -> (u32, u32) {
        if p.phase == Phase::Running && m.cpu().cpl() == 3 {
            return (m.cpu().eip, m.cpu().gpr[4]);
        }
        let field = |name: &str| {
            self.layout
                .structs
                .get("trapframe")
                .and_then(|s| s.field(name))
                .map_or(0, |f| self.read(m, p.tf + f.offset, 4))
        };
        (field("eip"), field("esp"))
    }

    /// exec's layout: code and data from address 0 (xv6 maps page 0), the
    /// guard page, the stack page, the heap up to `sz`, then nothing up to
    /// KERNBASE. A process that has not run exec (the first, running
    /// initcode) has only its code page.
    fn regions(&self, m: &Machine, p: &ProcessView) -> Vec<MemoryRegion> {
        let region = |kind, start: u32, end: u32| MemoryRegion {
            kind,
            start,
            end: u64::from(end),
        };
        let kernbase = self.kernbase();
        let mut out = Vec::new();
        match self.guard_page(m, p.pgdir, p.brk) {
            Some(guard) => {
                out.push(region(RegionKind::CodeData, 0, guard));
                out.push(region(RegionKind::Guard, guard, guard + 4096));
                out.push(region(RegionKind::Stack, guard + 4096, guard + 8192));
                out.push(region(
                    RegionKind::Heap,
                    guard + 8192,
                    p.brk.max(guard + 8192),
                ));
            }
            None => out.push(region(RegionKind::CodeData, 0, p.brk)),
        }
        out.push(region(RegionKind::Gap, p.brk.max(p.heap), kernbase));
        out.push(MemoryRegion {
            kind: RegionKind::Kernel,
            start: kernbase,
            end: 1 << 32,
        });
        out
    }

    /// Free frames from `kmem.freelist`; page directories and tables and
    /// user pages from each process's directory (its kernel stack is its
    /// own too); the kernel's directory and tables; the rest the kernel's.
    fn frames(&self, m: &Machine) -> Vec<FrameOwner> {
        self.frames_and_free(m).0
    }

    fn free_frames(&self, m: &Machine) -> u32 {
        self.free_list(m).len() as u32
    }

    /// One walk of the free list for both: it is a pointer chase through
    /// up to 57,344 pages of RAM, the costliest read the page makes while
    /// xv6 runs.
    fn frames_and_free(&self, m: &Machine) -> (Vec<FrameOwner>, u32) {
        let n = self.frame_count(m) as usize;
        let mut owners = vec![FrameOwner::Kernel; n];
        let mut set = |frame: u32, owner: FrameOwner| {
            if let Some(slot) = owners.get_mut(frame as usize) {
                *slot = owner;
            }
        };
        let free = self.free_list(m);
        for &f in &free {
            set(f, FrameOwner::Free);
        }
        let kernbase = self.kernbase();
        let kdir = self.kernel_dir(m);
        set(kdir >> 12, FrameOwner::PageTable);
        for dir in (kernbase >> 22)..1024 {
            let pde = m.mem().read(self.host(kdir.wrapping_add(dir * 4)), 4);
            if pde & Pte::PRESENT != 0 && pde & Pte::LARGE == 0 {
                set(pde >> 12, FrameOwner::PageTable);
            }
        }
        for p in KernelView::processes(self, m) {
            set(p.kstack_frame, FrameOwner::Process { pid: p.pid });
            if p.pgdir == 0 || p.pgdir.wrapping_add(kernbase) == 0 {
                continue;
            }
            set(p.pgdir >> 12, FrameOwner::PageTable);
            for t in osviz_view::page_tables(m, p.pgdir, kernbase, self.phys_base()) {
                set(t.pde >> 12, FrameOwner::PageTable);
                for (_, pte) in t.entries {
                    set(pte >> 12, FrameOwner::Process { pid: p.pid });
                }
            }
        }
        (owners, free.len() as u32)
    }

    /// The `idt[]` that `tvinit` fills from `vectors[]`.
    fn idt(&self, m: &Machine) -> Vec<IdtEntry> {
        // The DWARF's `idt`, else the ELF symbol of the same name.
        let Some(addr) = self
            .global(&["idt"])
            .map(|(a, _)| a)
            .or_else(|| self.layout.symbol("idt"))
        else {
            return Vec::new();
        };
        idt_at(
            m,
            self.host(addr.wrapping_sub(self.kernbase())),
            |a| self.symbolize(a),
            |v| self.vector_name(v),
        )
    }

    /// Kernel addresses by the kernel's line table; user addresses by the
    /// line table of the program the running process runs (its ELF in
    /// fs.img, found by the process's name, which exec sets).
    fn place(&self, m: &Machine, addr: u32) -> SourcePlace {
        if let Some(boot) = self.boot_code(m, addr) {
            let mut place = program_place(boot, addr);
            if self.hypervisor().is_some_and(|hv| hv.holds(addr)) {
                place.file = place
                    .file
                    .map(|f| format!("{}{f}", crate::vmm::SOURCE_PREFIX));
            }
            return place;
        }
        if addr < self.kernbase() {
            let program = self.current_name(m).and_then(|n| self.program(&n));
            let Some(program) = program else {
                return SourcePlace::default();
            };
            return program_place(program, addr);
        }
        let symbol = self.symbolize(addr);
        let (symbol, offset) = match symbol.as_deref().and_then(|s| s.split_once('+')) {
            Some((s, off)) => (Some(s.to_string()), off.parse().unwrap_or(0)),
            None => (symbol, 0),
        };
        source_place(symbol, offset, self.lines.place(addr))
    }

    /// Before paging (the boot's first instructions) xv6 runs at its load
    /// addresses, its link addresses less KERNBASE.
    fn place_of_eip(&self, m: &Machine) -> SourcePlace {
        let eip = m.cpu().eip;
        if self.boot_code(m, eip).is_some() {
            return self.place(m, eip);
        }
        // Under a hypervisor, paging is off only while the hypervisor
        // boots, at its load addresses (its link addresses less its
        // window's start); the guest always runs with paging on.
        if let Some(hv) = self.hypervisor().filter(|_| !m.cpu().paging()) {
            let linked = eip.wrapping_add(hv.window_start());
            if hv.holds(linked) {
                return self.place(m, linked);
            }
        }
        let linked = if !m.cpu().paging() && eip < self.kernbase() {
            eip.wrapping_add(self.kernbase())
        } else {
            eip
        };
        self.place(m, linked)
    }

    fn line_address(&self, file: &str, line: usize) -> Option<u32> {
        let line = u32::try_from(line).ok()?;
        self.kernel_line_address(file, line)
    }

    /// The kernel's line, and each user program's in fs.img that has it
    /// (in the order of their names).
    fn line_addresses(&self, file: &str, line: usize) -> Vec<LineAddress> {
        let Ok(line) = u32::try_from(line) else {
            return Vec::new();
        };
        // The boot block's lines run before any process, at addresses of
        // their own: they stand with the kernel's.
        let kernel = self
            .kernel_line_address(file, line)
            .map(|addr| LineAddress {
                addr,
                program: None,
            });
        let mut programs: Vec<LineAddress> = self
            .programs
            .iter()
            .filter_map(|(name, p)| {
                p.lines.line_address(file, line).map(|addr| LineAddress {
                    addr,
                    program: Some(name.clone()),
                })
            })
            .collect();
        programs.sort_by(|a, b| a.program.cmp(&b.program));
        kernel.into_iter().chain(programs).collect()
    }

    /// Past the prologue, by the line table of the kernel or of the
    /// running process's program.
    fn body_address(&self, m: &Machine, addr: u32) -> u32 {
        let body = if let Some(boot) = self.boot_code(m, addr) {
            boot.lines.body_address(addr)
        } else if addr < self.kernbase() {
            self.current_name(m)
                .and_then(|n| self.program(&n))
                .and_then(|p| p.lines.body_address(addr))
        } else {
            self.lines.body_address(addr)
        };
        body.unwrap_or(addr)
    }

    /// The line table's `is_stmt` rows, the kernel's or the running
    /// process's program's.
    fn is_statement(&self, m: &Machine, addr: u32) -> bool {
        if let Some(boot) = self.boot_code(m, addr) {
            boot.lines.is_statement(addr)
        } else if addr < self.kernbase() {
            self.current_name(m)
                .and_then(|n| self.program(&n))
                .is_none_or(|p| p.lines.is_statement(addr))
        } else {
            self.lines.is_statement(addr)
        }
    }

    /// The running process's name, which exec sets to its program's.
    fn current_program(&self, m: &Machine) -> Option<String> {
        self.current_name(m)
            .filter(|name| self.programs.contains_key(name))
    }

    /// The kernel's symbols, then the boot block's (`bootmain`, `start32`).
    fn symbol_address(&self, name: &str) -> Option<u32> {
        self.layout.symbol(name).or_else(|| {
            self.beside().find_map(|b| {
                b.labels
                    .iter()
                    .find(|(_, _, n)| n == name)
                    .map(|(addr, _, _)| *addr)
            })
        })
    }

    fn vector_name(&self, vector: u8) -> Option<&'static str> {
        VECTORS.iter().find(|(v, _)| *v == vector).map(|(_, n)| *n)
    }

    fn syscall_vector(&self) -> u8 {
        T_SYSCALL
    }

    /// `p->state`: `sleep` sets SLEEPING there, `wakeup1` (and `kill`)
    /// RUNNABLE.
    fn state_field(&self, p: &ProcessView) -> Option<(u32, u32)> {
        let state = self.layout.structs.get("proc")?.field("state")?;
        Some((
            self.host((p.addr + state.offset).wrapping_sub(self.kernbase())),
            state.ty.size(),
        ))
    }

    /// The innermost call of `trap(struct trapframe *tf)` on the frame
    /// pointer chain (xv6 builds with frame pointers; `alltraps` calls
    /// `trap` with the trap frame's address as its one argument), and that
    /// frame's `trapno`.
    fn trap_in_progress(&self, m: &Machine) -> Option<u8> {
        let trapno = self
            .layout
            .structs
            .get("trapframe")?
            .field("trapno")?
            .offset;
        let kernbase = self.kernbase();
        let read = |va: u32| (va >= kernbase).then(|| self.read(m, va, 4));
        let in_trap = |addr: u32| {
            crate::symbolize_in(&self.sorted, addr).map(|(name, offset)| (name == "trap", offset))
        };
        let trapno_of = |ebp: u32| {
            let tf = read(ebp.wrapping_add(8))?;
            u8::try_from(read(tf.wrapping_add(trapno))?).ok()
        };
        let mut ebp = m.cpu().gpr[5];
        // In trap itself past its prologue, EBP is trap's frame.
        if let Some((true, offset)) = in_trap(m.cpu().eip)
            && offset > 2
        {
            return trapno_of(ebp);
        }
        // Each frame's return address names the caller; the saved EBP
        // above it is the caller's frame. At most a few dozen frames deep.
        for _ in 0..64 {
            let (next, ret) = (read(ebp)?, read(ebp.wrapping_add(4))?);
            if in_trap(ret.wrapping_sub(1))?.0 {
                return trapno_of(next);
            }
            if next <= ebp {
                return None;
            }
            ebp = next;
        }
        None
    }

    /// `idequeue`, followed by `qnext`: the head is the request `idestart`
    /// gave the disk. buf.h's flags (not in the DWARF, being macros):
    /// B_DIRTY (0x4) makes it a write.
    fn disk_queue(&self, m: &Machine) -> Vec<DiskRequestView> {
        const B_DIRTY: u32 = 0x4;
        let Some(buf) = self.layout.structs.get("buf") else {
            return Vec::new();
        };
        let field = |b: u32, name: &str| buf.field(name).map(|f| self.read(m, b + f.offset, 4));
        let procs = self.processes(m);
        let mut out = Vec::new();
        let mut b = self.global_value(m, &["idequeue"]).unwrap_or(0);
        // At most one request per buffer: a list that loops is read once.
        while b != 0 && out.len() < 64 {
            out.push(DiskRequestView {
                buf: b,
                buf_name: self.channel_name(b),
                block: field(b, "blockno"),
                write: field(b, "flags").is_some_and(|f| f & B_DIRTY != 0),
                waiters: procs
                    .iter()
                    .filter(|p| p.phase == Phase::Sleeping && p.chan == b)
                    .map(|p| p.pid)
                    .collect(),
            });
            b = field(b, "qnext").unwrap_or(0);
        }
        out
    }

    fn address_space(&self, m: &Machine) -> u32 {
        match self.hypervisor().and_then(|hv| hv.vcpu(m).ok()) {
            Some(v) => v.cr3,
            None => m.cpu().cr3,
        }
    }

    fn virtual_machine(&self, m: &Machine) -> Option<osviz_view::VirtualMachineView> {
        self.vm_view(m)
    }

    fn translate_three(&self, m: &Machine, gva: u32) -> Option<osviz_view::Translation> {
        self.translate(m, gva)
    }

    fn three_tables(&self, m: &Machine) -> Option<osviz_view::ThreeTables> {
        self.tables(m)
    }

    fn exit_counter(&self, reason: osviz_view::ExitReason) -> Option<(u32, u32)> {
        self.hypervisor()?.counter(reason)
    }

    fn exit_log_count(&self) -> Option<(u32, u32)> {
        self.hypervisor()?.log_count()
    }

    fn ticks(&self, m: &Machine) -> Option<u32> {
        self.global_value(m, &["ticks"])
    }

    fn limitation(&self) -> Option<String> {
        (!self.layout.has_dwarf).then(|| {
            "this kernel has no DWARF debugging information (it was built without -g): \
             the process table, kernel stacks, frames and C lines need it; the machine's \
             own panels (registers, page walk, TLB, IDT from its symbols, events) still work"
                .to_string()
        })
    }
}

/// The function the DWARF places at an address when it is not the one the
/// symbol names: one the compiler inlined there.
fn inlined_in(place: Option<&crate::lines::Place>, symbol: Option<&str>) -> Option<String> {
    let function = place?.function.as_deref()?;
    (Some(function) != symbol).then(|| function.to_string())
}

/// Where `addr` is in a program's source (a user program's, or the boot
/// block's): its line and its symbol.
fn program_place(program: &crate::Program, addr: u32) -> SourcePlace {
    let (symbol, offset) = match crate::symbolize_in(&program.symbols, addr) {
        Some((s, off)) => (Some(s), off),
        None => (None, 0),
    };
    source_place(symbol, offset, program.lines.place(addr))
}

/// A place in the source from its symbol and the line table's row.
fn source_place(
    symbol: Option<String>,
    offset: u32,
    place: Option<crate::lines::Place>,
) -> SourcePlace {
    SourcePlace {
        inlined: inlined_in(place.as_ref(), symbol.as_deref()),
        symbol,
        offset,
        file: place.as_ref().map(|p| p.file.clone()),
        line: place.map(|p| p.line as usize),
    }
}
