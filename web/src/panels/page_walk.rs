//! The "Page walk" panel: a virtual address split 10/10/12, then the walk
//! drawn as the hardware does it: CR3 to the page directory, the directory
//! entry to the page table, the table entry to the frame, plus the offset.
//! The stages light up one after another (when the machine is not running
//! fast, so the picture does not flicker); a fault shows where the walk
//! stopped, and a TLB hit shows the short-cut that skips it.

use super::{hex, on_enter};
use crate::focus::{Focus, Linked};
use osviz_machine::{Pte, Walk};
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct PageWalkProps {
    pub walk: Walk,
    /// What the address is: "latest access", "EIP", ...
    pub what: String,
    /// Under a hypervisor, which tables the MMU walked.
    pub tables: Option<String>,
    pub paging: bool,
    /// In real mode, how addresses are made (no paging to walk).
    pub real_mode: Option<String>,
    /// Whether to play the walk stage by stage.
    pub animate: bool,
    /// The step the walk belongs to: a new step replays the animation.
    pub step: u64,
    /// Asks who last changed the entry at a physical address.
    pub on_who: Callback<u32>,
    /// Asks who last changed any byte: a physical address or a kernel symbol.
    pub on_who_text: Callback<String>,
    /// Walks a typed virtual address (an empty text: the latest access).
    pub on_walk_text: Callback<String>,
    pub linked: Linked,
}

fn bits(entry: u32) -> Html {
    let flag = |&(bit, letter, title): &(u32, char, &str)| {
        let on = entry & bit != 0;
        html! { <span class={classes!("bit", on.then_some("on"))} title={title.to_string()}>{ letter.to_string() }</span> }
    };
    html! {
        <span class="bits">{ for Pte::SHOWN.iter().map(flag) }</span>
    }
}

