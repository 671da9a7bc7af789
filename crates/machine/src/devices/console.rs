//! The console (bytes out, always ready) and the debug ports: 0xE9 for
//! debug output and 0xF4 to stop the machine with an exit code.

use super::{CONSOLE_DATA, CONSOLE_STATUS, Ctx, DEBUG_CONSOLE, DEBUG_EXIT, Device};
use crate::decode::Width;
use crate::machine::StopReason;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Console {
    /// Bytes written to the console port.
    pub output: Vec<u8>,
}

impl Device for Console {
    fn read(&mut self, addr: u32, _width: Width, _ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            CONSOLE_STATUS => 0x60,
            _ => u32::MAX,
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, _ctx: &mut Ctx) {
        if addr as u16 == CONSOLE_DATA {
            self.output.push(value as u8);
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DebugPort {
    /// Bytes written to port 0xE9.
    pub output: Vec<u8>,
}

impl Device for DebugPort {
    fn read(&mut self, addr: u32, _width: Width, _ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            DEBUG_CONSOLE => 0xE9,
            _ => u32::MAX,
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        match addr as u16 {
            DEBUG_CONSOLE => self.output.push(value as u8),
            DEBUG_EXIT => ctx.stop = Some(StopReason::DebugExit { code: value as u8 }),
            _ => {}
        }
    }
}
