//! The PC's keyboard controller at 0x60 (data) and 0x64 (status and
//! commands), on line 1: a key typed becomes its set-1 scancodes (make, then
//! break, with Shift or Ctrl around it where the character needs it), which
//! the guest reads one at a time, as xv6's `kbd.c` decodes them. Of the
//! controller's commands it carries out those that reach the A20 gate
//! through its output port (0xD0 read, 0xD1 write, 0xDD close, 0xDF open:
//! QEMU's `pckbd.c` does the same); the others, and commands to the keyboard
//! itself, are accepted and change nothing. Port 0x92 (system control port
//! A, the chipset's "fast A20" gate) answers here as well, as it reaches the
//! same gate: bit 1 is A20 (its reset bit, bit 0, is not modelled).

use super::{Ctx, Device};
use crate::decode::Width;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const PS2_DATA: u16 = 0x60;
pub const PS2_STATUS: u16 = 0x64;
pub const SYSTEM_CONTROL_A: u16 = 0x92;

/// Controller commands (written to 0x64).
const READ_OUTPUT_PORT: u8 = 0xD0;
const WRITE_OUTPUT_PORT: u8 = 0xD1;
const CLOSE_A20: u8 = 0xDD;
const OPEN_A20: u8 = 0xDF;
/// The output port's A20 bit.
const OUTPUT_A20: u8 = 1 << 1;
/// The output port after reset, as QEMU's controller reads it back: the
/// reset line not asserted (bit 0), A20 open (bit 1), and bits 2, 3, 6 and 7.
const OUTPUT_RESET: u8 = 0xCF;

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

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ps2 {
    /// Scancodes waiting to be read.
    pub queue: VecDeque<u8>,
    /// The interrupt line it raises.
    pub line: u8,
    /// The command written to 0x64 whose data byte (at 0x60) comes next.
    pub awaiting: Option<u8>,
    /// The controller's output port (bit 1 drives the A20 gate).
    pub output_port: u8,
}

impl Default for Ps2 {
    fn default() -> Self {
        Ps2 {
            queue: VecDeque::new(),
            line: 0,
            awaiting: None,
            output_port: OUTPUT_RESET,
        }
    }
}

impl Ps2 {
    pub fn new(line: u8) -> Ps2 {
        Ps2 {
            line,
            ..Ps2::default()
        }
    }

    /// Writes the output port, whose bit 1 opens or closes the A20 gate.
    fn set_output_port(&mut self, value: u8, ctx: &mut Ctx) {
        self.output_port = value;
        ctx.a20 = value & OUTPUT_A20 != 0;
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
            SYSTEM_CONTROL_A => u32::from(if ctx.a20 { OUTPUT_A20 } else { 0 }),
            // Bit 0: output buffer full.
            _ => u32::from(!self.queue.is_empty()),
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        let value = value as u8;
        if addr as u16 == SYSTEM_CONTROL_A {
            ctx.a20 = value & OUTPUT_A20 != 0;
            return;
        }
        match (addr as u16, self.awaiting.take()) {
            (PS2_STATUS, _) => match value {
                WRITE_OUTPUT_PORT => self.awaiting = Some(value),
                // The answer is the next byte read at 0x60.
                READ_OUTPUT_PORT => self.queue.push_front(self.output_port),
                CLOSE_A20 => self.set_output_port(self.output_port & !OUTPUT_A20, ctx),
                OPEN_A20 => self.set_output_port(self.output_port | OUTPUT_A20, ctx),
                _ => {}
            },
            // (Bit 0 low would reset the machine, which is not modelled.)
            (_, Some(WRITE_OUTPUT_PORT)) => self.set_output_port(value, ctx),
            // A command to the keyboard itself.
            _ => {}
        }
    }
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
