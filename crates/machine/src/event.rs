//! What happened during a step, as plain serializable data for the views.

use serde::{Deserialize, Serialize};

/// One observable happening inside an instruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A write to an I/O port.
    PortOut { port: u16, value: u32, size: u8 },
    /// A read from an I/O port.
    PortIn { port: u16, value: u32, size: u8 },
    /// The CPU executed `hlt`.
    Halt { eip: u32 },
    /// The instruction at `eip` could not be executed.
    InvalidOpcode { eip: u32, message: String },
}
