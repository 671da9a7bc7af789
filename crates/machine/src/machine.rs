//! The machine: a CPU, physical memory, a TLB and devices, and the loop that
//! steps them.

use crate::block::{BlockCache, BlockExit};
use crate::bus::{Board, BoardKind, Bus};
use crate::cpu::{CodeSize, Cpu, Flags, Seg};
use crate::decode::{DecodeError, Instr, MAX_INSTR_LEN, decode_in};
use crate::devices::Component;
use crate::event::{Access, Event, EventKind, EventLog, KindSet, Stamped};
use crate::execute::Flow;
use crate::history::History;
use crate::memory::{LoadError, PAGE_SIZE, PhysMem};
use crate::tlb::{FetchPage, Tlb, TlbConfig};
use crate::trap::{Exception, Source};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How a machine is built. Fields left out of a serialized configuration
/// take their default values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MachineConfig {
    /// Physical memory in bytes (rounded up to whole 4 KiB frames).
    pub mem_size: usize,
    pub tlb: TlbConfig,
    /// The disk's size in 512-byte blocks.
    pub disk_blocks: usize,
    /// Ticks from a disk command to its interrupt.
    pub disk_latency: u64,
    /// How many recent events the log keeps while recording.
    pub event_capacity: usize,
    /// Steps between checkpoints for reverse stepping; 0 turns history off.
    pub checkpoint_interval: u64,
    /// The most checkpoints kept; when full, every other one is dropped and
    /// the interval doubles, so memory stays bounded however long a run is.
    pub max_checkpoints: usize,
    /// The most bytes of memory frames the checkpoints may hold (shared
    /// frames counted once); past it they are thinned the same way.
    pub history_budget: usize,
    /// The board: which devices, where, on which interrupt lines.
    pub board: BoardKind,
    /// The most iterations one step of a repeated string instruction makes
    /// (the rest continue in later steps, so interrupts are not held off
    /// for long); at least 1. The fuzz target makes it small, so that one
    /// input's thousand steps stay cheap when they are `rep insb`.
    pub rep_chunk: u32,
}

impl Default for MachineConfig {
    /// The lessons' machine: 4 MiB (1,024 frames), a 16-entry LRU TLB.
    fn default() -> Self {
        MachineConfig {
            mem_size: 4 * 1024 * 1024,
            tlb: TlbConfig::default(),
            disk_blocks: 64,
            disk_latency: 2_000,
            event_capacity: 20_000,
            checkpoint_interval: 20_000,
            max_checkpoints: 64,
            history_budget: 160 << 20,
            board: BoardKind::Lessons,
            rep_chunk: 4096,
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// `hlt` with interrupts off: nothing can wake the CPU.
    Halted,
    /// `hlt` with interrupts on but no device due: only keyboard input can
    /// wake the CPU, so the run waits for it.
    Idle,
    /// The run executed as many steps as it was allowed.
    InstructionLimit,
    /// The guest wrote to the debug-exit port 0xF4.
    DebugExit { code: u8 },
    /// A fault while delivering a double fault: the machine shuts down.
    TripleFault { vector: u8, cause: String },
    /// EIP reached an address breakpoint.
    Breakpoint { eip: u32 },
    /// A step produced an event of a kind the run was asked to break on.
    Event { kind: EventKind },
    /// A step changed the bytes of a watch set with [`Machine::set_watches`].
    Watch { pa: u32 },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Halted => write!(f, "halted with interrupts off"),
            StopReason::Idle => write!(f, "halted, waiting for input"),
            StopReason::InstructionLimit => write!(f, "instruction limit reached"),
            StopReason::DebugExit { code } => write!(f, "guest exited with code {code}"),
            StopReason::TripleFault { vector, cause } => {
                write!(f, "triple fault (vector {vector}): {cause}")
            }
            StopReason::Breakpoint { eip } => write!(f, "breakpoint at {eip:#010x}"),
            StopReason::Event { kind } => write!(f, "stopped at a {}", kind.label()),
            StopReason::Watch { pa } => write!(f, "the watched bytes at {pa:#010x} changed"),
        }
    }
}

/// What follows an executed instruction (see [`Machine::finish`]).
pub(crate) enum Finish {
    /// It completed and control falls through to the next instruction
    /// (unless the instruction itself changed EIP).
    Next,
    /// It faulted, halted or stopped the machine: whoever runs it must
    /// leave its loop, with a stop reason if the machine stopped.
    Left(Option<StopReason>),
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// Set when the machine stopped at this step.
    pub stop: Option<StopReason>,
    /// The step's events (empty unless recording is on).
    pub events: Vec<Event>,
}

/// The number of decoded instructions the decode cache holds.
const DECODE_CACHE_SIZE: usize = 1 << 12;

