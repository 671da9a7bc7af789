//! One frame of the page as plain data: everything the components render,
//! and all they render from. [`FrameBuilder`] makes a [`Frame`] from the
//! session; the app renders it and never reads the session itself, so the
//! session can run apart from the page (the machine's thread) and a frame
//! is the only thing that crosses.
//!
//! A frame carries a panel's view only when the page must build it now
//! and it differs from the one sent before: a panel out of view while the
//! machine runs, or one that did not change, keeps what the page drew. The
//! lesson, the settings and the moment's link likewise come only when they
//! changed.

use crate::focus::Linked;
use crate::session::JobView;
use crate::session::{BreakChoice, Session};
use crate::settings::Settings;
use crate::views;
use crate::views::lesson::LessonView;
use crate::views::panel::{FramesCache, PanelView, Shown, panel_view};
use osviz_course::Panel;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;

/// The controls, the status and the notices: what the page shows around
/// the panels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Controls {
    pub lesson_id: String,
    pub running: bool,
    /// The position of the speed control.
    pub speed: usize,
    /// The break-on control: each choice this guest offers (its position
    /// in [`BreakChoice::every`] and its words), and the one chosen.
    pub break_options: Vec<(usize, String)>,
    pub break_chosen: Option<usize>,
    pub status: String,
    pub notice: Option<String>,
    /// Where the student was before a reveal moved time.
    pub return_to: Option<u64>,
    pub help: bool,
    pub dark: bool,
    pub projector: bool,
    /// Projector mode's chips: every panel this guest has, and those on.
    pub available_panels: Vec<Panel>,
    pub projector_panels: Vec<Panel>,
    pub linked: Linked,
    pub steps: u64,
    /// Every process waits for a person: the page needs few frames.
    pub idle: bool,
    /// Long work under way (a replay): what it does and how far it is.
    pub job: Option<JobView>,
}

impl Controls {
    pub fn of(s: &Session) -> Controls {
        let every = BreakChoice::every();
        let vm = s.guest().under_hypervisor();
        Controls {
            lesson_id: s.lesson().id.to_string(),
            running: s.running(),
            speed: s.run_control().speed(),
            break_options: every
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_vm_exit() || vm)
                .map(|(k, b)| (k, views::status::break_label(s, *b)))
                .collect(),
            break_chosen: s
                .break_choice()
                .and_then(|c| every.iter().position(|b| *b == c)),
            status: views::status::status_line(s),
            notice: s.notice().map(str::to_string),
            return_to: s.return_to(),
            help: s.inspect().help(),
            dark: s.prefs().dark,
            projector: s.prefs().projector,
            available_panels: s.available_panels(),
            projector_panels: s.projector_panels(),
            linked: s.linked(),
            steps: s.guest().machine().steps(),
            idle: s.idle(),
            job: s.job(),
        }
    }
}

/// What the page keeps for the student outside the session: its local
/// storage and its address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keep {
    /// The settings, drafts and predictions, when they changed.
    pub settings: Option<Settings>,
    /// The moment's share-link fragment, when it changed (not while a link
    /// waits for xv6: the address holds that link).
    pub moment: Option<String>,
    /// Whether the page is to write the moment into its address now (after
    /// an action, and every so often while running); it writes the latest
    /// one when the page is left.
    pub write_moment: bool,
    /// A lesson (or link) waits for xv6 to be fetched.
    pub waiting_for_xv6: bool,
}

/// One frame of the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub controls: Controls,
    /// The lesson panel's view, when it changed.
    pub lesson: Option<LessonView>,
    /// The panels shown, in order.
    pub order: Vec<Panel>,
    /// The views of the panels to build now: every panel shown has had one
    /// since the panels shown last changed.
    pub panels: Vec<(Panel, PanelView)>,
    pub keep: Keep,
}

/// Makes frames, remembering what it sent so that a frame carries only
/// what changed.
#[derive(Debug, Default)]
pub struct FrameBuilder {
    frames: RefCell<FramesCache>,
    order: Vec<Panel>,
    sent: HashMap<Panel, PanelView>,
    lesson: Option<LessonView>,
    settings: Option<Settings>,
    moment: Option<String>,
}

