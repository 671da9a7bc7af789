//! Snapshots, checkpoints and reverse stepping.
//!
//! The machine is deterministic, so any earlier point of a run can be
//! reached again by restoring the latest checkpoint before it and executing
//! forward, replaying the keyboard input recorded with its step. Checkpoints
//! share unchanged frames with the one before, and a frame that is mostly one
//! byte (zeroed pages; the pages a kernel fills with junk when it frees them,
//! but for the free list's link) is kept as that byte and the few that
//! differ (see [`encode_frame`]); frames of one byte share one copy per value. When there are too many checkpoints, or the
//! frames they hold pass the memory budget, every other one is dropped and
//! the interval doubles: memory stays bounded however long the run.

use crate::bus::Bus;
use crate::cpu::Cpu;
use crate::idle_skip::IdleSkip;
use crate::machine::{Machine, StopReason};
use crate::memory::{PAGE_SIZE, PhysMem};
use crate::tlb::Tlb;
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Everything of a machine's state but its memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CoreState {
    pub cpu: Cpu,
    pub tlb: Tlb,
    pub bus: Bus,
    pub clock: u64,
    pub steps: u64,
    pub retired: u64,
    pub halted: bool,
    pub stopped: Option<StopReason>,
    pub irq_inhibit: bool,
}

/// The whole state of a machine: restoring it gives back exactly this point.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    pub core: CoreState,
    pub mem: PhysMem,
}

/// Why a snapshot could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad snapshot: {}", self.0)
    }
}

impl std::error::Error for SnapshotError {}

/// Why a point in time cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekError {
    /// Reverse stepping is off, or nothing has run since the history began.
    NoHistory,
    /// The step is before the earliest checkpoint kept.
    BeforeHistory { step: u64, earliest: u64 },
}

impl std::fmt::Display for SeekError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeekError::NoHistory => {
                write!(f, "no history: reverse stepping is off or nothing has run")
            }
            SeekError::BeforeHistory { step, earliest } => {
                write!(
                    f,
                    "step {step} is before the earliest checkpoint ({earliest})"
                )
            }
        }
    }
}

impl std::error::Error for SeekError {}

impl Snapshot {
    /// The snapshot as bytes (a compact binary form).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        postcard::from_bytes(bytes).map_err(|e| SnapshotError(e.to_string()))
    }
}

/// A checkpoint: the core state and every frame, shared with the previous
/// checkpoint where unchanged.
#[derive(Clone, Debug)]
struct Checkpoint {
    core: CoreState,
    frames: Arc<Vec<Arc<[u8]>>>,
}

/// One byte typed, after `step` steps, at the keyboard or on the serial
/// line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub step: u64,
    pub byte: u8,
    #[serde(default)]
    pub channel: InputChannel,
}

/// Where typed input enters the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputChannel {
    /// The board's keyboard (the lessons' keyboard, or the PC's PS/2
    /// controller as scancodes).
    #[default]
    Keyboard,
    /// The PC's serial port.
    Serial,
}

#[derive(Clone, Debug)]
pub(crate) struct History {
    interval: u64,
    base_interval: u64,
    max: usize,
    checkpoints: Vec<Checkpoint>,
    /// The frames of the checkpoint the memory last matched; frames written
    /// since are the memory's dirty frames.
    base: Option<Arc<Vec<Arc<[u8]>>>>,
    inputs: Vec<Input>,
    /// The next input to replay.
    cursor: usize,
    /// The most bytes of frames the checkpoints may hold.
    budget: usize,
    /// The bytes of frames the checkpoints hold (exact after each thinning,
    /// an over-estimate in between).
    held: usize,
    /// The one shared copy of a frame filled with each byte value.
    uniform: Vec<Option<Arc<[u8]>>>,
}

