//! The "Events" panel: the whole retained event log, newest first,
//! filterable by kind. The list is virtual: only the rows in view (and a
//! few around them) are in the page, however many thousand events the log
//! holds, so scrolling and running stay smooth.

use crate::focus::{Focus, Linked};
use web_sys::{Element, HtmlSelectElement};
use yew::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub step: u64,
    pub kind: &'static str,
    pub text: String,
    /// What the event names (a vector, a page, a frame), for linking.
    pub links: Vec<Focus>,
}

/// The rows the list shows at once, and the rows rendered beyond them on
/// either side so that a fast scroll does not show blank space.
pub const VISIBLE_ROWS: usize = 14;
pub const OVERSCAN: usize = 6;

#[derive(Properties, PartialEq)]
pub struct EventsProps {
    /// The rows from `first` on (at most `VISIBLE_ROWS + 2 * OVERSCAN`).
    pub rows: Vec<EventLine>,
    /// The index (newest first) of the first row in `rows`.
    pub first: usize,
    /// How many events pass the filter.
    pub total: usize,
    /// The height of a row in pixels (it grows in projector mode).
    pub row_px: u32,
    pub filter: String,
    pub on_filter: Callback<String>,
    /// Called with the index of the first row in view after a scroll.
    pub on_scroll: Callback<usize>,
    pub linked: Linked,
}

pub const KINDS: [&str; 12] = [
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
    let on_scroll = {
        let cb = props.on_scroll.clone();
        let row_px = f64::from(props.row_px);
        Callback::from(move |e: Event| {
            let list: Element = e.target_unchecked_into();
            cb.emit((f64::from(list.scroll_top()) / row_px) as usize);
        })
    };
    let linked = &props.linked;
    let rows = props.rows.iter().map(|e| {
        html! {
            <li class={classes!("ev", e.kind, linked.class(&e.links))}
                data-focus={e.links.first().map(|f| f.attr())}>
                <span class="step">{ e.step }</span><span class="kind">{ e.kind }</span>{ &e.text }
            </li>
        }
    });
    let px = props.row_px as usize;
    html! {
        <section class="panel events" aria-label="Events">
            <h2>{ "Events" }</h2>
            <div class="event-head">
                <select aria-label="Event filter" onchange={on_change}>
                    <option value="" selected={props.filter.is_empty()}>{ "all but TLB hits" }</option>
                    { for KINDS.iter().map(|k| html! { <option value={*k} selected={props.filter == *k}>{ *k }</option> }) }
                </select>
                <span class="count">{ format!("{} events, newest first", props.total) }</span>
            </div>
            <div class="event-scroll" onscroll={on_scroll}
                style={format!("height:{}px", VISIBLE_ROWS * px)}>
                <ol class="event-list"
                    style={format!("height:{}px;padding-top:{}px;--row:{}px", props.total * px, props.first * px, px)}>
                    { for rows }
                </ol>
            </div>
        </section>
    }
}
