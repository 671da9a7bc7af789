//! What the page keeps in local storage between visits: the last lesson,
//! the controls' settings, projector mode's panels, and every draft and
//! prediction the student typed (so nothing typed is lost on reload).

use crate::session::{SPEEDS, Session};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SETTINGS_KEY: &str = "osviz.settings";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lesson: String,
    pub speed: usize,
    pub dark: bool,
    pub projector: bool,
    pub drafts: BTreeMap<String, String>,
    pub ran: BTreeMap<String, String>,
    pub panels: BTreeMap<String, Vec<String>>,
    /// The predictions typed, per lesson.
    pub predictions: BTreeMap<String, Vec<String>>,
}

impl Settings {
    pub fn of(s: &Session) -> Settings {
        Settings {
            lesson: s.lesson.id.to_string(),
            speed: s.speed,
            dark: s.dark,
            projector: s.projector,
            drafts: s.drafts.clone(),
            ran: s.ran.clone(),
            panels: s.panel_choice.clone(),
            predictions: s.predictions.clone(),
        }
    }

    /// The session a returning student left: their lesson, with the
    /// program they last ran there, and their settings.
    pub fn restore(self) -> Session {
        let mut s = Session::new(&self.lesson);
        s.drafts = self.drafts;
        s.ran = self.ran;
        s.panel_choice = self.panels;
        s.predictions = self.predictions;
        if s.ran.contains_key(s.lesson.id) {
            let id = s.lesson.id.to_string();
            s.apply(crate::action::Action::ChooseLesson(id));
        }
        s.speed = self.speed.min(SPEEDS.len() - 1);
        s.dark = self.dark;
        s.projector = self.projector;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    #[test]
    fn a_reload_brings_back_the_lesson_the_draft_and_the_settings() {
        let mut s = Session::new("two-level");
        let typed = format!("{}; typed, not run\n", s.draft());
        s.apply(Action::Edit(typed.clone()));
        s.apply(Action::Guess(0, "3 tables".into()));
        s.apply(Action::ToggleTheme);
        s.apply(Action::TogglePanel("Events".into()));
        let saved = serde_json::to_string(&Settings::of(&s)).unwrap();
        let back: Settings = serde_json::from_str(&saved).unwrap();
        let t = back.restore();
        assert_eq!(t.lesson.id, "two-level");
        assert_eq!(t.draft(), typed);
        assert_eq!(t.guess(0), "3 tables", "the prediction too");
        assert!(t.dark);
        assert!(t.projector_panels().contains(&"Events".to_string()));
        assert!(t.errors.is_empty());
    }

    #[test]
    fn settings_from_an_older_page_still_load() {
        let back: Settings = serde_json::from_str(r#"{"lesson":"system-call","speed":2}"#).unwrap();
        assert_eq!(back.restore().lesson.id, "system-call");
    }
}