impl History {
    pub fn new(interval: u64, max: usize, budget: usize) -> Self {
        History {
            interval,
            base_interval: interval,
            max: max.max(2),
            budget,
            held: 0,
            uniform: vec![None; 256],
            checkpoints: Vec::new(),
            base: None,
            inputs: Vec::new(),
            cursor: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.interval > 0
    }

    /// Forgets everything: the state was changed from outside the run.
    pub fn clear(&mut self) {
        self.checkpoints.clear();
        self.base = None;
        self.held = 0;
        self.inputs.clear();
        self.cursor = 0;
        self.interval = self.base_interval;
    }

    /// Records a byte typed now. Input recorded for later steps belonged to
    /// a future that is now rewritten, so it is dropped, and so are the
    /// checkpoints taken after this point.
    pub fn record_input(&mut self, step: u64, byte: u8, channel: InputChannel) {
        self.inputs.truncate(self.cursor);
        self.inputs.push(Input {
            step,
            byte,
            channel,
        });
        self.cursor = self.inputs.len();
        self.checkpoints.retain(|c| c.core.steps <= step);
    }

    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// Input for steps from `now` on, in order, to be delivered as the run
    /// reaches them: it replaces what was recorded for later steps, and
    /// the checkpoints after now belonged to that other future.
    pub(crate) fn schedule_inputs(&mut self, now: u64, inputs: impl Iterator<Item = Input>) {
        self.inputs.truncate(self.cursor);
        self.inputs.extend(inputs);
        self.checkpoints.retain(|c| c.core.steps <= now);
    }

    /// Whether memory is kept as the frames of the latest checkpoint (or the
    /// one restored) plus the frames written since.
    pub(crate) fn has_base(&self) -> bool {
        self.base.is_some()
    }

    /// Frame `f` as the latest checkpoint (or the one restored) holds it,
    /// into `out`; false when there is none.
    pub(crate) fn base_frame(&self, f: usize, out: &mut [u8]) -> bool {
        match self.base.as_ref().and_then(|b| b.get(f)) {
            Some(encoded) => {
                decode_frame(encoded, out);
                true
            }
            None => false,
        }
    }

    fn due(&self, steps: u64) -> bool {
        match self.checkpoints.last() {
            None => true,
            Some(last) => steps >= last.core.steps + self.interval,
        }
    }
}

/// The most bytes of a frame that may differ from its fill byte for the
/// frame to be kept sparse.
const SPARSE_MAX: usize = 64;

/// A frame as a checkpoint keeps it: `[0, bytes...]` whole, or
/// `[1, fill, n (u16), n times (offset u16, byte)]` when at most
/// [`SPARSE_MAX`] bytes differ from the fill byte (the frame's last).
fn encode_frame(bytes: &[u8]) -> Vec<u8> {
    let fill = bytes[bytes.len() - 1];
    let pattern = u64::from_ne_bytes([fill; 8]);
    // A first pass by words: a frame with many differing words is kept
    // whole at once (most frames of code and data stop this pass early).
    let whole = || {
        let mut whole = Vec::with_capacity(bytes.len() + 1);
        whole.push(0);
        whole.extend_from_slice(bytes);
        whole
    };
    // Runs of 64 bytes that are all the fill are passed over by one slice
    // comparison each (most of a frame of free memory), not word by word.
    const RUN: usize = 64;
    let filled = [fill; RUN];
    debug_assert_eq!(bytes.len() % RUN, 0, "a frame is whole runs");
    let mut differing = Vec::new();
    for (r, run) in bytes.chunks_exact(RUN).enumerate() {
        if run == filled {
            continue;
        }
        for (w, chunk) in run.chunks_exact(8).enumerate() {
            let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
            if word != pattern {
                differing.push(r * (RUN / 8) + w);
                // Each differing word holds at least one differing byte.
                if differing.len() > SPARSE_MAX {
                    return whole();
                }
            }
        }
    }
    let mut out = vec![1, fill, 0, 0];
    let mut n = 0usize;
    for w in differing {
        for (i, &b) in bytes.iter().enumerate().skip(w * 8).take(8) {
            if b != fill {
                n += 1;
                if n > SPARSE_MAX {
                    return whole();
                }
                out.extend_from_slice(&(i as u16).to_le_bytes());
                out.push(b);
            }
        }
    }
    out[2..4].copy_from_slice(&(n as u16).to_le_bytes());
    out
}

/// The frame bytes an [`encode_frame`] result stands for.
fn decode_frame(encoded: &[u8], out: &mut [u8]) {
    match encoded[0] {
        0 => out.copy_from_slice(&encoded[1..]),
        _ => {
            out.fill(encoded[1]);
            let n = usize::from(u16::from_le_bytes([encoded[2], encoded[3]]));
            for patch in encoded[4..4 + 3 * n].chunks_exact(3) {
                out[usize::from(u16::from_le_bytes([patch[0], patch[1]]))] = patch[2];
            }
        }
    }
}

impl History {
    /// A checkpoint's copy of `bytes`, encoded (see [`encode_frame`]): the
    /// shared one if every byte is the same, else a new one (counted in
    /// `held`).
    fn keep_frame(&mut self, bytes: &[u8]) -> Arc<[u8]> {
        let encoded = encode_frame(bytes);
        // Sparse with no byte differing from the fill: one byte throughout.
        if encoded[..2] == [1, encoded[1]] && encoded[2..4] == [0, 0] {
            return self.uniform[usize::from(encoded[1])]
                .get_or_insert_with(|| Arc::from(encoded))
                .clone();
        }
        self.held += encoded.len();
        Arc::from(encoded)
    }

