//! The machine's thread in the browser: a dedicated Web Worker that holds
//! the [`SessionHost`], takes the page's messages, runs the machine slice
//! after slice, and posts frames when the page can paint them.
//!
//! Built with web-sys's `Worker` and `postMessage` rather than gloo-worker:
//! the page needs one long-lived worker that runs on its own between
//! messages (gloo-worker's agents answer requests), and the messages are
//! the page's own JSON (`channel`), whose kernel views need a
//! self-describing format.
//!
//! Slices follow each other through a `MessageChannel` (a message to
//! itself runs as soon as the worker's queue is empty, with none of
//! `setTimeout`'s 4 ms clamp), so the page's messages are taken between any
//! two slices; a set speed or an idle guest waits with `setTimeout`.

use crate::channel::{FromWorker, ToWorker};
use crate::host::{SessionHost, Task};
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

thread_local! {
    static HOST: RefCell<Option<SessionHost>> = const { RefCell::new(None) };
    /// The channel whose message runs the next slice, and whether a slice
    /// is already asked for.
    static NEXT: RefCell<Option<web_sys::MessageChannel>> = const { RefCell::new(None) };
    static PENDING: Cell<bool> = const { Cell::new(false) };
    /// The timer of a slice that waits (a set speed, an idle guest), and
    /// the one callback every such timer calls.
    static TIMER: Cell<Option<i32>> = const { Cell::new(None) };
    static ON_TIMER: RefCell<Option<Closure<dyn FnMut()>>> = const { RefCell::new(None) };
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    let _ = scope().post_message(&JsValue::from_str(&message.encode()));
}

/// Starts the worker: its panic notice, its messages, its slices.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        post(&FromWorker::Panicked(match place {
            Some(place) => format!("{message} (in the machine's thread, at {place})"),
            None => format!("{message} (in the machine's thread)"),
        }));
    }));
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            match ToWorker::decode(&text) {
                Ok(ToWorker::Start(start)) => {
                    let (host, tasks) = SessionHost::new(&start);
                    HOST.with(|h| *h.borrow_mut() = Some(host));
                    run_tasks(tasks);
                }
                Ok(message) => {
                    let tasks = with_host(|h| h.receive(message)).unwrap_or_default();
                    run_tasks(tasks);
                }
                Err(e) => post(&FromWorker::Panicked(format!(
                    "the page sent a message the machine's thread cannot read: {e}"
                ))),
            }
            pump();
        });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    if let Ok(channel) = web_sys::MessageChannel::new() {
        let on_slice = Closure::<dyn FnMut()>::new(|| {
            PENDING.with(|p| p.set(false));
            with_host(|h| h.run_slice(&crate::clock::now_ms));
            pump();
        });
        channel
            .port1()
            .set_onmessage(Some(on_slice.as_ref().unchecked_ref()));
        on_slice.forget();
        NEXT.with(|n| *n.borrow_mut() = Some(channel));
    }
    let on_timer = Closure::<dyn FnMut()>::new(|| {
        TIMER.with(|t| t.set(None));
        PENDING.with(|p| p.set(false));
        with_host(|h| h.run_slice(&crate::clock::now_ms));
        pump();
    });
    ON_TIMER.with(|f| *f.borrow_mut() = Some(on_timer));
    post(&FromWorker::Up);
}

fn with_host<T>(f: impl FnOnce(&mut SessionHost) -> T) -> Option<T> {
    HOST.with(|h| h.borrow_mut().as_mut().map(f))
}

fn run_tasks(tasks: Vec<Task>) {
    for t in tasks {
        match t {
            Task::Post(message) => post(&message),
            Task::LoadXv6 => wasm_bindgen_futures::spawn_local(async {
                let action = match crate::loader::served_xv6().await {
                    Ok(files) => crate::action::Action::Xv6Loaded(files),
                    Err(why) => crate::action::Action::Xv6Failed(why),
                };
                let tasks = with_host(|h| h.apply(action)).unwrap_or_default();
                run_tasks(tasks);
                pump();
            }),
        }
    }
}

/// Posts a frame if the page can take one, and asks for the next slice.
fn pump() {
    let now = crate::clock::now_ms();
    if let Some(Some(frame)) = with_host(|h| h.frame(now)) {
        post(&frame);
    }
    let Some(Some(wait)) = with_host(|h| h.next_slice(now)) else {
        return;
    };
    if PENDING.with(|p| p.replace(true)) {
        // A slice waiting on its timer comes at once when one is due now
        // (a key typed to an idle guest).
        let waiting = TIMER.with(Cell::get);
        match waiting {
            Some(id) if wait <= 0.0 => {
                scope().clear_timeout_with_handle(id);
                TIMER.with(|t| t.set(None));
            }
            _ => return,
        }
    }
    if wait <= 0.0 {
        NEXT.with(|n| {
            if let Some(channel) = n.borrow().as_ref() {
                let _ = channel.port2().post_message(&JsValue::NULL);
            }
        });
    } else {
        let id = ON_TIMER.with(|f| {
            f.borrow().as_ref().and_then(|f| {
                scope()
                    .set_timeout_with_callback_and_timeout_and_arguments_0(
                        f.as_ref().unchecked_ref(),
                        wait.ceil() as i32,
                    )
                    .ok()
            })
        });
        TIMER.with(|t| t.set(id));
    }
}
