//! The "Kernel stack" panel: a kernel stack from its top down to ESP: the
//! trap frame, each slot labelled with who pushed it for this vector (or
//! who wrote it: fork's copy, allocproc's layout), a new process's first
//! return, the context swtch saved when it was switched out, and the words
//! the kernel's own calls pushed below. Whose stack it is comes from the
//! kernel view: a process's, or the scheduler's when no process runs.
//! ESP and TSS.ESP0 are marked; nothing below ESP is shown as frame content.

use crate::focus::{Focus, Linked};
use crate::views::hex;
use osviz_kernel::introspect::{Field, KernelStackView, StackOwner, StackState};
use yew::prelude::*;

/// The kernel's calls below the records: the words nearest ESP shown, the
/// rest counted.
const CALLS_SHOWN: usize = 12;

#[derive(Debug, Properties, PartialEq)]
pub struct KernelStackProps {
    pub view: Option<KernelStackView>,
    pub linked: Linked,
}

fn row(f: &Field, esp: u32, linked: &Linked) -> Html {
    // The trap number names an IDT vector: it links to the gate.
    let vector = (f.name == "trapno" && f.value < 256).then_some(Focus::Vector(f.value as u8));
    let by = format!("{:?}", f.by).to_lowercase();
    let class = classes!(
        format!("by-{by}"),
        (f.addr == esp).then_some("at-esp"),
        vector.and_then(|v| linked.class(&[v]))
    );
    html! {
        <tr class={class} data-focus={vector.map(Focus::attr)}>
            <td class="hex">{ hex(f.addr) }</td>
            <td>{ &f.name }</td>
            <td class="hex">{ hex(f.value) }</td>
            <td class="by">{ f.by.label() }</td>
            <td class="esp-mark">{ if f.addr == esp { "← ESP" } else { "" } }</td>
        </tr>
    }
}

fn head(text: String) -> Html {
    html! { <tr class="section-head"><td colspan="5">{ text }</td></tr> }
}

#[function_component(KernelStackPanel)]
pub fn kernel_stack_panel(props: &KernelStackProps) -> Html {
    let Some(v) = &props.view else {
        return html! {
            <section class="panel kstack" aria-label="Kernel stack">
                <h2>{ "Kernel stack" }</h2>
                <p class="empty">{ "no process selected" }</p>
            </section>
        };
    };
    let linked = &props.linked;
    // Highest address first, as a stack is usually drawn.
    let frame = v.trap_frame.iter().rev().map(|f| row(f, v.esp, linked));
    let first_return = v.first_return.iter().map(|f| row(f, v.esp, linked));
    let context = v.context.iter().rev().map(|f| row(f, v.esp, linked));
    let hidden = v.calls.len().saturating_sub(CALLS_SHOWN);
    let calls = v
        .calls
        .iter()
        .take(CALLS_SHOWN)
        .rev()
        .map(|f| row(f, v.esp, linked));
    let pid = v.owner.pid().map(Focus::Pid);
    let state = match v.state {
        StackState::UserMode => {
            "empty: the process runs in user mode; the next trap starts at the top".to_string()
        }
        StackState::InKernel => format!("in use: ESP {} (the CPU's)", hex(v.esp)),
        StackState::SwitchedOut => format!("switched out: ESP {} saved by swtch", hex(v.esp)),
    };
    let title = match v.owner {
        StackOwner::Process { pid } => format!("Kernel stack · pid {pid}"),
        owner => format!("Kernel stack · {}", owner.words()),
    };
    let no_trap = v.owner == StackOwner::Scheduler && v.trap_frame.is_empty();
    html! {
        <section class="panel kstack" aria-label="Kernel stack">
            <h2 class={classes!(pid.and_then(|p| linked.class(&[p])))} data-focus={pid.map(Focus::attr)}>{ title }</h2>
            <div class="esp0">
                { format!("top {}", hex(v.top)) }
                if v.esp0 == v.top { <span class="tss">{ " = TSS.ESP0" }</span> }
                { format!(" · {state}") }
                if no_trap { { " · no trap in progress" } }
            </div>
            <table>
                <thead>
                    <tr><th scope="col">{ "address" }</th><th scope="col">{ "slot" }</th><th scope="col">{ "value" }</th><th scope="col" colspan="2">{ "written by" }</th></tr>
                </thead>
                <tbody>
                    if !v.trap_frame.is_empty() {
                        { head(match v.vector {
                            Some(n) => format!("trap frame (vector {n:#x}{})", v.vector_name.as_ref().map(|x| format!(", {x}")).unwrap_or_default()),
                            None => "trap frame".to_string(),
                        }) }
                        { for frame }
                    }
                    if v.first_return.is_some() {
                        { head("a new process's first return".to_string()) }
                        { for first_return }
                    }
                    if !v.context.is_empty() {
                        { head(format!("saved context → {}", v.context_return.clone().unwrap_or_default())) }
                        { for context }
                    }
                    if !v.calls.is_empty() {
                        { head("the kernel's calls".to_string()) }
                        if hidden > 0 {
                            <tr class="by-kernel"><td colspan="5">{ format!("… {hidden} more words above") }</td></tr>
                        }
                        { for calls }
                    }
                    <tr class="below-esp"><td colspan="5">{ format!("below ESP {}: free (not pushed yet)", hex(v.esp)) }</td></tr>
                </tbody>
            </table>
        </section>
    }
}
