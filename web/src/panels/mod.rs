//! One module per panel of the page. Each panel is a `<section>` whose
//! `aria-label` names it, and takes plain data as props.

pub mod console;
pub mod registers;
