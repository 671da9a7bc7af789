//! The "Events" panel: the event log, newest first, filterable by kind.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub step: u64,
    pub kind: &'static str,
    pub text: String,
}

#[derive(Properties, PartialEq)]
pub struct EventsProps {
    pub events: Vec<EventLine>,
    pub filter: String,
    pub on_filter: Callback<String>,
}

const KINDS: [&str; 12] = [
    "page_fault",
    "trap_entry",
    "iret",
    "cr3_write",
    "tlb_miss",
    "tlb_fill",
    "tlb_flush",
    "page_walk",
    "irq_raised",
    "dma",
    "disk_request",
    "port_out",
];

#[function_component(EventsPanel)]
pub fn events_panel(props: &EventsProps) -> Html {
    let on_change = {
        let cb = props.on_filter.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            cb.emit(select.value());
        })
    };
    let rows = props.events.iter().map(|e| html! {
        <li class={format!("ev {}", e.kind)}><span class="step">{ e.step }</span><span class="kind">{ e.kind }</span>{ &e.text }</li>
    });
    html! {
        <section class="panel events" aria-label="Events">
            <h2>{ "Events" }</h2>
            <select aria-label="Event filter" onchange={on_change}>
                <option value="" selected={props.filter.is_empty()}>{ "all but TLB hits" }</option>
                { for KINDS.iter().map(|k| html! { <option value={*k} selected={props.filter == *k}>{ *k }</option> }) }
            </select>
            <ol class="event-list">{ for rows }</ol>
        </section>
    }
}
