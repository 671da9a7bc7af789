//! What the student is looking at, not what the machine does: the process
//! the stack and memory panels show, the linked selection, the event log's
//! filter and scroll position, the address typed for the page walk, the
//! panels out of the window's view, and the help overlay.

use crate::focus::{Focus, Linked};
use osviz_course::Panel;
use osviz_machine::EventKind;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default)]
pub struct Inspect {
    /// The process the kernel-stack and memory-image panels show (the
    /// running one when none is chosen).
    selected_pid: Option<u32>,
    /// The frame, process, vector or page pointed at or clicked: every
    /// panel that shows it marks it.
    linked: Linked,
    /// The event kind the log shows (`None`: all but TLB hits).
    event_filter: Option<EventKind>,
    /// The index (newest first) of the first event row in view.
    events_first: usize,
    /// A virtual address the student typed for the Page walk panel (it
    /// shows the latest access when there is none).
    walk_addr: Option<u32>,
    /// The panels out of the window's view.
    out_of_view: BTreeSet<Panel>,
    help: bool,
}

impl Inspect {
    pub fn selected_pid(&self) -> Option<u32> {
        self.selected_pid
    }

    pub fn linked(&self) -> Linked {
        self.linked
    }

    pub fn event_filter(&self) -> Option<EventKind> {
        self.event_filter
    }

    pub fn events_first(&self) -> usize {
        self.events_first
    }

    pub fn walk_addr(&self) -> Option<u32> {
        self.walk_addr
    }

    pub fn help(&self) -> bool {
        self.help
    }

    pub fn in_view(&self, panel: Panel) -> bool {
        !self.out_of_view.contains(&panel)
    }

    pub fn hover(&mut self, f: Option<Focus>) {
        self.linked.hover = f;
    }

    /// Pins a focus (or unpins it); clicking a process also shows its
    /// kernel stack and memory image.
    pub fn pin(&mut self, f: Focus) {
        self.linked.toggle_pin(f);
        if let Focus::Pid(pid) = f {
            self.selected_pid = Some(pid);
        }
    }

    /// Shows only events of `kind`, from the newest.
    pub fn filter(&mut self, kind: Option<EventKind>) {
        self.event_filter = kind;
        self.events_first = 0;
    }

    pub fn scroll_events(&mut self, first: usize) {
        self.events_first = first;
    }

    pub fn panels_seen(&mut self, seen: Vec<(Panel, bool)>) {
        for (panel, in_view) in seen {
            if in_view {
                self.out_of_view.remove(&panel);
            } else {
                self.out_of_view.insert(panel);
            }
        }
    }

    /// Walks a typed virtual address (hex, with or without 0x); an empty
    /// text goes back to the latest access. Says why a text is no address.
    pub fn walk_text(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        if t.is_empty() {
            self.walk_addr = None;
            return Ok(());
        }
        let digits = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        match u32::from_str_radix(digits, 16) {
            Ok(a) => {
                self.walk_addr = Some(a);
                Ok(())
            }
            Err(_) => Err(format!("{t:?} is not a virtual address (hex)")),
        }
    }

    pub fn toggle_help(&mut self) {
        self.help = !self.help;
    }

    pub fn close_help(&mut self) {
        self.help = false;
    }
}
