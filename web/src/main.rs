//! The osviz page. Components render the machine's and the kernel's state;
//! they never recompute what the machine already knows.

mod action;
mod app;
mod focus;
mod kept;
mod loader;
mod panels;
mod panic;
mod session;
mod settings;
mod share;
mod views;

#[cfg(test)]
mod invariants;

fn main() {
    // First: a panic anywhere after this shows a notice, not a blank page.
    panic::install();
    // Tests only: `?panic-test` in the address offers window.osvizForcePanic.
    panic::offer_forced_panic();
    yew::Renderer::<app::App>::new().render();
}
