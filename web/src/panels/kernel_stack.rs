//! The "Kernel stack" panel: a process's kernel stack from its top down to
//! ESP: the trap frame, each slot labelled with who pushed it for this
//! vector, and the context swtch saved when it was switched out. ESP and
//! TSS.ESP0 are marked; nothing below ESP is shown as frame content.

use crate::focus::{Focus, Linked};
use crate::views::hex;
use osviz_kernel::introspect::{Field, KernelStackView, StackState};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
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
    let context = v.context.iter().rev().map(|f| row(f, v.esp, linked));
    let pid = Focus::Pid(v.pid);
    let state = match v.state {
        StackState::UserMode => {
            "empty: the process runs in user mode; the next trap starts at the top".to_string()
        }
        StackState::InKernel => format!("in use: ESP {} (the CPU's)", hex(v.esp)),
        StackState::SwitchedOut => format!("switched out: ESP {} saved by swtch", hex(v.esp)),
    };
    html! {
        <section class="panel kstack" aria-label="Kernel stack">
            <h2 class={classes!(linked.class(&[pid]))} data-focus={pid.attr()}>{ format!("Kernel stack · pid {}", v.pid) }</h2>
            <div class="esp0">
                { format!("top {}", hex(v.top)) }
                if v.esp0 == v.top { <span class="tss">{ " = TSS.ESP0" }</span> }
                { format!(" · {state}") }
            </div>
            <table>
                <tbody>
                    if !v.trap_frame.is_empty() {
                        <tr class="section-head"><td colspan="5">{
                            match v.vector {
                                Some(n) => format!("trap frame (vector {n:#x}{})", v.vector_name.as_ref().map(|x| format!(", {x}")).unwrap_or_default()),
                                None => "trap frame".to_string(),
                            }
                        }</td></tr>
                        { for frame }
                    }
                    if !v.context.is_empty() {
                        <tr class="section-head"><td colspan="5">{ format!("saved context → {}", v.context_return.clone().unwrap_or_default()) }</td></tr>
                        { for context }
                    }
                    <tr class="below-esp"><td colspan="5">{ format!("below ESP {}: free (not pushed yet)", hex(v.esp)) }</td></tr>
                </tbody>
            </table>
        </section>
    }
}
