//! xv6 as the page and the tests see it: the structures of a running xv6
//! (its process table first), read from the machine's memory with the
//! layout its own kernel ELF gives (symbols and DWARF, see [`dwarf`]).
//! Field offsets and enum values always come from the build being run, so
//! a course's modified xv6 is read right without a change here.

pub mod build;
pub mod dwarf;
pub mod fs;
pub mod lines;
mod view;
pub mod vmm;
mod xv6_build;

pub use dwarf::{Field, Layout, LayoutError, Struct, Type, Variable};
pub use lines::{Lines, Place};
use osviz_machine::Machine;
pub use xv6_build::{CHECKPOINT_STEPS, OpenError, Xv6Build, is_source_name};

/// Why a structure could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewError {
    /// The kernel's DWARF lacks something the view needs (named).
    Missing(String),
}

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewError::Missing(what) => {
                write!(f, "the kernel's debugging information has no {what}")
            }
        }
    }
}

impl std::error::Error for ViewError {}

/// One slot of `ptable.proc[]` that is in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// The index in `ptable.proc[]`.
    pub slot: usize,
    /// The address of its `struct proc`.
    pub addr: u32,
    pub pid: i32,
    /// The `enum procstate` enumerator's name (`SLEEPING`, `RUNNING`, ...).
    pub state: String,
    pub name: String,
    pub sz: u32,
    pub pgdir: u32,
    pub kstack: u32,
    pub tf: u32,
    pub context: u32,
    pub parent: u32,
    pub chan: u32,
    pub killed: bool,
}

/// A running xv6's kernel, known by its layout and line table.
#[derive(Clone, Debug)]
pub struct Xv6 {
    layout: Layout,
    lines: std::rc::Rc<Lines>,
    /// The ELF's symbols by address (address, size, name), for naming code
    /// and data addresses.
    sorted: Vec<(u32, u32, String)>,
    /// The user programs in the disk image, by file name (what a process
    /// that ran exec on it is called).
    programs: std::collections::HashMap<String, std::rc::Rc<Program>>,
    /// The boot block (`bootasm.S` and `bootmain.c`, linked at 0x7C00),
    /// when the build has its ELF: what runs before the kernel on a boot
    /// from the disk.
    boot: Option<std::rc::Rc<Program>>,
    /// Where xv6's physical memory lies in the machine's, and how large it
    /// is: all of the machine's from 0 when xv6 runs on it; under the
    /// hypervisor, the guest memory it gave xv6 ([`Xv6::in_guest_memory`]).
    phys_base: u32,
    phys_size: Option<u32>,
    /// The hypervisor that runs this xv6 as its guest, if one does.
    hypervisor: Option<std::rc::Rc<vmm::Hypervisor>>,
}

/// A user program's line table and symbols, from its ELF in fs.img.
#[derive(Debug)]
pub struct Program {
    pub lines: Lines,
    /// (address, size, name), by address: what names a place in it.
    pub symbols: Vec<(u32, u32, String)>,
    /// Every label, local ones included (`start32`, `seta20.1` in the boot
    /// block), to find a moment's address by; the same as `symbols` where
    /// every label names a function.
    pub labels: Vec<(u32, u32, String)>,
}

/// An ELF's symbols by address; of symbols at one address the sized one
/// (a function or an object) names it, then the first by name.
fn sorted_symbols(elf: &[u8]) -> Vec<(u32, u32, String)> {
    sorted_symbols_where(elf, |_| true)
}

/// [`sorted_symbols`] of the symbols `keep` keeps.
fn sorted_symbols_where(
    elf: &[u8],
    keep: impl Fn(&object::Symbol<'_, '_>) -> bool,
) -> Vec<(u32, u32, String)> {
    use object::{Object, ObjectSymbol};
    let Ok(file) = object::File::parse(elf) else {
        return Vec::new();
    };
    let mut sorted: Vec<(u32, u32, String)> = file
        .symbols()
        .filter(|sym| keep(sym))
        .filter_map(|sym| {
            let name = sym.name().ok()?;
            let addr = sym.address() as u32;
            let keep = !name.is_empty() && !name.ends_with(".c") && !name.ends_with(".S");
            keep.then(|| (addr, sym.size() as u32, name.to_string()))
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(&a.2)));
    sorted
}

/// `symbol+offset` for `addr` among `sorted` symbols.
fn symbolize_in(sorted: &[(u32, u32, String)], addr: u32) -> Option<(String, u32)> {
    let i = sorted.partition_point(|(a, _, _)| *a <= addr);
    let (start, size, name) = sorted.get(i.checked_sub(1)?)?;
    let inside = addr - start < (*size).max(1) || *size == 0 && addr - start < 0x1000;
    inside.then(|| (name.clone(), addr - start))
}

