//! What the student keeps between visits, as one value: the theme,
//! projector mode and its panels, and everything they typed (drafts,
//! programs they ran, predictions). The session holds it whole, and the
//! page saves and loads it whole (see `settings.rs`).

use osviz_course::Panel;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The panels projector mode shows, per lesson, where the instructor chose
/// them. Saved by the panels' names; names read back that are no panel's
/// (an older page's, a hand-edited store) are kept aside to be said, not
/// dropped in silence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PanelChoice {
    by_lesson: BTreeMap<String, Vec<Panel>>,
    unknown: Vec<String>,
}

impl PanelChoice {
    pub fn get(&self, lesson: &str) -> Option<&Vec<Panel>> {
        self.by_lesson.get(lesson)
    }

    pub fn insert(&mut self, lesson: String, panels: Vec<Panel>) {
        self.by_lesson.insert(lesson, panels);
    }

    /// The names read back that are no panel's, once: the session says them.
    pub fn take_unknown(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unknown)
    }
}

impl Serialize for PanelChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names: BTreeMap<&str, Vec<&str>> = self
            .by_lesson
            .iter()
            .map(|(l, ps)| (l.as_str(), ps.iter().map(|p| p.name()).collect()))
            .collect();
        names.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PanelChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = BTreeMap::<String, Vec<String>>::deserialize(d)?;
        let mut choice = PanelChoice::default();
        for (lesson, list) in names {
            let mut panels = Vec::new();
            for name in list {
                match Panel::from_name(&name) {
                    Ok(p) => panels.push(p),
                    Err(_) => choice.unknown.push(name),
                }
            }
            choice.by_lesson.insert(lesson, panels);
        }
        Ok(choice)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub dark: bool,
    pub projector: bool,
    /// The panels projector mode shows, per lesson, where the instructor
    /// chose them (else the lesson's own list).
    pub panels: PanelChoice,
    /// The editor's text for each lesson the student edited: what they
    /// typed is theirs until they revert it, run or not.
    pub drafts: BTreeMap<String, String>,
    /// The program last run in each lesson where it is not the lesson's
    /// own: coming back to the lesson runs it again.
    pub ran: BTreeMap<String, String>,
    /// The predictions typed, per lesson, question by question.
    pub predictions: BTreeMap<String, Vec<String>>,
}

impl Preferences {
    /// The prediction typed for question `i` of `lesson` ("" if none).
    pub fn guess(&self, lesson: &str, i: usize) -> &str {
        self.predictions
            .get(lesson)
            .and_then(|g| g.get(i))
            .map_or("", String::as_str)
    }

    /// Keeps a prediction for question `i` of the `n` of `lesson`.
    pub fn set_guess(&mut self, lesson: &str, n: usize, i: usize, text: String) {
        if i >= n {
            return;
        }
        let guesses = self
            .predictions
            .entry(lesson.to_string())
            .or_insert_with(|| vec![String::new(); n]);
        guesses.resize(n, String::new());
        guesses[i] = text;
    }

    /// Keeps the editor's text for `lesson`: a draft unless it is the
    /// lesson's own program.
    pub fn set_draft(&mut self, lesson: &str, own: &str, text: String) {
        if text == own {
            self.drafts.remove(lesson);
        } else {
            self.drafts.insert(lesson.to_string(), text);
        }
    }

    /// Notes the program run in `lesson` (forgotten when it is the
    /// lesson's own).
    pub fn note_ran(&mut self, lesson: &str, own: &str, source: &str) {
        if source == own {
            self.ran.remove(lesson);
        } else {
            self.ran.insert(lesson.to_string(), source.to_string());
        }
    }
}
