//! The Memory image panel's view: the kernel's regions of a process's
//! address space, each with its pages (filled where a frame backs one) and
//! where EIP and ESP point.

use osviz_course::Guest;
use osviz_kernel::introspect::{MemoryRegion, ProcessView, RegionKind};
use serde::{Deserialize, Serialize};

/// One page of a region, and the frame behind it if it is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageCell {
    pub page: u32,
    pub frame: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub kind: RegionKind,
    pub region: MemoryRegion,
    /// The address range as text (`empty at …` for an empty region).
    pub range: String,
    /// Pages of the region that have a frame.
    pub mapped: usize,
    /// The region's pages, for the regions small enough to draw page by
    /// page (empty for the gap and the kernel).
    pub pages: Vec<PageCell>,
    pub marks: Vec<String>,
}

/// Regions of at most this many pages are drawn page by page.
const DRAWN_PAGES: u64 = 128;

pub fn regions(system: &Guest, p: &ProcessView) -> Vec<Region> {
    let m = system.machine();
    let i = system.view();
    let maps = i.mappings(m, p);
    let (eip, esp) = i.user_context(m, p);
    i.regions(m, p)
        .into_iter()
        .map(|r| {
            let owns_pages = matches!(
                r.kind,
                RegionKind::CodeData | RegionKind::Heap | RegionKind::Stack | RegionKind::Guard
            );
            let pages = if owns_pages && r.pages() <= DRAWN_PAGES {
                (0..r.pages() as u32)
                    .map(|k| {
                        let page = r.start + k * 4096;
                        // The mappings come in address order.
                        let frame = maps
                            .binary_search_by_key(&page, |x| x.page)
                            .ok()
                            .map(|k| maps[k].frame);
                        PageCell { page, frame }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut marks = Vec::new();
            if r.contains(eip) {
                marks.push("EIP".to_string());
            }
            // A push decrements ESP first, so an ESP at a region's end
            // belongs to that region (an empty stack), not to the one above.
            if esp > r.start && u64::from(esp) <= r.end {
                marks.push("ESP".to_string());
            }
            Region {
                kind: r.kind,
                region: r,
                range: if r.is_empty() {
                    format!("empty, at {:08x}", r.start)
                } else {
                    format!("{:08x}–{:08x}", r.start, r.last())
                },
                mapped: maps.iter().filter(|x| r.contains(x.page)).count(),
                pages,
                marks,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    #[test]
    fn at_the_start_the_heap_is_empty_and_the_kernel_ends_at_the_top() {
        let s = Session::new("memory-image");
        let i = s.guest().view();
        let p = i.current(s.guest().machine()).unwrap();
        let r = regions(s.guest(), &p);
        let by = |k| r.iter().find(|x| x.kind == k).unwrap();
        assert!(by(RegionKind::Heap).range.starts_with("empty, at "));
        assert_eq!(by(RegionKind::Kernel).range, "80000000–ffffffff");
        assert_eq!(by(RegionKind::CodeData).marks, ["EIP"]);
        assert_eq!(by(RegionKind::Stack).marks, ["ESP"]);
        assert_eq!(by(RegionKind::Stack).pages.len(), 16);
        assert!(by(RegionKind::CodeData).mapped > 0);
    }
}
