//! One module per panel of the page. Each panel is a `<section>` whose
//! `aria-label` names it, and takes plain data as props.

use yew::TargetCast;

pub mod code;
pub mod console;
pub mod events;
pub mod frames;
pub mod idt;
pub mod kernel_stack;
pub mod lesson;
pub mod memory_image;
pub mod open_build;
pub mod page_tables;
pub mod page_walk;
pub mod processes;
pub mod registers;
pub mod timeline;
pub mod tlb;
pub mod vm;

pub use crate::views::hex;

/// A keydown handler for a text field: Enter sends the field's text.
pub fn on_enter(cb: &yew::Callback<String>) -> yew::Callback<yew::KeyboardEvent> {
    let cb = cb.clone();
    yew::Callback::from(move |e: yew::KeyboardEvent| {
        if e.key() == "Enter" {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(input.value());
        }
    })
}
