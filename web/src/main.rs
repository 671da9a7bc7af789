//! The osviz page. Components render the machine's and the kernel's state;
//! they never recompute what the machine already knows.

mod app;
mod focus;
mod panels;
mod session;
mod share;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