/// The 32 bits of the address in three coloured groups, each labelled with
/// the index or offset the walk took from it.
fn split(w: &Walk) -> Html {
    let linear = w.linear;
    let group = |class: &'static str, from: u32, width: u32, label: String| {
        let digits: String = (0..width)
            .rev()
            .map(|k| {
                if linear >> (from + k) & 1 == 1 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect();
        html! {
            <span class={classes!("group", class)}>
                <span class="digits">{ digits }</span>
                <span class="label">{ label }</span>
            </span>
        }
    };
    html! {
        <div class="bits32" aria-label="Address bits">
            { group("dir", 22, 10, format!("directory index {}", w.directory_index)) }
            { group("tbl", 12, 10, format!("table index {}", w.table_index)) }
            { group("off", 0, 12, format!("offset {:#x}", w.offset)) }
        </div>
    }
}

#[function_component(PageWalkPanel)]
pub fn page_walk_panel(props: &PageWalkProps) -> Html {
    let w = &props.walk;
    let linked = &props.linked;
    let pde_present = Pte::present(w.pde);
    let pte_present = w.pte.is_some_and(Pte::present);
    let stopped = if let Some(mode) = &props.real_mode {
        mode.as_str()
    } else if !props.paging {
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
    let page = Focus::Page(w.linear >> 12);
    let dir_frame = Focus::Frame(w.cr3 >> 12);
    let table_frame = Focus::Frame(w.pde >> 12);
    let found = w.physical.map(|pa| Focus::Frame(pa >> 12));
    let who = |addr: u32| {
        html! {
            <button class="who" title="go back to the instruction that last changed this entry"
                onclick={props.on_who.reform(move |_: MouseEvent| addr)}>{ "who changed it?" }</button>
        }
    };
    // A stage: its place in the animation, whether the walk stopped there.
    let stage = |i: usize, fault: bool, links: &[Focus]| {
        classes!(
            "stage",
            format!("s{i}"),
            fault.then_some("fault"),
            linked.class(links)
        )
    };
    let diagram = html! {
        <ol class={classes!("steps", props.animate.then_some("animate"), w.in_tlb.then_some("via-tlb"))}>
            <li class={stage(0, false, &[dir_frame])} data-focus={dir_frame.attr()}>
                <span class="what">{ "CR3" }</span>
                { format!("CR3 = {} → page directory in frame {:#x}", hex(w.cr3), w.cr3 >> 12) }
            </li>
            <li class={stage(1, !pde_present, &[dir_frame, table_frame])} data-focus={table_frame.attr()}>
                <span class="what dir">{ format!("directory entry {}", w.directory_index) }</span>
                { format!("PDE at {} = {} ", hex(w.pde_addr), hex(w.pde)) }{ bits(w.pde) }
                if pde_present && w.large {
                    <span class="then">{ format!(" → a 4 MiB page (PS set, CR4.PSE on) at {}", hex(w.pde & Pte::LARGE_FRAME)) }</span>
                } else if pde_present {
                    <span class="then">{ format!(" → page table in frame {:#x}", w.pde >> 12) }</span>
                } else {
                    <span class="then">{ " → not present: #PF" }</span>
                }
                { who(w.pde_addr) }
            </li>
            if let (Some(addr), Some(pte)) = (w.pte_addr, w.pte) {
                <li class={stage(2, !pte_present, &[table_frame, Focus::Frame(pte >> 12)])} data-focus={Focus::Frame(pte >> 12).attr()}>
                    <span class="what tbl">{ format!("table entry {}", w.table_index) }</span>
                    { format!("PTE at {} = {} ", hex(addr), hex(pte)) }{ bits(pte) }
                    if pte_present {
                        <span class="then">{ format!(" → frame {:#x}", pte >> 12) }</span>
                    } else {
                        <span class="then">{ " → not present: #PF" }</span>
                    }
                    { who(addr) }
                </li>
            }
            if let (Some(pa), Some(frame)) = (w.physical, found) {
                <li class={classes!(stage(3, false, &[frame]), "frame-found", (linked.pinned == Some(frame)).then_some("selected"))}
                    data-focus={frame.attr()}>
                    <span class="what off">{ "frame + offset" }</span>
                    if w.large {
                        { format!("4 MiB page {} + offset {:#x} = physical {}", hex(pa & Pte::LARGE_FRAME), pa & !Pte::LARGE_FRAME, hex(pa)) }
                    } else {
                        { format!("frame {:#x} + offset {:#x} = physical {}", pa >> 12, w.offset, hex(pa)) }
                    }
                </li>
            }
        </ol>
    };
    html! {
        <section class="panel walk" aria-label="Page walk">
            <h2>{ "Page walk" }</h2>
            if let Some(note) = &props.tables {
                <p class="summary walked-tables" role="note">{ note.clone() }</p>
            }
            <div class="walk-head">
                <span class={classes!("va", linked.class(&[page]))} data-focus={page.attr()}>
                    { format!("{} {:08x}", props.what, w.linear) }
                </span>
                <input class="walk-addr" aria-label="Virtual address to walk" placeholder="walk address (hex)"
                    onkeydown={on_enter(&props.on_walk_text)} />
                if props.what == "typed address" {
                    <button class="who" onclick={props.on_walk_text.reform(|_: MouseEvent| String::new())}>{ "latest access" }</button>
                }
            </div>
            // The 10/10/12 split is the paging hardware's: without paging
            // the address goes to memory as it is.
            if props.paging {
                { split(w) }
            }
            if props.paging && w.in_tlb {
                if let Some(pa) = w.physical {
                    <div class="tlb-shortcut" role="note">
                        { format!("TLB hit: page {:#x} → frame {:#x} straight away; the walk below is what a miss costs", w.linear >> 12, pa >> 12) }
                    </div>
                }
            }
            // When animating, a new step or address makes a new list, which
            // replays the animation; otherwise the list is patched in place.
            if props.paging {
                <div key={if props.animate { format!("{}-{}", props.step, w.linear) } else { "still".to_string() }}>{ diagram }</div>
            }
            <div class={classes!("verdict", (props.paging && w.physical.is_none()).then_some("fault"))}>{ stopped }</div>
            <div class="who-any">
                <input aria-label="Address to trace" placeholder="physical address (hex) or kernel symbol"
                    onkeydown={on_enter(&props.on_who_text)} />
                <span class="hint">{ " Enter: who last changed it?" }</span>
            </div>
        </section>
    }
}
