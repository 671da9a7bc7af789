//! The "Processes" panel: the process table, one PCB per row.

use super::hex;
use crate::focus::{Focus, Linked};
use osviz_kernel::introspect::ProcessView;
use osviz_view::Phase;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct ProcessesProps {
    pub procs: Vec<ProcessView>,
    /// The process the other panels show.
    pub shown: Option<u32>,
    pub linked: Linked,
}

#[function_component(ProcessesPanel)]
pub fn processes_panel(props: &ProcessesProps) -> Html {
    let linked = &props.linked;
    let rows = props.procs.iter().map(|p| {
        let pid = Focus::Pid(p.pid);
        // The directory and the kernel stack, by the frames that hold them.
        let dir = Focus::Frame(p.pgdir >> 12);
        let kstack = Focus::Frame(p.kstack_frame);
        let class = classes!(
            "proc",
            format!("state-{}", p.state),
            (props.shown == Some(p.pid)).then_some("selected"),
            linked.class(&[pid])
        );
        // A sleeper says on what (and what that is for); a PCB being made
        // has no name yet.
        let on = p.chan_name.as_ref().filter(|_| p.phase == Phase::Sleeping).map(|c| match p.chan_kind.words() {
            Some(k) => format!("on {c} ({k})"),
            None => format!("on {c}"),
        });
        let name = if p.name.is_empty() { "(no name yet)".to_string() } else { p.name.clone() };
        html! {
            <tr class={class} data-pid={p.pid.to_string()} data-focus={pid.attr()}>
                <td>{ p.pid }</td>
                <td>{ name }</td>
                <td class="state">{ &p.state }
                    if let Some(on) = on {
                        <span class="chan">{ " " }{ on }</span>
                    }
                </td>
                <td class={classes!("hex", linked.class(&[dir]))} data-focus={dir.attr()}>{ hex(p.pgdir) }</td>
                <td class={classes!("hex", linked.class(&[kstack]))} data-focus={kstack.attr()}>{ hex(p.kstack) }</td>
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
                <p class="hint">{ "click a process to show its kernel stack and memory image" }</p>
            }
        </section>
    }
}
