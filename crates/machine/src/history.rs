//! Snapshots, checkpoints and reverse stepping.
//!
//! The machine is deterministic, so any earlier point of a run can be
//! reached again by restoring the latest checkpoint before it and executing
//! forward, replaying the keyboard input recorded with its step. Checkpoints
//! share unchanged frames with the one before, and when there are too many,
//! every other one is dropped and the interval doubles: memory stays bounded
//! however long the run.

use crate::bus::Bus;
use crate::cpu::Cpu;
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

/// One byte typed at the keyboard, after `step` steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub step: u64,
    pub byte: u8,
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
}

impl History {
    pub fn new(interval: u64, max: usize) -> Self {
        History {
            interval,
            base_interval: interval,
            max: max.max(2),
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
        self.inputs.clear();
        self.cursor = 0;
        self.interval = self.base_interval;
    }

    /// Records a byte typed now. Input recorded for later steps belonged to
    /// a future that is now rewritten, so it is dropped, and so are the
    /// checkpoints taken after this point.
    pub fn record_input(&mut self, step: u64, byte: u8) {
        self.inputs.truncate(self.cursor);
        self.inputs.push(Input { step, byte });
        self.cursor = self.inputs.len();
        self.checkpoints.retain(|c| c.core.steps <= step);
    }

    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    fn due(&self, steps: u64) -> bool {
        match self.checkpoints.last() {
            None => true,
            Some(last) => steps >= last.core.steps + self.interval,
        }
    }
}

fn zero_frame() -> Arc<[u8]> {
    Arc::from(vec![0u8; PAGE_SIZE as usize].into_boxed_slice())
}

impl Machine {
    /// The state but for memory.
    pub fn core_state(&self) -> CoreState {
        CoreState {
            cpu: self.cpu.clone(),
            tlb: self.tlb.clone(),
            bus: self.bus.clone(),
            clock: self.clock,
            steps: self.steps,
            retired: self.retired,
            halted: self.halted,
            stopped: self.stopped.clone(),
            irq_inhibit: self.irq_inhibit,
        }
    }

    fn set_core_state(&mut self, core: CoreState) {
        self.cpu = core.cpu;
        self.tlb = core.tlb;
        self.bus = core.bus;
        self.clock = core.clock;
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
        while let Some(input) = self.history.inputs.get(self.history.cursor) {
            if input.step > self.steps {
                break;
            }
            let byte = input.byte;
            self.history.cursor += 1;
            if input.step == self.steps {
                self.deliver_key(byte);
            }
        }
        if self.history.due(self.steps) {
            self.take_checkpoint();
        }
    }

    fn take_checkpoint(&mut self) {
        let dirty = self.mem.take_dirty();
        let frames: Vec<Arc<[u8]>> = match &self.history.base {
            Some(base) if base.len() == self.mem.frames() => {
                let mut frames = base.as_ref().clone();
                for f in dirty {
                    frames[f] = Arc::from(self.mem.frame(f as u32));
                }
                frames
            }
            _ => {
                let zero = zero_frame();
                (0..self.mem.frames())
                    .map(|f| {
                        let bytes = self.mem.frame(f as u32);
                        if bytes.iter().all(|&b| b == 0) {
                            zero.clone()
                        } else {
                            Arc::from(bytes)
                        }
                    })
                    .collect()
            }
        };
        let frames = Arc::new(frames);
        self.history.base = Some(frames.clone());
        self.history.checkpoints.push(Checkpoint {
            core: self.core_state(),
            frames,
        });
        if self.history.checkpoints.len() > self.history.max {
            // Keep the first and every other one after it.
            let mut i = 0;
            self.history.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.history.interval *= 2;
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
        let input = h.inputs.get(h.cursor).map_or(u64::MAX, |i| i.step);
        checkpoint.min(input)
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
            for (f, bytes) in checkpoint.frames.iter().enumerate() {
                self.mem.restore_frame(f, bytes);
            }
            self.mem.take_dirty();
            self.history.base = Some(checkpoint.frames.clone());
            self.set_core_state(checkpoint.core);
            self.history.cursor = self.history.inputs.partition_point(|i| i.step < self.steps);
        }
        // Replay through `run`, which takes the block path and reaches the
        // same state as single steps (tested), with nothing to stop it on the
        // way: a replay of millions of steps then takes milliseconds.
        let aside = self.set_aside(true);
        while self.steps < target {
            match self.run(target - self.steps) {
                StopReason::InstructionLimit => {}
                _ => break,
            }
        }
        self.put_back(aside);
        self.clear_events();
        Ok(self.steps)
    }

    /// Goes back `n` steps.
    pub fn step_back(&mut self, n: u64) -> Result<u64, SeekError> {
        self.seek(self.steps.saturating_sub(n))
    }
}
