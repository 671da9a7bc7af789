//! The "Kernel stack" panel: a process's trap frame, labelled with who
//! pushed each part, and the context saved when it was switched out.

use super::hex;
use osviz_kernel::introspect::KernelStackView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct KernelStackProps {
    pub view: Option<KernelStackView>,
    pub esp0: u32,
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
    // Highest address first, as a stack is usually drawn.
    let mut fields = v.trap_frame.clone();
    fields.reverse();
    let rows = fields.iter().map(|f| {
        html! {
            <tr class={format!("by-{}", f.by)}>
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
    html! {
        <section class="panel kstack" aria-label="Kernel stack">
            <h2>{ format!("Kernel stack · pid {}", v.pid) }</h2>
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
