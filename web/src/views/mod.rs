//! Views: pure functions from the session to the plain data each panel
//! renders. Nothing here knows yew or the browser, so every view has native
//! unit tests; the machine and the kernel crate compute the facts (decoding,
//! the kernel's structures), and a view only selects and words them.

pub mod code;
pub mod dispatch;
pub mod events;
pub mod frame;
pub mod lesson;
pub mod memory;
pub mod panel;
pub mod registers;
pub mod status;
pub mod timeline;
pub mod tlb;
pub mod vm;

/// A 32-bit value as eight hex digits.
pub fn hex(v: u32) -> String {
    format!("{v:08x}")
}
