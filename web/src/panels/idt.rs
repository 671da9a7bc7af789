//! The "IDT" panel: the vectors the kernel uses, with handler and DPL, and
//! the one being dispatched.

use osviz_kernel::introspect::IdtEntry;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct IdtProps {
    pub entries: Vec<IdtEntry>,
    /// The vector the latest step entered, with what happened.
    pub active: Option<(u8, String)>,
}

fn name(v: u8) -> &'static str {
    match v {
        0 => "divide error",
        6 => "invalid opcode",
        8 => "double fault",
        13 => "general protection",
        14 => "page fault",
        32 => "timer",
        33 => "keyboard",
        46 => "disk",
        0x40 => "system call",
        _ => "",
    }
}

#[function_component(IdtPanel)]
pub fn idt_panel(props: &IdtProps) -> Html {
    let active = props.active.as_ref().map(|(v, _)| *v);
    let rows = props
        .entries
        .iter()
        .filter(|e| e.vector < 20 || (32..48).contains(&e.vector) || e.vector == 0x40)
        .filter(|e| !name(e.vector).is_empty() || active == Some(e.vector))
        .map(|e| {
            let class = classes!("gate", (active == Some(e.vector)).then_some("active"));
            html! {
                <tr class={class} data-vector={e.vector.to_string()}>
                    <td>{ format!("{:#04x}", e.vector) }</td>
                    <td>{ name(e.vector) }</td>
                    <td>{ e.handler_symbol.clone().unwrap_or_default() }</td>
                    <td>{ &e.gate }</td>
                    <td>{ format!("DPL {}", e.dpl) }</td>
                </tr>
            }
        });
    html! {
        <section class="panel idt" aria-label="IDT">
            <h2>{ "IDT" }</h2>
            if let Some((_, story)) = &props.active {
                <div class="dispatch">{ story }</div>
            }
            <table><tbody>{ for rows }</tbody></table>
        </section>
    }
}
