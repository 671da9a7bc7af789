//! What a lesson is: text for students, the guest it runs and how that
//! guest is set up, the moments it stops at, and predict-then-reveal
//! questions whose answers the machine computes through the kernel-view
//! interface, whichever kernel runs.

use crate::panel::Panel;
use osviz_kernel::Program;
use osviz_machine::{Event, EventKind, Machine};
use osviz_view::{ExitReason, KernelView};
use serde::Serialize;

/// A point in a run a lesson stops at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Moment {
    /// The `nth` (from 1) step that produces an event of this kind.
    Event { event: EventKind, nth: u32 },
    /// The first time EIP reaches this symbol: of the lesson's first
    /// program (the teaching kernel), or of the kernel (xv6).
    Symbol { symbol: &'static str },
    /// The first trap through this vector.
    Trap { vector: u8 },
    /// The `nth` (from 1) exit of this reason the hypervisor counts from
    /// where the run starts, handled: the first step back in the guest
    /// after the hypervisor counted it.
    Exit { reason: ExitReason, nth: u32 },
}

impl std::fmt::Display for Moment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Moment::Event { event, nth } => write!(f, "{event:?} #{nth}"),
            Moment::Symbol { symbol } => write!(f, "`{symbol}`"),
            Moment::Trap { vector } => write!(f, "trap {vector}"),
            Moment::Exit { reason, nth } => write!(f, "exit #{nth} ({})", reason.label()),
        }
    }
}

/// How a question's answer is read, at its moment: from the machine, the
/// kernel's view, and the events of the step that reached the moment.
pub type AnswerFn = fn(&Machine, &dyn KernelView, &[Event]) -> String;

/// A question asked before running to a moment, answered by the machine there.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Question {
    pub prompt: &'static str,
    pub moment: Moment,
    /// The answer's text, as the page shows it and a prediction is graded
    /// against ([`crate::grade`]): its key first (parts separated by
    /// commas, a gloss in parentheses), then what explains it after `: `
    /// or `; `.
    #[serde(skip)]
    pub answer: AnswerFn,
}

/// The kernels a lesson can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// osviz's own teaching kernel, with the lesson's programs.
    Teaching,
    /// xv6 (the build the page serves, or one the student opened).
    Xv6,
}

impl Kernel {
    /// The kernel's name, as a person says it.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Teaching => "teaching kernel",
            Kernel::Xv6 => "xv6",
        }
    }
}

/// What a lesson's guest is booted with: each kernel's own needs.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "kernel", rename_all = "snake_case")]
pub enum Setup {
    /// The teaching kernel runs the lesson's programs (the first is the one
    /// the student edits) and the console shows `expected_output` by the end.
    Teaching {
        programs: &'static [Program],
        expected_output: &'static str,
    },
    /// xv6 boots to its shell's prompt, and the lesson types `typed` there
    /// before its moments.
    Xv6 { typed: &'static str },
    /// xv6 boots from its disk as a BIOS hands over (`make qemu`): the
    /// lesson starts at the boot sector's first instruction, in real mode.
    Xv6Boot,
    /// The teaching hypervisor runs xv6 as its guest. With `pure`, by
    /// trap-and-emulate alone (no rewriting of `pushfl`/`popfl`): xv6
    /// panics early in its boot, and the lesson starts at the
    /// hypervisor's first instruction. Otherwise xv6 boots to its prompt
    /// under the hypervisor and the lesson types `typed` there.
    Vmm { typed: &'static str, pure: bool },
}

/// A lesson.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The concept of the course material it shows.
    pub concept: &'static str,
    pub paragraphs: &'static [&'static str],
    pub setup: Setup,
    pub breakpoints: &'static [Moment],
    pub questions: &'static [Question],
    /// The panels that show this lesson's concept, the key one first: what
    /// projector mode opens with (the lesson text and the console are
    /// always there).
    pub panels: &'static [Panel],
}

impl Lesson {
    /// The kernel the lesson runs.
    pub fn kernel(&self) -> Kernel {
        match self.setup {
            Setup::Teaching { .. } => Kernel::Teaching,
            Setup::Xv6 { .. } | Setup::Xv6Boot | Setup::Vmm { .. } => Kernel::Xv6,
        }
    }

    /// Whether the lesson runs xv6 as the hypervisor's guest.
    pub fn under_hypervisor(&self) -> bool {
        matches!(self.setup, Setup::Vmm { .. })
    }

    /// The teaching kernel's programs the lesson runs (none on xv6, which
    /// runs its own).
    pub fn programs(&self) -> &'static [Program] {
        match self.setup {
            Setup::Teaching { programs, .. } => programs,
            Setup::Xv6 { .. } | Setup::Xv6Boot | Setup::Vmm { .. } => &[],
        }
    }

    /// The source of the program the student edits ("" on xv6).
    pub fn source(&self) -> &'static str {
        self.programs().first().map_or("", |p| p.source)
    }

    /// What the lesson types at xv6's prompt ("" on the teaching kernel).
    pub fn typed(&self) -> &'static str {
        match self.setup {
            Setup::Xv6 { typed } | Setup::Vmm { typed, .. } => typed,
            Setup::Teaching { .. } | Setup::Xv6Boot => "",
        }
    }
}
