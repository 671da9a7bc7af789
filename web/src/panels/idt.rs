//! The "IDT" panel: the vectors the kernel uses, with handler and DPL, and
//! the latest dispatch told stage by stage: vector, gate, privilege check,
//! stack switch, handler, and the `iret` that ends it.

use crate::focus::{Focus, Linked};
use crate::views::dispatch::Dispatch;
use osviz_kernel::introspect::IdtEntry;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct IdtProps {
    pub entries: Vec<IdtEntry>,
    /// The latest dispatch, if the run has made one.
    pub dispatch: Option<Dispatch>,
    pub linked: Linked,
}

#[function_component(IdtPanel)]
pub fn idt_panel(props: &IdtProps) -> Html {
    let active = props.dispatch.as_ref().map(|d| d.vector);
    let linked = &props.linked;
    let rows = props
        .entries
        .iter()
        // The vectors the kernel names, and the one trapped through last.
        .filter(|e| e.name.is_some() || active == Some(e.vector))
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
                    <td class="vname">{ e.name.clone().unwrap_or_default() }</td>
                    if e.present {
                        <td class="handler">{ e.handler_symbol.clone().unwrap_or_default() }</td>
                        <td>{ &e.gate }</td>
                        <td class="dpl">{ format!("DPL {}", e.dpl) }</td>
                    } else {
                        <td class="unset" colspan="3">{ "not yet set (the kernel fills the IDT at boot)" }</td>
                    }
                </tr>
            }
        });
    html! {
        <section class="panel idt" aria-label="IDT">
            <h2>{ "IDT" }</h2>
            if let Some(d) = &props.dispatch {
                <ol class={classes!("dispatch", d.live.then_some("live"))} aria-label="Dispatch"
                    data-focus={Focus::Vector(d.vector).attr()}>
                    { for d.stages.iter().map(|(name, text)| html! {
                        <li><span class="stage-name">{ *name }</span>{ text }</li>
                    }) }
                </ol>
            } else {
                <ol class="dispatch" aria-label="Dispatch"><li class="none">{ "no trap since the lesson started: the next one is told here stage by stage" }</li></ol>
            }
            <table><tbody>{ for rows }</tbody></table>
        </section>
    }
}
