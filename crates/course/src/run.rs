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
    let counter =
        match moment {
            Moment::Exit { reason, .. } => Some(view.exit_counter(reason).ok_or_else(|| {
                format!("no hypervisor counts exits for a {} here", reason.label())
            })?),
            _ => None,
        };
    // The student's breakpoints and break-on choice must not stop the run
    // short of the moment.
    m.with_breaks_set_aside(|m| {
        run_machine_to(
            m,
            moment,
            symbol_addr.or(counter.map(|c| c.0)),
            counter.map_or(0, |c| c.1),
            max_steps,
        )
    })
}

fn run_machine_to(
    m: &mut Machine,
    moment: Moment,
    addr: Option<u32>,
    len: u32,
    max_steps: u64,
) -> Result<Vec<Event>, String> {
    m.set_recording(true);
    match moment {
        Moment::Exit { reason, nth } => {
            // The hypervisor's count of the reason, watched: the run stops
            // after each step that adds to it.
            let at = addr.unwrap_or_default();
            m.set_watches(&[(at, len)]);
            let end = m.steps() + max_steps;
            let mut seen = 0;
            let result = loop {
                match m.run(end.saturating_sub(m.steps())) {
                    StopReason::Watch { .. } => {
                        seen += 1;
                        if seen >= nth {
                            m.set_watches(&[]);
                            break back_in_guest(m, end);
                        }
                    }
                    other => {
                        break Err(format!(
                            "the run ended ({other}) before exit #{nth} ({})",
                            reason.label()
                        ));
                    }
                }
            };
            m.set_watches(&[]);
            result
        }
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
            let addr = addr.unwrap_or_default();
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

/// From inside the hypervisor (ring 0), runs until it returns into the
/// guest: the exit handled, logged and emulated, the guest at its next
/// instruction (or at its own handler, for what the hypervisor injected).
fn back_in_guest(m: &mut Machine, end: u64) -> Result<Vec<Event>, String> {
    let was = m.break_kinds().contains(EventKind::Iret);
    m.break_on(EventKind::Iret, true);
    let result = loop {
        if m.cpu().cpl() != 0 {
            break Ok(m.last_events().to_vec());
        }
        match m.run(end.saturating_sub(m.steps())) {
            StopReason::Event { .. } => {}
            other => {
                break Err(format!(
                    "the hypervisor did not return to the guest ({other})"
                ));
            }
        }
    };
    m.break_on(EventKind::Iret, was);
    result
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
