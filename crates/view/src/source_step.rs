//! Stepping by source line, over either kernel's line table: into calls,
//! over them, or out of the running function; and the call stack by frame
//! pointers. The machine steps instructions; the kernel's view says which
//! line each one is on.

use crate::{KernelView, SourcePlace};
use osviz_machine::{EventKind, KindSet, Machine, Op, StopReason};

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
    /// The process the step began in ended (it exited, or was killed)
    /// before the step came to a line: the step stops where the kernel
    /// marked it ended (`place`).
    ProcessEnded {
        pid: u32,
        name: String,
        place: SourcePlace,
    },
    /// The machine stopped first (a breakpoint, a fault, the step limit).
    Machine(StopReason),
}

fn line_of(p: &SourcePlace) -> Option<(String, usize)> {
    Some((p.file.clone()?, p.line?))
}

/// Where code runs: an address space and a privilege. A line step stays
/// in the one it began in (a process's user code, or the kernel on its
/// behalf); the kernel's handling of a trap from user mode, and other
/// processes, are not that code's next line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Context {
    cr3: u32,
    user: bool,
}

fn context(m: &Machine, view: &dyn KernelView) -> Context {
    Context {
        cr3: view.address_space(m),
        user: m.cpu().cpl() == 3,
    }
}

/// A function's activation: the function and, for a function with the
/// frame-pointer prologue (`push ebp; mov ebp, esp`), its canonical frame
/// address (ESP before the call pushed the return address), wherever in
/// the function the CPU is: prologue, body or epilogue. Code without that
/// prologue (assembly) is one frame per function; an assembly function's
/// local labels (`print.len`) are the function's.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Frame {
    function: Option<String>,
    cfa: Option<u32>,
}

impl Frame {
    fn same(&self, other: &Frame) -> bool {
        self.function == other.function
            && (self.cfa.is_none() || other.cfa.is_none() || self.cfa == other.cfa)
    }
}

fn read_code(m: &Machine, va: u32, len: u32) -> Option<u32> {
    let pa = m.peek_translate(va)?;
    ((pa as usize) + len as usize <= m.mem().len()).then(|| m.mem().read(pa, len))
}

fn frame_of(m: &Machine, place: &SourcePlace) -> Frame {
    let eip = m.cpu().eip;
    let function = place
        .symbol
        .as_ref()
        .map(|s| s.split('.').next().unwrap_or(s).to_string());
    let start = place
        .symbol
        .as_ref()
        .map(|_| eip.wrapping_sub(place.offset));
    let (esp, ebp) = (m.cpu().gpr[4], m.cpu().gpr[5]);
    let cfa = start.and_then(|f| {
        // push ebp (55), then mov ebp, esp (89 e5 or 8b ec).
        let prologue = read_code(m, f, 3)?;
        if prologue != 0x00e5_8955 && prologue != 0x00ec_8b55 {
            return None;
        }
        let at_ret = matches!(read_code(m, eip, 1), Some(0xc3 | 0xc2));
        Some(match eip.wrapping_sub(f) {
            0 => esp.wrapping_add(4),
            1 => esp.wrapping_add(8),
            _ if at_ret => esp.wrapping_add(4),
            _ => ebp.wrapping_add(8),
        })
    });
    Frame { function, cfa }
}

/// What ends the process a step began in: it is gone from the process
/// table, or a zombie.
struct Watched {
    pid: u32,
    addr: u32,
    name: String,
    /// The machine's watches before the step (the step adds the process's
    /// state field to them, and puts them back).
    saved: Vec<(u32, u32)>,
}

impl Watched {
    fn start(m: &mut Machine, view: &dyn KernelView) -> Option<Watched> {
        let p = view.current(m)?;
        let field = view.state_field(&p)?;
        let saved: Vec<(u32, u32)> = m.watches().collect();
        let mut all = saved.clone();
        all.push(field);
        m.set_watches(&all);
        Some(Watched {
            pid: p.pid,
            addr: p.addr,
            name: p.name,
            saved,
        })
    }

    /// After a watch stop: the process's end, if that is what changed.
    fn ended(&self, m: &Machine, view: &dyn KernelView) -> Option<LineStop> {
        let alive = view
            .processes(m)
            .iter()
            .any(|p| p.pid == self.pid && p.addr == self.addr && p.phase != crate::Phase::Zombie);
        (!alive).then(|| LineStop::ProcessEnded {
            pid: self.pid,
            name: self.name.clone(),
            place: view.place_of_eip(m),
        })
    }
}

