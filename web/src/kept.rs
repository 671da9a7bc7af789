//! A panel kept as it was last rendered: the page skips building the views
//! of panels out of view while the machine runs (see
//! [`crate::session::Session::renders_panel`]), and this component is what
//! lets it leave their DOM untouched.

use yew::prelude::*;

#[derive(Debug, Properties)]
pub struct KeptProps {
    /// The render at which `content` was last built. Equal serials are
    /// equal props, so Yew neither renders the panel again nor touches
    /// its DOM.
    pub serial: u64,
    /// The panel, built at `serial` (empty when it was not built now).
    pub content: Html,
}

impl PartialEq for KeptProps {
    fn eq(&self, other: &KeptProps) -> bool {
        self.serial == other.serial
    }
}

#[function_component(Kept)]
pub fn kept(props: &KeptProps) -> Html {
    props.content.clone()
}

use crate::action::Action;
use crate::views::frame::{Controls, Frame, Keep};
use crate::views::lesson::LessonView;
use crate::views::panel::PanelView;
use osviz_course::Panel;
use std::collections::HashMap;

/// The page's side of the frames: the latest controls and lesson, and each
/// panel's latest view with the serial of the frame it came in.
///
/// What the student types into the editor and the predictions is shown as
/// typed: a frame built before the machine's thread had the keystroke
/// (one that shows fewer actions than the page sent) would otherwise put
/// back the text from before it and lose what was typed since.
#[derive(Debug, Default)]
pub struct Painted {
    serial: u64,
    controls: Option<Controls>,
    lesson: Option<LessonView>,
    order: Vec<Panel>,
    views: HashMap<Panel, (u64, PanelView)>,
    /// The moment's share-link fragment, as the latest frame said.
    moment: Option<String>,
    /// The number of the last typing action sent, with the draft and the
    /// predictions as typed.
    typed_seq: u64,
    draft: Option<String>,
    guesses: HashMap<usize, String>,
    /// Likewise what the pointer links: the number of the last pointing
    /// action sent, and what it links.
    pointed_seq: u64,
    pointed: Option<crate::focus::Linked>,
    /// Likewise Run and Pause: the control shows the state asked for.
    toggled_seq: u64,
    running: Option<bool>,
}

impl Painted {
    /// Takes in a frame; returns what the page is to keep of it (storage,
    /// address). When what the pointer links changed, every panel is built
    /// again, since each marks the linked items itself.
    pub fn take(&mut self, frame: Frame, applied: u64) -> Keep {
        self.serial += 1;
        let mut frame = frame;
        if let Some(linked) = self.pointed.filter(|_| applied < self.pointed_seq) {
            frame.controls.linked = linked;
        }
        if let Some(running) = self.running.filter(|_| applied < self.toggled_seq) {
            frame.controls.running = running;
        }
        if applied < self.typed_seq
            && let Some(lesson) = frame.lesson.as_mut()
        {
            self.as_typed(lesson);
        }
        if let Some(m) = &frame.keep.moment {
            self.moment = Some(m.clone());
        }
        let relinked = self
            .controls
            .as_ref()
            .is_some_and(|c| c.linked != frame.controls.linked);
        if relinked {
            for (serial, _) in self.views.values_mut() {
                *serial = self.serial;
            }
        }
        if frame.order != self.order {
            self.views.retain(|p, _| frame.order.contains(p));
            self.order = frame.order;
        }
        for (panel, view) in frame.panels {
            self.views.insert(panel, (self.serial, view));
        }
        self.controls = Some(frame.controls);
        if let Some(lesson) = frame.lesson {
            self.lesson = Some(lesson);
        }
        frame.keep
    }

    /// The student typed (`Action::Edit` or `Action::Guess`, sent as
    /// number `seq`): the lesson shows it at once.
    pub fn typed(&mut self, seq: u64, action: &Action) {
        match action {
            Action::Edit(text) => self.draft = Some(text.clone()),
            Action::Guess(k, text) => {
                self.guesses.insert(*k, text.clone());
            }
            _ => return,
        }
        self.typed_seq = seq;
        if let Some(mut lesson) = self.lesson.take() {
            self.as_typed(&mut lesson);
            self.lesson = Some(lesson);
        }
    }

    /// The student pointed at or pinned something (`Action::Hover`,
    /// `Action::Pin`, sent as number `seq`): every panel marks it at once,
    /// from the views the page has (pointing must answer within a frame,
    /// whatever the machine's thread is doing).
    pub fn pointed(&mut self, seq: u64, action: &Action) {
        let Some(controls) = self.controls.as_mut() else {
            return;
        };
        let mut linked = controls.linked;
        match action {
            Action::Hover(f) => linked.hover = *f,
            Action::Pin(f) => linked.toggle_pin(*f),
            _ => return,
        }
        self.pointed_seq = seq;
        self.pointed = Some(linked);
        if controls.linked != linked {
            controls.linked = linked;
            self.serial += 1;
            for (serial, _) in self.views.values_mut() {
                *serial = self.serial;
            }
        }
    }

    /// The student pressed Run or Pause (`Action::ToggleRun`, number
    /// `seq`): the control shows the new state at once; the status line
    /// and the views follow with the frame that shows it applied.
    pub fn toggled(&mut self, seq: u64, action: &Action) {
        let (Action::ToggleRun, Some(controls)) = (action, self.controls.as_mut()) else {
            return;
        };
        controls.running = !controls.running;
        self.toggled_seq = seq;
        self.running = Some(controls.running);
    }

    fn as_typed(&self, lesson: &mut LessonView) {
        if let Some(draft) = &self.draft {
            lesson.draft = draft.clone();
        }
        for (k, guess) in &self.guesses {
            if let Some(q) = lesson.questions.get_mut(*k) {
                q.guess = guess.clone();
            }
        }
    }

