//! The PC's text screen as a person sees it: the 80 x 25 cells of CGA
//! text memory at 0xB8000 (a character and an attribute byte each) and the
//! cursor the CRT controller's registers 14 and 15 place.

use crate::Machine;
use crate::devices::Component;
use crate::devices::{COLUMNS, ROWS, TEXT_BASE};

/// The text screen, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextScreen {
    /// 25 rows of 80 characters each (code page 437's printable ASCII as
    /// is; other bytes as a space, or a middle dot where they are not 0).
    pub rows: Vec<String>,
    /// The cursor's row and column, when it is on the screen.
    pub cursor: Option<(u32, u32)>,
}

impl Machine {
    /// The text screen, on a board with a CGA (the PC); `None` elsewhere.
    pub fn text_screen(&self) -> Option<TextScreen> {
        let cursor = self
            .bus
            .device(|c| match c {
                Component::Cga(cga) => Some(cga),
                _ => None,
            })?
            .cursor();
        let rows = (0..ROWS)
            .map(|r| {
                (0..COLUMNS)
                    .map(|c| {
                        let b = self.mem.read_u8(TEXT_BASE + (r * COLUMNS + c) * 2);
                        match b {
                            0x20..=0x7E => char::from(b),
                            0 => ' ',
                            _ => '·',
                        }
                    })
                    .collect()
            })
            .collect();
        let cell = u32::from(cursor);
        let cursor = (cell < ROWS * COLUMNS).then_some((cell / COLUMNS, cell % COLUMNS));
        Some(TextScreen { rows, cursor })
    }
}
