//! An xv6 build as a guest is booted from: the kernel ELF, the disk image,
//! the C sources it was compiled from, and the kernel's layout read once
//! from its DWARF. The page gets one by fetching the served build or from
//! the files a student opened; the command line and the tests read one
//! from the folder `scripts/xv6` writes.

use crate::Xv6;
use crate::vmm::Hypervisor;
use osviz_machine::multiboot::Module;
use osviz_machine::{Machine, PcConfig};
use std::collections::BTreeMap;
use std::path::Path;

/// Steps between xv6's checkpoints: a step back replays at most this many
/// (a few milliseconds on the block path), and the boot's 14 M steps keep
/// a dozen of them.
pub const CHECKPOINT_STEPS: u64 = 1_000_000;

/// An xv6 build: the kernel ELF, the disk image, the C sources the page
/// shows, and the kernel's layout read once from its DWARF.
#[derive(Debug)]
pub struct Xv6Build {
    /// Where it came from, as the page says it ("the course's xv6", a file name).
    pub origin: String,
    pub kernel: Vec<u8>,
    pub disk: Vec<u8>,
    /// Source files by name (`proc.c`), as the build compiled them.
    pub sources: BTreeMap<String, String>,
    /// The boot block's ELF (`bootblock.o`), when the build has it: the
    /// boot sector is cut from it, and its line table shows `bootasm.S` and
    /// `bootmain.c` (see [`Xv6Build::boot_disk`]).
    boot_block: Option<Vec<u8>>,
    /// The teaching hypervisor's ELF and what osviz reads of it, when the
    /// build is to run as its guest ([`Xv6Build::boot_under_hypervisor`]).
    hypervisor: Option<(Vec<u8>, std::rc::Rc<Hypervisor>)>,
    pub xv6: Xv6,
    /// What the CMOS clock of the next machine booted from this build reads
    /// at step 0 (Unix seconds): a fixed time unless set (the page sets the
    /// host's clock when the build arrives, or a share link's).
    clock_start: std::cell::Cell<u64>,
}