impl FrameBuilder {
    /// The frame of `s` now (`now_ms`: the page's clock, for views read at
    /// most every so often while running). `moment`: whether to bring the
    /// page's address up to date with the moment now.
    pub fn frame(&mut self, s: &Session, now_ms: f64, moment: bool) -> Frame {
        let order = views::panel::order(s);
        let reordered = order != self.order;
        if reordered {
            // A panel mounted or moved has nothing of its own to keep.
            self.order = order.clone();
            self.sent.clear();
        }
        let shown = Shown::of(s);
        let mut panels = Vec::new();
        for &panel in &order {
            let never = !self.sent.contains_key(&panel);
            if !(never || s.renders_panel(panel)) {
                continue;
            }
            let view = panel_view(s, panel, &shown, &self.frames, now_ms);
            if self.sent.get(&panel) != Some(&view) {
                self.sent.insert(panel, view.clone());
                panels.push((panel, view));
            }
        }
        let lesson = views::lesson::of_session(s);
        let lesson = (self.lesson.as_ref() != Some(&lesson)).then(|| {
            self.lesson = Some(lesson.clone());
            lesson
        });
        let settings = Settings::of(s);
        let settings = (self.settings.as_ref() != Some(&settings)).then(|| {
            self.settings = Some(settings.clone());
            settings
        });
        let waiting_for_xv6 = s.waiting_for_xv6().is_some();
        let write_moment = moment && !waiting_for_xv6;
        // Halfway through a replay is no moment: the page keeps the one
        // before (the link being opened) until the replay is over.
        let moment = if waiting_for_xv6 || s.busy() {
            None
        } else {
            let fragment = s.link().encode();
            (self.moment.as_ref() != Some(&fragment)).then(|| {
                self.moment = Some(fragment.clone());
                fragment
            })
        };
        Frame {
            controls: Controls::of(s),
            lesson,
            order,
            panels,
            keep: Keep {
                settings,
                moment,
                write_moment,
                waiting_for_xv6,
            },
        }
    }

    /// The page's address was set to `fragment` by other means (a lesson
    /// chosen, a history entry): it need not be written again.
    pub fn moment_kept(&mut self, fragment: String) {
        self.moment = Some(fragment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    #[test]
    fn a_frame_carries_only_what_changed_and_every_panel_once_the_panels_change() {
        let mut s = Session::new("system-call");
        let mut b = FrameBuilder::default();
        let first = b.frame(&s, 0.0, true);
        assert_eq!(
            first.panels.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            first.order,
            "the first frame builds every panel"
        );
        assert!(first.lesson.is_some() && first.keep.settings.is_some());
        assert!(first.keep.moment.is_some());
        let again = b.frame(&s, 0.0, true);
        assert!(
            again.panels.is_empty(),
            "nothing changed: {:?}",
            again.order
        );
        assert!(again.lesson.is_none() && again.keep.settings.is_none());
        assert!(again.keep.moment.is_none() && again.keep.write_moment);
        s.apply(Action::Step);
        let stepped = b.frame(&s, 0.0, true);
        let built: Vec<Panel> = stepped.panels.iter().map(|(p, _)| *p).collect();
        assert!(built.contains(&Panel::Registers), "{built:?}");
        assert!(!built.contains(&Panel::Processes), "no process changed");
        assert!(stepped.keep.moment.is_some(), "the step is in the link");
        let unwritten = b.frame(&s, 0.0, false);
        assert!(!unwritten.keep.write_moment);
        // Projector mode shows other panels: each is sent again.
        s.apply(Action::ToggleProjector);
        let projector = b.frame(&s, 0.0, false);
        assert_eq!(
            projector.panels.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            projector.order
        );
        assert!(projector.controls.projector);
        assert!(projector.keep.settings.is_some(), "projector mode is saved");
    }

    /// A frame is what crosses from the machine's thread to the page's: it
    /// must come back whole from the text it travels as, on every guest.
    #[test]
    fn a_frame_crosses_as_json_and_comes_back_equal() {
        use crate::session::tests::xv6_read;
        for (lesson, xv6) in [
            ("system-call", false),
            ("xv6-idt", true),
            ("vm-shadow", true),
        ] {
            let mut s = if xv6 {
                Session::with_xv6(lesson, Some(xv6_read()))
            } else {
                Session::new(lesson)
            };
            let mut b = FrameBuilder::default();
            let first = b.frame(&s, 0.0, true);
            s.apply(Action::Step);
            let next = b.frame(&s, 0.0, true);
            for frame in [first, next] {
                let text = serde_json::to_string(&frame).expect("serializes");
                let back: Frame = serde_json::from_str(&text).expect("deserializes");
                for ((p, a), (_, b)) in back.panels.iter().zip(&frame.panels) {
                    assert!(a == b, "{lesson}: the {p:?} panel differs");
                }
                assert!(back.controls == frame.controls, "{lesson}: the controls");
                assert!(back.lesson == frame.lesson, "{lesson}: the lesson");
                assert_eq!(back, frame, "{lesson}");
                eprintln!(
                    "{lesson}: {} panels, {} bytes",
                    frame.panels.len(),
                    text.len()
                );
            }
        }
    }

    #[test]
    fn the_break_on_control_offers_vm_exits_only_under_the_hypervisor() {
        let s = Session::new("system-call");
        let c = Controls::of(&s);
        let every = BreakChoice::every();
        assert!(c.break_options.iter().all(|(k, _)| !every[*k].is_vm_exit()));
        assert_eq!(c.break_chosen, None);
        assert!(c.status.contains("step"), "{}", c.status);
    }
}
