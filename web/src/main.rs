//! The osviz page. Components render the machine's state; they never
//! recompute what the machine already knows.

mod app;
mod panels;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
