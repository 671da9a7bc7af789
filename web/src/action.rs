//! Everything a student or an instructor can do on the page, as one enum.
//! Buttons, keyboard shortcuts, the help overlay and share-link replay all
//! go through [`crate::session::Session::apply`], so each action is defined
//! once and the shortcut list below is the only one.

use crate::focus::Focus;
use crate::session::{BreakChoice, Opening, SourceLine};
use osviz_course::Panel;
use osviz_machine::EventKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An xv6 build's files as the page got them (fetched, or opened by the
/// student): plain bytes, read into a build by the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildFiles {
    /// Where it came from, as the page says it ("the xv6 this page serves").
    pub origin: String,
    pub kernel: Vec<u8>,
    pub disk: Vec<u8>,
    /// Source files by name (`proc.c`).
    pub sources: BTreeMap<String, String>,
    /// The host's clock when the files arrived (Unix seconds): what the
    /// CMOS clock of an xv6 booted from them reads at its first step.
    pub clock_start: u64,
    /// The boot block's ELF (`bootblock.o`), when the build has one: the
    /// boot lesson boots from the disk made of it and the kernel.
    pub boot_block: Option<Vec<u8>>,
    /// The teaching hypervisor's ELF and its sources, when the page serves
    /// them: the virtualization lessons run the build as its guest.
    pub hypervisor: Option<HypervisorFiles>,
}

/// The teaching hypervisor as the page serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypervisorFiles {
    pub elf: Vec<u8>,
    /// Its C and assembly by file name (`trap.c`).
    pub sources: BTreeMap<String, String>,
}

/// Everything that can be asked of the session: the student's and the
/// instructor's actions, and what the page tells it (a frame's time, a
/// fetched build, which panels are in view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    Step,
    StepOver,
    StepBack,
    /// Run or pause.
    ToggleRun,
    Reset,
    /// Go back to step 0 to watch the kernel boot.
    ShowBoot,
    /// Go back to where the student was before a reveal or "show the boot".
    ReturnToWhereIWas,
    Faster,
    Slower,
    /// A position of the speed control.
    SetSpeed(usize),
    /// Break on a choice of the break-on control, or on nothing.
    SetBreak(Option<BreakChoice>),
    NextBreak,
    Share,
    ToggleProjector,
    ToggleTheme,
    ToggleHelp,
    CloseHelp,
    ChooseLesson(String),
    /// The editor's text changed.
    Edit(String),
    /// Assemble the editor's text and boot it.
    RunDraft,
    /// Put the lesson's own program back in the editor.
    RevertDraft,
    Reveal(usize),
    Guess(usize, String),
    TypeKeys(String),
    /// Show only events of a kind in the log (`None`: all but TLB hits).
    Filter(Option<EventKind>),
    Hover(Option<Focus>),
    Pin(Focus),
    ScrollEvents(usize),
    /// Panels that went out of the window's view (`false`) or came into it.
    PanelsInView(Vec<(Panel, bool)>),
    WhoChanged(u32),
    WhoChangedText(String),
    WalkText(String),
    ToggleBreakpoint(SourceLine),
    RemoveBreakpoint(usize),
    /// Show or hide a panel in projector mode.
    TogglePanel(Panel),
    DismissNotice,
    /// The page fetched xv6: read it and boot the xv6 lesson (or link)
    /// that waits for it.
    Xv6Loaded(BuildFiles),
    /// xv6 could not be fetched: why.
    Xv6Failed(String),
    /// The student opened their own xv6 build: read it and boot it.
    Xv6Opened(BuildFiles),
    /// Step by source line: into calls, over them, or out of the function.
    StepLine,
    NextLine,
    StepOut,
    /// Set a breakpoint on a function (its first line) or on `file:line`.
    BreakAt(String),
    /// One animation frame: run for the `seconds` of real time since the
    /// last.
    Tick {
        seconds: f64,
    },
    /// The latest frame's running took `run_ms`, `since_last_ms` after the
    /// frame before (the full-speed budget adapts to it).
    FrameTimed {
        run_ms: f64,
        since_last_ms: f64,
    },
    /// The page rendered the latest frame in `ms`.
    Rendered {
        ms: f64,
    },
    /// A share link to `step` was copied to the clipboard, or the browser
    /// refused (`copied` false) and the student copies `url` by hand.
    LinkCopied {
        url: String,
        step: u64,
        copied: bool,
    },
    /// A newcomer opened the page: say how to begin.
    Welcome,
    /// The browser went to another moment (Back or Forward to a lesson, a
    /// link pasted into the address): open what its fragment describes.
    OpenMoment {
        fragment: String,
        how: Opening,
    },
    /// Stop the long work under way (a replay, "who last changed this?"):
    /// the machine goes back to where it was.
    Cancel,
}

