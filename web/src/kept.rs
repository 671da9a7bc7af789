//! A panel kept as it was last rendered: the page skips building the views
//! of panels out of view while the machine runs (see
//! [`crate::session::Session::renders_panel`]), and this component is what
//! lets it leave their DOM untouched.

use yew::prelude::*;

#[derive(Properties)]
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

use crate::views::frame::{Controls, Frame, Keep};
use crate::views::lesson::LessonView;
use crate::views::panel::PanelView;
use osviz_course::Panel;
use std::collections::HashMap;

/// The page's side of the frames: the latest controls and lesson, and each
/// panel's latest view with the serial of the frame it came in.
#[derive(Default)]
pub struct Painted {
    serial: u64,
    controls: Option<Controls>,
    lesson: Option<LessonView>,
    order: Vec<Panel>,
    views: HashMap<Panel, (u64, PanelView)>,
}

impl Painted {
    /// Takes in a frame; returns what the page is to keep of it (storage,
    /// address). When what the pointer links changed, every panel is built
    /// again, since each marks the linked items itself.
    pub fn take(&mut self, frame: Frame) -> Keep {
        self.serial += 1;
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
        p.take(b.frame(&s, 0.0, false));
        let (first, view) = p.panel(Panel::Processes).expect("shown");
        assert!(view.is_some(), "built in the first frame");
        s.apply(Action::Step);
        p.take(b.frame(&s, 0.0, false));
        assert_eq!(p.panel(Panel::Processes), Some((first, None)), "kept");
        let (_, registers) = p.panel(Panel::Registers).expect("shown");
        assert!(registers.is_some(), "a step changes the registers");
        // Pointing at a process marks it in every panel: all are built.
        s.apply(Action::Hover(Some(Focus::Pid(1))));
        p.take(b.frame(&s, 0.0, false));
        let (now, view) = p.panel(Panel::Processes).expect("shown");
        assert!(now > first && view.is_some());
    }
}
