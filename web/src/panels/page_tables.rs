//! The "Page tables" panel: the shown process's page directory below the
//! kernel and each of its page tables, as tables of their present entries.
//! Only the regions in use have a table: the two-level saving, on screen.

use crate::focus::{Focus, Linked};
use crate::views::hex;
use osviz_kernel::introspect::PageTable;
use osviz_machine::Pte;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct PageTablesProps {
    pub pid: Option<u32>,
    pub tables: Vec<PageTable>,
    /// Whether paging is on (during the boot it is not).
    pub paging: bool,
    pub linked: Linked,
}

fn flags(entry: u32) -> String {
    Pte::letters(entry)
}

/// Entries shown at the start and at the end of a long page table.
const SHOWN_HEAD: usize = 48;
const SHOWN_TAIL: usize = 8;

fn row(t: &PageTable, i: u32, pte: u32, linked: &Linked) -> Html {
    let page = Focus::Page((t.covers >> 12) + i);
    let frame = Focus::Frame(pte >> 12);
    html! {
        <tr class={classes!(linked.class(&[page, frame]))} data-focus={frame.attr()}>
            <td class="hex">{ format!("{i}") }</td>
            <td class="hex">{ hex(t.covers + (i << 12)) }</td>
            <td class="hex">{ format!("{:#x}", pte >> 12) }</td>
            <td class="flags">{ flags(pte) }</td>
        </tr>
    }
}

#[function_component(PageTablesPanel)]
pub fn page_tables_panel(props: &PageTablesProps) -> Html {
    let linked = &props.linked;
    let tables = props.tables.iter().map(|t| {
        let table_frame = Focus::Frame(t.pde >> 12);
        // A table of a large heap has up to 1,024 present entries: the
        // first and the last are shown, and how many lie between.
        let n = t.entries.len();
        let hidden = n.saturating_sub(SHOWN_HEAD + SHOWN_TAIL);
        let shown = t
            .entries
            .iter()
            .enumerate()
            .filter(|(k, _)| hidden == 0 || *k < SHOWN_HEAD || *k >= n - SHOWN_TAIL)
            .map(|(_, e)| e);
        let gap = (hidden > 0).then(|| html! {
            <tr class="gap"><td colspan="4">{ format!("… {hidden} more present entries …") }</td></tr>
        });
        let mut rows: Vec<Html> = Vec::new();
        for (k, &(i, pte)) in shown.enumerate() {
            if k == SHOWN_HEAD {
                rows.extend(gap.clone());
            }
            rows.push(row(t, i, pte, linked));
        }
        let rows = rows.into_iter();
        html! {
            <div class="pt">
                <div class={classes!("pde", linked.class(&[table_frame]))} data-focus={table_frame.attr()}>
                    { format!("directory entry {} → page table in frame {:#x} ({}), covers {}–{}",
                        t.dir_index, t.pde >> 12, flags(t.pde), hex(t.covers), hex(t.covers + (1 << 22) - 1)) }
                </div>
                <table>
                    <thead><tr><th>{ "entry" }</th><th>{ "virtual page" }</th><th>{ "frame" }</th><th>{ "flags" }</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        }
    });
    let present: usize = props.tables.len();
    html! {
        <section class="panel page-tables" aria-label="Page tables">
            <h2>{ match props.pid { Some(p) => format!("Page tables · pid {p}"), None => "Page tables".into() } }</h2>
            if props.paging {
                <p class="summary">{ format!("page tables in use: {present} of the 512 user directory entries point to one; the other {} need none", 512 - present) }</p>
            } else {
                <p class="summary">{ "paging is off (CR0.PG = 0, the boot): the CPU uses no page tables yet, and every address goes to memory as it is" }</p>
            }
            <div class="pt-list">{ for tables }</div>
        </section>
    }
}
