//! The "Code" panel: the source around the current instruction, with its
//! symbol, and the instruction's bytes.

use crate::action::{Action, key_of};
use crate::session::Breakpoint;
use crate::session::SourceLine;
pub use crate::views::code::CodeView;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
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
        let onclick = props.on_action.reform(move |_: MouseEvent| Action::ToggleBreakpoint(SourceLine {
            file: file.clone(),
            line,
        }));
        html! {
            <div class={class} data-line={n.to_string()} onclick={onclick} title="click: set or clear a breakpoint">
                <span class="lineno">{ n }</span>
                <span class="text">{ text }</span>
            </div>
        }
    });
    let act = &props.on_action;
    let line_button = |id: &'static str, label: &'static str, action: Action| {
        let title = key_of(&action).map(|k| format!("{label} (key {k})"));
        html! { <button id={id} class="secondary" title={title} onclick={act.reform(move |_: MouseEvent| action.clone())}>{ label }</button> }
    };
    let on_break_at = {
        let act = act.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                let input: HtmlInputElement = e.target_unchecked_into();
                act.emit(Action::BreakAt(input.value()));
                input.set_value("");
            }
        })
    };
    html! {
        <section class="panel code" aria-label="Code">
            <h2>{ "Code" }</h2>
            <div class="line-steps">
                { line_button("step-line", "Step line", Action::StepLine) }
                { line_button("next-line", "Next line", Action::NextLine) }
                { line_button("step-out", "Step out", Action::StepOut) }
                <input class="break-at" aria-label="Break at a function or file:line"
                    placeholder="break at: sys_write, trap.c:40" onkeydown={on_break_at} />
            </div>
            <div class="where">
                <span class="mode">{ match (v.real_mode, v.ring, v.hypervisor) {
                    (true, _, _) => "real mode",
                    (false, 3, _) => "user",
                    (false, 0, true) => "hypervisor (ring 0)",
                    (false, 0, false) => "kernel",
                    (false, _, _) => "guest kernel (ring 1)",
                } }</span>
                { format!(" {} · eip {:08x} · {}", v.file, v.eip, v.place) }
            </div>
            <div class="source">{ for lines }</div>
            if !v.stack.is_empty() {
                <ol class="call-stack" aria-label="Call stack">
                    { for v.stack.iter().enumerate().map(|(k, f)| html! {
                        <li>{ if k == 0 { format!("in {f}") } else { format!("called from {f}") } }</li>
                    }) }
                </ol>
            }
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
