//! The lessons' interrupt controller: sixteen lines, each with a pending
//! (request), in-service and mask bit, lower lines first; line n is vector
//! 32 + n.

use super::{EOI, IRQ_BASE, PIC_CMD, PIC_MASK_HIGH, PIC_MASK_LOW, PIC2_CMD};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

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

    /// Whether an unmasked line is pending (the CPU then asks [`Pic::next`]).
    #[inline(always)]
    pub fn requesting(&self) -> bool {
        self.pending & !self.mask != 0
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

    /// The vector line `irq` raises.
    pub fn vector(&self, irq: u8) -> u8 {
        IRQ_BASE + irq
    }

    /// End of interrupt: the highest-priority line in service is done.
    pub fn eoi(&mut self) {
        if self.in_service != 0 {
            self.in_service &= self.in_service - 1;
        }
    }

    pub(crate) fn read(&self, port: u32) -> u32 {
        match port as u16 {
            PIC_CMD => u32::from(self.pending & 0xFF),
            PIC2_CMD => u32::from(self.pending >> 8),
            PIC_MASK_LOW => u32::from(self.mask & 0xFF),
            PIC_MASK_HIGH => u32::from(self.mask >> 8),
            _ => u32::MAX,
        }
    }

    pub(crate) fn write(&mut self, port: u32, _width: Width, value: u32) {
        match port as u16 {
            PIC_CMD | PIC2_CMD if value & 0xFF == EOI => self.eoi(),
            PIC_MASK_LOW => self.mask = (self.mask & 0xFF00) | (value as u16 & 0xFF),
            PIC_MASK_HIGH => self.mask = (self.mask & 0x00FF) | ((value as u16 & 0xFF) << 8),
            _ => {}
        }
    }
}
