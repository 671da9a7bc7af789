//! Share links: the link for this moment, and opening one (the lesson, the
//! program, the breakpoints, the keys typed, the point in time, by
//! deterministic replay). A link is untrusted: what it asks that cannot be
//! had is said in the notice, with what opened instead.

use super::breaks::SourceLine;
use super::jobs::Then;
use super::{Effect, Preferences, Session};
use crate::share::{Link, MAX_LINK_KEYS};
use osviz_machine::InputChannel;
use osviz_xv6::Xv6Build;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// How a moment's fragment came to be opened, which the notice says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opening {
    /// A share link, from someone else or pasted.
    #[default]
    Shared,
    /// The page reloaded: the moment the page kept in its address.
    Reload,
    /// Back or Forward in the browser's history of lessons.
    History,
}

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
            keys: Vec::new(),
            clock: self.system.machine().rtc_start(),
        }
        .with_keys(self.typed_keys())
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
            .collect()
    }

    /// Opens what a share link describes, with no xv6 build yet.
    pub fn open_link(fragment: &str, prefs: Preferences) -> Session {
        Session::open_link_with(fragment, None, prefs, Opening::Shared)
    }

    /// Opens a link or a kept moment for the page's host: the replay to its
    /// moment is left to run in slices ([`Session::work`]), as every job
    /// of this session will be.
    pub fn open_in_slices(fragment: &str, prefs: Preferences, how: Opening) -> Session {
        let mut s = Session::open_link_pending(fragment, None, prefs, how);
        s.work_in_slices();
        s
    }

    /// Opens a moment the page kept (its address after a reload), with no
    /// xv6 build yet: the notice says it is where the student was.
    pub fn reopen(fragment: &str, prefs: Preferences, how: Opening) -> Session {
        Session::open_link_with(fragment, None, prefs, how)
    }

    /// Opens a moment from the browser's history (Back, Forward) or a link
    /// pasted into the address, keeping the xv6 build the page has.
    pub(super) fn open_moment(&mut self, fragment: &str, how: Opening) -> Option<Effect> {
        let prefs = std::mem::take(&mut self.prefs);
        let sliced = self.sliced;
        *self = Session::open_link_pending(fragment, self.xv6.build(), prefs, how);
        self.sliced = sliced;
        self.xv6.waiting().is_some().then_some(Effect::LoadXv6)
    }

    /// Opens a share link with the xv6 build, if the page has one. A link to
    /// an xv6 lesson without it opens the first lesson and waits for xv6,
    /// then opens again.
    pub(super) fn open_link_with(
        fragment: &str,
        xv6: Option<Rc<Xv6Build>>,
        prefs: Preferences,
        how: Opening,
    ) -> Session {
        let mut s = Session::open_link_pending(fragment, xv6, prefs, how);
        s.finish_jobs();
        s
    }

    /// Opens a share link as [`Session::open_link_with`] does, leaving the
    /// replay to its moment under way.
    pub(super) fn open_link_pending(
        fragment: &str,
        xv6: Option<Rc<Xv6Build>>,
        prefs: Preferences,
        how: Opening,
    ) -> Session {
        let (link, mut problems) = Link::decode(fragment);
        // The guest's clock reads what it read where the link was made.
        if let (Some(build), Some(clock)) = (&xv6, link.clock) {
            build.set_clock_start(clock);
        }
        let asked = link.lesson.clone();
        let known = asked
            .as_deref()
            .and_then(osviz_course::lesson)
            .map(|l| l.id);
        let mut session =
            Session::with_prefs(known.unwrap_or(osviz_course::first().id), xv6, prefs);
        if session.xv6.waiting().is_some() {
            session.xv6.wait_with_link(fragment, how);
            session.notice = Some(
                match how {
                    Opening::Shared => "loading xv6 to open the shared link…",
                    Opening::Reload | Opening::History => "loading xv6 to reopen where you were…",
                }
                .into(),
            );
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
            // A reload or Back keeps the student's own draft, run or not.
            if how == Opening::Shared || !session.prefs.drafts.contains_key(id) {
                session.prefs.drafts.insert(id.to_string(), src);
            }
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
        // What was typed, each key at its step (replayed as it was typed),
        // then the moment: one replay, in slices in the page.
        let start = session.system.machine().steps();
        let target = link.step.or(link.keys.last().map(|k| k.0)).unwrap_or(start);
        if let Err(e) = session.system.machine_mut().press_keys_at(&link.keys) {
            problems.push(format!("the keys typed cannot be replayed: {e}"));
        }
        let opening = LinkOpening {
            how,
            title,
            problems,
            step: link.step,
        };
        session.seek_then(target, Then::LinkOpened(Box::new(opening)));
        session
    }

    /// The link's moment is reached (or the run stopped before it): say so.
    pub(super) fn link_opened(&mut self, opening: LinkOpening) {
        let LinkOpening {
            how,
            title,
            mut problems,
            step,
        } = opening;
        let reached = self.system.machine().steps();
        let mut opened = String::new();
        if let Some(step) = step {
            if reached < step {
                problems.push(format!(
                    "step {step} is past the end of this run: opened at step {reached}, where it stopped"
                ));
            }
            opened = format!(" at step {reached}");
        }
        self.remember_directories();
        self.mark();
        let said = match how {
            Opening::Shared => format!("opened a shared link to “{title}”{opened}"),
            Opening::Reload => {
                format!("reopened step {reached} of “{title}” where you were")
            }
            Opening::History => format!("back to “{title}” at step {reached}"),
        };
        self.notice = Some(match (how, problems.is_empty()) {
            (_, true) => said,
            (Opening::Shared, false) => {
                format!("opened a shared link{opened}; {}", problems.join("; "))
            }
            _ => format!("{said}; {}", problems.join("; ")),
        });
    }
}

/// A link being opened: what the notice says when its moment is reached.
#[derive(Clone, Debug)]
pub(super) struct LinkOpening {
    how: Opening,
    title: &'static str,
    problems: Vec<String>,
    /// The step the link asks for.
    step: Option<u64>,
}

impl Link {
    /// The link with these typed keys: at most [`MAX_LINK_KEYS`]. Where
    /// more were typed, it stops at the step of the first key it cannot
    /// carry (that step's keys all left out), so it still opens a moment
    /// of this run exactly, before the rest were typed.
    fn with_keys(mut self, mut keys: Vec<(u64, u8)>) -> Link {
        if keys.len() > MAX_LINK_KEYS {
            let cut = keys[MAX_LINK_KEYS].0;
            keys.retain(|k| k.0 < cut);
            self.step = self.step.map(|s| s.min(cut));
        }
        self.keys = keys;
        self
    }
}
