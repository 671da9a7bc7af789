//! The osviz page. Components render the machine's and the kernel's state;
//! they never recompute what the machine already knows.

mod action;
mod app;
mod focus;
mod kept;
mod loader;
mod panels;
mod session;
mod settings;
mod share;
mod views;

#[cfg(test)]
mod invariants;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