impl Action {
    /// Whether the action moves the machine or asks for its moment, which
    /// must wait while a job replays (pointing, panels, settings and typing
    /// need not).
    pub fn moves_the_machine(&self) -> bool {
        matches!(
            self,
            Action::Step
                | Action::StepOver
                | Action::StepBack
                | Action::StepLine
                | Action::NextLine
                | Action::StepOut
                | Action::ToggleRun
                | Action::Reset
                | Action::ShowBoot
                | Action::ReturnToWhereIWas
                | Action::Share
                | Action::RunDraft
                | Action::RevertDraft
                | Action::Reveal(_)
                | Action::WhoChanged(_)
                | Action::WhoChangedText(_)
                | Action::WalkText(_)
                | Action::ToggleBreakpoint(_)
                | Action::RemoveBreakpoint(_)
                | Action::BreakAt(_)
        )
    }
}

/// A keyboard shortcut: the keys, the action, and what the help says.
#[derive(Clone, Debug)]
pub struct Shortcut {
    pub keys: &'static [&'static str],
    pub action: Action,
    pub what: &'static str,
}

const fn key(keys: &'static [&'static str], action: Action, what: &'static str) -> Shortcut {
    Shortcut { keys, action, what }
}

/// Every keyboard shortcut: the key handler and the help overlay read this.
pub const SHORTCUTS: [Shortcut; 17] = [
    key(&["s"], Action::Step, "step one instruction"),
    key(&["o"], Action::StepOver, "step over a call or an int n"),
    key(
        &["n"],
        Action::StepLine,
        "step to the next source line (into calls)",
    ),
    key(
        &["j"],
        Action::NextLine,
        "next source line of this function (over calls)",
    ),
    key(
        &["u"],
        Action::StepOut,
        "step out of the function, to its caller",
    ),
    key(
        &["b"],
        Action::StepBack,
        "step back (undoes a step over whole)",
    ),
    key(&["r"], Action::ToggleRun, "run or pause"),
    key(&["+", "="], Action::Faster, "run faster"),
    key(&["-"], Action::Slower, "run slower"),
    key(&["e"], Action::NextBreak, "next break-on event kind"),
    key(&["x"], Action::Reset, "reset the lesson"),
    key(&["l"], Action::Share, "copy a share link to this moment"),
    key(&["p"], Action::ToggleProjector, "projector mode"),
    key(&["t"], Action::ToggleTheme, "light or dark theme"),
    key(&["w"], Action::ReturnToWhereIWas, "back to where you were"),
    key(&["?"], Action::ToggleHelp, "this help"),
    key(
        &["Escape"],
        Action::CloseHelp,
        "close this help, or cancel a long replay",
    ),
];

/// The action of a key, if it has one.
pub fn for_key(key: &str) -> Option<Action> {
    SHORTCUTS
        .iter()
        .find(|s| s.keys.contains(&key))
        .map(|s| s.action.clone())
}

/// The first key of an action's shortcut, for a button's title.
pub fn key_of(action: &Action) -> Option<&'static str> {
    SHORTCUTS
        .iter()
        .find(|s| &s.action == action)
        .map(|s| s.keys[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_means_one_thing() {
        let mut seen = std::collections::HashSet::new();
        for s in &SHORTCUTS {
            for k in s.keys {
                assert!(seen.insert(*k), "{k} is bound twice");
            }
        }
        assert_eq!(for_key("="), Some(Action::Faster));
        assert_eq!(key_of(&Action::Step), Some("s"));
        assert_eq!(for_key("q"), None);
    }

    #[test]
    fn actions_are_plain_data_that_survive_serialization() {
        let actions = [
            Action::SetBreak(Some(BreakChoice::SystemCall)),
            Action::PanelsInView(vec![(Panel::Tlb, false)]),
            Action::ToggleBreakpoint(SourceLine {
                file: "sysfile.c".into(),
                line: 83,
            }),
            Action::Filter(Some(EventKind::PageFault)),
            Action::Pin(Focus::Frame(0x107)),
            Action::Tick { seconds: 0.016 },
            Action::OpenMoment {
                fragment: "lesson=xv6-idt&step=1000000000&k=14000000.6c730a".into(),
                how: Opening::History,
            },
            Action::Xv6Opened(BuildFiles {
                origin: "test".into(),
                kernel: vec![0x7f, b'E'],
                disk: vec![0; 4],
                sources: BTreeMap::from([("proc.c".into(), "int x;".into())]),
                clock_start: 1_796_646_896,
                boot_block: None,
                hypervisor: None,
            }),
        ];
        for a in actions {
            let text = serde_json::to_string(&a).unwrap();
            let back: Action = serde_json::from_str(&text).unwrap();
            assert_eq!(back, a, "{text}");
        }
    }
}
