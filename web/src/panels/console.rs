//! The "Console" panel: what the kernel and the programs wrote, and a line
//! of keyboard input that goes to the machine.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub text: String,
    /// Called with each line typed (with its newline).
    pub on_keys: Callback<String>,
}

#[function_component(ConsolePanel)]
pub fn console_panel(props: &ConsoleProps) -> Html {
    let on_keydown = {
        let on_keys = props.on_keys.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                let input: HtmlInputElement = e.target_unchecked_into();
                on_keys.emit(format!("{}\n", input.value()));
                input.set_value("");
            }
        })
    };
    html! {
        <section class="panel console" aria-label="Console">
            <h2>{ "Console" }</h2>
            <pre class="console-text">{ &props.text }</pre>
            <input class="keyboard" aria-label="Keyboard input" placeholder="type here, Enter sends to the keyboard"
                onkeydown={on_keydown} />
        </section>
    }
}
