//! Share links: the link for this moment, and opening one (the lesson, the
//! program, the breakpoints, the keys typed, the point in time, by
//! deterministic replay). A link is untrusted: what it asks that cannot be
//! had is said in the notice, with what opened instead.

use super::breaks::SourceLine;
use super::{Preferences, Session};
use crate::share::{Link, MAX_LINK_KEYS};
use osviz_machine::InputChannel;
use osviz_xv6::Xv6Build;
use std::rc::Rc;

impl Session {
    /// The share link for this moment.
    pub fn link(&self) -> Link {
        let lesson = self.course.lesson();
        Link {
            lesson: Some(lesson.id.to_string()),
            source: (self.program() != lesson.source()).then(|| self.program().to_string()),
            breakpoints: self
                .breaks
                .lines()
                .iter()
                .map(|b| (b.file.clone(), b.line))
                .collect(),
            step: Some(self.system.machine().steps()),
            panels: self.prefs.panels.get(lesson.id).cloned(),
            projector: self.prefs.projector,
            keys: self.typed_keys(),
        }
    }

    /// The keys typed since the lesson's start (not the ones the lesson
    /// typed itself), up to now: what a share link replays.
    fn typed_keys(&self) -> Vec<(u64, u8)> {
        let m = self.system.machine();
        let own = self.course.lesson().typed().len();
        let start = self.time.start_step();
        m.inputs()
            .iter()
            .enumerate()
            .filter(|(k, i)| !(*k < own && i.step == start))
            .map(|(_, i)| i)
            .filter(|i| i.step <= m.steps() && i.channel == InputChannel::Keyboard)
            .map(|i| (i.step, i.byte))
            .take(MAX_LINK_KEYS)
            .collect()
    }

    /// Opens what a share link describes, with no xv6 build yet.
    pub fn open_link(fragment: &str, prefs: Preferences) -> Session {
        Session::open_link_with(fragment, None, prefs)
    }

    /// Opens a share link with the xv6 build, if the page has one. A link to
    /// an xv6 lesson without it opens the first lesson and waits for xv6,
    /// then opens again.
    pub(super) fn open_link_with(
        fragment: &str,
        xv6: Option<Rc<Xv6Build>>,
        prefs: Preferences,
    ) -> Session {
        let (link, mut problems) = Link::decode(fragment);
        let asked = link.lesson.clone();
        let known = asked
            .as_deref()
            .and_then(osviz_course::lesson)
            .map(|l| l.id);
        let mut session =
            Session::with_prefs(known.unwrap_or(osviz_course::first().id), xv6, prefs);
        if session.xv6.waiting().is_some() {
            session.xv6.wait_with_link(fragment);
            session.notice = Some("loading xv6 to open the shared link…".into());
            return session;
        }
        let title = session.course.lesson().title;
        match (&asked, known) {
            (Some(a), None) => problems.insert(
                0,
                format!("there is no lesson `{a}`: opened “{title}” instead"),
            ),
            (None, _) => problems.insert(0, format!("the link names no lesson: opened “{title}”")),
            _ => {}
        }
        let id = session.course.lesson().id;
        if let Some(src) = link.source {
            session.run_source(src.clone());
            session.prefs.drafts.insert(id.to_string(), src);
            if !session.errors().is_empty() {
                problems.push("the program in the link does not assemble".into());
            }
        }
        session.breaks.set_lines(
            link.breakpoints
                .iter()
                .map(|(file, line)| SourceLine {
                    file: file.clone(),
                    line: *line,
                })
                .collect(),
        );
        session.bind_breakpoints();
        if let Some(panels) = link.panels {
            session.prefs.panels.insert(id.to_string(), panels);
        }
        session.prefs.projector = link.projector;
        let mut opened = String::new();
        // What was typed, each key at its step (replayed as it was typed).
        for &(step, byte) in &link.keys {
            if step < session.system.machine().steps() {
                continue;
            }
            session.seek(step);
            if session.system.machine().steps() < step {
                break;
            }
            session.system.machine_mut().press_key(byte);
        }
        if let Some(step) = link.step {
            session.seek(step);
            let reached = session.system.machine().steps();
            if reached < step {
                problems.push(format!(
                    "step {step} is past the end of this run: opened at step {reached}, where it stopped"
                ));
            }
            opened = format!(" at step {reached}");
        }
        session.remember_directories();
        session.mark();
        session.notice = Some(if problems.is_empty() {
            format!("opened a shared link to “{title}”{opened}")
        } else {
            format!("opened a shared link{opened}; {}", problems.join("; "))
        });
        session
    }
}