/// One slot of the decode cache, tagged with the physical address of the
/// instruction and the generation of its frame when it was decoded.
#[derive(Clone, Copy, Debug)]
struct Decoded {
    pa: u32,
    generation: u32,
    instr: Instr,
}

/// A decode cache with every slot empty.
fn empty_decode_cache() -> Vec<Decoded> {
    let empty = Decoded {
        pa: u32::MAX,
        generation: 0,
        instr: Instr {
            op: crate::decode::Op::Nop,
            width: crate::decode::Width::Dword,
            dst: crate::decode::Operand::None,
            src: crate::decode::Operand::None,
            extra: 0,
            rep: crate::decode::Rep::None,
            addr16: false,
            seg: crate::cpu::Seg::Ds,
            len: 1,
        },
    };
    vec![empty; DECODE_CACHE_SIZE + 1]
}

/// An emulated 32-bit x86 machine.
///
/// Its state is private: reads are borrowed views ([`Machine::cpu`],
/// [`Machine::mem`], [`Machine::steps`], ...); writes from outside go
/// through methods that keep the invariants (loading memory or setting a
/// register starts a new history, turning paging on flushes the TLB).
/// How many of the latest device interrupts the machine remembers.
const RECENT_INTERRUPTS: usize = 64;

/// The most steps one call of the run loop takes before it returns to
/// `run`, which calls it again: a WebAssembly engine puts a function's
/// optimized code to use only at its next call (V8 replaces no running
/// wasm frame), so a long run in one call would stay in the baseline
/// compiler's code (measured in node: 94 MIPS instead of about 400 on the
/// benchmark's first loop).
const RUN_CHUNK: u64 = 1 << 20;

/// One data watch (see [`Machine::set_watches`]).
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    pa: u32,
    len: u32,
    value: u32,
}

#[derive(Clone, Debug)]
pub struct Machine {
    pub(crate) cpu: Cpu,
    pub(crate) mem: PhysMem,
    pub(crate) tlb: Tlb,
    pub(crate) bus: Bus,
    /// Device time runs ahead of the step count by the ticks skipped while
    /// halted: the clock is `steps + clock_ahead`. Keeping the difference
    /// rather than a second counter means a step counts once.
    pub(crate) clock_ahead: u64,
    /// Steps taken since power-on: each executes an instruction (which may
    /// fault), takes an interrupt, or waits in `hlt`. This is the machine's
    /// notion of "when", used by `seek` and share links.
    pub(crate) steps: u64,
    /// Instructions completed since power-on.
    pub(crate) retired: u64,
    /// Set while the CPU waits in `hlt`.
    pub(crate) halted: bool,
    /// Set once the machine stopped for good (halted with interrupts off,
    /// exited, or triple-faulted).
    pub(crate) stopped: Option<StopReason>,
    /// Set by `sti`: interrupts wait one more instruction.
    pub(crate) irq_inhibit: bool,
    /// The earliest clock tick at which a device needs attention.
    pub(crate) next_deadline: u64,
    /// Set when an access reached a memory-mapped device: the block path
    /// leaves its block then, so that what the device did (an interrupt
    /// raised, a deadline set) is seen before the next instruction, as a
    /// single step sees it.
    pub(crate) mmio_touched: bool,
    /// Set, inside a block, by whatever may make the block path leave it or
    /// stop: an event noticed, a memory-mapped access, the fetch page leaving
    /// the TLB. A shortcut access tests it alone (a store also whether it
    /// wrote a frame with code or watched bytes, which no quick store
    /// does) and looks at each of those only when it is set: the six tests
    /// cost about a sixth of a TLB-hitting loop's host instructions.
    pub(crate) recheck: bool,
    /// The faults of the current step, for the message of a triple fault.
    pub(crate) fault_chain: Vec<crate::trap::FaultLink>,
    /// Returns to ring 3 (`iret` to a user segment) counted as the machine
    /// ran: a statistic for watching a guest from outside (is any process
    /// running?), not part of its state, so seeking does not change it.
    pub(crate) user_entries: u64,
    /// Steps quiet replays skipped in idle loops (see `idle_skip`): not
    /// state, a figure for benchmarks and tests.
    pub(crate) idle_skipped: u64,
    pub(crate) recording: bool,
    /// Kinds left out of the record while recording (counted elsewhere).
    pub(crate) unrecorded: KindSet,
    /// The kinds of event the current step produced that `run` may break
    /// on (kept even when not recording).
    pub(crate) seen: KindSet,
    /// The kinds `emit` must do anything about: those `run` breaks on, and
    /// those recorded. Kept from `recording`, `unrecorded` and
    /// `break_kinds` by the methods that set them ([`Machine::renotice`]), so
    /// that an event nobody asked for (a TLB hit on nearly every access with
    /// events off) costs one test.
    noticed: KindSet,
    pub(crate) step_events: Vec<Event>,
    /// The latest device interrupts taken (step, vector), whether or not
    /// events are recorded: the page says which interrupt woke a sleeper
    /// long after the bounded event log has moved on. Not machine state.
    pub(crate) recent_interrupts: std::collections::VecDeque<(u64, u8)>,
    log: EventLog,
    pub(crate) breakpoints: BTreeSet<u32>,
    pub(crate) break_kinds: KindSet,
    /// Data watches: physical bytes (address, length of 1 to 4) and the
    /// value they held when last compared.
    pub(crate) watches: Vec<Watch>,
    decoded: Vec<Decoded>,
    pub(crate) history: History,
    blocks: BlockCache,
    /// The block path's counts not yet written back (zero outside it).
    pub(crate) lag: crate::block::Lag,
    config: MachineConfig,
}

