//! The "TLB" panel: the entries, the one just used, and the counters.

use crate::focus::{Focus, Linked};
use osviz_machine::TlbView;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct TlbProps {
    pub tlb: TlbView,
    /// The slot the latest step used, if any.
    pub used: Option<u8>,
    /// What the latest step's flush did, if it flushed.
    pub flushed: Option<String>,
    pub linked: Linked,
}

#[function_component(TlbPanel)]
pub fn tlb_panel(props: &TlbProps) -> Html {
    let t = &props.tlb;
    let linked = &props.linked;
    let rows = t.entries.iter().map(|e| {
        let (page, frame) = (Focus::Page(e.page), Focus::Frame(e.frame));
        let class = classes!(
            "tlb-entry",
            (props.used == Some(e.slot)).then_some("used"),
            (linked.pinned == Some(frame)).then_some("selected"),
            linked.class(&[page, frame])
        );
        html! {
            <tr class={class}>
                <td>{ e.slot }</td>
                <td class="hex" data-focus={page.attr()}>{ format!("{:05x}", e.page) }</td>
                <td class="hex" data-focus={frame.attr()}>{ format!("{:05x}", e.frame) }</td>
                <td>{ format!("{}{}{}", if e.writable {"W"} else {"-"}, if e.user {"U"} else {"S"}, if e.dirty {"D"} else {"-"}) }</td>
            </tr>
        }
    });
    html! {
        <section class="panel tlb" aria-label="TLB">
            <h2>{ "TLB" }</h2>
            <div class="counters">
                { format!("{} entries, {} · hits {} · misses {} · evictions {} · flushes {}",
                    t.size, t.replacement.name(), t.hits, t.misses, t.evictions, t.flushes) }
                if let Some(what) = &props.flushed { <div class="flash">{ what }</div> }
            </div>
            <table>
                <thead><tr><th>{"slot"}</th><th>{"page"}</th><th>{"frame"}</th><th>{"flags"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </section>
    }
}
