//! The "Page walk" panel: a virtual address split 10/10/12, CR3, the
//! directory entry, the table entry, and the frame.

use super::hex;
use osviz_machine::Walk;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PageWalkProps {
    pub walk: Walk,
    /// What the address is: "latest access", "EIP", ...
    pub what: String,
    pub paging: bool,
    /// Asks who last changed the entry at a physical address.
    pub on_who: Callback<u32>,
    pub selected_frame: Option<u32>,
    /// Asks who last changed any byte: a physical address or a kernel symbol.
    pub on_who_text: Callback<String>,
}

fn bits(entry: u32) -> Html {
    let flag = |name: &str, on: bool| html! { <span class={classes!("bit", on.then_some("on"))}>{ name.to_string() }</span> };
    html! {
        <span class="bits">
            { flag("P", entry & 1 != 0) }{ flag("W", entry & 2 != 0) }{ flag("U", entry & 4 != 0) }
            { flag("A", entry & 0x20 != 0) }{ flag("D", entry & 0x40 != 0) }
        </span>
    }
}

#[function_component(PageWalkPanel)]
pub fn page_walk_panel(props: &PageWalkProps) -> Html {
    let w = &props.walk;
    let pde_present = w.pde & 1 != 0;
    let pte_present = w.pte.is_some_and(|p| p & 1 != 0);
    let stopped = if !props.paging {
        "paging is off: linear = physical"
    } else if !pde_present {
        "stopped: the directory entry is not present (page fault)"
    } else if !pte_present {
        "stopped: the table entry is not present (page fault)"
    } else if w.in_tlb {
        "the TLB holds this page: no walk needed"
    } else {
        "translated"
    };
    html! {
        <section class="panel walk" aria-label="Page walk">
            <h2>{ "Page walk" }</h2>
            <div class="va">
                { format!("{} {:08x} = ", props.what, w.linear) }
                <span class="dir">{ format!("dir {}", w.directory_index) }</span>{ " | " }
                <span class="tbl">{ format!("table {}", w.table_index) }</span>{ " | " }
                <span class="off">{ format!("offset {:#x}", w.offset) }</span>
            </div>
            <ol class="steps">
                <li>{ format!("CR3 = {}", hex(w.cr3)) }</li>
                <li class={classes!((!pde_present).then_some("fault"))}>
                    { format!("PDE at {} = {} ", hex(w.pde_addr), hex(w.pde)) }{ bits(w.pde) }
                    <button class="who" title="go back to the instruction that last changed this entry"
                        onclick={props.on_who.reform({ let a = w.pde_addr; move |_: MouseEvent| a })}>{ "who changed it?" }</button>
                </li>
                if let (Some(addr), Some(pte)) = (w.pte_addr, w.pte) {
                    <li class={classes!((!pte_present).then_some("fault"))}>
                        { format!("PTE at {} = {} ", hex(addr), hex(pte)) }{ bits(pte) }
                        <button class="who" title="go back to the instruction that last changed this entry"
                            onclick={props.on_who.reform(move |_: MouseEvent| addr)}>{ "who changed it?" }</button>
                    </li>
                }
                if let Some(pa) = w.physical {
                    <li class={classes!("frame-found", (props.selected_frame == Some(pa >> 12)).then_some("selected"))}>{ format!("frame {:#x} + offset = physical {}", pa >> 12, hex(pa)) }</li>
                }
            </ol>
            <div class={classes!("verdict", w.physical.is_none().then_some("fault"))}>{ stopped }</div>
            <div class="who-any">
                <input aria-label="Address to trace" placeholder="physical address (hex) or kernel symbol"
                    onkeydown={{
                        let cb = props.on_who_text.clone();
                        Callback::from(move |e: KeyboardEvent| {
                            if e.key() == "Enter" {
                                let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                                cb.emit(input.value());
                            }
                        })
                    }} />
                <span class="hint">{ " Enter: who last changed it?" }</span>
            </div>
        </section>
    }
}
