//! What the page keeps in local storage between visits: the last lesson,
//! the controls' settings, projector mode's panels, and every draft and
//! prediction the student typed (so nothing typed is lost on reload).

use crate::session::{Preferences, Session};
use serde::{Deserialize, Serialize};

pub const SETTINGS_KEY: &str = "osviz.settings";

/// What is saved: the lesson and the speed the student left, and their
/// preferences whole (the session holds them as one value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lesson: String,
    pub speed: usize,
    #[serde(flatten)]
    pub prefs: Preferences,
}

impl Settings {
    pub fn of(s: &Session) -> Settings {
        Settings {
            lesson: s.lesson().id.to_string(),
            speed: s.run_control().speed(),
            prefs: s.prefs().clone(),
        }
    }

    /// The session a returning student left: their lesson, with the
    /// program they last ran there, and their settings.
    pub fn restore(self) -> Session {
        Session::restore(&self.lesson, self.speed, self.prefs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use osviz_course::Panel;

    #[test]
    fn a_reload_brings_back_the_lesson_the_draft_and_the_settings() {
        let mut s = Session::new("two-level");
        let typed = format!("{}; typed, not run\n", s.draft());
        s.apply(Action::Edit(typed.clone()));
        s.apply(Action::Guess(0, "3 tables".into()));
        s.apply(Action::ToggleTheme);
        s.apply(Action::TogglePanel(Panel::Events));
        let saved = serde_json::to_string(&Settings::of(&s)).unwrap();
        let back: Settings = serde_json::from_str(&saved).unwrap();
        let t = back.restore();
        assert_eq!(t.lesson().id, "two-level");
        assert_eq!(t.draft(), typed);
        assert_eq!(t.guess(0), "3 tables", "the prediction too");
        assert!(t.prefs().dark);
        assert!(t.projector_panels().contains(&Panel::Events));
        assert!(t.errors().is_empty());
    }

    #[test]
    fn settings_from_an_older_page_still_load() {
        let back: Settings = serde_json::from_str(r#"{"lesson":"system-call","speed":2}"#).unwrap();
        assert_eq!(back.restore().lesson().id, "system-call");
    }

    #[test]
    fn a_stored_panel_name_that_is_no_panel_is_said_and_the_rest_loads() {
        let back: Settings = serde_json::from_str(
            r#"{"lesson":"two-level","drafts":{"two-level":"mine"},"panels":{"two-level":["Events","Consle"]}}"#,
        )
        .unwrap();
        let s = back.restore();
        assert_eq!(s.draft(), "mine", "nothing typed is lost");
        assert_eq!(s.projector_panels(), [Panel::Events]);
        assert!(
            s.notice()
                .is_some_and(|n| n.contains("there is no panel called \"Consle\"")),
            "{:?}",
            s.notice()
        );
    }
}

/// The key under which the page, as it is left, keeps the moment it last
/// painted for this tab: session storage survives a reload, while the
/// address written as the page unloads does not reach the reload.
const LEFT_KEY: &str = "osviz-left";

/// What the page keeps as it is left: the address it had then and the
/// moment it last painted.
#[derive(Debug, Serialize, Deserialize)]
pub struct Left {
    pub address: String,
    pub moment: String,
}

/// Keeps the moment the page leaves at, for a reload of this tab.
pub fn keep_left(left: Left) {
    use gloo::storage::{SessionStorage, Storage};
    let _ = SessionStorage::set(LEFT_KEY, left);
}

/// What the page kept as it was last left in this tab, taken (a second
/// reload reads the address again).
pub fn take_left() -> Option<Left> {
    use gloo::storage::{SessionStorage, Storage};
    let left = SessionStorage::get::<Left>(LEFT_KEY).ok();
    SessionStorage::delete(LEFT_KEY);
    left
}