impl Xv6 {
    /// Reads the layout and line table of the kernel ELF `elf`.
    pub fn new(elf: &[u8]) -> Result<Xv6, LayoutError> {
        let layout = Layout::from_elf(elf)?;
        let sorted = sorted_symbols(elf)
            .into_iter()
            .filter(|(addr, _, _)| *addr != 0)
            .collect();
        Ok(Xv6 {
            layout,
            lines: std::rc::Rc::new(Lines::from_elf(elf)?),
            sorted,
            programs: Default::default(),
            boot: None,
            phys_base: 0,
            phys_size: None,
            hypervisor: None,
        })
    }

    /// Reads the boot block's line table and symbols from its ELF
    /// (`bootblock.o`, which xv6's Makefile links at 0x7C00 and cuts the
    /// boot sector from), so its assembly and C show as the kernel's do.
    pub fn read_boot_block(&mut self, elf: &[u8]) -> Result<(), LayoutError> {
        // bootasm.S's labels (`seta20.1`, `start32`, `spin`) are places
        // inside `start`, not functions of their own: places are named by
        // the global symbols, so that a line step keeps to one frame.
        self.boot = Some(std::rc::Rc::new(Program {
            lines: Lines::from_elf(elf)?,
            symbols: sorted_symbols_where(elf, |s| {
                use object::ObjectSymbol;
                s.is_global()
            }),
            labels: sorted_symbols(elf),
        }));
        Ok(())
    }

    /// The boot block's lines and symbols, when the build has them.
    pub fn boot_block(&self) -> Option<&Program> {
        self.boot.as_deref()
    }

    /// Reads the user programs' ELFs (their line tables and symbols) out of
    /// the disk image, so their C shows as the kernel's does. A file that
    /// is not an ELF, or an image the kernel's DWARF cannot read, is left
    /// out.
    pub fn read_programs(&mut self, disk: &[u8]) {
        for (name, bytes) in fs::root_files(&self.layout, disk) {
            if !bytes.starts_with(b"\x7fELF") {
                continue;
            }
            if let Ok(lines) = Lines::from_elf(&bytes) {
                let symbols = sorted_symbols(&bytes);
                let program = Program {
                    lines,
                    labels: symbols.clone(),
                    symbols,
                };
                self.programs.insert(name, std::rc::Rc::new(program));
            }
        }
    }

    /// The user program a process named `name` runs, if the disk has it.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.get(name).map(|p| p.as_ref())
    }

    /// The same xv6 read as a guest whose physical memory is the
    /// machine's from `base`, `size` bytes long: what a hypervisor gave it.
    pub fn in_guest_memory(&self, base: u32, size: u32) -> Xv6 {
        Xv6 {
            phys_base: base,
            phys_size: Some(size),
            ..self.clone()
        }
    }

    /// The same xv6 run as the guest of `hypervisor` on `m`: read in the
    /// guest memory the hypervisor gave it (where its `guest_base` and
    /// `guest_size` say), its exits and virtual CPU beside.
    pub fn under_hypervisor(
        &self,
        hypervisor: std::rc::Rc<vmm::Hypervisor>,
        m: &Machine,
    ) -> Result<Xv6, ViewError> {
        let (base, size) = hypervisor.guest_memory(m)?;
        Ok(Xv6 {
            hypervisor: Some(hypervisor),
            ..self.in_guest_memory(base, size)
        })
    }

    /// The hypervisor this xv6 runs under, if any.
    pub fn hypervisor(&self) -> Option<&vmm::Hypervisor> {
        self.hypervisor.as_deref()
    }

    /// A physical address of xv6's as an address of the machine's memory.
    pub(crate) fn host(&self, pa: u32) -> u32 {
        pa.wrapping_add(self.phys_base)
    }

    /// How many 4 KiB frames xv6's physical memory has.
    pub(crate) fn frame_count(&self, m: &Machine) -> u32 {
        let host = (m.mem().len() / 4096) as u32;
        self.phys_size.map_or(host, |size| (size / 4096).min(host))
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Where the instruction at `addr` is in the source.
    pub fn c_place(&self, addr: u32) -> Option<Place> {
        self.lines.place(addr)
    }

    /// Reads `size` bytes (1, 2 or 4) at kernel virtual address `va`. The
    /// kernel's image and all of RAM are mapped at a fixed offset (xv6's
    /// KERNBASE), which the ELF's program headers give, so this works with
    /// paging on or off.
    fn read(&self, m: &Machine, va: u32, size: u32) -> u32 {
        let pa = self.host(va.wrapping_sub(self.layout.virt_minus_phys));
        m.mem().read(pa, size.clamp(1, 4))
    }

    fn field(&self, s: &Struct, name: &str) -> Result<(u32, u32), ViewError> {
        let f = s
            .field(name)
            .ok_or_else(|| ViewError::Missing(format!("field {name} in struct proc")))?;
        Ok((f.offset, f.ty.size()))
    }

    /// The processes in use, in table order.
    pub fn process_table(&self, m: &Machine) -> Result<Vec<Process>, ViewError> {
        let ptable = self
            .layout
            .variables
            .get("ptable")
            .ok_or_else(|| ViewError::Missing("variable ptable".into()))?;
        let Type::Struct(table) = &ptable.ty else {
            return Err(ViewError::Missing("struct type of ptable".into()));
        };
        let procs = table
            .field("proc")
            .ok_or_else(|| ViewError::Missing("field proc of ptable".into()))?;
        let Type::Array { element, count } = &procs.ty else {
            return Err(ViewError::Missing("array ptable.proc".into()));
        };
        let Type::Struct(proc) = element.as_ref() else {
            return Err(ViewError::Missing("struct proc".into()));
        };
        let num = |base: u32, name: &str| -> Result<u32, ViewError> {
            let (off, size) = self.field(proc, name)?;
            Ok(self.read(m, base + off, size))
        };
        let (name_off, name_len) = self.field(proc, "name")?;
        let mut out = Vec::new();
        for slot in 0..*count as usize {
            let base = ptable.addr + procs.offset + slot as u32 * proc.size;
            let state = num(base, "state")?;
            let state_name = self
                .layout
                .enum_name("procstate", i64::from(state))
                .unwrap_or("?")
                .to_string();
            if state_name == "UNUSED" {
                continue;
            }
            let name: Vec<u8> = (0..name_len)
                .map(|i| self.read(m, base + name_off + i, 1) as u8)
                .take_while(|&b| b != 0)
                .collect();
            out.push(Process {
                slot,
                addr: base,
                pid: num(base, "pid")? as i32,
                state: state_name,
                name: String::from_utf8_lossy(&name).into_owned(),
                sz: num(base, "sz")?,
                pgdir: num(base, "pgdir")?,
                kstack: num(base, "kstack")?,
                tf: num(base, "tf")?,
                context: num(base, "context")?,
                parent: num(base, "parent")?,
                chan: num(base, "chan")?,
                killed: num(base, "killed")? != 0,
            });
        }
        Ok(out)
    }
}

