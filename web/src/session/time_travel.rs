//! Moving in time: going to a step (the machine's history replays to it),
//! stepping back (a step over or a source-line step undone whole), "show
//! the boot" and back to where the student was, and "who last changed
//! this?" (replayed back to the instruction that wrote it).

use super::Session;

/// Where the lesson started, where the student was before a query moved
/// time, and the multi-step steps not yet undone.
#[derive(Clone, Debug, Default)]
pub struct TimeTravel {
    /// The step where the lesson starts: the user program's first
    /// instruction, or xv6's prompt.
    start_step: u64,
    /// Where the student was before a reveal or "show the boot" moved time.
    return_to: Option<u64>,
    /// For each step over (or line step) not yet undone: the step it ended
    /// at and the one it started from, so Step back undoes it as one step.
    step_overs: Vec<(u64, u64)>,
}

impl TimeTravel {
    pub fn start_step(&self) -> u64 {
        self.start_step
    }

    pub fn return_to(&self) -> Option<u64> {
        self.return_to
    }

    /// The lesson starts at `step`.
    pub fn started_at(&mut self, step: u64) {
        self.start_step = step;
    }

    pub fn remember_return(&mut self, step: u64) {
        self.return_to = Some(step);
    }

    /// A step from `before` to `after` that Step back undoes whole (when it
    /// took more than one step).
    pub fn note_multi_step(&mut self, before: u64, after: u64) {
        if after > before + 1 {
            self.step_overs.push((after, before));
        }
    }

    /// Where Step back goes from `now`: before the step over that ended
    /// here, else one step back.
    fn back_from(&mut self, now: u64) -> u64 {
        match self.step_overs.last() {
            Some(&(after, before)) if after == now => {
                self.step_overs.pop();
                before
            }
            _ => now.saturating_sub(1),
        }
    }
}

impl Session {
    /// Goes to a step (the machine's history replays to it).
    pub(super) fn seek(&mut self, step: u64) {
        self.mark();
        self.run.pause();
        self.time.step_overs.clear();
        self.breaks.forget_switch();
        match self.system.machine_mut().seek(step) {
            Ok(_) => self.stop = None,
            Err(e) => self.notice = Some(format!("cannot go to step {step}: {e}")),
        }
        self.note_log_owner();
        self.remember_directories();
    }

    /// Moves time for a query, remembering where the student was.
    pub(super) fn move_time(&mut self, step: u64, what: &str) {
        let here = self.system.machine().steps();
        self.seek(step);
        if here != step {
            self.time.return_to = Some(here);
        }
        self.notice = Some(format!("step {step}: {what}"));
    }

    pub(super) fn return_to_where_i_was(&mut self) {
        if let Some(step) = self.time.return_to.take() {
            self.seek(step);
            self.notice = Some(format!("back at step {step}, where you were"));
        }
    }

    pub(super) fn step_back(&mut self) {
        let now = self.system.machine().steps();
        let target = self.time.back_from(now);
        let overs = std::mem::take(&mut self.time.step_overs);
        self.seek(target);
        self.time.step_overs = overs;
    }

    /// "Who last changed this?": finds the latest step that changed the
    /// `len` bytes at physical address `pa`, and goes back to just before
    /// it, so EIP points at the instruction that wrote them (kernel or
    /// user). Replays the run from its earliest checkpoint.
    pub(super) fn who_changed(&mut self, pa: u32, len: u32) {
        match self.system.machine_mut().last_change_of(pa, len) {
            Err(e) => self.notice = Some(e.to_string()),
            Ok(Some(change)) => {
                let step = change.step;
                self.move_time(step - 1, "");
                self.notice = Some(if change.by_walk() {
                    format!(
                        "{pa:#010x} last changed at step {step}, and only its accessed or dirty bit was set ({:#010x} → {:#010x}): if it is a page table entry, no store wrote it; the CPU set the bit while walking the page tables for this instruction's access",
                        change.before, change.after
                    )
                } else {
                    format!(
                        "{pa:#010x} last changed at step {step} ({:#010x} → {:#010x}): this instruction wrote it",
                        change.before, change.after
                    )
                });
            }
            Ok(None) => {
                self.notice = Some(format!(
                    "{pa:#010x} has not changed since step {}",
                    self.system.machine().earliest_step().unwrap_or(0)
                ));
            }
        }
        // The break-on choice describes running; a query moved time.
        self.stop = None;
    }

    /// "Who last changed this?" for what the student typed: a physical
    /// address in hex, or a kernel symbol (its dword).
    pub(super) fn who_changed_text(&mut self, text: &str) {
        let t = text.trim();
        let hex = t.trim_start_matches("0x");
        let m = self.system.machine();
        let in_ram = |pa: u32| (pa as usize) < m.mem().len();
        let target = match u32::from_str_radix(hex, 16) {
            // A physical address, or a virtual one the panels show (a
            // kernel address), translated as the running address space maps it.
            Ok(a) if !hex.is_empty() => match m.peek_translate(a).filter(|_| !in_ram(a)) {
                Some(pa) => Some((pa, 1)),
                None => Some((a, 1)),
            },
            _ => {
                let view = self.system.view();
                let base = view.phys_base();
                view.symbol_physical(t).map(|pa| (pa.wrapping_add(base), 4))
            }
        };
        match target {
            Some((pa, len)) if in_ram(pa) => self.who_changed(pa, len),
            _ => {
                self.notice = Some(format!(
                    "`{}` is neither a physical address, a mapped virtual address nor a kernel symbol",
                    t.chars().take(40).collect::<String>()
                ))
            }
        }
    }
}
