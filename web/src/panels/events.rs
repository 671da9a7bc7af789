//! The "Events" panel: the whole retained event log, newest first,
//! filterable by kind. The list is virtual: only the rows in view (and a
//! few around them) are in the page, however many thousand events the log
//! holds, so scrolling and running stay smooth.

use crate::focus::Linked;
use crate::views::events::{EventRows, FILTER_KINDS, VISIBLE_ROWS};
use osviz_machine::EventKind;
use web_sys::{Element, HtmlSelectElement};
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct EventsProps {
    /// The rows in view (and a few around), from which index, of how many.
    pub rows: EventRows,
    /// The height of a row in pixels (it grows in projector mode).
    pub row_px: u32,
    pub filter: Option<EventKind>,
    pub on_filter: Callback<String>,
    /// Called with the index of the first row in view after a scroll.
    pub on_scroll: Callback<usize>,
    pub linked: Linked,
}

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
    let r = &props.rows;
    let rows = r.rows.iter().map(|e| {
        // The full line is the title too: a line cut at the panel's edge
        // can be read on hover.
        html! {
            <li class={classes!("ev", e.kind.name(), linked.class(&e.links))} title={format!("step {}: {}", e.step, e.text)} tabindex="0"
                data-focus={e.links.first().map(|f| f.attr())}>
                <span class="step">{ e.step }</span><span class="text">{ &e.text }</span>
            </li>
        }
    });
    let px = props.row_px as usize;
    html! {
        <section class="panel events" aria-label="Events">
            <h2>{ "Events" }</h2>
            <div class="event-head">
                <select aria-label="Event filter" onchange={on_change}>
                    <option value="" selected={props.filter.is_none()}>{ "all but TLB hits" }</option>
                    { for FILTER_KINDS.iter().map(|k| html! { <option value={k.name()} selected={props.filter == Some(*k)}>{ k.label() }</option> }) }
                </select>
                <span class="count">{ format!("{} events, newest first", r.total) }</span>
            </div>
            if r.mmio.0 > 0 && !r.mmio.1 {
                <p class="hint mmio-count">{ format!(
                    "{} memory-mapped device accesses so far, counted, not listed while running: choose “{}” to list them",
                    r.mmio.0, EventKind::Mmio.label()
                ) }</p>
            }
            <div class="event-scroll" onscroll={on_scroll}
                style={format!("height:{}px", VISIBLE_ROWS * px)}>
                <ol class="event-list"
                    style={format!("height:{}px;padding-top:{}px;--row:{}px", r.total * px, r.first * px, px)}>
                    { for rows }
                </ol>
            </div>
        </section>
    }
}
