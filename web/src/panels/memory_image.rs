//! The "Memory image" panel: a process's address space from 0 to 4 GiB:
//! code and data, heap, the gap, the stack, and the kernel above, highest
//! addresses on top as the course draws it. The regions a process owns
//! show one cell per page (filled when a frame backs it), so demand paging
//! and the heap's and stack's growth toward each other can be watched; the
//! gap and the kernel are drawn as bands, since to scale they would dwarf
//! everything else.

use crate::focus::{Focus, Linked};
use crate::views::memory::Region;
use osviz_kernel::introspect::RegionKind;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct MemoryImageProps {
    pub pid: Option<u32>,
    pub regions: Vec<Region>,
    pub linked: Linked,
}

/// Which way a region grows, for its label.
fn growth(kind: RegionKind) -> &'static str {
    match kind {
        RegionKind::Heap => " ↑ grows up (sbrk)",
        RegionKind::Stack => " ↓ grows down",
        _ => "",
    }
}

#[function_component(MemoryImagePanel)]
pub fn memory_image_panel(props: &MemoryImageProps) -> Html {
    let linked = &props.linked;
    let rows = props.regions.iter().rev().map(|r| {
        let pages = r.pages.iter().map(|c| {
            let page = Focus::Page(c.page >> 12);
            let mut these = vec![page];
            these.extend(c.frame.map(Focus::Frame));
            let title = match c.frame {
                Some(f) => format!("page {:#010x} → frame {f:#x}", c.page),
                None => format!("page {:#010x}: no frame yet", c.page),
            };
            html! {
                <span class={classes!("pg", c.frame.is_some().then_some("mapped"), linked.class(&these))}
                    title={title} data-focus={c.frame.map_or(page, Focus::Frame).attr()}></span>
            }
        });
        let within = |f: Focus| matches!(f, Focus::Page(p) if !r.region.is_empty() && (r.region.start >> 12..=r.region.last() >> 12).contains(&p));
        let linked_here = linked.current().is_some_and(within);
        html! {
            <div class={classes!("region", r.kind.name().replace(' ', "-"), linked_here.then_some("linked"))}>
                <div class="region-head">
                    <span class="range">{ &r.range }</span>
                    <span class="rname">{ format!("{}{}", r.kind.name(), growth(r.kind)) }</span>
                    <span class="mapped">{
                        match r.kind {
                            RegionKind::CodeData | RegionKind::Heap | RegionKind::Stack if !r.region.is_empty() =>
                                format!("{} of {} pages mapped", r.mapped, r.region.pages()),
                            _ => String::new(),
                        }
                    }</span>
                    { for r.marks.iter().map(|m| html! { <span class="mark">{ format!("← {m}") }</span> }) }
                </div>
                if !r.pages.is_empty() {
                    <div class="pages">{ for pages }</div>
                }
            </div>
        }
    });
    html! {
        <section class="panel image" aria-label="Memory image">
            <h2 data-focus={props.pid.map(|p| Focus::Pid(p).attr())}>{
                match props.pid { Some(p) => format!("Memory image · pid {p}"), None => "Memory image".into() }
            }</h2>
            <div class="regions">{ for rows }</div>
        </section>
    }
}
