//! Skipping a guest's idle loop during a quiet replay.
//!
//! A share link far into a run mostly replays time the guest spent idle:
//! xv6's scheduler sweeps its process table for a runnable process, about
//! a thousand steps a sweep, until the next timer tick. Each sweep leaves
//! the machine exactly as it found it but for the step count and the
//! counters that only count (the TLB's hits, the memory-mapped accesses),
//! so running the next one gives the same sweep again: the state repeats
//! with that period until something from outside the CPU happens (a device
//! deadline, an input the history replays, a checkpoint falling due).
//!
//! The replay looks for such a cycle now and then: it notes the state, runs
//! until the CPU is back at the same instruction with the same registers,
//! and compares everything else (the memory written since, the devices, the
//! TLB's entries and their order). When all of it is equal, nothing in the
//! period read the time (`rdtsc` and the timers' counters are counted in the
//! state they belong to, so a period that reads one never compares equal),
//! so every further period until the horizon (a device's deadline, an
//! input) is the same: the replay adds whole periods to the counts at once
//! and runs the rest. A checkpoint that fell due meanwhile is taken where
//! the skip lands: where checkpoints are taken is not state. The result is
//! the state the steps would have reached one by one (tested against plain
//! runs on xv6).

use crate::StopReason;
use crate::history::CoreState;
use crate::machine::Machine;
use crate::memory::PAGE_SIZE;

/// The longest period looked for: a sweep of xv6's 64 process slots, with
/// its lock and `mycpu`, is about 700 steps.
const MAX_PERIOD: u64 = 8_192;
/// The most frames written since the last checkpoint a try copies (1 MiB).
const MAX_MARKED_FRAMES: usize = 256;
/// Steps run past a horizon before the next try: an interrupt's handler
/// (xv6's timer tick is about a thousand steps).
const AFTER_HORIZON: u64 = 2_000;
/// Tries that find no cycle before the replay waits between them (a try
/// runs the machine on as it looks, so trying again at once costs only
/// the looking).
const TRIES_AT_ONCE: u32 = 3;
/// The first wait after those, doubled after each further miss.
const FIRST_WAIT: u64 = 20_000;
/// The most steps run between tries while none finds a cycle: a guest at
/// work costs a try every two million steps (under 1% of the replay).
const LONGEST_WAIT: u64 = 2_000_000;

/// When the replay tries next, and how long it waits after a miss.
#[derive(Clone, Debug)]
pub(crate) struct IdleSkip {
    next_try: u64,
    /// Tries in a row that found no cycle.
    misses: u32,
}

impl IdleSkip {
    pub(crate) fn new(now: u64) -> IdleSkip {
        IdleSkip {
            next_try: now,
            misses: 0,
        }
    }
}

/// The state at the start of a period, to compare with its end.
struct Mark {
    core: CoreState,
    /// Each frame written since the last checkpoint, with its bytes.
    dirty: Vec<(usize, Vec<u8>)>,
    user_entries: u64,
}

impl Machine {
    /// The steps quiet replays (`seek`) skipped in idle loops since the
    /// machine was made: not state, a figure for benchmarks and tests.
    pub fn idle_steps_skipped(&self) -> u64 {
        self.idle_skipped
    }

    /// Runs to step `target` as [`Machine::run`] would, with nothing to stop
    /// it but the machine itself, skipping whole periods of an idle loop.
    /// The caller has set breakpoints, watches and recording aside.
    pub(crate) fn run_skipping_idle(&mut self, target: u64, skip: &mut IdleSkip) -> StopReason {
        while self.steps < target {
            if self.steps >= skip.next_try {
                skip.next_try = match self.try_skip(target) {
                    Try::Skipped | Try::Repeats => {
                        skip.misses = 0;
                        self.steps + AFTER_HORIZON
                    }
                    Try::NoCycle => {
                        skip.misses += 1;
                        let over = skip.misses.saturating_sub(TRIES_AT_ONCE);
                        match over {
                            0 => self.steps,
                            n => self.steps + (FIRST_WAIT << (n - 1).min(20)).min(LONGEST_WAIT),
                        }
                    }
                    // Past the horizon and what it brings (an interrupt's
                    // handler), try again.
                    Try::NotNow => {
                        let next = self.outside_horizon().min(self.history_horizon());
                        next.clamp(self.steps, target) + AFTER_HORIZON
                    }
                    Try::Stopped(stop) => return stop,
                };
            }
            let chunk = target.min(skip.next_try.max(self.steps + 1)) - self.steps;
            match self.run(chunk) {
                StopReason::InstructionLimit => {}
                stop => return stop,
            }
        }
        StopReason::InstructionLimit
    }