impl Machine {
    /// A machine with `mem_size` bytes of zeroed RAM and the other settings
    /// at their defaults, in flat 32-bit protected mode at ring 0 with paging
    /// and interrupts off.
    pub fn new(mem_size: usize) -> Self {
        Machine::with_config(MachineConfig {
            mem_size,
            ..MachineConfig::default()
        })
    }

    /// A machine built to `config`, on the board `config.board` names.
    pub fn with_config(config: MachineConfig) -> Self {
        let board = Board::of(config.board, config.disk_blocks, config.disk_latency);
        Machine::with_board(config, board)
    }

    /// A machine built to `config` on a board of the caller's making.
    pub fn with_board(config: MachineConfig, board: Board) -> Self {
        Machine {
            cpu: Cpu::default(),
            mem: PhysMem::new(config.mem_size),
            tlb: Tlb::new(config.tlb),
            bus: Bus::new(board),
            clock_ahead: 0,
            steps: 0,
            retired: 0,
            halted: false,
            stopped: None,
            irq_inhibit: false,
            next_deadline: u64::MAX,
            mmio_touched: false,
            recheck: false,
            fault_chain: Vec::new(),
            user_entries: 0,
            idle_skipped: 0,
            recording: false,
            seen: KindSet::EMPTY,
            noticed: KindSet::EMPTY,
            unrecorded: KindSet::EMPTY,
            step_events: Vec::new(),
            recent_interrupts: std::collections::VecDeque::new(),
            log: EventLog::new(config.event_capacity),
            breakpoints: BTreeSet::new(),
            break_kinds: KindSet::EMPTY,
            watches: Vec::new(),
            // One more slot holds an instruction that crosses a page boundary.
            decoded: empty_decode_cache(),
            history: History::new(
                config.checkpoint_interval,
                config.max_checkpoints,
                config.history_budget,
            ),
            blocks: BlockCache::for_memory(config.mem_size),
            lag: crate::block::Lag::default(),
            config,
        }
    }

    pub fn config(&self) -> &MachineConfig {
        &self.config
    }

    /// The CPU's registers and flags.
    #[inline]
    pub fn cpu(&self) -> &Cpu {
        &self.cpu
    }

    /// Physical memory.
    #[inline]
    pub fn mem(&self) -> &PhysMem {
        &self.mem
    }

    /// The TLB model.
    #[inline]
    pub fn tlb(&self) -> &Tlb {
        &self.tlb
    }

    /// Steps taken since power-on: each executes an instruction (which may
    /// fault), takes an interrupt, or waits in `hlt`. The machine's notion
    /// of "when", used by `seek` and share links.
    #[inline]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Instructions completed since power-on.
    #[inline]
    pub fn retired(&self) -> u64 {
        self.retired
    }

    /// How many times the CPU has returned to ring 3 in this run (see the
    /// field's comment).
    pub fn user_entries(&self) -> u64 {
        self.user_entries
    }

    /// Device time in ticks: one per step, plus the ticks skipped while halted.
    #[inline]
    pub fn clock(&self) -> u64 {
        self.steps + self.clock_ahead
    }

