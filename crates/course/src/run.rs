//! Running a guest to a lesson's moment, and the teaching kernel's boot to
//! its first user instruction (where its lessons start).

use crate::lesson::Moment;
use osviz_machine::{Event, EventKind, Machine, StopReason};
use osviz_view::KernelView;

/// Runs `system` to `moment` (at most `max_steps` steps); returns the
/// events of the step that reached it. Recording is turned on.
pub fn run_to(
    m: &mut Machine,
    view: &dyn KernelView,
    moment: Moment,
    max_steps: u64,
) -> Result<Vec<Event>, String> {
    let symbol_addr = match moment {
        Moment::Symbol { symbol } => Some(
            view.code_address(symbol)
                .ok_or_else(|| format!("no symbol `{symbol}` in the lesson's program"))?,
        ),
        _ => None,
    };
    // The student's breakpoints and break-on choice must not stop the run
    // short of the moment.
    m.with_breaks_set_aside(|m| run_machine_to(m, moment, symbol_addr, max_steps))
}

fn run_machine_to(
    m: &mut Machine,
    moment: Moment,
    symbol_addr: Option<u32>,
    max_steps: u64,
) -> Result<Vec<Event>, String> {
    m.set_recording(true);
    match moment {
        Moment::Event { event, nth } => {
            m.break_on(event, true);
            let mut seen = 0;
            let result = loop {
                match m.run(max_steps) {
                    StopReason::Event { kind } if kind == event => {
                        seen += 1;
                        if seen >= nth {
                            break Ok(m.last_events().to_vec());
                        }
                    }
                    StopReason::Event { .. } => {}
                    other => break Err(format!("the run ended ({other}) before the moment")),
                }
            };
            m.break_on(event, false);
            result
        }
        Moment::Trap { vector } => {
            m.break_on(EventKind::TrapEntry, true);
            let result = loop {
                match m.run(max_steps) {
                    StopReason::Event { .. } => {
                        let hit = m.last_events().iter().any(
                            |e| matches!(e, Event::TrapEntry { vector: v, .. } if *v == vector),
                        );
                        if hit {
                            break Ok(m.last_events().to_vec());
                        }
                    }
                    other => break Err(format!("the run ended ({other}) before trap {vector}")),
                }
            };
            m.break_on(EventKind::TrapEntry, false);
            result
        }
        Moment::Symbol { symbol } => {
            let addr = symbol_addr.unwrap_or_default();
            m.add_breakpoint(addr);
            let result = match m.run(max_steps) {
                StopReason::Breakpoint { .. } => Ok(m.last_events().to_vec()),
                other => Err(format!(
                    "the run ended ({other}) before reaching `{symbol}`"
                )),
            };
            m.remove_breakpoint(addr);
            result
        }
    }
}

/// Runs the boot to the first instruction of the first user program: where
/// a lesson starts, so that a student's first Step is in their program, not
/// in the kernel's page-table loops. Returns the step reached. The boot
/// stays in the history (the page's "show the boot" goes back to step 0).
pub fn run_to_user_mode(m: &mut Machine, max_steps: u64) -> Result<u64, String> {
    let recording = m.recording();
    m.set_recording(false);
    let was = m.break_kinds().contains(EventKind::Iret);
    m.break_on(EventKind::Iret, true);
    let end = m.steps() + max_steps;
    let result = loop {
        if m.cpu().cpl() == 3 {
            break Ok(m.steps());
        }
        if m.steps() >= end {
            break Err("the boot did not reach user mode".to_string());
        }
        match m.run(end - m.steps()) {
            StopReason::Event { .. } | StopReason::Breakpoint { .. } => {}
            StopReason::InstructionLimit => {}
            other => break Err(format!("the boot ended ({other}) before user mode")),
        }
    };
    m.break_on(EventKind::Iret, was);
    m.set_recording(recording);
    result
}
