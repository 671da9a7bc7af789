//! The "Memory image" panel: a process's address space from 0 to 4 GiB:
//! code and data, heap, the gap, the stack, and the kernel above.

use yew::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub name: &'static str,
    pub start: u32,
    pub end: u32,
    /// Pages of the region that have a frame.
    pub mapped: usize,
    pub marks: Vec<&'static str>,
}

#[derive(Properties, PartialEq)]
pub struct MemoryImageProps {
    pub pid: Option<u32>,
    pub regions: Vec<Region>,
}

#[function_component(MemoryImagePanel)]
pub fn memory_image_panel(props: &MemoryImageProps) -> Html {
    // Highest addresses at the top, as the course draws it.
    let rows = props.regions.iter().rev().map(|r| {
        html! {
            <div class={format!("region {}", r.name.replace(' ', "-"))}>
                <span class="range">{ format!("{:08x}–{:08x}", r.start, r.end.wrapping_sub(1)) }</span>
                <span class="rname">{ r.name }</span>
                <span class="mapped">{ if r.name == "unmapped" { String::new() } else { format!("{} pages mapped", r.mapped) } }</span>
                { for r.marks.iter().map(|m| html! { <span class="mark">{ format!("← {m}") }</span> }) }
            </div>
        }
    });
    html! {
        <section class="panel image" aria-label="Memory image">
            <h2>{ match props.pid { Some(p) => format!("Memory image · pid {p}"), None => "Memory image".into() } }</h2>
            <div class="regions">{ for rows }</div>
        </section>
    }
}
