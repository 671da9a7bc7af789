//! The booted system: the machine and the kernel that runs on it, the
//! teaching kernel (with its lesson's programs) or xv6 (from a build). It
//! boots any lesson, goes to the lesson's start, answers its questions, and
//! hands out the kernel's view: the page, the command line and the wasm
//! API all boot and read a guest this one way.

use crate::lesson::{Kernel, Lesson, Moment, Question, Setup};
use crate::run::{run_to, run_to_user_mode};
use osviz_asm::Output;
use osviz_kernel::introspect::Introspector;
use osviz_kernel::{BootError, System, disk_image};
use osviz_machine::{Event, Machine, MachineConfig};
use osviz_view::KernelView;
use osviz_xv6::{OpenError, Xv6, Xv6Build};
use std::rc::Rc;

/// The most steps the teaching kernel's boot may take to its first user
/// instruction (it takes about 60 k).
pub const TEACHING_BOOT_STEPS: u64 = 30_000_000;

/// The most steps xv6's boot may take to its prompt (it takes 14 M).
pub const XV6_BOOT_STEPS: u64 = 60_000_000;

/// The most steps xv6's boot under the hypervisor may take to its prompt
/// (it takes 45 M: the guest's 14 M and the hypervisor's exits).
pub const VMM_BOOT_STEPS: u64 = 200_000_000;

