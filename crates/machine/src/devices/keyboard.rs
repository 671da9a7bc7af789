//! The keyboard: bytes typed, waiting to be read, and an interrupt while
//! any are waiting.

use super::{Ctx, Device, KEYBOARD_DATA, KEYBOARD_STATUS};
use crate::decode::Width;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Keyboard {
    pub queue: VecDeque<u8>,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Device for Keyboard {
    fn read(&mut self, addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            KEYBOARD_DATA => {
                let byte = self.queue.pop_front().unwrap_or(0);
                // More bytes waiting raise the line again, as a keyboard
                // controller does after each read.
                if !self.queue.is_empty() {
                    ctx.raise(self.line);
                }
                u32::from(byte)
            }
            KEYBOARD_STATUS => u32::from(!self.queue.is_empty()),
            _ => u32::MAX,
        }
    }

    fn write(&mut self, _addr: u32, _width: Width, _value: u32, _ctx: &mut Ctx) {}
}