    /// The bytes of frames held by the checkpoints, each shared frame once.
    ///
    /// A checkpoint shares most frames with the one before it at the same
    /// index, so only a frame that differs from there is looked up among
    /// those seen (a frame can come back after a step back, and a uniform
    /// one is shared between indices). Looking every frame up made each
    /// thinning of xv6's 64 checkpoints of 57,344 frames hash 3.7 million
    /// pointers: about 100 ms natively (a pause in the page), against 14 ms
    /// this way.
    fn measure(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut bytes = 0;
        let mut before: &[Arc<[u8]>] = &[];
        for c in &self.checkpoints {
            for (i, f) in c.frames.iter().enumerate() {
                let shared = before.get(i).is_some_and(|b| Arc::ptr_eq(b, f));
                if !shared && seen.insert(Arc::as_ptr(f) as *const u8) {
                    bytes += f.len();
                }
            }
            before = &c.frames;
        }
        bytes
    }

    /// Drops every other checkpoint (keeping the first) and doubles the
    /// interval.
    fn thin(&mut self) {
        let mut i = 0;
        self.checkpoints.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        self.interval *= 2;
    }
}

impl Machine {
    /// The state but for memory.
    pub fn core_state(&self) -> CoreState {
        CoreState {
            cpu: self.cpu.clone(),
            tlb: self.tlb.clone(),
            bus: self.bus.clone(),
            clock: self.clock(),
            steps: self.steps,
            retired: self.retired,
            halted: self.halted,
            stopped: self.stopped.clone(),
            irq_inhibit: self.irq_inhibit,
        }
    }

    fn set_core_state(&mut self, core: CoreState) {
        self.recent_interrupts.clear();
        self.cpu = core.cpu;
        self.tlb = core.tlb;
        self.tlb.rebuild_hint();
        self.bus = core.bus;
        self.clock_ahead = core.clock - core.steps;
        self.steps = core.steps;
        self.retired = core.retired;
        self.halted = core.halted;
        self.stopped = core.stopped;
        self.irq_inhibit = core.irq_inhibit;
        self.next_deadline = self.bus.next_deadline();
        self.clear_events();
    }

