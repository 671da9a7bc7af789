//! The PC's keyboard controller at 0x60 (data) and 0x64 (status), on line
//! 1: a key typed becomes its set-1 scancodes (make, then break, with Shift
//! or Ctrl around it where the character needs it), which the guest reads
//! one at a time, as xv6's `kbd.c` decodes them.

use super::{Ctx, Device};
use crate::decode::Width;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const PS2_DATA: u16 = 0x60;
pub const PS2_STATUS: u16 = 0x64;

const LEFT_SHIFT: u8 = 0x2A;
const CTRL: u8 = 0x1D;
const BREAK: u8 = 0x80;

/// The keys of a US keyboard's main block, by set-1 make code: the
/// character without and with Shift.
const KEYS: &[(u8, u8, u8)] = &[
    (0x02, b'1', b'!'),
    (0x03, b'2', b'@'),
    (0x04, b'3', b'#'),
    (0x05, b'4', b'$'),
    (0x06, b'5', b'%'),
    (0x07, b'6', b'^'),
    (0x08, b'7', b'&'),
    (0x09, b'8', b'*'),
    (0x0A, b'9', b'('),
    (0x0B, b'0', b')'),
    (0x0C, b'-', b'_'),
    (0x0D, b'=', b'+'),
    (0x0E, 0x08, 0x08),
    (0x0F, b'\t', b'\t'),
    (0x10, b'q', b'Q'),
    (0x11, b'w', b'W'),
    (0x12, b'e', b'E'),
    (0x13, b'r', b'R'),
    (0x14, b't', b'T'),
    (0x15, b'y', b'Y'),
    (0x16, b'u', b'U'),
    (0x17, b'i', b'I'),
    (0x18, b'o', b'O'),
    (0x19, b'p', b'P'),
    (0x1A, b'[', b'{'),
    (0x1B, b']', b'}'),
    (0x1C, b'\n', b'\n'),
    (0x1E, b'a', b'A'),
    (0x1F, b's', b'S'),
    (0x20, b'd', b'D'),
    (0x21, b'f', b'F'),
    (0x22, b'g', b'G'),
    (0x23, b'h', b'H'),
    (0x24, b'j', b'J'),
    (0x25, b'k', b'K'),
    (0x26, b'l', b'L'),
    (0x27, b';', b':'),
    (0x28, b'\'', b'"'),
    (0x29, b'`', b'~'),
    (0x2B, b'\\', b'|'),
    (0x2C, b'z', b'Z'),
    (0x2D, b'x', b'X'),
    (0x2E, b'c', b'C'),
    (0x2F, b'v', b'V'),
    (0x30, b'b', b'B'),
    (0x31, b'n', b'N'),
    (0x32, b'm', b'M'),
    (0x33, b',', b'<'),
    (0x34, b'.', b'>'),
    (0x35, b'/', b'?'),
    (0x39, b' ', b' '),
    (0x01, 0x1B, 0x1B),
];

/// The scancodes that type `byte` (empty for a character no key types).
pub fn scancodes(byte: u8) -> Vec<u8> {
    let byte = match byte {
        b'\r' => b'\n',
        0x7F => 0x08,
        b => b,
    };
    if let Some(&(code, _, _)) = KEYS.iter().find(|k| k.1 == byte) {
        return vec![code, code | BREAK];
    }
    if let Some(&(code, ..)) = KEYS.iter().find(|k| k.2 == byte) {
        return vec![LEFT_SHIFT, code, code | BREAK, LEFT_SHIFT | BREAK];
    }
    // Ctrl-A to Ctrl-Z.
    if (1..=26).contains(&byte)
        && let Some(&(code, ..)) = KEYS.iter().find(|k| k.1 == byte + b'a' - 1)
    {
        return vec![CTRL, code, code | BREAK, CTRL | BREAK];
    }
    Vec::new()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ps2 {
    /// Scancodes waiting to be read.
    pub queue: VecDeque<u8>,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Ps2 {
    pub fn new(line: u8) -> Ps2 {
        Ps2 {
            line,
            ..Ps2::default()
        }
    }

    /// A character typed: its scancodes join the queue.
    pub(crate) fn type_byte(&mut self, byte: u8, ctx: &mut Ctx) {
        for code in scancodes(byte) {
            self.queue.push_back(code);
            ctx.emit(EventKind::Scancode, || Event::Scancode { code });
        }
        if !self.queue.is_empty() {
            ctx.raise(self.line);
        }
    }
}

impl Device for Ps2 {
    fn read(&mut self, addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            PS2_DATA => {
                let code = self.queue.pop_front().unwrap_or(0);
                if !self.queue.is_empty() {
                    ctx.raise(self.line);
                }
                u32::from(code)
            }
            // Bit 0: output buffer full.
            _ => u32::from(!self.queue.is_empty()),
        }
    }

    /// Controller and keyboard commands are accepted and ignored.
    fn write(&mut self, _addr: u32, _width: Width, _value: u32, _ctx: &mut Ctx) {}
}

#[cfg(test)]
mod tests {
    use super::scancodes;

    #[test]
    fn characters_become_set_1_make_and_break_codes() {
        assert_eq!(scancodes(b'l'), [0x26, 0xA6]);
        assert_eq!(scancodes(b'\n'), [0x1C, 0x9C]);
        assert_eq!(scancodes(b'L'), [0x2A, 0x26, 0xA6, 0xAA]);
        assert_eq!(scancodes(b'|'), [0x2A, 0x2B, 0xAB, 0xAA]);
        assert_eq!(scancodes(0x04), [0x1D, 0x20, 0xA0, 0x9D]); // Ctrl-D
        assert!(scancodes(0xFF).is_empty());
    }
}
