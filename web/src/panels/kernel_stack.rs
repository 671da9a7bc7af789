//! The "Kernel stack" panel: a process's trap frame, labelled with who
//! pushed each part, and the context saved when it was switched out.

use super::hex;
use crate::focus::{Focus, Linked};
use osviz_kernel::introspect::KernelStackView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct KernelStackProps {
    pub view: Option<KernelStackView>,
    pub esp0: u32,
    pub linked: Linked,
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
    let mut fields = v.trap_frame.clone();
    fields.reverse();
    let rows = fields.iter().map(|f| {
        // The trap number names an IDT vector: it links to the gate.
        let vector = (f.name == "trapno" && f.value < 256).then_some(Focus::Vector(f.value as u8));
        let class = classes!(
            format!("by-{}", f.by),
            vector.and_then(|v| linked.class(&[v]))
        );
        html! {
            <tr class={class} data-focus={vector.map(Focus::attr)}>
                <td class="hex">{ hex(f.addr) }</td>
                <td>{ &f.name }</td>
                <td class="hex">{ hex(f.value) }</td>
                <td class="by">{ match f.by.as_str() { "cpu" => "CPU", "stub" => "vector stub", _ => "entry code" } }</td>
            </tr>
        }
    });
    let context = v.context.iter().rev().map(|f| html! {
        <tr class="by-swtch">
            <td class="hex">{ hex(f.addr) }</td><td>{ &f.name }</td><td class="hex">{ hex(f.value) }</td><td class="by">{ "swtch" }</td>
        </tr>
    });
    let pid = Focus::Pid(v.pid);
    html! {
        <section class="panel kstack" aria-label="Kernel stack">
            <h2 class={classes!(linked.class(&[pid]))} data-focus={pid.attr()}>{ format!("Kernel stack · pid {}", v.pid) }</h2>
            <div class="esp0">{ format!("top {} {}", hex(v.top), if props.esp0 == v.top { "= TSS.ESP0" } else { "" }) }</div>
            <table>
                <tbody>
                    <tr class="section-head"><td colspan="4">{ "trap frame" }</td></tr>
                    { for rows }
                    if !v.context.is_empty() {
                        <tr class="section-head"><td colspan="4">{ format!("saved context → {}", v.context_return.clone().unwrap_or_default()) }</td></tr>
                        { for context }
                    }
                </tbody>
            </table>
        </section>
    }
}
