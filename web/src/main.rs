//! The osviz page's thread: the components. The machine runs in the worker
//! (`osviz-worker`), which this page starts.

fn main() {
    // First: a panic anywhere after this shows a notice, not a blank page.
    osviz_web::panic::install();
    // Tests only: `?panic-test` in the address offers window.osvizForcePanic.
    osviz_web::panic::offer_forced_panic();
    yew::Renderer::<osviz_web::app::App>::new().render();
}
