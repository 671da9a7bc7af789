//! Run control: whether the machine runs, at which speed, and how many
//! steps each animation frame runs (at full speed, a budget that adapts to
//! what the page's own work leaves of a frame). Time comes in as numbers
//! the page measured; nothing here reads a clock.

/// Steps per second for each position of the speed control; `None` is as
/// fast as the page can go.
pub const SPEEDS: [(&str, Option<f64>); 6] = [
    ("1 / s", Some(1.0)),
    ("10 / s", Some(10.0)),
    ("100 / s", Some(100.0)),
    ("10 k / s", Some(10_000.0)),
    ("1 M / s", Some(1_000_000.0)),
    ("full speed", None),
];

/// The speed a lesson of the teaching kernel starts at (10 k / s).
pub const DEFAULT_SPEED: usize = 3;

/// The steps a frame runs at full speed while every process waits for a
/// person (about 3 M steps a second, a few of xv6's ticks): the host is not
/// kept busy spinning the idle scheduler, and a key typed is answered at
/// once, since the run goes back to full speed as soon as a process runs.
pub const IDLE_BUDGET: u64 = 50_000;

/// The steps one animation frame starts with at full speed; the page then
/// adapts it (see `RunControl::adapt`) so that running takes a set share of
/// each frame and the page stays responsive whatever the program does.
pub const FRAME_BUDGET: u64 = 60_000;

/// The bounds of the adaptive budget, and the milliseconds of running per
/// frame it aims at. Running takes what rendering leaves of a 60 fps frame
/// (`FRAME_MS` less the render) on a host where the page renders quickly.
/// Where the page's own work (rendering, style, layout and paint) fills the
/// frame anyway, running takes as long as that work (`RUN_SHARE`), so a
/// slow host still gives the machine about half the main thread at full
/// speed, not a 3 ms sliver of a late frame; frames then come at 25 to 30
/// per second, never slower than one in `MAX_FRAME_MS` (measured with
/// `bench/page-fps.mjs`, which prints the split, and `bench/xv6-page.mjs`).
pub(super) const MIN_BUDGET: u64 = 5_000;
const MAX_BUDGET: u64 = 2_000_000;
const FRAME_MS: f64 = 12.0;
const RUN_SHARE: f64 = 1.0;
const MAX_FRAME_MS: f64 = 40.0;
pub(super) const MIN_RUN_MS: f64 = 3.0;
pub(super) const MAX_RUN_MS: f64 = 16.0;

/// How long running should take in the next frame at full speed, given
/// that this one ran `ms` of the `since_last` ms since the frame before and
/// the page rendered in `render_ms`: what a 60 fps frame leaves, or as long
/// as the page's own work where that is more, but never so long that frames
/// come slower than one in `MAX_FRAME_MS`. Lateness from elsewhere (another
/// tab, a busy host) counts as the page's work: it lowers the run towards
/// its floor, and never below it.
pub(super) fn run_target(ms: f64, since_last: f64, render_ms: f64) -> f64 {
    let page_ms = (since_last - ms).max(0.0);
    (FRAME_MS - render_ms)
        .max(page_ms * RUN_SHARE)
        .min(MAX_FRAME_MS - page_ms)
        .clamp(MIN_RUN_MS, MAX_RUN_MS)
}

/// Running, its speed, and the full-speed budget. The speed is always a
/// position of [`SPEEDS`], the budget within its bounds.
#[derive(Clone, Debug)]
pub struct RunControl {
    running: bool,
    speed: usize,
    /// Fractional steps carried between animation frames at slow speeds.
    carry: f64,
    /// Steps per frame at full speed.
    budget: u64,
    /// Milliseconds the latest frame's render took.
    render_ms: f64,
}

impl RunControl {
    /// Paused, at position `speed` of [`SPEEDS`] (clamped).
    pub fn new(speed: usize) -> RunControl {
        RunControl {
            running: false,
            speed: speed.min(SPEEDS.len() - 1),
            carry: 0.0,
            budget: FRAME_BUDGET,
            render_ms: 0.0,
        }
    }

    pub fn running(&self) -> bool {
        self.running
    }

    pub fn speed(&self) -> usize {
        self.speed
    }

    /// The speed control's words for the current speed.
    pub fn speed_name(&self) -> &'static str {
        SPEEDS[self.speed].0
    }

    /// Whether the machine runs as fast as the page can go.
    pub fn full_speed(&self) -> bool {
        SPEEDS[self.speed].1.is_none()
    }

    /// Steps per frame at full speed.
    #[cfg(test)]
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Sets the full-speed budget, as frames would have adapted it.
    #[cfg(test)]
    pub fn set_budget(&mut self, steps: u64) {
        self.budget = steps.clamp(MIN_BUDGET, MAX_BUDGET);
    }

    pub fn set_speed(&mut self, k: usize) {
        self.speed = k.min(SPEEDS.len() - 1);
    }

    pub fn faster(&mut self) {
        self.set_speed(self.speed + 1);
    }

    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    /// Starts running, with nothing carried from an earlier run.
    pub fn start(&mut self) {
        self.running = true;
        self.carry = 0.0;
    }

    pub fn pause(&mut self) {
        self.running = false;
    }

    /// The steps one frame of `seconds` runs: the budget at full speed,
    /// else the speed's rate (fractions carried to the next frame).
    pub fn steps_for(&mut self, seconds: f64) -> u64 {
        match SPEEDS[self.speed].1 {
            None => self.budget,
            Some(rate) => {
                self.carry += rate * seconds;
                let n = self.carry.floor();
                self.carry -= n;
                (n as u64).min(FRAME_BUDGET)
            }
        }
    }

    /// Notes how long the page took to render the latest frame.
    pub fn note_render(&mut self, ms: f64) {
        self.render_ms = ms;
    }

    /// Adjusts the full-speed budget after a frame whose running took `ms`,
    /// `since_last` ms after the frame before: the rest of that time is the
    /// page's own work (and any idle time), which sets how long running may
    /// take (see `RUN_SHARE`).
    pub fn adapt(&mut self, ms: f64, since_last: f64) {
        if !self.full_speed() || !self.running {
            return;
        }
        let target = run_target(ms, since_last, self.render_ms);
        if ms < target * 0.8 {
            self.budget = (self.budget * 9 / 8).min(MAX_BUDGET);
        } else if ms > target * 1.2 {
            self.budget = (self.budget * 3 / 4).max(MIN_BUDGET);
        }
    }
}
