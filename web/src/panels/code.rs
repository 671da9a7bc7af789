//! The "Code" panel: the source around the current instruction, with its
//! symbol, and the instruction's bytes.

use crate::action::Action;
use crate::session::Breakpoint;
pub use crate::views::code::CodeView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CodeProps {
    pub view: CodeView,
    /// Gets the breakpoint toggles of clicked lines.
    pub on_action: Callback<Action>,
    pub breakpoints: Vec<Breakpoint>,
}

#[function_component(CodePanel)]
pub fn code_panel(props: &CodeProps) -> Html {
    let v = &props.view;
    let lines = v.lines.iter().map(|(n, text)| {
        let class = classes!(
            "src",
            (*n == v.current).then_some("current"),
            v.breakpoint_lines.contains(n).then_some("breakpoint")
        );
        let (file, line) = (v.file.clone(), *n);
        let onclick = props.on_action.reform(move |_: MouseEvent| Action::ToggleBreakpoint {
            file: file.clone(),
            line,
        });
        html! {
            <div class={class} data-line={n.to_string()} onclick={onclick} title="click: set or clear a breakpoint">
                <span class="lineno">{ n }</span>
                <span class="text">{ text }</span>
            </div>
        }
    });
    html! {
        <section class="panel code" aria-label="Code">
            <h2>{ "Code" }</h2>
            <div class="where">
                <span class="mode">{ if v.ring == 0 { "kernel" } else { "user" } }</span>
                { format!(" {} · eip {:08x} · {}", v.file, v.eip, v.place) }
            </div>
            <div class="source">{ for lines }</div>
            <div class="bytes">{ format!("bytes: {}", v.bytes) }</div>
            <ol class="disasm" aria-label="Disassembly">
                { for v.disassembly.iter().enumerate().map(|(k, (addr, text))| html! {
                    <li class={classes!((k == 0).then_some("current"))}>
                        <span class="addr">{ format!("{addr:08x}") }</span>{ text }
                    </li>
                }) }
            </ol>
        </section>
    }
}