/// Steps by source line (at most `max_steps` steps). A line begins at a
/// statement of the line table ([`KernelView::is_statement`]).
///
/// Over and Out are about the frame the step began in, in its process and
/// privilege ([`Context`]): Over stops at the next line of that frame, and
/// Out runs until the frame returns; either, once the frame returned (a
/// `ret`, or the `iret` that ends a trap's code), stops at the next line
/// the caller (or the interrupted code) begins. Code of other frames
/// (calls, taken whole; an interrupt's handler), the kernel handling a
/// trap from user mode (a page fault the kernel resolves, a system call),
/// and other processes are run through. Into stops at the next line
/// anywhere, past the prologue of a function it enters.
///
/// If the process the step began in ends (exits, or is killed), the step
/// stops there and says so ([`LineStop::ProcessEnded`]).
pub fn step_line(
    m: &mut Machine,
    view: &dyn KernelView,
    how: LineStep,
    max_steps: u64,
) -> LineStop {
    let watched = Watched::start(m, view);
    let stop = step_line_watched(m, view, how, max_steps, watched.as_ref());
    if let Some(w) = watched {
        m.set_watches(&w.saved);
    }
    stop
}

fn step_line_watched(
    m: &mut Machine,
    view: &dyn KernelView,
    how: LineStep,
    max_steps: u64,
    watched: Option<&Watched>,
) -> LineStop {
    let start = view.place_of_eip(m);
    let from = line_of(&start);
    let end = m.steps() + max_steps;
    let mut ctx = context(m, view);
    let mut frame = frame_of(m, &start);
    // The frame returned: the next line begun in the caller ends the step.
    let mut returned = false;
    loop {
        if m.steps() >= end {
            return LineStop::Machine(StopReason::InstructionLimit);
        }
        // Whether this instruction returns from the step's frame.
        let leaving = how != LineStep::Into
            && context(m, view) == ctx
            && matches!(
                m.instruction_at(m.cpu().eip).map(|i| i.op),
                Ok(Op::Ret | Op::Iret)
            )
            && frame_of(m, &view.place_of_eip(m)).same(&frame);
        let stepped = match how {
            LineStep::Into => single(m),
            // Over and out take a call (or an int n) whole.
            LineStep::Over | LineStep::Out => over(m, view, end, watched),
        };
        match stepped {
            None => {}
            Some(Stepped::Watch) => {
                if let Some(ended) = watched.and_then(|w| w.ended(m, view)) {
                    return ended;
                }
            }
            Some(Stepped::Ended(stop)) => return stop,
            Some(Stepped::Machine(stop)) => return LineStop::Machine(stop),
        }
        if leaving {
            // Now in the caller's frame (or, after an iret, the code the
            // trap interrupted, which may be another privilege).
            returned = true;
            ctx = context(m, view);
            frame = frame_of(m, &view.place_of_eip(m));
        }
        if how != LineStep::Into && context(m, view) != ctx {
            match outside(m, view, ctx, end, watched) {
                None => continue,
                Some(Stepped::Watch) => unreachable!("outside looks at watch stops"),
                Some(Stepped::Ended(stop)) => return stop,
                Some(Stepped::Machine(stop)) => return LineStop::Machine(stop),
            }
        }
        let here = view.place_of_eip(m);
        // A step begun where there is no line (a vector's stub) has no
        // frame to keep to.
        if how != LineStep::Into && from.is_some() && !frame_of(m, &here).same(&frame) {
            continue;
        }
        let Some(line) = line_of(&here) else {
            return LineStop::NoLine(here);
        };
        if !view.is_statement(m, m.cpu().eip) {
            continue;
        }
        match how {
            LineStep::Out if !returned => continue,
            LineStep::Over if !returned && Some(&line) == from.as_ref() => continue,
            LineStep::Into if Some(&line) == from.as_ref() => continue,
            _ => {}
        }
        if how == LineStep::Into && here.symbol.is_some() && here.offset == 0 {
            return past_prologue(m, view, end);
        }
        return LineStop::Line(here);
    }
}
/// What one instruction (or a call taken whole) of a line step ended in,
/// when it is more than the next instruction.
enum Stepped {
    /// Watched bytes changed (a process's state): the step looks whether
    /// its process ended.
    Watch,
    Ended(LineStop),
    Machine(StopReason),
}

