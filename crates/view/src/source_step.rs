//! Stepping by source line, over either kernel's line table: into calls,
//! over them, or out of the running function; and the call stack by frame
//! pointers. The machine steps instructions; the kernel's view says which
//! line each one is on.

use crate::{KernelView, SourcePlace};
use osviz_machine::{Machine, StopReason};

/// How a source-line step treats calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStep {
    /// To the next line, into a called function if there is one.
    Into,
    /// To the next line of this function (or its caller), over calls.
    Over,
    /// Until the running function returns to its caller.
    Out,
}

/// How a line step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineStop {
    /// At the first instruction of another line.
    Line(SourcePlace),
    /// Where there is no line to stop at (code without line information):
    /// the step stops at its first instruction.
    NoLine(SourcePlace),
    /// The machine stopped first (a breakpoint, a fault, the step limit).
    Machine(StopReason),
}

fn line_of(p: &SourcePlace) -> Option<(String, usize)> {
    Some((p.file.clone()?, p.line?))
}

/// Steps by source line (at most `max_steps` steps).
pub fn step_line(
    m: &mut Machine,
    view: &dyn KernelView,
    how: LineStep,
    max_steps: u64,
) -> LineStop {
    let start = view.place_of_eip(m);
    let from = line_of(&start);
    let (esp, ebp, cr3) = (m.cpu().gpr[4], m.cpu().gpr[5], m.cpu().cr3);
    let end = m.steps() + max_steps;
    let mut left_function = how != LineStep::Out;
    loop {
        if m.steps() >= end {
            return LineStop::Machine(StopReason::InstructionLimit);
        }
        // Over and out take a call (or an int n) whole.
        let stop = match how {
            LineStep::Into => m.step().stop,
            LineStep::Over | LineStep::Out => m.step_over(end - m.steps()),
        };
        if let Some(stop) = stop {
            return LineStop::Machine(stop);
        }
        let same_process = m.cpu().cr3 == cr3;
        if how == LineStep::Out && !left_function {
            // `leave` puts ESP at the saved EBP's slot above the frame's
            // base, and `ret` pops the return address above that.
            left_function = same_process && m.cpu().gpr[4] > ebp.wrapping_add(4);
            if !left_function {
                continue;
            }
        }
        // Over: a deeper frame (an interrupt's handler, a recursion) is not
        // this function's next line.
        if how == LineStep::Over && same_process && m.cpu().gpr[4] < esp {
            continue;
        }
        let here = view.place_of_eip(m);
        match line_of(&here) {
            None => return LineStop::NoLine(here),
            Some(l) if how == LineStep::Out || Some(&l) != from.as_ref() => {
                return LineStop::Line(here);
            }
            Some(_) => {}
        }
    }
}

/// The call stack by frame pointers: where the CPU is, then each caller's
/// call site (the return address less one), innermost first, at most
/// `depth` frames. Frames are followed through the running address space.
pub fn call_stack(m: &Machine, view: &dyn KernelView, depth: usize) -> Vec<SourcePlace> {
    let mut out = vec![view.place_of_eip(m)];
    let mut ebp = m.cpu().gpr[5];
    let read = |va: u32| -> Option<u32> {
        let pa = m.peek_translate(va)?;
        ((pa as usize) + 4 <= m.mem().len()).then(|| m.mem().read(pa, 4))
    };
    // In a function's prologue its frame is not made yet: the return
    // address is at ESP (at its first instruction) or just above the pushed
    // EBP (after `push ebp`), and EBP is still the caller's.
    let esp = m.cpu().gpr[4];
    let pending = match out[0].offset {
        0 => Some(esp),
        1 => Some(esp.wrapping_add(4)),
        _ => None,
    };
    if let Some(ret) = pending.filter(|_| out[0].symbol.is_some()).and_then(read) {
        let place = view.place(m, ret.wrapping_sub(1));
        if place.symbol.is_some() {
            out.push(place);
        }
    }
    while out.len() < depth && ebp != 0 {
        let (Some(next), Some(ret)) = (read(ebp), read(ebp.wrapping_add(4))) else {
            break;
        };
        if ret == 0 {
            break;
        }
        let place = view.place(m, ret.wrapping_sub(1));
        if place.symbol.is_none() {
            break;
        }
        out.push(place);
        // Frames go up the stack; anything else is not a frame chain.
        if next <= ebp {
            break;
        }
        ebp = next;
    }
    out
}
