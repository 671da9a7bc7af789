//! The osviz machine: an emulated 32-bit x86 that runs real IA-32 encodings.
//!
//! This crate knows nothing of the browser. The page, the wasm API and the
//! command-line runner all drive a [`Machine`] and render what it reports.
//!
//! ```
//! use osviz_machine::{Machine, Reg, StopReason};
//!
//! // mov ecx, 3 / mov eax, 0 / add eax, ecx / dec ecx / jnz -5 / hlt
//! let program = [
//!     0xB9, 3, 0, 0, 0, 0xB8, 0, 0, 0, 0, 0x01, 0xC8, 0x49, 0x75, 0xFB, 0xF4,
//! ];
//! let mut machine = Machine::new(64 * 1024);
//! machine.load(0x1000, &program).unwrap();
//! machine.cpu.eip = 0x1000;
//! let stop = machine.run(1_000);
//! assert_eq!(stop, StopReason::Halted);
//! assert_eq!(machine.cpu.reg(Reg::Eax), 3 + 2 + 1);
//! ```

mod alu;
mod cpu;
mod decode;
mod event;
mod execute;
mod machine;
mod memory;
pub mod multiboot;
pub mod programs;

pub use cpu::{Cpu, Flags, Reg};
pub use decode::{DecodeError, Instr, MemRef, Op, Operand, Width, decode};
pub use event::Event;
pub use machine::{Machine, StepOutcome, StopReason};
pub use memory::{LoadError, PhysMem};