    /// Whether the CPU waits in `hlt`.
    #[inline]
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Why the machine stopped for good (halted with interrupts off, exited,
    /// or triple-faulted), once it has.
    #[inline]
    pub fn stopped(&self) -> Option<&StopReason> {
        self.stopped.as_ref()
    }

    /// Points the CPU at `eip`, as a loader does to enter a program.
    /// Changing the machine from outside starts a new history.
    pub fn set_eip(&mut self, eip: u32) {
        self.cpu.eip = eip;
        self.history.clear();
    }

    /// Sets a general register from outside (a new history starts).
    pub fn set_reg(&mut self, r: crate::Reg, value: u32) {
        self.cpu.set_reg(r, value);
        self.history.clear();
    }

    /// Sets EFLAGS from outside (a new history starts).
    pub fn set_eflags(&mut self, value: u32) {
        self.cpu.set_eflags(value);
        self.history.clear();
    }

    /// Turns paging on with the page directory at physical `cr3`, as a
    /// `mov cr3` and a `mov cr0` would: the TLB starts empty. A new history
    /// starts.
    pub fn enable_paging(&mut self, cr3: u32) {
        self.cpu.cr3 = cr3;
        self.cpu.cr0 |= crate::Cr0::PG;
        let _dropped = self.tlb.flush_all();
        self.history.clear();
    }

    /// Copies raw bytes to a physical address. Changing memory from outside
    /// starts a new history: earlier points can no longer be replayed.
    pub fn load(&mut self, addr: u32, data: &[u8]) -> Result<(), LoadError> {
        self.mem.load(addr, data)?;
        self.history.clear();
        Ok(())
    }

    /// Replaces the disk's contents from its first block on.
    pub fn load_disk(&mut self, data: &[u8]) -> Result<(), LoadError> {
        let disk = self.bus.device_mut(|c| match c {
            Component::Disk(d) => Some(d),
            _ => None,
        });
        let Some(disk) = disk else {
            return Err(LoadError {
                addr: 0,
                len: data.len(),
                mem_size: 0,
            });
        };
        let blocks = &mut disk.blocks;
        if data.len() > blocks.len() {
            return Err(LoadError {
                addr: 0,
                len: data.len(),
                mem_size: blocks.len(),
            });
        }
        blocks[..data.len()].copy_from_slice(data);
        self.history.clear();
        Ok(())
    }

    /// The bytes the guest wrote to the console port.
    pub fn console(&self) -> &[u8] {
        self.bus
            .device(|c| match c {
                Component::Console(c) => Some(&c.output),
                _ => None,
            })
            .map_or(&[], Vec::as_slice)
    }

    /// The bytes the guest wrote to the debug port 0xE9.
    pub fn debug_output(&self) -> &[u8] {
        self.bus
            .device(|c| match c {
                Component::DebugPort(d) => Some(&d.output),
                _ => None,
            })
            .map_or(&[], Vec::as_slice)
    }

    /// The bus: the board's devices and interrupt controller.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Turns event recording on or off. Off, steps cost no more than the
    /// bookkeeping of which kinds happened (for break-on-event).
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
        self.renotice();
    }

    pub fn recording(&self) -> bool {
        self.recording
    }

    /// Leaves these kinds out of the record while recording: a page running
    /// at full speed can leave out TLB hits (the TLB counts them anyway, and
    /// nobody reads millions of them), and have every other event. Breaking
    /// on a kind still works: the machine sees every kind it produces.
    pub fn set_unrecorded(&mut self, kinds: KindSet) {
        self.unrecorded = kinds;
        self.renotice();
    }

    /// The events of the latest step (empty unless recording).
    pub fn last_events(&self) -> &[Event] {
        &self.step_events
    }