/// Why a lesson's guest could not be booted, or brought to its start.
#[derive(Debug)]
pub enum GuestError {
    /// An xv6 lesson was asked for without an xv6 build.
    NeedsXv6 { lesson: &'static str },
    /// The teaching kernel or a program did not assemble or load.
    Teaching(BootError),
    /// The xv6 build could not be booted.
    Xv6(OpenError),
    /// The boot did not reach the lesson's start (why).
    Start(String),
}

impl std::fmt::Display for GuestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestError::NeedsXv6 { lesson } => write!(
                f,
                "lesson {lesson} runs on xv6, and no xv6 build was given (build one with scripts/xv6, or set XV6_SRC to an xv6 source tree)"
            ),
            GuestError::Teaching(e) => write!(f, "{e}"),
            GuestError::Xv6(e) => write!(f, "{e}"),
            GuestError::Start(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for GuestError {}

impl From<BootError> for GuestError {
    fn from(e: BootError) -> GuestError {
        GuestError::Teaching(e)
    }
}

impl From<OpenError> for GuestError {
    fn from(e: OpenError) -> GuestError {
        GuestError::Xv6(e)
    }
}

/// Which kernel runs, with what its view needs to read it.
#[derive(Debug)]
enum GuestKernel {
    Teaching {
        kernel: Output,
        programs: Vec<(String, Output)>,
    },
    Xv6(Rc<Xv6Build>),
    /// xv6 as the hypervisor's guest: the build, and xv6 read in the guest
    /// memory the hypervisor gives it.
    Vmm {
        build: Rc<Xv6Build>,
        guest: Box<Xv6>,
    },
}

/// The machine and its kernel, booted together: the kernel's view always
/// reads the machine it was booted on.
#[derive(Debug)]
pub struct Guest {
    machine: Machine,
    kernel: GuestKernel,
}

impl Guest {
    /// The teaching kernel, booted with its programs.
    pub fn teaching(system: System) -> Guest {
        Guest {
            machine: system.machine,
            kernel: GuestKernel::Teaching {
                kernel: system.kernel,
                programs: system.programs,
            },
        }
    }

    /// The teaching kernel running `programs` as `(name, source)`, with the
    /// lessons' disk.
    pub fn teaching_sources(programs: &[(&str, &str)]) -> Result<Guest, GuestError> {
        let mut system = System::boot_sources(programs, MachineConfig::default())?;
        system
            .machine
            .load_disk(&disk_image())
            .map_err(|e| BootError::TooLarge(e.to_string()))?;
        Ok(Guest::teaching(system))
    }

    /// xv6 from a build, at its first instruction, keeping history for
    /// reverse stepping.
    pub fn boot_xv6(build: Rc<Xv6Build>) -> Result<Guest, GuestError> {
        Guest::boot_xv6_with(build, osviz_xv6::CHECKPOINT_STEPS)
    }

    /// xv6 from a build, with a checkpoint every `checkpoint_interval`
    /// steps (0: none, for a batch run).
    pub fn boot_xv6_with(
        build: Rc<Xv6Build>,
        checkpoint_interval: u64,
    ) -> Result<Guest, GuestError> {
        let machine = build.boot_with(checkpoint_interval)?;
        Ok(Guest {
            machine,
            kernel: GuestKernel::Xv6(build),
        })
    }

    /// xv6 booted from its disk as a BIOS hands over: the boot sector at
    /// 0000:7C00 in real mode, keeping history for reverse stepping.
    pub fn boot_xv6_from_disk(build: Rc<Xv6Build>) -> Result<Guest, GuestError> {
        let machine = build.boot_from_disk_with(osviz_xv6::CHECKPOINT_STEPS)?;
        Ok(Guest {
            machine,
            kernel: GuestKernel::Xv6(build),
        })
    }

    /// xv6 as the guest of the teaching hypervisor (the build's), at the
    /// hypervisor's first instruction, keeping history for reverse
    /// stepping. `words` follow the module's name (`pure`: trap and
    /// emulate alone).
    pub fn boot_under_hypervisor(build: Rc<Xv6Build>, words: &str) -> Result<Guest, GuestError> {
        let machine = build.boot_under_hypervisor(words, osviz_xv6::CHECKPOINT_STEPS)?;
        let hypervisor = build
            .hypervisor()
            .cloned()
            .ok_or_else(|| GuestError::Start("the build has no hypervisor".into()))?;
        let guest = build
            .xv6
            .under_hypervisor(hypervisor, &machine)
            .map_err(|e| GuestError::Start(format!("the hypervisor's guest memory: {e}")))?;
        Ok(Guest {
            machine,
            kernel: GuestKernel::Vmm {
                build,
                guest: Box::new(guest),
            },
        })
    }

    /// The guest a lesson runs, at its first instruction: the teaching
    /// kernel with the lesson's programs (the first replaced by `source`
    /// when the student edited it), or xv6 from `xv6`.
    pub fn for_lesson(
        lesson: &'static Lesson,
        xv6: Option<&Rc<Xv6Build>>,
        source: Option<&str>,
    ) -> Result<Guest, GuestError> {
        match lesson.setup {
            Setup::Teaching { programs, .. } => {
                let mut sources: Vec<(&str, &str)> =
                    programs.iter().map(|p| (p.name, p.source)).collect();
                if let (Some(text), Some(first)) = (source, sources.first_mut()) {
                    first.1 = text;
                }
                Guest::teaching_sources(&sources)
            }
            Setup::Xv6 { .. } => {
                let build = xv6.ok_or(GuestError::NeedsXv6 { lesson: lesson.id })?;
                Guest::boot_xv6(build.clone())
            }
            Setup::Xv6Boot => {
                let build = xv6.ok_or(GuestError::NeedsXv6 { lesson: lesson.id })?;
                Guest::boot_xv6_from_disk(build.clone())
            }
            Setup::Vmm { pure, .. } => {
                let build = xv6.ok_or(GuestError::NeedsXv6 { lesson: lesson.id })?;
                Guest::boot_under_hypervisor(build.clone(), if pure { "pure" } else { "" })
            }
        }
    }

    /// Which kernel runs.
    pub fn kernel(&self) -> Kernel {
        match self.kernel {
            GuestKernel::Teaching { .. } => Kernel::Teaching,
            GuestKernel::Xv6(_) | GuestKernel::Vmm { .. } => Kernel::Xv6,
        }
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The machine, to run or to move in time; its kernel stays the one
    /// it was booted with.
    pub fn machine_mut(&mut self) -> &mut Machine {
        &mut self.machine
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
            GuestKernel::Xv6(_) | GuestKernel::Vmm { .. } => &[],
        }
    }

    /// The xv6 build, when xv6 runs.
    pub fn xv6(&self) -> Option<&Rc<Xv6Build>> {
        match &self.kernel {
            GuestKernel::Xv6(build) | GuestKernel::Vmm { build, .. } => Some(build),
            GuestKernel::Teaching { .. } => None,
        }
    }

    /// Whether xv6 runs as the hypervisor's guest.
    pub fn under_hypervisor(&self) -> bool {
        matches!(self.kernel, GuestKernel::Vmm { .. })
    }

    /// Fast-forwards the boot to where `lesson` starts: the user program's
    /// first instruction (the teaching kernel), or xv6's shell prompt with
    /// the lesson's command typed. The boot runs quietly (events off, the
    /// block path) and stays in the history; returns the step reached. A
    /// lesson on the boot itself starts where the machine is, at the boot
    /// sector.
    pub fn go_to_start(&mut self, lesson: &Lesson) -> Result<u64, GuestError> {
        let m = &mut self.machine;
        if let Setup::Xv6Boot | Setup::Vmm { pure: true, .. } = lesson.setup {
            return Ok(m.steps());
        }
        match self.kernel {
            GuestKernel::Teaching { .. } => run_to_user_mode(m, TEACHING_BOOT_STEPS)
                .map_err(|e| GuestError::Start(format!("the teaching kernel: {e}"))),
            GuestKernel::Xv6(ref build) => {
                let step = build
                    .xv6
                    .run_to_prompt(m, XV6_BOOT_STEPS)
                    .map_err(|e| GuestError::Start(format!("xv6 did not reach its prompt: {e}")))?;
                for b in lesson.typed().bytes() {
                    m.press_key(b);
                }
                Ok(step)
            }
            GuestKernel::Vmm { ref guest, .. } => {
                let step = guest.run_to_prompt(m, VMM_BOOT_STEPS).map_err(|e| {
                    GuestError::Start(format!(
                        "xv6 did not reach its prompt under the hypervisor: {e}"
                    ))
                })?;
                for b in lesson.typed().bytes() {
                    m.press_key(b);
                }
                Ok(step)
            }
        }
    }

    /// Runs to `moment` (at most `max_steps` steps) with events recorded;
    /// returns the events of the step that reached it.
    pub fn run_to(&mut self, moment: Moment, max_steps: u64) -> Result<Vec<Event>, String> {
        let (m, view) = self.split();
        run_to(m, &*view, moment, max_steps)
    }

    /// A question's answer, read from the guest as it is now.
    pub fn answer(&self, q: &Question, events: &[Event]) -> String {
        (q.answer)(&self.machine, &*self.view(), events)
    }

    /// A copy of this guest at this moment, to run ahead on (a question's
    /// moment) without moving this one. The build is shared.
    pub fn fork(&self) -> Guest {
        Guest {
            machine: self.machine.clone(),
            kernel: match &self.kernel {
                GuestKernel::Teaching { kernel, programs } => GuestKernel::Teaching {
                    kernel: kernel.clone(),
                    programs: programs.clone(),
                },
                GuestKernel::Xv6(build) => GuestKernel::Xv6(build.clone()),
                GuestKernel::Vmm { build, guest } => GuestKernel::Vmm {
                    build: build.clone(),
                    guest: guest.clone(),
                },
            },
        }
    }
}

fn view_of(kernel: &GuestKernel) -> ViewRef<'_> {
    match kernel {
        GuestKernel::Teaching { kernel, programs } => {
            ViewRef::Teaching(Introspector { kernel, programs })
        }
        GuestKernel::Xv6(build) => ViewRef::Xv6(&build.xv6),
        GuestKernel::Vmm { guest, .. } => ViewRef::Xv6(guest),
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
