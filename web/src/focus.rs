//! Linked selection: the thing the pointer is over, or the one last
//! clicked, so that every panel can mark it wherever it appears. A frame
//! hovered in the frame map lights up in the TLB, the page walk and the
//! process table; a process lights up its frames and its timeline slices; a
//! vector its IDT gate, its trap events and the trap frames that name it.
//!
//! Elements that stand for something carry `data-focus` (see
//! [`Focus::attr`]); one pointer handler on the panels reads it, so no panel
//! needs callbacks of its own.

/// What can be pointed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Focus {
    /// A physical frame, by number.
    Frame(u32),
    /// A process, by pid.
    Pid(u32),
    /// An IDT vector.
    Vector(u8),
    /// A virtual page of the current address space, by number.
    Page(u32),
}

impl Focus {
    /// The value of the `data-focus` attribute that stands for it.
    pub fn attr(self) -> String {
        match self {
            Focus::Frame(f) => format!("frame:{f}"),
            Focus::Pid(p) => format!("pid:{p}"),
            Focus::Vector(v) => format!("vector:{v}"),
            Focus::Page(p) => format!("page:{p}"),
        }
    }

    /// Reads a `data-focus` value back; anything else is `None`.
    pub fn parse(text: &str) -> Option<Focus> {
        let (kind, n) = text.split_once(':')?;
        match kind {
            "frame" => n.parse().ok().map(Focus::Frame),
            "pid" => n.parse().ok().map(Focus::Pid),
            "vector" => n.parse().ok().map(Focus::Vector),
            "page" => n.parse().ok().map(Focus::Page),
            _ => None,
        }
    }

    /// Words for the status line.
    pub fn describe(self) -> String {
        match self {
            Focus::Frame(f) => format!("frame {f:#x} (physical {:#010x})", f << 12),
            Focus::Pid(p) => format!("process {p}"),
            Focus::Vector(v) => format!("vector {v:#04x}"),
            Focus::Page(p) => format!("virtual page {p:#x} ({:#010x})", p << 12),
        }
    }
}

/// The focus the panels mark: what the pointer is over, else what was
/// clicked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Linked {
    pub hover: Option<Focus>,
    pub pinned: Option<Focus>,
}

impl Linked {
    /// The focus in force.
    pub fn current(&self) -> Option<Focus> {
        self.hover.or(self.pinned)
    }

    /// Whether any of `these` is the focus in force.
    pub fn any(&self, these: &[Focus]) -> bool {
        self.current().is_some_and(|f| these.contains(&f))
    }

    /// The class that marks an element standing for any of `these`.
    pub fn class(&self, these: &[Focus]) -> Option<&'static str> {
        self.any(these).then_some("linked")
    }

    /// Clicking pins a focus, or unpins it when it was pinned already.
    pub fn toggle_pin(&mut self, f: Focus) {
        self.pinned = if self.pinned == Some(f) {
            None
        } else {
            Some(f)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_back_and_junk_does_not() {
        for f in [
            Focus::Frame(0x3ff),
            Focus::Pid(2),
            Focus::Vector(0x40),
            Focus::Page(0x7ffff),
        ] {
            assert_eq!(Focus::parse(&f.attr()), Some(f));
        }
        for junk in [
            "",
            "frame",
            "frame:",
            "frame:-1",
            "vector:300",
            "pid:x",
            "other:1",
        ] {
            assert_eq!(Focus::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn hover_wins_over_the_pin_and_a_second_click_unpins() {
        let mut l = Linked::default();
        l.toggle_pin(Focus::Pid(1));
        assert_eq!(l.current(), Some(Focus::Pid(1)));
        l.hover = Some(Focus::Frame(7));
        assert_eq!(l.current(), Some(Focus::Frame(7)));
        assert!(l.any(&[Focus::Pid(3), Focus::Frame(7)]));
        l.hover = None;
        l.toggle_pin(Focus::Pid(1));
        assert_eq!(l.current(), None);
    }
}
