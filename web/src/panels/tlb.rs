//! The "TLB" panel: the entries, the one just used, and the counters.

use osviz_machine::TlbView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TlbProps {
    pub tlb: TlbView,
    /// The slot the latest step used, if any.
    pub used: Option<u8>,
    pub flushed: bool,
    pub selected_frame: Option<u32>,
}

#[function_component(TlbPanel)]
pub fn tlb_panel(props: &TlbProps) -> Html {
    let t = &props.tlb;
    let rows = t.entries.iter().map(|e| {
        let class = classes!(
            "tlb-entry",
            (props.used == Some(e.slot)).then_some("used"),
            (props.selected_frame == Some(e.frame)).then_some("selected")
        );
        html! {
            <tr class={class}>
                <td>{ e.slot }</td>
                <td class="hex">{ format!("{:05x}", e.page) }</td>
                <td class="hex">{ format!("{:05x}", e.frame) }</td>
                <td>{ format!("{}{}{}", if e.writable {"W"} else {"-"}, if e.user {"U"} else {"S"}, if e.dirty {"D"} else {"-"}) }</td>
            </tr>
        }
    });
    html! {
        <section class="panel tlb" aria-label="TLB">
            <h2>{ "TLB" }</h2>
            <div class="counters">
                { format!("{} entries, {:?} · hits {} · misses {} · evictions {} · flushes {}",
                    t.size, t.replacement, t.hits, t.misses, t.evictions, t.flushes) }
                if props.flushed { <span class="flash">{ " flushed" }</span> }
            </div>
            <table>
                <thead><tr><th>{"slot"}</th><th>{"page"}</th><th>{"frame"}</th><th>{"flags"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </section>
    }
}