    /// The retained events of the run, oldest first, each with its step;
    /// the latest step's events come last.
    pub fn events(&self) -> impl Iterator<Item = Stamped> + '_ {
        let latest = self.step_events.iter().map(move |e| Stamped {
            step: self.steps,
            event: e.clone(),
        });
        self.log.iter().cloned().chain(latest)
    }

    /// The retained events before the latest step, oldest first, without
    /// copying them (the latest step's are [`Machine::last_events`]).
    pub fn event_log(&self) -> &EventLog {
        &self.log
    }

    /// Forgets the retained events.
    pub fn clear_events(&mut self) {
        self.log.clear();
        self.step_events.clear();
    }

    /// Records an event of `kind` (built only when it is recorded or broken
    /// on): where nothing is noticed (the run's common case), an event costs
    /// one load and one branch.
    #[inline(always)]
    pub(crate) fn emit(&mut self, kind: EventKind, make: impl FnOnce() -> Event) {
        if self.noticed.contains(kind) {
            self.notice(kind, make());
        }
    }

    /// Whether any of `kinds` is recorded or broken on, so that events of
    /// them must be built.
    #[inline(always)]
    pub(crate) fn notices(&self, kinds: KindSet) -> bool {
        self.noticed.intersects(kinds)
    }

    /// An event [`Machine::emit`] noticed: seen by this step, and recorded
    /// unless its kind is left out. Inline: with events on, a step files
    /// several (out of line, a call each cost a fifth of loop 2's speed).
    #[inline(always)]
    pub(crate) fn notice(&mut self, kind: EventKind, event: Event) {
        self.seen.insert(kind);
        self.recheck = true;
        if self.recording && !self.unrecorded.contains(kind) {
            self.step_events.push(event);
        }
    }

    /// Works out which kinds `emit` must notice, after a change to what is
    /// recorded or broken on.
    fn renotice(&mut self) {
        let recorded = if self.recording {
            KindSet(!self.unrecorded.0)
        } else {
            KindSet::EMPTY
        };
        self.noticed = KindSet(self.break_kinds.0 | recorded.0);
    }

    /// Replaces the kinds `run` breaks on, returning the old ones.
    pub(crate) fn replace_break_kinds(&mut self, kinds: KindSet) -> KindSet {
        let old = std::mem::replace(&mut self.break_kinds, kinds);
        self.renotice();
        old
    }

    /// Adds an address breakpoint: `run` stops before executing there.
    pub fn add_breakpoint(&mut self, eip: u32) {
        self.breakpoints.insert(eip);
    }

    pub fn remove_breakpoint(&mut self, eip: u32) {
        self.breakpoints.remove(&eip);
    }

    pub fn breakpoints(&self) -> impl Iterator<Item = u32> + '_ {
        self.breakpoints.iter().copied()
    }

    /// Makes `run` stop after any step that produces an event of `kind`.
    pub fn break_on(&mut self, kind: EventKind, on: bool) {
        if on {
            self.break_kinds.insert(kind);
        } else {
            self.break_kinds.remove(kind);
        }
        self.renotice();
    }

    pub fn break_kinds(&self) -> KindSet {
        self.break_kinds
    }

    /// Makes `run` stop after any step that changes one of these physical
    /// byte ranges (address, length of 1 to 4 bytes), as a debugger's data
    /// watchpoint does; replaces the watches set before. Single steps
    /// compare the watched bytes after each step, blocks after each of
    /// their memory accesses.
    pub fn set_watches(&mut self, ranges: &[(u32, u32)]) {
        for w in &self.watches {
            self.mem.mark_watched(w.pa, w.len, false);
        }
        self.watches = ranges
            .iter()
            .map(|&(pa, len)| Watch {
                pa,
                len: len.clamp(1, 4),
                value: self.mem.read(pa, len.clamp(1, 4)),
            })
            .collect();
        self.mark_watches();
    }

    /// Marks the frames of the watches in memory, so that only a write to
    /// one of them makes the watched bytes be compared.
    pub(crate) fn mark_watches(&mut self) {
        for w in &self.watches {
            self.mem.mark_watched(w.pa, w.len, true);
        }
    }

    /// The watched ranges (address, length).
    pub fn watches(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.watches.iter().map(|w| (w.pa, w.len))
    }

    /// The watch stop, if the latest step changed watched bytes (asked
    /// after each step, and after each memory access of a block). They are
    /// compared only after a write to a frame that holds some: nothing else
    /// can change them.
    #[inline(always)]
    pub(crate) fn watch_hit(&mut self) -> Option<StopReason> {
        if !self.mem.watch_written {
            return None;
        }
        self.mem.watch_written = false;
        self.watch_break()
    }

    /// The watch stop, if the latest step changed watched bytes; the
    /// watches then hold the new values.
    fn watch_break(&mut self) -> Option<StopReason> {
        let mut hit = None;
        for w in &mut self.watches {
            let now = self.mem.read(w.pa, w.len);
            if now != w.value {
                w.value = now;
                hit = hit.or(Some(w.pa));
            }
        }
        hit.map(|pa| StopReason::Watch { pa })
    }

    /// Executes one step and reports what it did.
    pub fn step(&mut self) -> StepOutcome {
        let stop = self.step_inner();
        StepOutcome {
            stop,
            events: self.step_events.clone(),
        }
    }

    /// Runs up to `max_steps` steps; stops early at a breakpoint, an event
    /// asked for with [`Machine::break_on`], or when the machine stops.
    ///
    /// Runs of straight-line code go through the block fast path when
    /// nothing can interrupt them (see `block.rs`); the result is the same
    /// as taking single steps.
    pub fn run(&mut self, max_steps: u64) -> StopReason {
        let empty = self.blocks.emptied();
        let mut blocks = std::mem::replace(&mut self.blocks, empty);
        let start = self.steps;
        let mut first = true;
        let stop = loop {
            let left = max_steps.saturating_sub(self.steps - start);
            if left == 0 {
                break StopReason::InstructionLimit;
            }
            let stop = self.run_with(left.min(RUN_CHUNK), &mut blocks, first);
            first = false;
            if stop != StopReason::InstructionLimit {
                break stop;
            }
        };
        self.blocks = blocks;
        stop
    }

    /// At most `max_steps` steps of the run loop; `first` says this is the
    /// run's first step, which a breakpoint there does not stop.
    #[inline(never)]
    fn run_with(&mut self, max_steps: u64, blocks: &mut BlockCache, first: bool) -> StopReason {
        let start = self.steps;
        let mut first = first;
        // Time may have moved (a seek, a load) since the watches were set:
        // a watch stops on a change made by this run.
        for w in &mut self.watches {
            w.value = self.mem.read(w.pa, w.len);
        }
        self.mem.watch_written = false;
        loop {
            let done = self.steps - start;
            if done >= max_steps {
                return StopReason::InstructionLimit;
            }
            if !first && !self.breakpoints.is_empty() && !self.halted {
                let eip = self.cpu.eip;
                if self.breakpoints.contains(&eip) {
                    return StopReason::Breakpoint { eip };
                }
            }
            first = false;
            // The block path declines when it cannot record as single
            // steps do (see `records_nothing_per_step`).
            match self.run_block(max_steps - done, blocks) {
                BlockExit::Ran => continue,
                BlockExit::Stop(stop) => return stop,
                BlockExit::Declined => {}
            }
            if let Some(stop) = self.step_inner() {
                return stop;
            }
            if let Some(stop) = self.event_break() {
                return stop;
            }
            if let Some(stop) = self.watch_hit() {
                return stop;
            }
        }
    }

    /// The break-on-event stop, if the current step produced an event of a
    /// kind asked for.
    #[inline(always)]
    pub(crate) fn event_break(&self) -> Option<StopReason> {
        if !self.seen.intersects(self.break_kinds) {
            return None;
        }
        // The first kind both produced and asked for (there is one: the
        // sets intersect).
        let kind = KindSet(self.seen.0 & self.break_kinds.0).kinds().next()?;
        Some(StopReason::Event { kind })
    }

    #[inline(always)]
    pub(crate) fn has_breakpoints(&self) -> bool {
        !self.breakpoints.is_empty()
    }

    /// Whether no address breakpoint lies in `start..end`.
    pub(crate) fn breakpoints_in(&self, start: u32, end: u32) -> bool {
        self.breakpoints.is_empty() || self.breakpoints.range(start..end).next().is_none()
    }

    /// Files the latest step's events in the log, under that step, before
    /// the next step starts (until then they are the latest step's view).
    #[inline(always)]
    pub(crate) fn file_step_events(&mut self) {
        if !self.step_events.is_empty() {
            let steps = self.steps;
            for e in self.step_events.drain(..) {
                self.log.push(steps, e);
            }
        }
    }

    /// The bookkeeping that starts every step.
    #[inline(always)]
    pub(crate) fn begin_step(&mut self) {
        self.seen = KindSet::EMPTY;
        if !self.fault_chain.is_empty() {
            self.fault_chain.clear();
        }
        self.steps += 1;
    }

    /// One step: deliver a due interrupt, wait in `hlt`, or execute one instruction.
    pub(crate) fn step_inner(&mut self) -> Option<StopReason> {
        if let Some(stop) = &self.stopped {
            return Some(stop.clone());
        }
        self.file_step_events();
        if self.history.enabled() {
            self.history_before_step();
        }
        self.begin_step();
        if self.clock() >= self.next_deadline {
            self.service_devices();
        }

        if self.cpu.flag(Flags::IF)
            && self.bus.controller().requesting()
            && !std::mem::take(&mut self.irq_inhibit)
            && let Some(irq) = self.bus.controller().next()
        {
            return self.take_interrupt(irq);
        }
        self.irq_inhibit = false;

        if self.halted {
            return self.wait_in_hlt();
        }

        let eip = self.cpu.eip;
        match self.fetch_address(eip) {
            Ok(pa) => self.execute_at(eip, pa),
            Err(e) => self.fault(e, eip, 0),
        }
    }

    /// Decodes (through the decode cache) and executes the instruction at
    /// `eip`, whose first byte is at physical address `pa`.
    pub(crate) fn execute_at(&mut self, eip: u32, pa: u32) -> Option<StopReason> {
        let slot = match self.decode_at(eip, pa) {
            Ok(slot) => slot,
            Err(e) => return self.fault(e, eip, 0),
        };
        // The instruction is executed in place in the decode cache, which is
        // moved out for the moment (a pointer swap) so that executing can
        // borrow the machine mutably; copying the instruction instead costs
        // more than executing it.
        let decoded = std::mem::take(&mut self.decoded);
        let instr = &decoded[slot].instr;
        let len = instr.len;
        let next = eip.wrapping_add(u32::from(len));
        // In 16-bit code IP wraps within the code segment's 64 KiB.
        self.cpu.eip = match self.cpu.code_size() {
            CodeSize::Bits32 => next,
            CodeSize::Bits16 => next & 0xFFFF,
        };
        let result = self.execute(instr, eip);
        self.decoded = decoded;
        match self.finish(result, eip, len) {
            Finish::Next => None,
            Finish::Left(stop) => stop,
        }
    }

    /// What follows executing an instruction, the same on the step and the
    /// block paths: counts its retirement, enters `hlt`, stops the machine,
    /// or delivers the fault it raised (with EIP back at the instruction).
    #[inline(always)]
    pub(crate) fn finish(&mut self, result: Result<Flow, Exception>, eip: u32, len: u8) -> Finish {
        match result {
            Ok(Flow::Next) => {
                self.retired += 1;
                Finish::Next
            }
            Ok(Flow::Faulted) => Finish::Left(None),
            Ok(Flow::Halt) => Finish::Left(self.after_halt()),
            Ok(Flow::Stop) => {
                self.retired += 1;
                Finish::Left(self.stopped.clone())
            }
            Err(e) => {
                self.cpu.eip = eip;
                Finish::Left(self.fault(e, eip, u32::from(len)))
            }
        }
    }

    /// `hlt` completed: the CPU waits for an interrupt, or, with interrupts
    /// off, stops for good.
    pub(crate) fn after_halt(&mut self) -> Option<StopReason> {
        self.retired += 1;
        self.halted = true;
        if !self.cpu.flag(Flags::IF) {
            self.stopped = Some(StopReason::Halted);
            return Some(StopReason::Halted);
        }
        None
    }

    fn take_interrupt(&mut self, irq: u8) -> Option<StopReason> {
        let vector = self.bus.controller_mut().acknowledge(irq);
        self.halted = false;
        let eip = self.cpu.eip;
        match self.deliver_with_nesting(Source::External { vector }, eip) {
            Ok(()) => {
                if self.recent_interrupts.len() == RECENT_INTERRUPTS {
                    self.recent_interrupts.pop_front();
                }
                self.recent_interrupts.push_back((self.steps, vector));
                None
            }
            Err(t) => Some(self.triple_fault_stop(t.vector)),
        }
    }

    /// The latest device interrupts the CPU took, oldest first: the step
    /// and the vector (at most 64; a move back in time forgets them).
    pub fn recent_interrupts(&self) -> impl Iterator<Item = (u64, u8)> + '_ {
        self.recent_interrupts.iter().copied()
    }

    /// A step in `hlt`: time jumps to the next device deadline.
    fn wait_in_hlt(&mut self) -> Option<StopReason> {
        if self.next_deadline == u64::MAX {
            // Nothing happens until input arrives: this step did not happen.
            self.steps -= 1;
            return Some(StopReason::Idle);
        }
        let now = self.clock();
        self.clock_ahead += self.next_deadline.saturating_sub(now);
        self.service_devices();
        if let Some(irq) = self.bus.controller().next() {
            return self.take_interrupt(irq);
        }
        None
    }

    /// Delivers a fault raised by the instruction at `eip`; a stop reason
    /// only if the delivery itself failed (a triple fault).
    pub(crate) fn fault(&mut self, e: Exception, eip: u32, len: u32) -> Option<StopReason> {
        match self.raise(e, eip, len) {
            Ok(()) => None,
            Err(t) => Some(self.triple_fault_stop(t.vector)),
        }
    }

    /// Stops the machine for a triple fault, naming the faults that led to it.
    pub(crate) fn triple_fault_stop(&mut self, vector: u8) -> StopReason {
        let stop = StopReason::TripleFault {
            vector,
            cause: self
                .fault_chain
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", then "),
        };
        self.stopped = Some(stop.clone());
        stop
    }

    /// Decodes the instruction at `eip` (physical address `pa`) through the
    /// decode cache; returns the cache slot that holds it.
    #[inline(always)]
    fn decode_at(&mut self, eip: u32, pa: u32) -> Result<usize, Exception> {
        let frame = pa >> 12;
        let slot = (pa as usize) & (DECODE_CACHE_SIZE - 1);
        let cached = &self.decoded[slot];
        if cached.pa == pa && cached.generation == self.mem.code_gen(frame) {
            return Ok(slot);
        }
        let window = self.mem.window(pa);
        let result = match decode_in(window, self.cpu.code_size()) {
            Err(DecodeError::Truncated) if window.len() < MAX_INSTR_LEN && !window.is_empty() => {
                // The instruction runs into the next page (of RAM or of the
                // ROM), which may map to any frame.
                let user = self.cpu.cpl() == 3;
                let instr = self.fetch_across_pages(eip, pa, window.len() as u32, user)?;
                // Not cached under its address: the next page may be remapped.
                self.decoded[DECODE_CACHE_SIZE] = Decoded {
                    pa: u32::MAX,
                    generation: 0,
                    instr,
                };
                return Ok(DECODE_CACHE_SIZE);
            }
            other => other,
        };
        match result {
            Ok(instr) => {
                let generation = self.mem.mark_code(frame);
                self.decoded[slot] = Decoded {
                    pa,
                    generation,
                    instr,
                };
                Ok(slot)
            }
            Err(e) => Err(self.invalid_opcode(eip, &e)),
        }
    }

    /// The physical address of the instruction byte at `eip`. The TLB is
    /// consulted only when the code page differs from the last one fetched
    /// from (see [`crate::Tlb`]'s fetch page).
    #[inline(always)]
    pub(crate) fn fetch_address(&mut self, eip: u32) -> Result<u32, Exception> {
        // Code past CS's limit is not fetched: #GP(0) (a flat CS holds every
        // offset; a jump past the limit faults at the jump).
        if !self.cpu.is_flat() && eip > self.cpu.segment(Seg::Cs).limit {
            return Err(Exception::GeneralProtection(0));
        }
        // CS's base is 0 but in real mode (or a protected-mode segment with
        // a base), where the code's linear address is that base plus EIP.
        let eip = eip.wrapping_add(self.cpu.seg_base(Seg::Cs));
        if !self.cpu.paging() {
            return Ok(self.a20_gate(eip));
        }
        let page = eip >> 12;
        let user = self.cpu.cpl() == 3;
        if let Some(f) = self.tlb.fetch
            && f.page == page
            && f.user == user
        {
            return Ok((f.frame << 12) | (eip & 0xFFF));
        }
        let pa = self.translate(eip, Access::Execute, user)?;
        self.tlb.fetch = Some(FetchPage {
            page,
            user,
            frame: pa >> 12,
        });
        Ok(pa)
    }

    fn fetch_across_pages(
        &mut self,
        eip: u32,
        pa1: u32,
        first: u32,
        user: bool,
    ) -> Result<Instr, Exception> {
        let next = eip
            .wrapping_add(self.cpu.seg_base(Seg::Cs))
            .wrapping_add(first);
        let pa2 = self.translate(next, Access::Execute, user)?;
        let mut bytes = Vec::with_capacity(MAX_INSTR_LEN);
        bytes.extend((0..first).map(|i| self.mem.read_u8(pa1 + i)));
        let rest = MAX_INSTR_LEN as u32 - first;
        bytes.extend((0..rest.min(PAGE_SIZE)).map(|i| self.mem.read_u8(pa2 + i)));
        decode_in(&bytes, self.cpu.code_size()).map_err(|e| self.invalid_opcode(eip, &e))
    }

    fn invalid_opcode(&mut self, eip: u32, e: &DecodeError) -> Exception {
        let message = e.to_string();
        if self.fault_chain.len() < 8 {
            self.fault_chain
                .push(crate::trap::FaultLink::InvalidOpcode {
                    message: message.clone(),
                    eip,
                });
        }
        self.emit(EventKind::InvalidOpcode, || Event::InvalidOpcode {
            eip,
            message,
        });
        Exception::InvalidOpcode
    }

    /// The physical address the CPU makes of `linear` with paging off: bit
    /// 20 cleared while the A20 gate is closed (see [`Bus::a20`]). With
    /// paging on, the page tables' frames are used as they are.
    #[inline(always)]
    pub(crate) fn a20_gate(&self, linear: u32) -> u32 {
        if self.bus.a20() {
            linear
        } else {
            linear & !(1 << 20)
        }
    }

    /// Forgets every decoded instruction and block: memory was replaced
    /// wholesale, so the frames' code generations no longer vouch for them.
    pub(crate) fn forget_decoded(&mut self) {
        self.decoded = empty_decode_cache();
        self.blocks = self.blocks.emptied();
    }

    /// Whether interrupts are enabled (EFLAGS.IF).
    pub fn interrupts_enabled(&self) -> bool {
        self.cpu.flag(Flags::IF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mov ecx, n / nop / l: dec ecx / jnz l / hlt`: `hlt` is reached
    /// after 2 + 2n steps.
    fn countdown(n: u32) -> Machine {
        let mut program = vec![0xB9];
        program.extend(n.to_le_bytes());
        program.extend([0x90, 0x49, 0x75, 0xFD, 0xF4]);
        let mut m = Machine::new(64 * 1024);
        m.load(0x1000, &program).unwrap();
        m.set_eip(0x1000);
        m
    }

    #[test]
    fn a_run_longer_than_a_chunk_stops_at_a_breakpoint_on_the_chunks_edge() {
        let n = (RUN_CHUNK / 2 - 1) as u32;
        let hlt = 0x1000 + 9;
        let mut m = countdown(n);
        m.add_breakpoint(hlt);
        assert_eq!(m.run(u64::MAX), StopReason::Breakpoint { eip: hlt });
        assert_eq!(m.steps(), RUN_CHUNK);
        // Running on from the breakpoint executes it.
        assert_eq!(m.run(u64::MAX), StopReason::Halted);
        // A run of several chunks counts its steps across them.
        let mut m = countdown(3 * RUN_CHUNK as u32);
        assert_eq!(m.run(2 * RUN_CHUNK + 5), StopReason::InstructionLimit);
        assert_eq!(m.steps(), 2 * RUN_CHUNK + 5);
    }
}
