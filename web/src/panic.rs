//! What the student sees when osviz panics: a notice over the page saying
//! what stopped and where the machine was, with a Reload button. After a
//! panic the wasm instance is dead to Yew (nothing renders again), so the
//! notice is built with plain DOM calls, and its button's listener is
//! attached from Rust (the page's Content-Security-Policy allows no inline
//! script or handler). Drafts and settings are already in local storage
//! (saved as the student types, `SAVE_DRAFT_MS` after the last key), so a
//! reload brings them back.
//!
//! A test-only way in: with `?panic-test` in the page's address (the query,
//! which no share link or lesson uses), `window.osvizForcePanic(message)`
//! panics with that message. Without the query the function does not exist.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The step the page showed last (`u64::MAX`: none yet).
static STEP: AtomicU64 = AtomicU64::new(u64::MAX);
/// Whether osviz has panicked (the running machine's timer then stops
/// calling into it).
static STOPPED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The lesson the page showed last.
    static LESSON: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The query parameter that offers `window.osvizForcePanic` (tests only).
pub const PANIC_TEST_QUERY: &str = "panic-test";

/// The id of the notice, and of its button.
const NOTICE_ID: &str = "panic-notice";
const RELOAD_ID: &str = "panic-reload";

/// Remembers where the machine is, for the notice (called on each render).
pub fn note(lesson: &str, step: u64) {
    STEP.store(step, Ordering::Relaxed);
    LESSON.with(|l| {
        if *l.borrow() != lesson {
            *l.borrow_mut() = lesson.to_string();
        }
    });
}

/// Whether osviz has panicked: nothing of the page may run any more.
pub fn stopped() -> bool {
    STOPPED.load(Ordering::Relaxed)
}

/// What the notice says: what stopped, the panic's message and place, and
/// where the machine was when the page last showed it.
pub fn notice_text(message: &str, place: Option<&str>, lesson: &str, step: Option<u64>) -> String {
    let mut t = format!("The emulator panicked: {message}");
    if let Some(place) = place {
        t += &format!(" (at {place})");
    }
    t += ".";
    match (lesson.is_empty(), step) {
        (false, Some(step)) => {
            t += &format!(" The page last showed lesson {lesson} at step {step}.")
        }
        (true, Some(step)) => t += &format!(" The page last showed step {step}."),
        (false, None) => t += &format!(" The page was opening lesson {lesson}."),
        (true, None) => t += " It stopped before the page first showed the machine.",
    }
    t += " Your drafts and settings are saved in this browser: reload the page to go on.";
    t
}

/// Installs the hook (first thing in `main`). Through Yew, which otherwise
/// puts its own (the console only) in when the page first renders.
pub fn install() {
    yew::set_custom_panic_hook(Box::new(|info| {
        STOPPED.store(true, Ordering::Relaxed);
        // The console gets the message and the JavaScript stack, as before.
        console_error_panic_hook::hook(info);
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let step = Some(STEP.load(Ordering::Relaxed)).filter(|&s| s != u64::MAX);
        let lesson = LESSON.with(|l| l.try_borrow().map(|l| l.clone()).unwrap_or_default());
        show(&notice_text(&message, place.as_deref(), &lesson, step));
    }));
}

/// Puts the notice over the page (once: a later panic, such as a timer
/// calling into the dead instance, leaves the first notice as it is).
fn show(text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.get_element_by_id(NOTICE_ID).is_some() {
        return;
    }
    let Some(body) = document.body() else {
        return;
    };
    let build = || -> Result<(), JsValue> {
        // A backdrop over the dead page, and the notice on it.
        let backdrop = document.create_element("div")?;
        backdrop.set_class_name("panic-backdrop");
        let notice = document.create_element("div")?;
        notice.set_id(NOTICE_ID);
        notice.set_class_name("panic-notice");
        notice.set_attribute("role", "alertdialog")?;
        notice.set_attribute("aria-modal", "true")?;
        notice.set_attribute("aria-labelledby", "panic-title")?;
        notice.set_attribute("aria-describedby", "panic-text")?;
        let title = document.create_element("h2")?;
        title.set_id("panic-title");
        title.set_text_content(Some("osviz stopped"));
        let p = document.create_element("p")?;
        p.set_id("panic-text");
        p.set_text_content(Some(text));
        let button = document.create_element("button")?;
        button.set_id(RELOAD_ID);
        button.set_attribute("type", "button")?;
        button.set_text_content(Some("Reload"));
        let reload = Closure::<dyn FnMut()>::new(|| {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
        button.add_event_listener_with_callback("click", reload.as_ref().unchecked_ref())?;
        // The listener lives as long as the page (which the click ends).
        reload.forget();
        notice.append_child(&title)?;
        notice.append_child(&p)?;
        notice.append_child(&button)?;
        backdrop.append_child(&notice)?;
        body.append_child(&backdrop)?;
        if let Some(b) = button.dyn_ref::<web_sys::HtmlElement>() {
            let _ = b.focus();
        }
        Ok(())
    };
    // Nothing is left to tell it to if this fails: the console has the panic.
    let _ = build();
}

/// With `?panic-test` in the address, defines `window.osvizForcePanic`,
/// which panics with the message it is given (for the browser test of the
/// notice). Without it, does nothing.
pub fn offer_forced_panic() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let search = window.location().search().unwrap_or_default();
    let asked = search
        .trim_start_matches('?')
        .split('&')
        .any(|p| p == PANIC_TEST_QUERY);
    if !asked {
        return;
    }
    let force = Closure::<dyn Fn(String)>::new(|message: String| {
        panic!("{message}");
    });
    let _ = js_sys::Reflect::set(&window, &"osvizForcePanic".into(), force.as_ref());
    force.forget();
}

#[cfg(test)]
mod tests {
    use super::notice_text;

    #[test]
    fn the_notice_names_the_panic_and_the_step() {
        let t = notice_text(
            "index out of bounds",
            Some("src/x.rs:3"),
            "two-level",
            Some(1234),
        );
        assert!(
            t.contains("panicked: index out of bounds (at src/x.rs:3)"),
            "{t}"
        );
        assert!(t.contains("lesson two-level at step 1234"), "{t}");
        assert!(t.contains("reload"), "{t}");
        let t = notice_text("boom", None, "", None);
        assert!(t.contains("before the page first showed"), "{t}");
    }
}
