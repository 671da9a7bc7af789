//! The machine: a CPU, physical memory, and the loop that steps them.

use crate::cpu::{Cpu, Flags};
use crate::decode::decode;
use crate::event::Event;
use crate::memory::{LoadError, PhysMem};
use serde::{Deserialize, Serialize};

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The CPU executed `hlt`.
    Halted,
    /// The run executed as many instructions as it was allowed.
    InstructionLimit,
    /// The guest wrote to the debug-exit port 0xF4.
    DebugExit { code: u8 },
    /// The instruction at `eip` could not be executed.
    InvalidOpcode { eip: u32, message: String },
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// Set when the machine stopped at this step.
    pub stop: Option<StopReason>,
}

/// The port the guest writes console and debug bytes to.
pub const DEBUG_CONSOLE_PORT: u16 = 0xE9;
/// The port whose write ends the run (as QEMU's isa-debug-exit does).
pub const DEBUG_EXIT_PORT: u16 = 0xF4;

/// An emulated 32-bit x86 machine.
#[derive(Clone, Debug)]
pub struct Machine {
    pub cpu: Cpu,
    pub mem: PhysMem,
    /// Instructions retired since power-on.
    pub retired: u64,
    /// Set once the machine stopped for good (halted, exited, or faulted).
    pub stopped: Option<StopReason>,
    /// Bytes the guest wrote to port 0xE9.
    pub console: Vec<u8>,
    /// Whether steps record [`Event`]s.
    pub record_events: bool,
    /// The events of the latest step, when recording.
    pub events: Vec<Event>,
}

impl Machine {
    /// A machine with `mem_size` bytes of zeroed RAM, in flat 32-bit
    /// protected mode at ring 0 with paging off.
    pub fn new(mem_size: usize) -> Self {
        Machine {
            cpu: Cpu::default(),
            mem: PhysMem::new(mem_size),
            retired: 0,
            stopped: None,
            console: Vec::new(),
            record_events: false,
            events: Vec::new(),
        }
    }

    /// Copies raw bytes to a physical address.
    pub fn load(&mut self, addr: u32, data: &[u8]) -> Result<(), LoadError> {
        self.mem.load(addr, data)
    }

    /// Records an event when recording is on.
    #[inline]
    pub(crate) fn emit(&mut self, make: impl FnOnce() -> Event) {
        if self.record_events {
            self.events.push(make());
        }
    }

    /// Executes one instruction.
    pub fn step(&mut self) -> StepOutcome {
        self.events.clear();
        if let Some(stop) = &self.stopped {
            return StepOutcome {
                stop: Some(stop.clone()),
            };
        }
        let eip = self.cpu.eip;
        let stop = match decode(self.mem.window(eip)) {
            Ok(instr) => {
                self.cpu.eip = eip.wrapping_add(u32::from(instr.len));
                self.retired += 1;
                self.execute(&instr)
            }
            Err(e) => {
                let message = e.to_string();
                self.emit(|| Event::InvalidOpcode {
                    eip,
                    message: message.clone(),
                });
                Some(StopReason::InvalidOpcode { eip, message })
            }
        };
        if let Some(s) = &stop {
            self.stopped = Some(s.clone());
        }
        StepOutcome { stop }
    }

    /// Executes up to `max_instructions` instructions and says why it stopped.
    pub fn run(&mut self, max_instructions: u64) -> StopReason {
        for _ in 0..max_instructions {
            if let Some(stop) = self.step().stop {
                return stop;
            }
        }
        StopReason::InstructionLimit
    }

    /// Whether interrupts are enabled (EFLAGS.IF).
    pub fn interrupts_enabled(&self) -> bool {
        self.cpu.flag(Flags::IF)
    }
}