    /// The first step at which something from outside the CPU happens: a
    /// device's deadline, or an input the history replays.
    fn outside_horizon(&self) -> u64 {
        let deadline = self.next_deadline.saturating_sub(self.clock_ahead);
        deadline.min(self.next_input_step())
    }

    /// Looks for a cycle from here and, when it finds one, skips its whole
    /// periods up to `target` or the horizon.
    fn try_skip(&mut self, target: u64) -> Try {
        let horizon = self.outside_horizon().min(target);
        // The period is looked for on this side of the horizon, and of the
        // next checkpoint (which forgets the frames written so far).
        let look = self.steps + 3 * MAX_PERIOD;
        if self.halted || self.stopped.is_some() || horizon < look || self.history_horizon() < look
        {
            return Try::NotNow;
        }
        // Memory is compared through the frames written since the last
        // checkpoint: without one, or with many written, looking costs more
        // than it could save.
        if !self.history.has_base() || self.mem.dirty_count() > MAX_MARKED_FRAMES {
            return Try::NotNow;
        }
        let mark = self.mark();
        let anchor = self.cpu.eip;
        let placed = self.breakpoints.insert(anchor);
        let start = self.steps;
        let found = loop {
            let left = (start + MAX_PERIOD).saturating_sub(self.steps);
            if left == 0 {
                break None;
            }
            match self.run(left) {
                StopReason::Breakpoint { eip } if eip == anchor => {
                    if self.cpu == mark.core.cpu {
                        break Some(None);
                    }
                }
                StopReason::InstructionLimit => break None,
                stop => break Some(Some(stop)),
            }
        };
        if placed {
            self.breakpoints.remove(&anchor);
        }
        match found {
            None => Try::NoCycle,
            Some(Some(stop)) => Try::Stopped(stop),
            Some(None) => match self.periods_since(&mark) {
                None => Try::NoCycle,
                Some(period) => {
                    let k = horizon.saturating_sub(self.steps) / period.steps;
                    if k == 0 {
                        return Try::Repeats;
                    }
                    self.steps += k * period.steps;
                    self.idle_skipped += k * period.steps;
                    self.retired += k * period.retired;
                    self.tlb.hits += k * period.tlb_hits;
                    self.bus.add_mmio_accesses(k * period.mmio_accesses);
                    Try::Skipped
                }
            },
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            core: self.core_state(),
            dirty: self
                .mem
                .dirty_frames()
                .into_iter()
                .map(|f| (f, self.mem.frame(f as u32).to_vec()))
                .collect(),
            user_entries: self.user_entries,
        }
    }

    /// What one period added to the counts, if the state now equals the
    /// marked one in everything else.
    fn periods_since(&self, mark: &Mark) -> Option<Period> {
        let was = &mark.core;
        let mut now = self.core_state();
        let period = Period {
            steps: now.steps - was.steps,
            retired: now.retired - was.retired,
            tlb_hits: now.tlb.hits - was.tlb.hits,
            mmio_accesses: now.bus.mmio_accesses() - was.bus.mmio_accesses(),
        };
        now.steps = was.steps;
        now.clock = was.clock;
        now.retired = was.retired;
        now.tlb.hits = was.tlb.hits;
        now.bus.set_mmio_accesses(was.bus.mmio_accesses());
        if period.steps == 0 || now != *was || self.user_entries != mark.user_entries {
            return None;
        }
        // Memory: a frame written in the period was either written before
        // it (its bytes then are in the mark) or is still what the last
        // checkpoint holds.
        let marked: std::collections::HashMap<usize, &[u8]> = mark
            .dirty
            .iter()
            .map(|(f, bytes)| (*f, bytes.as_slice()))
            .collect();
        let mut base = vec![0u8; PAGE_SIZE as usize];
        for f in self.mem.dirty_frames() {
            let was: &[u8] = match marked.get(&f) {
                Some(bytes) => bytes,
                None => {
                    if !self.history.base_frame(f, &mut base) {
                        return None;
                    }
                    &base
                }
            };
            if self.mem.frame(f as u32) != was {
                return None;
            }
        }
        Some(period)
    }
}

/// What a try found.
enum Try {
    /// Periods were skipped.
    Skipped,
    /// A cycle, but no whole period fits before the horizon.
    Repeats,
    /// No cycle within [`MAX_PERIOD`] steps.
    NoCycle,
    /// Too close to the horizon to look.
    NotNow,
    /// The machine stopped while looking.
    Stopped(StopReason),
}

/// What one period of a cycle adds to the counts.
struct Period {
    steps: u64,
    retired: u64,
    tlb_hits: u64,
    mmio_accesses: u64,
}
