//! Stepping and running: one instruction, over a call or an `int n`, by
//! source line, and running frame by frame until a break the student wants.

use super::breaks::{BreakTarget, SourceLine};
use super::{QUERY_STEPS, Session};
use osviz_machine::{EventKind, KindSet, StopReason};

impl Session {
    pub(super) fn step(&mut self) {
        self.mark();
        self.stop = self.system.machine_mut().step().stop;
        self.remember_directories();
        self.run.pause();
    }

    /// Steps over a call or an `int n`: runs until the instruction after it
    /// in the same process; Step back undoes it as one step.
    pub(super) fn step_over(&mut self) {
        self.mark();
        self.run.pause();
        let before = self.system.machine().steps();
        self.stop = self.system.machine_mut().step_over(QUERY_STEPS);
        let after = self.system.machine().steps();
        self.time.note_multi_step(before, after);
        self.remember_directories();
    }

    /// Steps by source line; Step back undoes it as one step.
    pub(super) fn step_line(&mut self, how: osviz_view::LineStep) {
        use osviz_view::LineStop;
        self.mark();
        self.run.pause();
        let before = self.system.machine().steps();
        let (m, view) = self.system.split();
        let stop = osviz_view::step_line(m, &*view, how, QUERY_STEPS);
        let after = m.steps();
        self.time.note_multi_step(before, after);
        self.stop = None;
        match stop {
            LineStop::Line(_) => {}
            LineStop::NoLine(p) => {
                self.notice = Some(format!(
                    "stopped at {}: no source line for this code",
                    where_(&p)
                ))
            }
            LineStop::ProcessEnded { pid, name, place } => {
                self.notice = Some(format!(
                    "process {pid} ({name}) ended before the step came to a line: stopped at {}",
                    where_(&place)
                ))
            }
            LineStop::Machine(reason) => self.stop = Some(reason),
        }
        self.remember_directories();
    }

    /// A breakpoint on what the student typed: `file:line`, or a function.
    /// A function's is kept as its opening line (so it lasts across
    /// reboots as lines do), which binds past the prologue: the run stops
    /// at the first line of the body, as a debugger's does
    /// (`KernelView::function_body`).
    pub(super) fn break_at(&mut self, text: &str) {
        let mut body = None;
        let at = match BreakTarget::parse(text) {
            BreakTarget::Line(at) => Some(at),
            BreakTarget::Function(name) => {
                let m = self.system.machine();
                let view = self.system.view();
                let start = view
                    .code_address(&name)
                    .or_else(|| view.symbol_address(&name));
                body = view
                    .function_body(m, &name)
                    .filter(|(addr, _)| Some(*addr) != start)
                    .map(|(_, place)| place);
                start
                    .map(|a| view.place(m, a))
                    .and_then(|p| {
                        Some(SourceLine {
                            file: p.file?,
                            line: p.line?,
                        })
                    })
                    .ok_or(name)
                    .map_err(|name| {
                        self.notice = Some(format!(
                            "`{}` is neither a function with source lines nor file:line",
                            name.chars().take(40).collect::<String>()
                        ))
                    })
                    .ok()
            }
        };
        if let Some(at) = at {
            let said = self.breaks.add_line(&*self.system.view(), at);
            self.notice = Some(
                match body
                    .as_ref()
                    .and_then(|p| Some((p.file.as_ref()?, p.line?)))
                {
                    Some((file, line)) => {
                        format!("{said}: it stops past the prologue, at {file}:{line}")
                    }
                    None => said,
                },
            );
            self.bind_breakpoints();
        }
    }

    pub(super) fn toggle_run(&mut self) {
        if self.run.running() {
            self.run.pause();
        } else {
            self.run.start();
            self.stop = None;
            self.notice = None;
        }
    }

    /// One animation frame of running: as many steps as the speed allows.
    pub(super) fn tick(&mut self, seconds: f64) {
        if !self.run.running() {
            return;
        }
        let mut steps = self.run.steps_for(seconds);
        if self.idle() {
            steps = steps.min(super::run_control::IDLE_BUDGET);
        }
        if steps == 0 {
            return;
        }
        self.mark();
        // Processes may start and end within one frame: look before and after.
        self.remember_directories();
        // At full speed TLB hits are left out of the record (millions a
        // second that no one reads one by one; the TLB panel's counts come
        // from the TLB itself): a sixth of a recorded step's cost. Every
        // other event, and every kind a break can name, stays.
        // Memory-mapped device accesses are counted (the bus counts them),
        // not logged one by one while running, unless the student lists
        // them: xv6's idle loop reads the local APIC millions of times, and
        // would push every page fault and switch out of the log.
        let mut unrecorded = Vec::new();
        if self.run.full_speed() {
            unrecorded.push(EventKind::TlbHit);
        }
        if self.inspect.event_filter() != Some(EventKind::Mmio) {
            unrecorded.push(EventKind::Mmio);
        }
        self.system
            .machine_mut()
            .set_unrecorded(KindSet::of(&unrecorded));
        let stop = self.run_to_break(steps);
        self.keys_since_frame = false;
        self.system.machine_mut().set_unrecorded(KindSet::EMPTY);
        self.remember_directories();
        if stop != StopReason::InstructionLimit {
            self.run.pause();
            self.stop = Some(stop);
        }
    }

    /// Runs at most `steps` steps, stopping where the break-on choice and
    /// the breakpoints say: past an event or an address nobody wants (a
    /// trap through another vector, another program's code), it runs on.
    fn run_to_break(&mut self, steps: u64) -> StopReason {
        let end = self.system.machine().steps() + steps;
        // A switch-break remembered from another point in time is stale.
        self.breaks
            .forget_switch_after(self.system.machine().steps());
        loop {
            let (m, view) = self.system.split();
            let stop = m.run(end - m.steps());
            let wanted = match &stop {
                StopReason::Event { .. } => self.breaks.wanted(m, &*view, self.record.log_dir()),
                StopReason::Breakpoint { eip } => self.breaks.breakpoint_wanted(m, &*view, *eip),
                // The hypervisor counted, then logged, an exit the student
                // breaks on; or a process's state changed: note the sleeps,
                // run on.
                StopReason::Watch { pa } => match self.breaks.exit_watch_fired(&*view, *pa) {
                    Some(stop) => {
                        self.remember_processes(false);
                        stop
                    }
                    None => {
                        self.remember_processes(true);
                        false
                    }
                },
                _ => true,
            };
            if wanted {
                return stop;
            }
            if self.system.machine().steps() >= end {
                return StopReason::InstructionLimit;
            }
        }
    }
}

/// `symbol+offset` (and the line, where there is one) of a place.
fn where_(p: &osviz_view::SourcePlace) -> String {
    let at = p
        .symbol
        .as_ref()
        .map_or("an address without a symbol".into(), |s| {
            osviz_view::symbol_plus(s, p.offset)
        });
    match (&p.file, p.line) {
        (Some(file), Some(line)) => format!("{at} ({file}:{line})"),
        _ => at,
    }
}