/// One instruction. The break-on kinds are the run's business, not a line
/// step's: their stops are stepped past.
fn single(m: &mut Machine) -> Option<Stepped> {
    match m.step().stop? {
        StopReason::Watch { .. } => Some(Stepped::Watch),
        StopReason::Event { .. } => None,
        other => Some(Stepped::Machine(other)),
    }
}

/// One instruction, or a `call` or an `int n` whole: until the
/// instruction after it runs in the same context with the stack back where
/// it was (as [`Machine::step_over`]), or the step's process ends in it
/// (`exit` does not return). Address breakpoints stop it.
fn over(
    m: &mut Machine,
    view: &dyn KernelView,
    end: u64,
    watched: Option<&Watched>,
) -> Option<Stepped> {
    let eip = m.cpu().eip;
    let len = match m.instruction_at(eip) {
        Ok(i) if matches!(i.op, Op::Call | Op::CallIndirect | Op::Int) => i.len,
        _ => return single(m),
    };
    let next = eip.wrapping_add(u32::from(len));
    let (ctx, esp) = (context(m, view), m.cpu().gpr[4]);
    let had = m.breakpoints().any(|a| a == next);
    m.add_breakpoint(next);
    let kinds = set_break_kinds(m, KindSet::EMPTY);
    let stepped = loop {
        if m.steps() >= end {
            break Some(Stepped::Machine(StopReason::InstructionLimit));
        }
        let stop = m.run(end - m.steps());
        if m.cpu().eip == next && context(m, view) == ctx && m.cpu().gpr[4] >= esp {
            break None;
        }
        match stop {
            StopReason::Watch { .. } => {
                if let Some(ended) = watched.and_then(|w| w.ended(m, view)) {
                    break Some(Stepped::Ended(ended));
                }
            }
            // The same address deeper or in another process, or an event
            // the run would break on: run on.
            StopReason::Breakpoint { eip } if eip == next => {}
            StopReason::Event { .. } | StopReason::InstructionLimit => {}
            other => break Some(Stepped::Machine(other)),
        }
    };
    set_break_kinds(m, kinds);
    if !had {
        m.remove_breakpoint(next);
    }
    stepped
}

/// Makes the machine break on exactly `kinds`; returns the kinds it broke
/// on before.
fn set_break_kinds(m: &mut Machine, kinds: KindSet) -> KindSet {
    let old = m.break_kinds();
    for k in old.kinds() {
        m.break_on(k, false);
    }
    for k in kinds.kinds() {
        m.break_on(k, true);
    }
    old
}

/// Runs, at the run's speed, until the CPU is back in the step's context
/// `ctx`: what runs between (the kernel handling a trap from user mode,
/// other processes) has no line of the step's. Only a CR3 write or an
/// `iret` comes back to a context, so the run stops at those to look.
fn outside(
    m: &mut Machine,
    view: &dyn KernelView,
    ctx: Context,
    end: u64,
    watched: Option<&Watched>,
) -> Option<Stepped> {
    let kinds = set_break_kinds(m, KindSet::of(&[EventKind::Cr3Write, EventKind::Iret]));
    let stepped = loop {
        if context(m, view) == ctx {
            break None;
        }
        if m.steps() >= end {
            break Some(Stepped::Machine(StopReason::InstructionLimit));
        }
        match m.run(end - m.steps()) {
            StopReason::Event { .. } | StopReason::InstructionLimit => {}
            StopReason::Watch { .. } => {
                if let Some(ended) = watched.and_then(|w| w.ended(m, view)) {
                    break Some(Stepped::Ended(ended));
                }
            }
            other => break Some(Stepped::Machine(other)),
        }
    };
    set_break_kinds(m, kinds);
    stepped
}

/// From a function's first instruction (where Into entered it) to the
/// first past its prologue ([`KernelView::body_address`]), as a debugger's
/// step into a function does.
fn past_prologue(m: &mut Machine, view: &dyn KernelView, end: u64) -> LineStop {
    let body = view.body_address(m, m.cpu().eip);
    let ctx = context(m, view);
    for _ in 0..64 {
        if m.cpu().eip == body || m.steps() >= end || context(m, view) != ctx {
            break;
        }
        match single(m) {
            None | Some(Stepped::Watch) => {}
            Some(Stepped::Ended(stop)) => return stop,
            Some(Stepped::Machine(stop)) => return LineStop::Machine(stop),
        }
    }
    LineStop::Line(view.place_of_eip(m))
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
