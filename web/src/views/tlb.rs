//! The TLB panel's view: the slot the latest step used, and what a flush in
//! it did.

use crate::views::events::flush_text;
use osviz_machine::{Event, Machine};

/// The slot the latest step used (hit or filled), if any.
pub fn used_slot(m: &Machine) -> Option<u8> {
    m.last_events().iter().rev().find_map(|e| match e {
        Event::TlbHit { slot, .. } | Event::TlbFill { slot, .. } => Some(*slot),
        _ => None,
    })
}

/// What the latest step's flush did, if it flushed.
pub fn flushed(m: &Machine) -> Option<String> {
    m.last_events().iter().find_map(|e| match e {
        Event::TlbFlush {
            reason,
            page,
            dropped,
        } => Some(flush_text(*reason, *page, *dropped)),
        _ => None,
    })
}