/// Why a kernel and disk could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// A file of the build could not be read (named, with why).
    File(String),
    /// The kernel file is not something the machine boots (named why).
    Kernel(String),
    /// The kernel boots, but its debugging information could not be read.
    Dwarf(String),
    /// The disk image is not a file system this kernel mounts (why).
    Disk(String),
    /// The boot block's ELF cannot make a boot sector (why).
    BootBlock(String),
    /// The hypervisor's ELF is not the teaching hypervisor (why).
    Hypervisor(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::File(why) => write!(f, "{why}"),
            OpenError::Kernel(why) => write!(f, "the kernel cannot boot: {why}"),
            OpenError::Dwarf(why) => write!(f, "the kernel's debugging information: {why}"),
            OpenError::Disk(why) => write!(f, "the disk image: {why}"),
            OpenError::BootBlock(why) => write!(f, "the boot block (bootblock.o): {why}"),
            OpenError::Hypervisor(why) => write!(f, "the hypervisor (vmm): {why}"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Why an ELF file is cut short, when its header places its program or
/// section headers past its end (an interrupted download or copy), in
/// words a student can act on; `None` when it is whole or no 32-bit ELF.
fn cut_short(elf: &[u8]) -> Option<String> {
    use object::read::elf::FileHeader;
    let header = object::elf::FileHeader32::<object::Endianness>::parse(elf).ok()?;
    let endian = header.endian().ok()?;
    let end = |off: u32, n: u16, size: u16| u64::from(off) + u64::from(n) * u64::from(size);
    let tables = [
        (
            "program headers",
            end(
                header.e_phoff.get(endian),
                header.e_phnum.get(endian),
                header.e_phentsize.get(endian),
            ),
        ),
        (
            "section headers",
            end(
                header.e_shoff.get(endian),
                header.e_shnum.get(endian),
                header.e_shentsize.get(endian),
            ),
        ),
    ];
    let len = elf.len() as u64;
    tables.iter().find(|(_, end)| *end > len).map(|(what, end)| {
        format!(
            "the kernel file is cut short: its ELF header places its {what} up to byte {end}, and the file has {len} bytes (was it copied or downloaded whole?)"
        )
    })
}

/// A disk sector's size.
const SECTOR: usize = 512;

/// The boot sector cut from the boot block's ELF: its `.text` (code and
/// data: `bootasm.S` puts the GDT there), padded to 510 bytes and signed
/// 55 AA, as xv6's `objcopy -j .text` and `sign.pl` make it.
fn boot_sector(elf: &[u8]) -> Result<Vec<u8>, OpenError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(elf)
        .map_err(|e| OpenError::BootBlock(format!("not an ELF file ({e})")))?;
    let text = file
        .section_by_name(".text")
        .and_then(|s| s.data().ok())
        .ok_or_else(|| OpenError::BootBlock("it has no .text section".into()))?;
    if text.len() > SECTOR - 2 {
        return Err(OpenError::BootBlock(format!(
            "its code is {} bytes, more than the 510 a boot sector holds",
            text.len()
        )));
    }
    let mut sector = text.to_vec();
    sector.resize(SECTOR - 2, 0);
    sector.extend_from_slice(&[0x55, 0xAA]);
    Ok(sector)
}

/// The file names a build's sources have (what the Code panel shows).
pub fn is_source_name(name: &str) -> bool {
    [".c", ".h", ".S", ".ld"].iter().any(|e| name.ends_with(e))
}

impl Xv6Build {
    /// Reads a build's kernel layout; the machine is booted later, for
    /// each session, from the same bytes.
    pub fn new(
        origin: &str,
        kernel: Vec<u8>,
        disk: Vec<u8>,
        sources: BTreeMap<String, String>,
    ) -> Result<Xv6Build, OpenError> {
        // What is wrong with a file that is no kernel is said before
        // anything else: not an ELF, not i386, no multiboot header.
        if !kernel.starts_with(b"\x7fELF") {
            return Err(OpenError::Kernel(
                "not an ELF file (it does not start with 0x7f 'E' 'L' 'F'): choose the `kernel` xv6's make builds"
                    .into(),
            ));
        }
        if let Some(why) = cut_short(&kernel) {
            return Err(OpenError::Kernel(why));
        }
        osviz_machine::multiboot::check(&kernel).map_err(|e| OpenError::Kernel(e.to_string()))?;
        let mut xv6 = Xv6::new(&kernel).map_err(|e| OpenError::Dwarf(e.to_string()))?;
        // A disk the kernel would panic on is refused before it boots (a
        // kernel without the structures to check it by boots unchecked).
        match crate::fs::check_image(xv6.layout(), &disk) {
            Err(crate::fs::DiskError::Image(why)) => return Err(OpenError::Disk(why)),
            Err(crate::fs::DiskError::Layout(_)) | Ok(()) => {}
        }
        // The user programs' C comes from their ELFs in the disk image.
        xv6.read_programs(&disk);
        Ok(Xv6Build {
            origin: origin.to_string(),
            kernel,
            disk,
            sources,
            boot_block: None,
            hypervisor: None,
            xv6,
            clock_start: std::cell::Cell::new(osviz_machine::devices::DEFAULT_START),
        })
    }

    /// Adds the boot block's ELF (`bootblock.o`), so that the build boots
    /// from the disk as `make qemu` does ([`Xv6Build::boot_from_disk`]).
    /// Refused, naming why, when no boot sector can be cut from it.
    pub fn set_boot_block(&mut self, elf: Vec<u8>) -> Result<(), OpenError> {
        boot_sector(&elf)?;
        self.xv6
            .read_boot_block(&elf)
            .map_err(|e| OpenError::BootBlock(e.to_string()))?;
        self.boot_block = Some(elf);
        Ok(())
    }

    /// Adds the teaching hypervisor's ELF (`scripts/vmm`'s `vmm`), so that
    /// the build can run as its guest ([`Xv6Build::boot_under_hypervisor`]).
    /// Refused, naming why, when the file is not that hypervisor.
    pub fn set_hypervisor(&mut self, elf: Vec<u8>) -> Result<(), OpenError> {
        osviz_machine::multiboot::check(&elf).map_err(|e| OpenError::Hypervisor(e.to_string()))?;
        let hypervisor = Hypervisor::from_elf(&elf)
            .map_err(|e| OpenError::Hypervisor(e.to_string()))?
            .ok_or_else(|| {
                OpenError::Hypervisor(
                    "its ELF has no `vcpu` and `exitlog`: it is not the teaching hypervisor (scripts/vmm builds it)"
                        .into(),
                )
            })?;
        hypervisor
            .initial_guest_memory(&elf)
            .map_err(|e| OpenError::Hypervisor(e.to_string()))?;
        self.hypervisor = Some((elf, std::rc::Rc::new(hypervisor)));
        Ok(())
    }

    /// The hypervisor's sources (by file name) join the build's under
    /// `vmm/`, the name its code's places carry (`vmm/trap.c`, beside
    /// xv6's own `trap.c`).
    pub fn add_hypervisor_sources(&mut self, sources: BTreeMap<String, String>) {
        for (name, text) in sources {
            self.sources
                .insert(format!("{}{name}", crate::vmm::SOURCE_PREFIX), text);
        }
    }

    /// The hypervisor's ELF, when the build has it.
    pub fn hypervisor_elf(&self) -> Option<&[u8]> {
        self.hypervisor.as_ref().map(|(elf, _)| elf.as_slice())
    }

    /// The hypervisor, when the build has it.
    pub fn hypervisor(&self) -> Option<&std::rc::Rc<Hypervisor>> {
        self.hypervisor.as_ref().map(|(_, h)| h)
    }

    /// A fresh PC running the hypervisor with this build's kernel as its
    /// guest (its module 0, `kernel` followed by `words`, as `osviz pc
    /// --module` and QEMU's `-initrd` give it) and fs.img as the IDE slave,
    /// with the RAM the hypervisor's guest memory needs; a checkpoint
    /// every `checkpoint_interval` steps (0 for none).
    pub fn boot_under_hypervisor(
        &self,
        words: &str,
        checkpoint_interval: u64,
    ) -> Result<Machine, OpenError> {
        let (elf, hypervisor) = self.hypervisor.as_ref().ok_or_else(|| {
            OpenError::Hypervisor("this build has no hypervisor (scripts/vmm builds it)".into())
        })?;
        let (base, size) = hypervisor
            .initial_guest_memory(elf)
            .map_err(|e| OpenError::Hypervisor(e.to_string()))?;
        // One MiB more than the guest's end: the firmware keeps the top
        // 128 KiB of RAM for itself (as QEMU's does), which the hypervisor
        // sees in the multiboot memory size.
        let mib = (u64::from(base) + u64::from(size)).div_ceil(1 << 20) + 1;
        let string = if words.is_empty() {
            "kernel".to_string()
        } else {
            format!("kernel {words}")
        };
        Machine::pc(
            PcConfig {
                mem_mib: (mib as usize).max(osviz_machine::pc::MIN_MEM_MIB),
                slave: Some(self.disk.clone()),
                checkpoint_interval,
                rtc_start: self.clock_start(),
                modules: vec![Module {
                    bytes: self.kernel.clone(),
                    string,
                }],
                ..PcConfig::default()
            },
            elf,
        )
        .map_err(|e| OpenError::Hypervisor(e.to_string()))
    }

    /// Whether the build can boot from the disk (it has its boot block).
    pub fn has_boot_block(&self) -> bool {
        self.boot_block.is_some()
    }

    /// The disk `make xv6.img` writes: the boot sector (the boot block's
    /// code, padded to 510 bytes and signed 55 AA, as `sign.pl` does), then
    /// the kernel ELF from sector 1, where `bootmain` reads it, padded to
    /// whole sectors. (`make` pads to 10,000 sectors; nothing reads past the
    /// kernel.) `None` without the boot block.
    pub fn boot_disk(&self) -> Option<Vec<u8>> {
        let mut disk = boot_sector(self.boot_block.as_ref()?).ok()?;
        disk.extend_from_slice(&self.kernel);
        disk.resize(disk.len().div_ceil(SECTOR) * SECTOR, 0);
        Some(disk)
    }

    /// A fresh PC that boots this build from the disk: the boot sector in
    /// real mode at 0000:7C00, the build's disk as the IDE slave, history
    /// kept every `checkpoint_interval` steps.
    pub fn boot_from_disk_with(&self, checkpoint_interval: u64) -> Result<Machine, OpenError> {
        let master = self.boot_disk().ok_or_else(|| {
            OpenError::BootBlock(
                "this build has no bootblock.o, so it cannot boot from the disk (xv6's make builds it beside the kernel)"
                    .into(),
            )
        })?;
        Machine::pc_boot_disk(PcConfig {
            master: Some(master),
            slave: Some(self.disk.clone()),
            checkpoint_interval,
            rtc_start: self.clock_start(),
            ..PcConfig::default()
        })
        .map_err(|e| OpenError::BootBlock(e.to_string()))
    }

    /// What the CMOS clock of a machine booted from this build reads at
    /// step 0, in Unix seconds.
    pub fn clock_start(&self) -> u64 {
        self.clock_start.get()
    }

    /// Sets what the CMOS clock of the machines booted from now on reads at
    /// step 0 (a machine already running keeps its own).
    pub fn set_clock_start(&self, unix_seconds: u64) {
        self.clock_start.set(unix_seconds);
    }

    /// Reads the build in folder `dir` as `scripts/xv6` leaves it: `kernel`
    /// and `fs.img`, and the sources in `src/` when they are there.
    pub fn from_dir(dir: &Path) -> Result<Xv6Build, OpenError> {
        let read = |f: &str| {
            std::fs::read(dir.join(f))
                .map_err(|e| OpenError::File(format!("{}: {e}", dir.join(f).display())))
        };
        let kernel = read("kernel")?;
        let disk = read("fs.img")?;
        let boot_block = read("bootblock.o").ok();
        let mut sources = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("src")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_source_name(&name) {
                    if let Ok(text) = std::fs::read_to_string(entry.path()) {
                        sources.insert(name, text);
                    }
                }
            }
        }
        let mut build = Xv6Build::new(&dir.display().to_string(), kernel, disk, sources)?;
        if let Some(elf) = boot_block {
            build.set_boot_block(elf)?;
        }
        Ok(build)
    }

    /// A fresh PC running this build, at its first instruction, keeping a
    /// checkpoint every `checkpoint_interval` steps for reverse stepping
    /// (0 for none).
    pub fn boot_with(&self, checkpoint_interval: u64) -> Result<Machine, OpenError> {
        Machine::pc(
            PcConfig {
                slave: Some(self.disk.clone()),
                checkpoint_interval,
                rtc_start: self.clock_start(),
                ..PcConfig::default()
            },
            &self.kernel,
        )
        .map_err(|e| OpenError::Kernel(e.to_string()))
    }

    /// A fresh PC running this build, keeping history for reverse stepping.
    pub fn boot(&self) -> Result<Machine, OpenError> {
        self.boot_with(CHECKPOINT_STEPS)
    }
}
