//! The clock and the fetch of whichever thread runs the code: the page's
//! window or the machine's worker (both have `performance` and `fetch`,
//! on different global objects).

use wasm_bindgen::JsCast;

/// Milliseconds on this thread's clock (`performance.now()`); 0 where
/// there is none (native tests).
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return window.performance().map_or(0.0, |p| p.now());
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        return worker.performance().map_or(0.0, |p| p.now());
    }
    0.0
}

/// Starts fetching `url` (relative to the page, or to the worker's script,
/// which sits beside it).
pub fn fetch(url: &str) -> js_sys::Promise {
    let global = js_sys::global();
    match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.fetch_with_str(url),
        None => global
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .fetch_with_str(url),
    }
}
