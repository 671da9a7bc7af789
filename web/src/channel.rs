//! What crosses between the page's thread and the machine's (the worker):
//! actions and the page's readiness one way, frames and what the browser
//! must do the other. Each message travels as JSON text: every type in a
//! frame comes back equal from it (tested in `views::frame`), the kernel
//! views' internally tagged enums need a self-describing format, and a
//! string is what `postMessage` copies fastest.

use crate::action::Action;
use crate::session::Effect;
use crate::settings::Settings;
use crate::views::frame::Frame;
use serde::{Deserialize, Serialize};

/// How the page was opened: what the machine's thread needs to make the
/// first session (the page's address and storage are the page's own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Start {
    /// The fragment of the page's address, without `#` (empty: none).
    pub fragment: String,
    /// Whether the history entry is one the page kept (a reload of the
    /// student's own moment), not a link someone sent.
    pub kept_entry: bool,
    /// What the last visit left in local storage.
    pub saved: Option<Settings>,
}

/// From the page to the machine's thread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    Start(Start),
    /// An action, numbered by the page in the order it was sent.
    Action {
        seq: u64,
        action: Action,
    },
    /// The page painted the last frame (in `render_ms`) and can take the
    /// next one.
    Ready {
        render_ms: f64,
    },
}

/// From the machine's thread to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's code is loaded and takes messages (one posted before
    /// would find no listener and be lost, so the page holds them till now).
    Up,
    /// A frame, after the actions up to `applied` (the page's numbering).
    Frame { frame: Box<Frame>, applied: u64 },
    /// Something only the page can do (the clipboard, its history).
    Effect(Effect),
    /// The machine's thread panicked: what the notice says.
    Panicked(String),
}

impl ToWorker {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a message to the worker serializes")
    }

    pub fn decode(text: &str) -> Result<ToWorker, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl FromWorker {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a message to the page serializes")
    }

    pub fn decode(text: &str) -> Result<FromWorker, serde_json::Error> {
        serde_json::from_str(text)
    }
}
