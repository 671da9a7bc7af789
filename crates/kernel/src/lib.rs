//! The osviz teaching kernel and its user programs, assembled with the osviz
//! assembler, and the loader that puts them into a machine.
//!
//! ```
//! use osviz_kernel::{System, programs};
//! use osviz_machine::StopReason;
//!
//! let mut system = System::boot(&[programs::HELLO, programs::HELLO]).unwrap();
//! assert_eq!(system.machine.run(2_000_000), StopReason::Halted);
//! let console = String::from_utf8_lossy(system.machine.console()).into_owned();
//! assert!(console.contains("hello from pid 1\nhello from pid 2\n"), "{console}");
//! ```

pub mod introspect;
pub mod programs;
pub mod vectors;

pub use vectors::vectors_source;

use osviz_asm::{Diagnostic, Output};
use osviz_machine::{Machine, MachineConfig};

/// The kernel's sources, by the names `%include` uses.
const KERNEL_FILES: &[(&str, &str)] = &[
    ("kernel.asm", include_str!("asm/kernel.asm")),
    ("defs.inc", include_str!("asm/defs.inc")),
];

/// Where the kernel is mapped in every address space.
pub const KERNBASE: u32 = 0x8000_0000;
/// Where the loader writes the table of programs to start.
pub const BOOT_TABLE: u32 = 0x8000;
/// Where the loader puts the first program image.
pub const PROGRAMS_AT: u32 = 0x1_0000;
/// Where user programs are linked.
pub const USER_BASE: u32 = 0x1000;

/// The text of one of the kernel's source files (`kernel.asm`, `defs.inc`,
/// `vectors.inc`) or of the user include files, for the views.
pub fn source_file(name: &str) -> Option<String> {
    match name {
        "user.inc" => Some(programs::USER_INC.to_string()),
        "ulib.inc" => Some(programs::ULIB_INC.to_string()),
        other => kernel_loader(other),
    }
}

fn kernel_loader(name: &str) -> Option<String> {
    if name == "vectors.inc" {
        return Some(vectors_source());
    }
    KERNEL_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| text.to_string())
}

/// Assembles the kernel.
pub fn build_kernel() -> Result<Output, Vec<Diagnostic>> {
    osviz_asm::assemble("kernel.asm", &kernel_loader)
}

/// A user program: its name and source.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Program {
    pub name: &'static str,
    pub source: &'static str,
}

/// Assembles a user program (it may `%include "user.inc"`).
pub fn build_program(name: &str, source: &str) -> Result<Output, Vec<Diagnostic>> {
    let file = format!("{name}.asm");
    let main = file.clone();
    let source = source.to_string();
    let loader = move |n: &str| {
        if n == main {
            Some(source.clone())
        } else if n == "user.inc" {
            Some(programs::USER_INC.to_string())
        } else if n == "ulib.inc" {
            Some(programs::ULIB_INC.to_string())
        } else {
            None
        }
    };
    osviz_asm::assemble(&file, &loader)
}

/// A booted machine with the kernel and the programs it runs, and the
/// assembler output of each (for symbols and source lines).
#[derive(Debug)]
pub struct System {
    pub machine: Machine,
    pub kernel: Output,
    pub programs: Vec<(String, Output)>,
}

/// Why the system could not be put together.
#[derive(Debug)]
pub enum BootError {
    /// A source did not assemble: which one, and the errors.
    Assembly {
        name: String,
        errors: Vec<Diagnostic>,
    },
    /// The images do not fit where the loader puts them.
    TooLarge(String),
}

impl std::fmt::Display for BootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootError::Assembly { name, errors } => {
                writeln!(f, "{name} does not assemble:")?;
                for e in errors {
                    writeln!(f, "  {e}")?;
                }
                Ok(())
            }
            BootError::TooLarge(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for BootError {}

/// The disk the teaching kernel's lessons boot with: block 1 holds a line
/// of text, which the blocking-I/O lesson's program reads by DMA.
pub fn disk_image() -> Vec<u8> {
    let mut disk = vec![0u8; 2 * 512];
    let text = b"osviz disk: block 1, read by DMA\n";
    disk[512..512 + text.len()].copy_from_slice(text);
    disk
}

impl System {
    /// Assembles the kernel and `programs`, loads them into a machine with
    /// the lessons' configuration, and points the CPU at the kernel's entry.
    pub fn boot(programs: &[Program]) -> Result<System, BootError> {
        Self::boot_with(programs, MachineConfig::default())
    }

    pub fn boot_with(programs: &[Program], config: MachineConfig) -> Result<System, BootError> {
        let sources: Vec<(&str, &str)> = programs.iter().map(|p| (p.name, p.source)).collect();
        Self::boot_sources(&sources, config)
    }

    /// Like [`System::boot`], for programs given as `(name, source)` text
    /// (a student's edited program, say).
    pub fn boot_sources(
        programs: &[(&str, &str)],
        config: MachineConfig,
    ) -> Result<System, BootError> {
        let kernel = build_kernel().map_err(|errors| BootError::Assembly {
            name: "kernel".into(),
            errors,
        })?;
        let mut built = Vec::new();
        for &(name, source) in programs {
            let out = build_program(name, source).map_err(|errors| BootError::Assembly {
                name: name.into(),
                errors,
            })?;
            built.push((name.to_string(), out));
        }
        let mut machine = Machine::with_config(config);
        let (start, image) = kernel.image();
        machine
            .load(start.wrapping_sub(KERNBASE), &image)
            .map_err(|e| BootError::TooLarge(format!("the kernel: {e}")))?;

        // The boot table: a count, then for each program its physical
        // address, size and a 16-byte name.
        let mut table = (built.len() as u32).to_le_bytes().to_vec();
        let mut at = PROGRAMS_AT;
        for (name, out) in &built {
            let (_, bytes) = out.image();
            if at + bytes.len() as u32 > start.wrapping_sub(KERNBASE) {
                return Err(BootError::TooLarge(format!(
                    "the programs do not fit below the kernel ({name})"
                )));
            }
            machine
                .load(at, &bytes)
                .map_err(|e| BootError::TooLarge(format!("{name}: {e}")))?;
            table.extend(at.to_le_bytes());
            table.extend((bytes.len() as u32).to_le_bytes());
            let mut field = [0u8; 16];
            for (f, b) in field.iter_mut().zip(name.bytes().take(15)) {
                *f = b;
            }
            table.extend(field);
            at = (at + bytes.len() as u32 + 0xFFF) & !0xFFF;
        }
        machine
            .load(BOOT_TABLE, &table)
            .map_err(|e| BootError::TooLarge(format!("the boot table: {e}")))?;
        let entry = kernel.symbol("entry").unwrap_or(start);
        machine.set_eip(entry.wrapping_sub(KERNBASE));
        Ok(System {
            machine,
            kernel,
            programs: built,
        })
    }
}