    /// The moment's share-link fragment, as the latest frame said.
    pub fn moment(&self) -> Option<&str> {
        self.moment.as_deref()
    }

    /// The page's address was given `fragment` (a lesson chosen).
    pub fn set_moment(&mut self, fragment: String) {
        self.moment = Some(fragment);
    }

    pub fn controls(&self) -> Option<&Controls> {
        self.controls.as_ref()
    }

    pub fn lesson(&self) -> Option<&LessonView> {
        self.lesson.as_ref()
    }

    /// The panels shown, in order.
    pub fn order(&self) -> &[Panel] {
        &self.order
    }

    /// A panel's serial, and its view when it is to be built now (it came
    /// in the latest frame).
    pub fn panel(&self, panel: Panel) -> Option<(u64, Option<&PanelView>)> {
        self.views
            .get(&panel)
            .map(|(serial, view)| (*serial, (*serial == self.serial).then_some(view)))
    }
}

#[cfg(test)]
mod tests {
    use super::Painted;
    use crate::action::Action;
    use crate::focus::Focus;
    use crate::session::Session;
    use crate::views::frame::FrameBuilder;
    use osviz_course::Panel;

    #[test]
    fn a_panel_not_sent_keeps_its_serial_until_the_pointer_links_something_else() {
        let mut s = Session::new("system-call");
        let mut b = FrameBuilder::default();
        let mut p = Painted::default();
        p.take(b.frame(&s, 0.0, false), 0);
        let (first, view) = p.panel(Panel::Processes).expect("shown");
        assert!(view.is_some(), "built in the first frame");
        s.apply(Action::Step);
        p.take(b.frame(&s, 0.0, false), 0);
        assert_eq!(p.panel(Panel::Processes), Some((first, None)), "kept");
        let (_, registers) = p.panel(Panel::Registers).expect("shown");
        assert!(registers.is_some(), "a step changes the registers");
        // Pointing at a process marks it in every panel: all are built.
        s.apply(Action::Hover(Some(Focus::Pid(1))));
        p.take(b.frame(&s, 0.0, false), 0);
        let (now, view) = p.panel(Panel::Processes).expect("shown");
        assert!(now > first && view.is_some());
    }

    #[test]
    fn pointing_marks_every_panel_at_once_and_a_frame_from_before_keeps_it() {
        let s = Session::new("system-call");
        let mut b = FrameBuilder::default();
        let mut p = Painted::default();
        p.take(b.frame(&s, 0.0, false), 0);
        let (before, _) = p.panel(Panel::Processes).expect("shown");
        p.pointed(1, &Action::Hover(Some(Focus::Pid(1))));
        let (now, view) = p.panel(Panel::Processes).expect("shown");
        assert!(now > before && view.is_some(), "built again, with the mark");
        assert_eq!(
            p.controls().map(|c| c.linked.hover),
            Some(Some(Focus::Pid(1)))
        );
        // A frame the machine's thread built before it had the hover.
        p.take(b.frame(&s, 0.0, false), 0);
        assert_eq!(
            p.controls().map(|c| c.linked.hover),
            Some(Some(Focus::Pid(1)))
        );
    }

    #[test]
    fn pause_shows_at_once_and_a_frame_from_before_does_not_undo_it() {
        let mut s = Session::new("system-call");
        let mut b = FrameBuilder::default();
        let mut p = Painted::default();
        s.apply(Action::ToggleRun);
        p.take(b.frame(&s, 0.0, false), 0);
        assert_eq!(p.controls().map(|c| c.running), Some(true));
        p.toggled(1, &Action::ToggleRun);
        assert_eq!(
            p.controls().map(|c| c.running),
            Some(false),
            "paused at once"
        );
        p.take(b.frame(&s, 0.0, false), 0);
        assert_eq!(
            p.controls().map(|c| c.running),
            Some(false),
            "a frame from before"
        );
        s.apply(Action::ToggleRun);
        p.take(b.frame(&s, 0.0, false), 1);
        assert_eq!(
            p.controls().map(|c| c.running),
            Some(false),
            "the machine's own word"
        );
    }

    #[test]
    fn what_is_typed_stays_while_frames_from_before_it_arrive() {
        let mut s = Session::new("two-level");
        let mut b = FrameBuilder::default();
        let mut p = Painted::default();
        p.take(b.frame(&s, 0.0, false), 0);
        let draft = format!("{}; mine\n", s.draft());
        // Typed as action 1, then a guess as action 2; the machine's thread
        // has applied neither when a frame (with the lesson) comes.
        p.typed(1, &Action::Edit(draft.clone()));
        p.typed(2, &Action::Guess(0, "3".into()));
        assert_eq!(p.lesson().map(|l| l.draft.clone()), Some(draft.clone()));
        s.apply(Action::ToggleTheme);
        let mut stale = b.frame(&s, 0.0, false);
        stale.lesson = Some(crate::views::lesson::of_session(&s));
        p.take(stale, 0);
        let lesson = p.lesson().expect("a lesson");
        assert_eq!(lesson.draft, draft, "the draft as typed");
        assert_eq!(lesson.questions[0].guess, "3");
        // Once the thread has both, its frame is the truth.
        s.apply(Action::Edit(draft.clone()));
        s.apply(Action::Guess(0, "3".into()));
        p.take(b.frame(&s, 0.0, false), 2);
        let lesson = p.lesson().expect("a lesson");
        assert_eq!(
            (lesson.draft.as_str(), lesson.questions[0].guess.as_str()),
            (draft.as_str(), "3")
        );
    }
}
