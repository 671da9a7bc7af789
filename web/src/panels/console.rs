//! The "Console" panel: what the kernel and the programs wrote, and the
//! keyboard. On the teaching kernel's board it is the console port's text
//! and a line of input; on the PC (xv6) it is the 80 x 25 text screen,
//! which takes keys as they are typed when it has the focus.

use web_sys::HtmlInputElement;
use yew::prelude::*;

pub use crate::views::panel::Screen;

#[derive(Debug, Properties, PartialEq)]
pub struct ConsoleProps {
    pub text: String,
    /// The text screen, on a board that has one.
    pub screen: Option<Screen>,
    /// The output's last lines, to read back what scrolled off the screen.
    pub scrollback: Vec<String>,
    /// Keys typed while the machine stood still.
    pub pending: String,
    /// Called with what was typed (a line with its newline, or one key).
    pub on_keys: Callback<String>,
}

/// What a key typed on the screen sends to the guest's keyboard.
fn key_text(e: &KeyboardEvent) -> Option<String> {
    let key = e.key();
    match key.as_str() {
        "Enter" => Some("\n".into()),
        "Backspace" => Some("\u{8}".into()),
        "Tab" => Some("\t".into()),
        _ if key.chars().count() == 1 && !e.ctrl_key() && !e.alt_key() && !e.meta_key() => {
            Some(key)
        }
        _ => None,
    }
}

fn screen_html(screen: &Screen) -> Html {
    let rows = screen.rows.iter().enumerate().map(|(r, row)| {
        match screen.cursor.filter(|(cr, _)| *cr as usize == r) {
            Some((_, c)) => {
                let c = c as usize;
                let chars: Vec<char> = row.chars().collect();
                let before: String = chars[..c.min(chars.len())].iter().collect();
                let at: String = chars.get(c).map_or(" ".into(), |ch| ch.to_string());
                let after: String = chars.iter().skip(c + 1).collect();
                html! { <div class="screen-row">{ before }<span class="cursor">{ at }</span>{ after }</div> }
            }
            None => html! { <div class="screen-row">{ row.clone() }</div> },
        }
    });
    html! { { for rows } }
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
    let on_screen_key = {
        let on_keys = props.on_keys.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(text) = key_text(&e) {
                e.prevent_default();
                on_keys.emit(text);
            }
        })
    };
    html! {
        <section class={classes!("panel", "console", props.screen.is_some().then_some("has-screen"))} aria-label="Console">
            <h2>{ "Console" }</h2>
            if let Some(screen) = &props.screen {
                <div class="screen" tabindex="0" data-keyboard="true" role="textbox"
                    aria-label="Text screen (80 x 25): click, then type" onkeydown={on_screen_key}>
                    { screen_html(screen) }
                </div>
                if !props.pending.is_empty() {
                    <p class="pending" role="status">{ format!(
                        "typed, waiting for the machine to run: {}",
                        props.pending.replace('\n', "⏎").replace('\u{8}', "⌫")
                    ) }</p>
                }
                <p class="hint">{ "Click the screen and type: each key goes to the PS/2 keyboard as you press it." }</p>
                if props.scrollback.len() > 25 {
                    <details class="scrollback">
                        <summary>{ format!("read back the output ({} lines)", props.scrollback.len()) }</summary>
                        <pre>{ props.scrollback.join("\n") }</pre>
                    </details>
                }
            } else {
                <pre class="console-text">{ &props.text }</pre>
            }
            <input class="keyboard" aria-label="Keyboard input" placeholder="type a line here, Enter sends it to the keyboard"
                onkeydown={on_keydown} />
        </section>
    }
}
