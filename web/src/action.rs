//! Everything a student or an instructor can do on the page, as one enum.
//! Buttons, keyboard shortcuts, the help overlay and share-link replay all
//! go through [`crate::session::Session::apply`], so each action is defined
//! once and the shortcut list below is the only one.

use crate::focus::Focus;
use osviz_xv6::Xv6Build;
use std::rc::Rc;

/// An xv6 build handed to the session (equal when it is the same build).
#[derive(Clone, Debug)]
pub struct Build(pub Rc<Xv6Build>);

impl PartialEq for Build {
    fn eq(&self, other: &Build) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Build {}

#[derive(Clone, Debug, PartialEq, Eq)]
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
    SetSpeed(usize),
    /// Break on an entry of `BREAK_KINDS`, or on nothing.
    SetBreak(Option<usize>),
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
    /// Filter the event log by the name of a kind ("" for all but TLB hits).
    Filter(String),
    Hover(Option<Focus>),
    Pin(Focus),
    ScrollEvents(usize),
    /// Panels, by name, that went out of view (`false`) or came into it.
    PanelsInView(Vec<(String, bool)>),
    WhoChanged(u32),
    WhoChangedText(String),
    WalkText(String),
    ToggleBreakpoint {
        file: String,
        line: usize,
    },
    RemoveBreakpoint(usize),
    /// Show or hide a panel in projector mode.
    TogglePanel(String),
    DismissNotice,
    /// The page fetched xv6 (or the student opened a build): boot the
    /// xv6 lesson that waits for it.
    Xv6Loaded(Build),
    /// xv6 could not be fetched or read: why.
    Xv6Failed(String),
    /// The student opened their own xv6 build: boot it.
    Xv6Opened(Build),
    /// Step by source line: into calls, over them, or out of the function.
    StepLine,
    NextLine,
    StepOut,
    /// Set a breakpoint on a function (its first line) or on `file:line`.
    BreakAt(String),
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
    key(&["Escape"], Action::CloseHelp, "close this help"),
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
}
