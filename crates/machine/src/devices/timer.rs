//! The periodic timer: a period in ticks, an interrupt on its line each
//! time it runs out.

use super::{Ctx, Device};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// Ticks between interrupts; 0 when stopped.
    pub period: u64,
    /// The tick of the next interrupt.
    pub next: u64,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Device for Timer {
    fn read(&mut self, _addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        if self.period == 0 {
            0
        } else {
            self.next.saturating_sub(ctx.clock) as u32
        }
    }

    fn write(&mut self, _addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        self.period = u64::from(value);
        self.next = ctx.clock + u64::from(value);
    }

    fn deadline(&self) -> u64 {
        if self.period > 0 { self.next } else { u64::MAX }
    }

    fn service(&mut self, ctx: &mut Ctx) {
        if self.period > 0 && ctx.clock >= self.next {
            // A timer far behind (after a long halt) fires once, not once per
            // missed period, as a real interrupt line stays raised once.
            self.next = (self.next + self.period).max(ctx.clock + 1);
            ctx.raise(self.line);
        }
    }
}
