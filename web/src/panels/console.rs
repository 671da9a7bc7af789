//! The "Console" panel: what the guest wrote to the console port.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub text: String,
}

#[function_component(ConsolePanel)]
pub fn console_panel(props: &ConsoleProps) -> Html {
    html! {
        <section class="panel console" aria-label="Console">
            <h2>{ "Console" }</h2>
            <pre class="console-text">{ &props.text }</pre>
        </section>
    }
}
