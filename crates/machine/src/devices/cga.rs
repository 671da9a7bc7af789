//! The CGA's CRT controller registers at 0x3D4 (index) and 0x3D5 (data),
//! which hold the cursor position (registers 14 and 15). The text screen
//! itself is ordinary memory at 0xB8000: 80 x 25 cells of a character and
//! an attribute byte.

use super::{Ctx, Device};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

pub const CRT_INDEX: u16 = 0x3D4;
pub const CRT_DATA: u16 = 0x3D5;
/// The physical address of the text screen.
pub const TEXT_BASE: u32 = 0xB8000;
pub const COLUMNS: u32 = 80;
pub const ROWS: u32 = 25;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cga {
    pub index: u8,
    pub registers: Vec<u8>,
}

impl Cga {
    pub fn new() -> Cga {
        Cga {
            index: 0,
            registers: vec![0; 32],
        }
    }

    /// The cursor's cell (row * 80 + column).
    pub fn cursor(&self) -> u16 {
        u16::from(self.registers[14]) << 8 | u16::from(self.registers[15])
    }
}

impl Device for Cga {
    fn read(&mut self, addr: u32, _width: Width, _ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            CRT_INDEX => u32::from(self.index),
            _ => u32::from(self.registers[usize::from(self.index & 31)]),
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, _ctx: &mut Ctx) {
        match addr as u16 {
            CRT_INDEX => self.index = value as u8,
            _ => self.registers[usize::from(self.index & 31)] = value as u8,
        }
    }
}
