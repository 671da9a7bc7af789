//! The machine's thread: a dedicated Web Worker that owns the session (see
//! `osviz_web::worker`). Trunk builds it beside the page, with a loader
//! that the page starts as `osviz-worker_loader.js`.

fn main() {
    osviz_web::worker::start();
}
