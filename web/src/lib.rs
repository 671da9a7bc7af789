//! The osviz page, in two threads. The page's thread runs the components
//! (`app`, `panels`), which render frames; the machine's thread (a
//! dedicated Web Worker, `worker`) owns the session and runs the machine,
//! and sends a frame of views (`views::frame`) whenever the page can paint
//! one. Actions go one way and frames the other, as JSON (`channel`).
//! Components never recompute what the machine already knows.

pub mod action;
pub mod app;
pub mod channel;
pub mod clock;
pub mod focus;
pub mod host;
pub mod kept;
pub mod loader;
pub mod panels;
pub mod panic;
pub mod session;
pub mod settings;
pub mod share;
pub mod views;
pub mod worker;

#[cfg(test)]
mod invariants;