    /// The whole state, to save or compare.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            core: self.core_state(),
            mem: self.mem.clone(),
        }
    }

    /// Returns to a snapshot. The history starts anew from it.
    pub fn restore(&mut self, snapshot: &Snapshot) {
        self.set_core_state(snapshot.core.clone());
        self.mem = snapshot.mem.clone();
        self.mem.reset_bookkeeping();
        self.mark_watches();
        self.forget_decoded();
        self.history.clear();
    }

    /// A hash of the whole state: equal states hash equal, across runs.
    pub fn state_hash(&self) -> u64 {
        // SipHash with fixed keys: the same on every machine and every run.
        let mut h = std::hash::DefaultHasher::new();
        self.core_state().hash(&mut h);
        self.mem.hash(&mut h);
        h.finish()
    }

    /// Called before each step while history is on: replays recorded input
    /// due now and takes a checkpoint when one is due.
    pub(crate) fn history_before_step(&mut self) {
        self.deliver_due_inputs();
        if self.history.due(self.steps) {
            self.take_checkpoint();
        }
    }

    /// Delivers the recorded input due at this step now, as it was typed
    /// here. A replay to a step stops before the input typed at it (from
    /// there, something else can be typed instead); a share link made just
    /// after typing opens with the keys in the keyboard.
    pub fn deliver_due_inputs(&mut self) {
        while let Some(input) = self.history.inputs.get(self.history.cursor) {
            if input.step > self.steps {
                break;
            }
            let (byte, channel) = (input.byte, input.channel);
            self.history.cursor += 1;
            if input.step == self.steps {
                self.deliver_input(byte, channel);
            }
        }
    }

    fn take_checkpoint(&mut self) {
        let dirty = self.mem.take_dirty();
        let frames: Vec<Arc<[u8]>> = match self.history.base.clone() {
            Some(base) if base.len() == self.mem.frames() => {
                let mut frames = base.as_ref().clone();
                for f in dirty {
                    frames[f] = self.history.keep_frame(self.mem.frame(f as u32));
                }
                frames
            }
            _ => (0..self.mem.frames())
                .map(|f| self.history.keep_frame(self.mem.frame(f as u32)))
                .collect(),
        };
        let frames = Arc::new(frames);
        self.history.base = Some(frames.clone());
        self.history.checkpoints.push(Checkpoint {
            core: self.core_state(),
            frames,
        });
        let h = &mut self.history;
        if h.checkpoints.len() > h.max {
            h.thin();
            h.held = h.measure();
        }
        while h.held > h.budget && h.checkpoints.len() > 2 {
            h.thin();
            h.held = h.measure();
        }
    }

    /// The first step count at which history needs a step of its own (a
    /// checkpoint or a recorded input falls due); `u64::MAX` with history off.
    pub(crate) fn history_horizon(&self) -> u64 {
        let h = &self.history;
        if !h.enabled() {
            return u64::MAX;
        }
        let checkpoint = match h.checkpoints.last() {
            None => self.steps,
            Some(last) => last.core.steps + h.interval,
        };
        checkpoint.min(self.next_input_step())
    }

    /// The first step at which a recorded input falls due (`u64::MAX`
    /// with none, or history off).
    pub(crate) fn next_input_step(&self) -> u64 {
        let h = &self.history;
        if !h.enabled() {
            return u64::MAX;
        }
        h.inputs.get(h.cursor).map_or(u64::MAX, |i| i.step)
    }

    /// The bytes of memory frames the checkpoints hold (each shared frame
    /// once): what reverse stepping costs in memory beyond the machine's own.
    pub fn history_bytes(&self) -> usize {
        self.history.measure()
    }

    /// The steps at which checkpoints exist (for views and tests).
    pub fn checkpoint_steps(&self) -> Vec<u64> {
        self.history
            .checkpoints
            .iter()
            .map(|c| c.core.steps)
            .collect()
    }

    /// The earliest step `seek` can reach.
    pub fn earliest_step(&self) -> Option<u64> {
        self.history.checkpoints.first().map(|c| c.core.steps)
    }

    /// The keyboard input of the run, with the step each byte arrived after.
    pub fn inputs(&self) -> &[Input] {
        self.history.inputs()
    }

    /// Goes to the state after `target` steps: back by restoring a
    /// checkpoint and replaying, or forward by running. Events are not
    /// recorded and breakpoints are ignored on the way. Returns the step
    /// reached, which is less than `target` only if the machine stopped first.
    pub fn seek(&mut self, target: u64) -> Result<u64, SeekError> {
        let mut replay = self.replay(target)?;
        replay.advance(self, u64::MAX);
        Ok(self.steps)
    }

    /// Begins going to the state after `target` steps, as [`Machine::seek`]
    /// does, in pieces ([`Replay::advance`]): back in time, the latest
    /// checkpoint at or before it is restored now; the steps from there are
    /// the replay's.
    pub fn replay(&mut self, target: u64) -> Result<Replay, SeekError> {
        if target < self.steps {
            let index = self
                .history
                .checkpoints
                .iter()
                .rposition(|c| c.core.steps <= target)
                .ok_or_else(|| match self.earliest_step() {
                    Some(earliest) => SeekError::BeforeHistory {
                        step: target,
                        earliest,
                    },
                    None => SeekError::NoHistory,
                })?;
            let checkpoint = self.history.checkpoints[index].clone();
            let mut bytes = vec![0u8; PAGE_SIZE as usize];
            for (f, encoded) in checkpoint.frames.iter().enumerate() {
                decode_frame(encoded, &mut bytes);
                self.mem.restore_frame(f, &bytes);
            }
            self.mem.take_dirty();
            self.history.base = Some(checkpoint.frames.clone());
            self.set_core_state(checkpoint.core);
            self.history.cursor = self.history.inputs.partition_point(|i| i.step < self.steps);
        }
        Ok(Replay {
            target,
            from: self.steps,
            skip: IdleSkip::new(self.steps),
        })
    }

    /// Goes back `n` steps.
    pub fn step_back(&mut self, n: u64) -> Result<u64, SeekError> {
        self.seek(self.steps.saturating_sub(n))
    }
}

/// How far a run from step `from` to step `to` is at step `now`, from 0
/// to 1 (a replay's or a search's progress).
pub(crate) fn fraction_done(from: u64, to: u64, now: u64) -> f64 {
    let span = to.saturating_sub(from);
    if span == 0 {
        return 1.0;
    }
    (now.saturating_sub(from) as f64 / span as f64).min(1.0)
}

