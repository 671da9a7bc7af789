//! The devices behind port I/O. All of them count time in machine ticks (one
//! per step, see [`crate::Machine::clock`]), never the wall clock, so every
//! run replays exactly.
//!
//! | ports | device | |
//! |---|---|---|
//! | 0x20, 0xA0 | interrupt controller | write 0x20: end of interrupt (EOI); read: pending lines |
//! | 0x21, 0xA1 | interrupt controller | mask of lines 0–7 and 8–15 (a set bit masks the line) |
//! | 0x40 | timer | write (32-bit): period in ticks, 0 stops it; read: ticks to the next interrupt |
//! | 0x60 | keyboard | read: the next byte typed |
//! | 0x64 | keyboard | read: status, bit 0 set when a byte is waiting |
//! | 0x3F8 | console | write: one byte of output |
//! | 0x3FD | console | read: line status, always ready (0x60) |
//! | 0x1F0 | disk | write (32-bit): block number |
//! | 0x1F4 | disk | write (32-bit): physical address of the 512-byte DMA buffer |
//! | 0x1F7 | disk | write: 0x20 read block, 0x30 write block; read: status (0x80 busy, 0x40 ready, 0x01 error) |
//! | 0x1F8 | disk | read (32-bit): number of blocks |
//! | 0xE9 | debug console | write: one byte of debug output; read: 0xE9 |
//! | 0xF4 | debug exit | write: stops the machine with that exit code |
//!
//! Device line n raises vector 32 + n: the timer is line 0, the keyboard
//! line 1, the disk line 14. Any other port reads all ones and ignores writes,
//! as on a PC.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const PIC_CMD: u16 = 0x20;
pub const PIC_MASK_LOW: u16 = 0x21;
pub const PIC2_CMD: u16 = 0xA0;
pub const PIC_MASK_HIGH: u16 = 0xA1;
pub const TIMER_PORT: u16 = 0x40;
pub const KEYBOARD_DATA: u16 = 0x60;
pub const KEYBOARD_STATUS: u16 = 0x64;
pub const CONSOLE_DATA: u16 = 0x3F8;
pub const CONSOLE_STATUS: u16 = 0x3FD;
pub const DISK_BLOCK: u16 = 0x1F0;
pub const DISK_ADDR: u16 = 0x1F4;
pub const DISK_COMMAND: u16 = 0x1F7;
pub const DISK_SIZE: u16 = 0x1F8;
pub const DEBUG_CONSOLE: u16 = 0xE9;
pub const DEBUG_EXIT: u16 = 0xF4;

/// The vector of device line 0.
pub const IRQ_BASE: u8 = 32;
pub const IRQ_TIMER: u8 = 0;
pub const IRQ_KEYBOARD: u8 = 1;
pub const IRQ_DISK: u8 = 14;

/// The end-of-interrupt command.
pub const EOI: u32 = 0x20;
pub const DISK_CMD_READ: u32 = 0x20;
pub const DISK_CMD_WRITE: u32 = 0x30;
pub const DISK_STATUS_BUSY: u32 = 0x80;
pub const DISK_STATUS_READY: u32 = 0x40;
pub const DISK_STATUS_ERROR: u32 = 0x01;
/// The size of a disk block.
pub const BLOCK_SIZE: usize = 512;

/// The interrupt controller: sixteen lines, each with a pending (request),
/// in-service and mask bit, lower lines first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pic {
    pub pending: u16,
    pub in_service: u16,
    pub mask: u16,
}

impl Pic {
    /// Raises line `irq`.
    pub fn raise(&mut self, irq: u8) {
        self.pending |= 1 << irq;
    }

    /// The line that would interrupt the CPU now: the lowest pending, unmasked
    /// line with higher priority (a lower number) than any in service.
    pub fn next(&self) -> Option<u8> {
        let ready = self.pending & !self.mask;
        if ready == 0 {
            return None;
        }
        let line = ready.trailing_zeros() as u8;
        let busy = self.in_service;
        (busy == 0 || line < busy.trailing_zeros() as u8).then_some(line)
    }

    /// The CPU took line `irq`: it moves from pending to in service.
    pub fn acknowledge(&mut self, irq: u8) {
        self.pending &= !(1 << irq);
        self.in_service |= 1 << irq;
    }

    /// End of interrupt: the highest-priority line in service is done.
    pub fn eoi(&mut self) {
        if self.in_service != 0 {
            self.in_service &= self.in_service - 1;
        }
    }
}

/// The periodic timer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// Ticks between interrupts; 0 when stopped.
    pub period: u64,
    /// The tick of the next interrupt.
    pub next: u64,
}

/// A disk request in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskRequest {
    pub block: u32,
    pub addr: u32,
    pub write: bool,
    pub done_at: u64,
}

/// The disk: 512-byte blocks moved by DMA, an interrupt when done.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Disk {
    pub blocks: Vec<u8>,
    /// Ticks from a command to its interrupt.
    pub latency: u64,
    pub block_reg: u32,
    pub addr_reg: u32,
    pub busy: Option<DiskRequest>,
    pub error: bool,
}

impl Disk {
    pub fn block_count(&self) -> u32 {
        (self.blocks.len() / BLOCK_SIZE) as u32
    }
}

/// The keyboard: bytes typed, waiting to be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Keyboard {
    pub queue: VecDeque<u8>,
}

/// Every device of the machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Devices {
    pub pic: Pic,
    pub timer: Timer,
    pub disk: Disk,
    pub keyboard: Keyboard,
    /// Bytes written to the console port.
    pub console: Vec<u8>,
    /// Bytes written to the debug port 0xE9.
    pub debug: Vec<u8>,
}

impl Devices {
    pub fn new(disk_blocks: usize, disk_latency: u64) -> Self {
        Devices {
            pic: Pic::default(),
            timer: Timer::default(),
            disk: Disk {
                blocks: vec![0; disk_blocks * BLOCK_SIZE],
                latency: disk_latency,
                block_reg: 0,
                addr_reg: 0,
                busy: None,
                error: false,
            },
            keyboard: Keyboard::default(),
            console: Vec::new(),
            debug: Vec::new(),
        }
    }

    /// The earliest tick at which a device has something to do.
    pub fn next_deadline(&self) -> u64 {
        let timer = if self.timer.period > 0 {
            self.timer.next
        } else {
            u64::MAX
        };
        let disk = self.disk.busy.as_ref().map_or(u64::MAX, |r| r.done_at);
        timer.min(disk)
    }
}
