//! The Code panel's view: the source around EIP, the breakpoints on it, the
//! instruction's bytes and the disassembly from EIP.

use crate::session::Session;
use serde::{Deserialize, Serialize};

/// How many source lines the panel shows around the current one.
pub const CONTEXT_LINES: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeView {
    pub file: String,
    /// Line numbers and text, around the current line.
    pub lines: Vec<(usize, String)>,
    pub current: usize,
    /// Lines with a breakpoint.
    pub breakpoint_lines: Vec<usize>,
    pub place: String,
    pub eip: u32,
    pub bytes: String,
    /// The instructions from EIP on, disassembled: address and text.
    pub disassembly: Vec<(u32, String)>,
    pub ring: u8,
    /// A hypervisor runs the kernel: ring 0 is the hypervisor's, ring 1
    /// the guest kernel's.
    pub hypervisor: bool,
    /// The CPU is in real mode (no rings: the boot sector).
    pub real_mode: bool,
    /// The call stack by frame pointers, innermost first, each as
    /// `function (file:line)`, when there is more than the current frame.
    pub stack: Vec<String>,
}

/// How many frames of the call stack the panel lists.
const STACK_DEPTH: usize = 8;

pub fn code(session: &Session) -> CodeView {
    let m = session.guest().machine();
    let eip = m.cpu().eip;
    let place = session.guest().view().place_of_eip(m);
    let file = place.file.clone().unwrap_or_default();
    let current = place.line.unwrap_or(0);
    let lines = session
        .file_text(&file)
        .map(|text| {
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_string()))
                .skip(current.saturating_sub(CONTEXT_LINES / 2 + 1))
                .take(CONTEXT_LINES + 1)
                .collect()
        })
        .unwrap_or_default();
    let listing = m.disassemble(eip, 6);
    let bytes = listing
        .first()
        .map(|l| {
            l.bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let disassembly = listing
        .into_iter()
        .map(|l| {
            let text = l.text.unwrap_or_else(|why| format!("({why})"));
            (l.addr, text)
        })
        .collect();
    let breakpoint_lines = session
        .breakpoints()
        .iter()
        .filter(|b| b.file == file)
        .map(|b| b.line)
        .collect();
    CodeView {
        file,
        lines,
        current,
        breakpoint_lines,
        place: match (&place.symbol, &place.inlined) {
            (Some(s), None) if place.offset == 0 => s.clone(),
            (Some(s), None) => format!("{s}+{}", place.offset),
            (Some(s), Some(i)) => format!("{s}+{} ({i}, inlined)", place.offset),
            (None, _) => "no symbol".into(),
        },
        eip,
        bytes,
        disassembly,
        ring: m.cpu().cpl(),
        hypervisor: session.guest().under_hypervisor(),
        real_mode: m.cpu().real_mode(),
        stack: {
            let view = session.guest().view();
            let frames = osviz_view::call_stack(m, &*view, STACK_DEPTH);
            if frames.len() < 2 {
                Vec::new()
            } else {
                frames
                    .into_iter()
                    .map(|p| match (p.symbol, p.file, p.line) {
                        (Some(s), Some(f), Some(l)) => match p.inlined {
                            Some(i) => format!("{i}, inlined into {s} ({f}:{l})"),
                            None => format!("{s} ({f}:{l})"),
                        },
                        (Some(s), _, _) => s,
                        _ => "?".into(),
                    })
                    .collect()
            }
        },
    }
}

/// The address the latest step's instruction touched: the faulting one if
/// it faulted, else its first translated access; EIP when it touched none.
pub fn latest_access(m: &osviz_machine::Machine) -> (u32, &'static str) {
    use osviz_machine::Event;
    let events = m.last_events();
    if let Some(linear) = events.iter().find_map(|e| match e {
        Event::PageFault { linear, .. } => Some(*linear),
        _ => None,
    }) {
        return (linear, "faulting access");
    }
    for e in events {
        match e {
            Event::PageWalk { linear, .. } => return (*linear, "latest access"),
            Event::TlbHit { page, .. } | Event::TlbMiss { page } => {
                return (page << 12, "latest access (page)");
            }
            _ => {}
        }
    }
    (m.cpu().eip, "EIP")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lesson_opens_in_its_program_at_the_first_instruction() {
        let s = Session::new("system-call");
        let v = code(&s);
        assert_eq!(v.file, "hello.asm");
        assert_eq!(v.ring, 3);
        assert_eq!(v.eip, 0x1000);
        assert!(v.lines.iter().any(|(n, _)| *n == v.current));
        assert!(!v.disassembly.is_empty());
        assert!(!v.bytes.is_empty());
    }
}