/// A replay to a step under way (see [`Machine::replay`]), advanced in
/// pieces so that a page can show how far it is and stop it.
#[derive(Clone, Debug)]
pub struct Replay {
    target: u64,
    /// The step the replay runs from (a checkpoint's, or where it began).
    from: u64,
    skip: IdleSkip,
}

impl Replay {
    pub fn target(&self) -> u64 {
        self.target
    }

    /// How far the replay is, from 0 to 1.
    pub fn done(&self, m: &Machine) -> f64 {
        fraction_done(self.from, self.target, m.steps())
    }

    /// Replays at most `steps` more steps (whole idle periods skipped count
    /// as run): events not recorded, breakpoints and watches set aside.
    /// True when it is over: the target reached, or the machine stopped.
    pub fn advance(&mut self, m: &mut Machine, steps: u64) -> bool {
        // Replay through `run`, which takes the block path and reaches the
        // same state as single steps (tested), with nothing to stop it on
        // the way: a replay of millions of steps then takes milliseconds,
        // and an idle guest's loop is skipped period by period
        // (`idle_skip`).
        let aside = m.set_aside(true);
        let end = self.target.min(m.steps.saturating_add(steps));
        let stop = m.run_skipping_idle(end, &mut self.skip);
        let over = stop != StopReason::InstructionLimit || m.steps >= self.target;
        m.put_back(aside);
        m.clear_events();
        over
    }
}

#[cfg(test)]
mod frame_tests {
    use super::{decode_frame, encode_frame};

    #[test]
    fn frames_come_back_as_they_were_and_mostly_uniform_ones_are_small() {
        let mut free = vec![1u8; 4096];
        free[..4].copy_from_slice(&0x8012_3000u32.to_le_bytes());
        let mut text = vec![0u8; 4096];
        for (i, b) in text.iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        let mut spread = vec![0u8; 4096];
        for i in 0..65 {
            spread[i * 60] = 1;
        }
        let mut late = vec![7u8; 4096];
        late[4090] = 1;
        assert_eq!(
            encode_frame(&spread)[0],
            0,
            "65 differing bytes: kept whole"
        );
        assert_eq!(encode_frame(&late)[0], 1, "one differing byte: sparse");
        for frame in [vec![0u8; 4096], free.clone(), text, spread, late] {
            let encoded = encode_frame(&frame);
            let mut back = vec![0xAAu8; 4096];
            decode_frame(&encoded, &mut back);
            assert_eq!(back, frame);
        }
        assert!(encode_frame(&free).len() < 20);
    }

    /// `History::measure` as it was first written: every frame of every
    /// checkpoint looked up among those seen.
    fn measure_every_frame(h: &super::History) -> usize {
        let mut seen = std::collections::HashSet::new();
        h.checkpoints
            .iter()
            .flat_map(|c| c.frames.iter())
            .filter(|f| seen.insert(std::sync::Arc::as_ptr(f) as *const u8))
            .map(|f| f.len())
            .sum()
    }

    #[test]
    fn the_bytes_held_count_each_frame_once_across_thinning_steps_back_and_uniform_frames() {
        use crate::machine::Machine;
        let m = Machine::new(1 << 20);
        let mut h = super::History::new(1, 8, usize::MAX);
        let mut frames: Vec<std::sync::Arc<[u8]>> = (0..256)
            .map(|f| h.keep_frame(&vec![f as u8; 4096]))
            .collect();
        let mut page = vec![0u8; 4096];
        let mut kept: Vec<Vec<std::sync::Arc<[u8]>>> = Vec::new();
        for k in 0..40u32 {
            // Each checkpoint rewrites a few frames: some with text, some
            // back to a uniform byte; and every seventh goes back to the
            // frames of an earlier one (as after a step back).
            for i in 0..5 {
                let f = ((k * 37 + i * 11) % 256) as usize;
                for (j, b) in page.iter_mut().enumerate() {
                    *b = (j as u32 ^ k ^ i) as u8;
                }
                frames[f] = if i == 4 {
                    h.keep_frame(&[k as u8; 4096])
                } else {
                    h.keep_frame(&page)
                };
            }
            if k % 7 == 6 {
                frames = kept[kept.len() / 2].clone();
            }
            kept.push(frames.clone());
            h.checkpoints.push(super::Checkpoint {
                core: m.core_state(),
                frames: std::sync::Arc::new(frames.clone()),
            });
            if h.checkpoints.len() > h.max {
                h.thin();
            }
            assert_eq!(h.measure(), measure_every_frame(&h), "checkpoint {k}");
        }
    }
}
