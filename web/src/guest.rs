//! The booted system the page shows: the machine and the kernel that runs
//! on it, the teaching kernel (with its lesson's programs) or xv6 (from a
//! build the page fetched, or one the student opened). The panels read the
//! kernel through one interface, [`KernelView`], whichever it is.

use osviz_asm::Output;
use osviz_kernel::System;
use osviz_kernel::introspect::Introspector;
use osviz_machine::{Machine, PcConfig};
use osviz_view::KernelView;
use osviz_xv6::Xv6;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Steps between xv6's checkpoints: a step back replays at most this many
/// (a few milliseconds on the block path), and the boot's 14 M steps keep
/// a dozen of them.
const XV6_CHECKPOINT_STEPS: u64 = 1_000_000;

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
    pub xv6: Xv6,
}

/// Why a kernel and disk could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The kernel file is not something the machine boots (named why).
    Kernel(String),
    /// The kernel boots, but its debugging information could not be read.
    Dwarf(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Kernel(why) => write!(f, "the kernel cannot boot: {why}"),
            OpenError::Dwarf(why) => write!(f, "the kernel's debugging information: {why}"),
        }
    }
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
        osviz_machine::multiboot::check(&kernel).map_err(|e| OpenError::Kernel(e.to_string()))?;
        let mut xv6 = Xv6::new(&kernel).map_err(|e| OpenError::Dwarf(e.to_string()))?;
        // The user programs' C comes from their ELFs in the disk image.
        xv6.read_programs(&disk);
        Ok(Xv6Build {
            origin: origin.to_string(),
            kernel,
            disk,
            sources,
            xv6,
        })
    }

    /// A fresh PC running this build, at its first instruction, keeping
    /// history for reverse stepping.
    pub fn boot(&self) -> Result<Machine, OpenError> {
        Machine::pc(
            PcConfig {
                slave: Some(self.disk.clone()),
                checkpoint_interval: XV6_CHECKPOINT_STEPS,
                ..PcConfig::default()
            },
            &self.kernel,
        )
        .map_err(|e| OpenError::Kernel(e.to_string()))
    }
}

/// Which kernel runs, with what the views need to read it.
#[derive(Debug)]
pub enum GuestKernel {
    Teaching {
        kernel: Output,
        programs: Vec<(String, Output)>,
    },
    Xv6(Rc<Xv6Build>),
}

fn view_of(kernel: &GuestKernel) -> ViewRef<'_> {
    match kernel {
        GuestKernel::Teaching { kernel, programs } => {
            ViewRef::Teaching(Introspector { kernel, programs })
        }
        GuestKernel::Xv6(build) => ViewRef::Xv6(&build.xv6),
    }
}

/// The machine and its kernel.
#[derive(Debug)]
pub struct Guest {
    pub machine: Machine,
    pub kernel: GuestKernel,
}

impl Guest {
    pub fn teaching(system: System) -> Guest {
        Guest {
            machine: system.machine,
            kernel: GuestKernel::Teaching {
                kernel: system.kernel,
                programs: system.programs,
            },
        }
    }

    /// The kernel, as the panels read it.
    pub fn view(&self) -> ViewRef<'_> {
        view_of(&self.kernel)
    }

    /// The machine to run and the kernel's view, borrowed together.
    pub fn split(&mut self) -> (&mut Machine, ViewRef<'_>) {
        (&mut self.machine, view_of(&self.kernel))
    }

    /// The teaching kernel's programs (none for xv6).
    pub fn programs(&self) -> &[(String, Output)] {
        match &self.kernel {
            GuestKernel::Teaching { programs, .. } => programs,
            GuestKernel::Xv6(_) => &[],
        }
    }

    /// The xv6 build, when xv6 runs.
    pub fn xv6(&self) -> Option<&Rc<Xv6Build>> {
        match &self.kernel {
            GuestKernel::Xv6(build) => Some(build),
            GuestKernel::Teaching { .. } => None,
        }
    }
}

/// The kernel's view, borrowed from the guest: it derefs to the one
/// interface, so a panel does not know which kernel it reads.
#[derive(Debug)]
pub enum ViewRef<'a> {
    Teaching(Introspector<'a>),
    Xv6(&'a Xv6),
}

impl<'a> std::ops::Deref for ViewRef<'a> {
    type Target = dyn KernelView + 'a;

    fn deref(&self) -> &Self::Target {
        match self {
            ViewRef::Teaching(i) => i,
            ViewRef::Xv6(x) => *x,
        }
    }
}
