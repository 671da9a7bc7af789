//! The PC's serial port: a 16550 UART at 0x3F8 on line 4, as a kernel
//! without a FIFO uses it. What the guest sends is kept as output; what is
//! typed waits in a queue and enters the receive register one byte at a
//! time, when the register is empty (the guest has read the one before), as
//! a byte arrives on a real line.

use super::{Ctx, Device};
use crate::decode::Width;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The first register.
pub const COM1: u16 = 0x3F8;

const IER_RECEIVE: u8 = 0x01;
const IER_TRANSMIT: u8 = 0x02;
const LCR_DLAB: u8 = 0x80;
const LSR_DATA_READY: u8 = 0x01;
/// Transmit holding register and transmitter empty: sending is instant.
const LSR_EMPTY: u8 = 0x60;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Uart {
    pub ier: u8,
    pub lcr: u8,
    pub mcr: u8,
    pub scratch: u8,
    pub divisor: u16,
    /// The receive buffer register, when a byte is in it.
    pub received: Option<u8>,
    /// Bytes typed that have not reached the receive register yet.
    pub input: VecDeque<u8>,
    /// Everything the guest has sent.
    pub output: Vec<u8>,
    /// A transmit-empty interrupt is owed (IER bit 1 after a send).
    pub transmit_pending: bool,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Uart {
    pub fn new(line: u8) -> Uart {
        Uart {
            line,
            ..Uart::default()
        }
    }

    /// The next typed byte enters the receive register if it is empty.
    fn fill(&mut self, ctx: &mut Ctx) {
        if self.received.is_none()
            && let Some(byte) = self.input.pop_front()
        {
            self.received = Some(byte);
            ctx.emit(EventKind::UartByte, || Event::UartByte {
                byte,
                received: true,
            });
        }
    }

    /// Raises the line while an enabled condition holds: the level of an
    /// ISA interrupt line is seen again at every register access.
    fn update(&mut self, ctx: &mut Ctx) {
        let receive = self.ier & IER_RECEIVE != 0 && self.received.is_some();
        let transmit = self.ier & IER_TRANSMIT != 0 && self.transmit_pending;
        if receive || transmit {
            ctx.raise(self.line);
        }
    }

    /// A byte typed: it waits for the receive register.
    pub(crate) fn type_byte(&mut self, byte: u8, ctx: &mut Ctx) {
        self.input.push_back(byte);
        self.fill(ctx);
        self.update(ctx);
    }

    fn interrupt_id(&self) -> u8 {
        if self.ier & IER_RECEIVE != 0 && self.received.is_some() {
            0x04
        } else if self.ier & IER_TRANSMIT != 0 && self.transmit_pending {
            0x02
        } else {
            0x01
        }
    }
}

impl Device for Uart {
    fn read(&mut self, addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        let dlab = self.lcr & LCR_DLAB != 0;
        let value = match addr as u16 - COM1 {
            0 if dlab => self.divisor as u8,
            0 => {
                let byte = self.received.take().unwrap_or(0);
                self.fill(ctx);
                byte
            }
            1 if dlab => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                let id = self.interrupt_id();
                if id == 0x02 {
                    self.transmit_pending = false;
                }
                id
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                LSR_EMPTY
                    | if self.received.is_some() {
                        LSR_DATA_READY
                    } else {
                        0
                    }
            }
            // Clear to send, data set ready, carrier detect.
            6 => 0xB0,
            _ => self.scratch,
        };
        self.update(ctx);
        u32::from(value)
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        let byte = value as u8;
        let dlab = self.lcr & LCR_DLAB != 0;
        match addr as u16 - COM1 {
            0 if dlab => self.divisor = (self.divisor & 0xFF00) | u16::from(byte),
            0 => {
                self.output.push(byte);
                self.transmit_pending = true;
                ctx.emit(EventKind::UartByte, || Event::UartByte {
                    byte,
                    received: false,
                });
            }
            1 if dlab => self.divisor = (self.divisor & 0x00FF) | u16::from(byte) << 8,
            1 => {
                self.ier = byte & 0x0F;
                self.transmit_pending = self.ier & IER_TRANSMIT != 0;
            }
            3 => self.lcr = byte,
            4 => self.mcr = byte,
            7 => self.scratch = byte,
            _ => {}
        }
        self.update(ctx);
    }
}