/// Runs a booted xv6 to its shell's first prompt, quietly (events off, the
/// block path), and a little on until sh sleeps waiting for input. Returns
/// the step reached; the boot stays in the history.
pub fn run_to_prompt(m: &mut Machine, max_steps: u64) -> Result<u64, String> {
    to_prompt(m, max_steps, |_| false)
}

/// The boot to the prompt, giving up as soon as `panicked` says the kernel
/// panicked. A student's breakpoints and break-on choice wait for the
/// lesson.
fn to_prompt(
    m: &mut Machine,
    max_steps: u64,
    panicked: impl Fn(&Machine) -> bool,
) -> Result<u64, String> {
    m.with_breaks_set_aside(|m| {
        let recording = m.recording();
        m.set_recording(false);
        let end = m.steps() + max_steps;
        let result = loop {
            if m.serial_output().ends_with(b"$ ") {
                break Ok(m.steps());
            }
            if panicked(m) {
                break Err(panic_line(m.serial_output()));
            }
            if m.steps() >= end {
                break Err(format!("xv6 printed no `$ ` prompt in {max_steps} steps"));
            }
            let stop = m.run(100_000.min(end - m.steps()));
            if !matches!(stop, osviz_machine::StopReason::InstructionLimit) {
                break Err(format!(
                    "the boot stopped before the prompt ({stop}); the last line printed: {}",
                    panic_line(m.serial_output())
                ));
            }
        };
        m.set_recording(recording);
        result
    })
}

impl Xv6 {
    /// Runs a booted xv6 to its shell's first prompt, as [`run_to_prompt`]
    /// does, but stops as soon as the kernel panics (its `panicked` flag,
    /// which `panic()` sets after printing): the error is the panic's own
    /// line from the console, not a wait for a prompt that never comes.
    pub fn run_to_prompt(&self, m: &mut Machine, max_steps: u64) -> Result<u64, String> {
        use osviz_view::KernelView;
        let flag = self.symbol_physical("panicked").map(|pa| self.host(pa));
        to_prompt(m, max_steps, |m| {
            flag.is_some_and(|pa| (pa as usize) + 4 <= m.mem().len() && m.mem().read(pa, 4) != 0)
        })
    }
}

/// The console line that tells of a kernel panic (the last that mentions
/// one, else the last line printed).
fn panic_line(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let line = lines
        .iter()
        .rev()
        .find(|l| l.contains("panic"))
        .or(lines.last())
        .map_or("", |l| l.trim());
    format!("the kernel panicked during its boot: {line}")
}

/// Boots the xv6 build in folder `dir` (its `kernel` and `fs.img`, as
/// scripts/xv6 leaves them) on a PC with `config` otherwise, and reads its
/// kernel's layout.
pub fn boot_build(
    dir: &std::path::Path,
    config: osviz_machine::PcConfig,
) -> Result<(Machine, Xv6), String> {
    let read =
        |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{}: {e}", dir.join(f).display()));
    let kernel = read("kernel")?;
    let machine = Machine::pc(
        osviz_machine::PcConfig {
            slave: Some(read("fs.img")?),
            ..config
        },
        &kernel,
    )
    .map_err(|e| e.to_string())?;
    let xv6 = Xv6::new(&kernel).map_err(|e| e.to_string())?;
    Ok((machine, xv6))
}
