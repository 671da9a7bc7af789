//! The "IDT" panel: the vectors the kernel uses, with handler and DPL, and
//! the latest dispatch told stage by stage: vector, gate, privilege check,
//! stack switch, handler, and the `iret` that ends it.

use crate::focus::{Focus, Linked};
use osviz_kernel::introspect::IdtEntry;
use yew::prelude::*;

/// One trap's way through the IDT, as plain text per stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatch {
    pub vector: u8,
    /// (stage name, what happened there), in order.
    pub stages: Vec<(&'static str, String)>,
}

#[derive(Properties, PartialEq)]
pub struct IdtProps {
    pub entries: Vec<IdtEntry>,
    /// The latest dispatch, if the run has made one.
    pub dispatch: Option<Dispatch>,
    /// Whether the dispatch happened in the latest step (it is then marked
    /// as live; otherwise it is the latest one before).
    pub live: bool,
    pub linked: Linked,
}

/// The name of a vector as the kernel uses it.
pub fn vector_name(v: u8) -> &'static str {
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
    let active = props.dispatch.as_ref().map(|d| d.vector);
    let linked = &props.linked;
    let rows = props
        .entries
        .iter()
        .filter(|e| e.vector < 20 || (32..48).contains(&e.vector) || e.vector == 0x40)
        .filter(|e| !vector_name(e.vector).is_empty() || active == Some(e.vector))
        .map(|e| {
            let v = Focus::Vector(e.vector);
            let class = classes!(
                "gate",
                (active == Some(e.vector)).then_some("active"),
                linked.class(&[v])
            );
            html! {
                <tr class={class} data-vector={e.vector.to_string()} data-focus={v.attr()}>
                    <td>{ format!("{:#04x}", e.vector) }</td>
                    <td>{ vector_name(e.vector) }</td>
                    <td>{ e.handler_symbol.clone().unwrap_or_default() }</td>
                    <td>{ &e.gate }</td>
                    <td>{ format!("DPL {}", e.dpl) }</td>
                </tr>
            }
        });
    html! {
        <section class="panel idt" aria-label="IDT">
            <h2>{ "IDT" }</h2>
            if let Some(d) = &props.dispatch {
                <ol class={classes!("dispatch", props.live.then_some("live"))} aria-label="Dispatch"
                    data-focus={Focus::Vector(d.vector).attr()}>
                    { for d.stages.iter().map(|(name, text)| html! {
                        <li><span class="stage-name">{ *name }</span>{ text }</li>
                    }) }
                </ol>
            }
            <table><tbody>{ for rows }</tbody></table>
        </section>
    }
}
