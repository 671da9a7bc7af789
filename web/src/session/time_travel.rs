//! Moving in time: going to a step (the machine's history replays to it),
//! stepping back (a step over or a source-line step undone whole), "show
//! the boot" and back to where the student was, and "who last changed
//! this?" (replayed back to the instruction that wrote it).

use super::Session;
use super::jobs::Then;

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

    /// A move in time forgets the step overs (Step back then goes one step).
    pub fn clear_step_overs(&mut self) {
        self.step_overs.clear();
    }

    /// A step back keeps the step overs before the one it undid.
    pub fn put_back_step_overs(&mut self, overs: Vec<(u64, u64)>) {
        self.step_overs = overs;
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
    /// Moves time for a query, remembering where the student was.
    pub(super) fn move_time(&mut self, step: u64, what: &str) {
        let here = self.system.machine().steps();
        self.seek_then(
            step,
            Then::MovedTime {
                here,
                what: what.to_string(),
            },
        );
    }

    pub(super) fn return_to_where_i_was(&mut self) {
        if let Some(step) = self.time.return_to.take() {
            self.seek_then(step, Then::Returned { step });
        }
    }

    pub(super) fn step_back(&mut self) {
        let now = self.system.machine().steps();
        let target = self.time.back_from(now);
        let overs = std::mem::take(&mut self.time.step_overs);
        self.seek_then(target, Then::SteppedBack { overs });
    }

    /// "Who last changed this?": finds the latest step that changed the
    /// `len` bytes at physical address `pa`, and goes back to just before
    /// it, so EIP points at the instruction that wrote them (kernel or
    /// user). Replays the run from its earliest checkpoint (`jobs.rs`).
    pub(super) fn who_changed(&mut self, pa: u32, len: u32) {
        self.search_change(pa, len);
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
