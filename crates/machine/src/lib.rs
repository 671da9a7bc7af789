//! The osviz machine: an emulated 32-bit x86 in protected mode that runs real
//! IA-32 encodings, with two-level paging, a TLB model, traps through the IDT,
//! devices on port I/O, step events, snapshots and reverse stepping.
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
//! machine.set_eip(0x1000);
//! let stop = machine.run(1_000);
//! assert_eq!(stop, StopReason::Halted);
//! assert_eq!(machine.cpu().reg(Reg::Eax), 3 + 2 + 1);
//!
//! // Every step can be undone: go back to just after `mov eax, 0`.
//! machine.seek(2).unwrap();
//! assert_eq!(machine.cpu().reg(Reg::Eax), 0);
//! assert_eq!(machine.cpu().eip, 0x100A);
//! ```

mod alu;
mod block;
pub mod bus;
mod cpu;
mod debugger;
mod decode;
pub mod devices;
mod disasm;
mod event;
mod execute;
mod far;
mod history;
mod idle_skip;
mod io;
mod machine;
mod memory;
mod mmu;
pub mod multiboot;
mod optable;
pub mod pc;
pub mod programs;
mod protect;
mod rare;
mod rom;
mod screen;
mod tlb;
mod trap;
pub mod typist;
mod view;

pub use alu::shift;
pub use bus::{Board, BoardKind, Bus, InterruptController, InterruptSource, Part};
pub use cpu::{CodeSize, Cpu, Cr0, Cr4, Flags, Reg, Seg, SegCache, TableReg};
pub use debugger::{Change, ChangeSearch, DisasmLine};
pub use decode::{
    DecodeError, Instr, MAX_INSTR_LEN, MemRef, Op, Operand, Rep, Shift, StringOp, Width, decode,
    decode_in,
};
pub use devices::{DeviceClass, IdeOp};
pub use event::{
    Access, Event, EventKind, EventLog, FlushReason, KindSet, Pushed, PushedValue, StackSwitch,
    Stamped, TrapKind,
};
pub use history::{CoreState, Input, InputChannel, Replay, SeekError, Snapshot, SnapshotError};
pub use machine::{Machine, MachineConfig, StepOutcome, StopReason};
pub use memory::{LoadError, PAGE_SIZE, PhysMem};
pub use mmu::{Pte, Walk};
pub use optable::{Class, OpInfo};
pub use pc::{PcConfig, PcError};
pub use rom::{ROM_LOW_BASE, ROM_SIZE, RomError};
pub use screen::TextScreen;
pub use tlb::{Replacement, Tlb, TlbConfig, TlbEntry};
pub use trap::{Descriptor, Exception, Gate, PfCode};
pub use view::{Registers, TlbSlot, TlbView};
