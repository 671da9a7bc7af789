//! The "Processes" panel: the process table, one PCB per row.

use super::hex;
use osviz_kernel::introspect::ProcessView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ProcessesProps {
    pub procs: Vec<ProcessView>,
    pub selected: Option<u32>,
    pub on_select: Callback<u32>,
}

#[function_component(ProcessesPanel)]
pub fn processes_panel(props: &ProcessesProps) -> Html {
    let rows = props.procs.iter().map(|p| {
        let pid = p.pid;
        let on_click = props.on_select.reform(move |_| pid);
        let class = classes!(
            "proc",
            format!("state-{}", p.state),
            (props.selected == Some(p.pid)).then_some("selected")
        );
        html! {
            <tr class={class} data-pid={p.pid.to_string()} onclick={on_click}>
                <td>{ p.pid }</td>
                <td>{ &p.name }</td>
                <td class="state">{ &p.state }</td>
                <td class="hex">{ hex(p.pgdir) }</td>
                <td class="hex">{ hex(p.kstack) }</td>
                <td class="hex">{ hex(p.brk) }</td>
            </tr>
        }
    });
    html! {
        <section class="panel processes" aria-label="Processes">
            <h2>{ "Processes" }</h2>
            if props.procs.is_empty() {
                <p class="empty">{ "no processes" }</p>
            } else {
                <table>
                    <thead><tr><th>{"pid"}</th><th>{"name"}</th><th>{"state"}</th><th>{"page dir"}</th><th>{"kernel stack"}</th><th>{"break"}</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        </section>
    }
}
