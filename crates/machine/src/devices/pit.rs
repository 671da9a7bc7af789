//! The 8254 programmable interval timer at ports 0x40–0x43, with port 0x61
//! (channel 2's gate, the speaker, and the refresh bit): three 16-bit
//! counters fed at 1,193,182 Hz; channel 0's output is ISA line 0.
//!
//! Time is the machine's: a count is read off the clock (one step stands
//! for 10 ns, [`STEPS_PER_SECOND`]) from the step its counting began, so a
//! replay reads the same counts and takes the same interrupts. The modes a
//! PC's software uses are modelled: 0 (interrupt on terminal count), 2
//! (rate generator, the periodic tick) and 3 (square wave, the BIOS's 18.2
//! Hz tick and the speaker), and 4 (software strobe); modes 1 and 5 wait for
//! a gate trigger that only channel 2's gate can give. As in QEMU's
//! `i8254.c`, a count written while a channel counts takes effect at once,
//! and BCD counting is not modelled (counts are binary). The refresh bit of
//! port 0x61 changes on every read, as QEMU's does, so a delay loop that
//! waits for it to toggle ends.

use super::{Ctx, Device, STEPS_PER_SECOND};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

/// The first of the four ports (channels 0–2, then the control word).
pub const PIT_BASE: u16 = 0x40;
/// The control word's port.
pub const PIT_CONTROL: u16 = 0x43;
/// Port B of the old PC's 8255: channel 2's gate (bit 0), the speaker (bit
/// 1); it reads back channel 2's output (bit 5) and the refresh bit (4).
pub const SYSTEM_CONTROL_B: u16 = 0x61;
/// The counters' input clock, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// How a channel's count is written and read (the control word's RW bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PitAccess {
    /// The low byte only.
    Low,
    /// The high byte only.
    High,
    /// The low byte, then the high byte.
    LowHigh,
}

impl PitAccess {
    fn bits(self) -> u8 {
        match self {
            PitAccess::Low => 1,
            PitAccess::High => 2,
            PitAccess::LowHigh => 3,
        }
    }
}

/// One counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PitChannel {
    /// The mode, 0 to 5 (6 and 7 are written as 2 and 3).
    pub mode: u8,
    pub access: PitAccess,
    /// The count last written (0 stands for 65,536).
    pub reload: u16,
    /// The clock at which counting from `reload` began; none until a whole
    /// count has been written after the control word.
    pub start: Option<u64>,
    /// A count latched for reading (the latch command or read-back).
    pub latched: Option<u16>,
    /// A status byte latched by read-back.
    pub status: Option<u8>,
    /// The next read of a low-then-high count gives the high byte.
    pub read_high: bool,
    /// The low byte written of a low-then-high count, waiting for the high.
    pub written_low: Option<u8>,
    /// The tick (counted from `start`) of channel 0's next interrupt.
    pub next_edge: Option<u64>,
}

impl Default for PitChannel {
    fn default() -> Self {
        PitChannel {
            mode: 0,
            access: PitAccess::LowHigh,
            reload: 0,
            start: None,
            latched: None,
            status: None,
            read_high: false,
            written_low: None,
            next_edge: None,
        }
    }
}

impl PitChannel {
    /// The count as a number of ticks per cycle (0 stands for 65,536).
    fn period(&self) -> u64 {
        if self.reload == 0 {
            0x1_0000
        } else {
            u64::from(self.reload)
        }
    }

    /// The input clock's ticks since counting began, at machine clock `clock`.
    fn ticks(&self, clock: u64) -> Option<u64> {
        let start = self.start?;
        let elapsed = u128::from(clock.saturating_sub(start));
        Some((elapsed * u128::from(PIT_HZ) / u128::from(STEPS_PER_SECOND)) as u64)
    }

    /// The counter's value at `clock`.
    fn count(&self, clock: u64) -> u16 {
        let n = self.period();
        let Some(e) = self.ticks(clock) else {
            return self.reload;
        };
        let value = match self.mode {
            // Down from N to 0, then on round through 0xFFFF.
            0 | 4 => (n as i64 - e as i64).rem_euclid(0x1_0000) as u64,
            // N down to 1, then N again.
            2 => n - e % n,
            // Down by two from N, twice per period.
            3 => {
                let half = (n / 2).max(1);
                n - 2 * (e % half)
            }
            // Modes 1 and 5 wait for a trigger.
            _ => n,
        };
        value as u16
    }

    /// The counter's output at `clock`.
    fn out(&self, clock: u64) -> bool {
        let n = self.period();
        let Some(e) = self.ticks(clock) else {
            // Until a count is written: low in mode 0, high otherwise.
            return self.mode != 0;
        };
        match self.mode {
            0 => e >= n,
            2 => e % n != n - 1,
            3 => e % n < n.div_ceil(2),
            4 => e != n,
            _ => true,
        }
    }

    /// The tick of the first rising edge of the output after tick `after`
    /// (an interrupt on an edge-triggered line), if it has one.
    fn edge_after(&self, after: Option<u64>) -> Option<u64> {
        let n = self.period();
        match self.mode {
            // Terminal count, once.
            0 => (after.is_none()).then_some(n),
            // Back high at each reload.
            2 | 3 => Some(after.map_or(n, |t| (t / n + 1) * n)),
            // Back high the tick after the strobe, once.
            4 => (after.is_none()).then_some(n + 1),
            _ => None,
        }
    }

    /// The status byte read-back latches: output, null count, access, mode.
    fn status_byte(&self, clock: u64) -> u8 {
        (u8::from(self.out(clock)) << 7)
            | (u8::from(self.start.is_none()) << 6)
            | (self.access.bits() << 4)
            | (self.mode << 1)
    }

    /// The control word for this channel: its access and mode; counting
    /// stops until a new count is written.
    fn program(&mut self, access: PitAccess, mode: u8) {
        *self = PitChannel {
            mode: if mode >= 6 { mode - 4 } else { mode },
            access,
            reload: self.reload,
            ..PitChannel::default()
        };
    }

    /// A byte written to the channel's port.
    fn write(&mut self, value: u8, clock: u64) {
        let count = match (self.access, self.written_low.take()) {
            (PitAccess::Low, _) => u16::from(value),
            (PitAccess::High, _) => u16::from(value) << 8,
            (PitAccess::LowHigh, None) => {
                self.written_low = Some(value);
                // Mode 0 stops counting at the first byte.
                if self.mode == 0 {
                    self.start = None;
                }
                return;
            }
            (PitAccess::LowHigh, Some(low)) => u16::from(low) | (u16::from(value) << 8),
        };
        self.reload = count;
        self.start = Some(clock);
        self.next_edge = self.edge_after(None);
    }

    /// A byte read from the channel's port.
    fn read(&mut self, clock: u64) -> u8 {
        if let Some(status) = self.status.take() {
            return status;
        }
        let value = self.latched.unwrap_or_else(|| self.count(clock));
        let (byte, done) = match self.access {
            PitAccess::Low => (value as u8, true),
            PitAccess::High => ((value >> 8) as u8, true),
            PitAccess::LowHigh if self.read_high => ((value >> 8) as u8, true),
            PitAccess::LowHigh => (value as u8, false),
        };
        self.read_high = !done;
        if done {
            self.latched = None;
        }
        byte
    }

    /// Latches the count for reading, unless one is latched already.
    fn latch(&mut self, clock: u64) {
        if self.latched.is_none() {
            self.latched = Some(self.count(clock));
            self.read_high = false;
        }
    }

    /// The machine clock of the next interrupt, if one is due.
    fn deadline(&self) -> u64 {
        let (Some(start), Some(edge)) = (self.start, self.next_edge) else {
            return u64::MAX;
        };
        let steps = (u128::from(edge) * u128::from(STEPS_PER_SECOND)).div_ceil(u128::from(PIT_HZ));
        start.saturating_add(steps as u64)
    }
}

/// The 8254 and port 0x61.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pit {
    pub channels: [PitChannel; 3],
    /// The line channel 0's output drives.
    pub line: u8,
    /// Port 0x61 bit 0: channel 2 counts only while its gate is high.
    pub gate2: bool,
    /// Port 0x61 bit 1: the speaker follows channel 2.
    pub speaker: bool,
    /// Port 0x61 bit 4, as the last read gave it.
    pub refresh: bool,
}

impl Pit {
    pub fn new(line: u8) -> Pit {
        Pit {
            channels: Default::default(),
            line,
            gate2: false,
            speaker: false,
            refresh: false,
        }
    }
}

impl Device for Pit {
    fn read(&mut self, addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        let clock = ctx.clock;
        match addr as u16 {
            SYSTEM_CONTROL_B => {
                self.refresh = !self.refresh;
                let out2 = self.gate2 && self.channels[2].out(clock);
                u32::from(self.gate2)
                    | (u32::from(self.speaker) << 1)
                    | (u32::from(self.refresh) << 4)
                    | (u32::from(out2) << 5)
            }
            // The control word's port reads nothing.
            PIT_CONTROL => 0xFF,
            port => u32::from(self.channels[usize::from(port - PIT_BASE)].read(clock)),
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        let clock = ctx.clock;
        let value = value as u8;
        match addr as u16 {
            SYSTEM_CONTROL_B => {
                let was = self.gate2;
                self.gate2 = value & 1 != 0;
                self.speaker = value & 2 != 0;
                // A rising gate starts channel 2's count again.
                let c = &mut self.channels[2];
                if self.gate2 && !was && c.start.is_some() {
                    c.start = Some(clock);
                    c.next_edge = c.edge_after(None);
                }
            }
            PIT_CONTROL => {
                let select = value >> 6;
                if select == 3 {
                    // Read-back: bit 5 clear latches the counts, bit 4
                    // clear the status, of the channels in bits 1-3.
                    for (k, c) in self.channels.iter_mut().enumerate() {
                        if value & (2 << k) == 0 {
                            continue;
                        }
                        if value & 0x20 == 0 {
                            c.latch(clock);
                        }
                        if value & 0x10 == 0 && c.status.is_none() {
                            c.status = Some(c.status_byte(clock));
                        }
                    }
                    return;
                }
                let c = &mut self.channels[usize::from(select)];
                let access = match (value >> 4) & 3 {
                    0 => return c.latch(clock),
                    1 => PitAccess::Low,
                    2 => PitAccess::High,
                    _ => PitAccess::LowHigh,
                };
                c.program(access, (value >> 1) & 7);
            }
            port => self.channels[usize::from(port - PIT_BASE)].write(value, clock),
        }
    }

    /// Channel 0's next interrupt.
    fn deadline(&self) -> u64 {
        self.channels[0].deadline()
    }

    fn service(&mut self, ctx: &mut Ctx) {
        let c = &mut self.channels[0];
        if c.deadline() > ctx.clock {
            return;
        }
        ctx.raise(self.line);
        // A channel far behind (after a long halt) interrupts once, not once
        // per missed period: the line is an edge, and it stays raised once.
        let now = c.ticks(ctx.clock);
        c.next_edge = c.edge_after(c.next_edge.max(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock (steps) of tick `t` after `start`.
    fn at(start: u64, t: u64) -> u64 {
        start + (t * STEPS_PER_SECOND).div_ceil(PIT_HZ)
    }

    #[test]
    fn a_rate_generator_counts_down_and_interrupts_each_period() {
        let mut c = PitChannel::default();
        c.program(PitAccess::LowHigh, 2);
        assert!(c.start.is_none(), "no count yet");
        c.write(0x9C, 1000); // 11,932: 100 Hz
        assert!(c.start.is_none(), "half a count");
        c.write(0x2E, 1000);
        assert_eq!(c.reload, 11932);
        assert_eq!(c.count(1000), 11932);
        assert_eq!(c.count(at(1000, 100)), 11832);
        // The first interrupt after one period: 11,932 ticks, 10 ms.
        assert_eq!(c.deadline(), at(1000, 11932));
        assert_eq!(c.deadline() - 1000, 1_000_016);
        // Read low then high.
        let clock = at(1000, 5);
        assert_eq!((c.read(clock), c.read(clock)), (0x97, 0x2E));
        // A latched count holds while the counter goes on.
        c.latch(at(1000, 10));
        assert_eq!(c.read(at(1000, 500)), (11922u16 & 0xFF) as u8);
        assert_eq!(c.read(at(1000, 900)), (11922u16 >> 8) as u8);
        assert_eq!(c.status_byte(at(1000, 1)), 0b1011_0100);
    }

    #[test]
    fn mode_0_interrupts_once_at_terminal_count_and_wraps() {
        let mut c = PitChannel::default();
        c.program(PitAccess::Low, 0);
        assert!(!c.out(0));
        c.write(100, 0);
        assert_eq!(c.deadline(), at(0, 100));
        assert!(!c.out(at(0, 99)));
        assert!(c.out(at(0, 100)));
        assert_eq!(c.count(at(0, 101)), 0xFFFF);
        assert_eq!(c.edge_after(Some(100)), None);
    }

    #[test]
    fn a_square_wave_is_high_for_half_its_period() {
        let mut c = PitChannel::default();
        c.program(PitAccess::LowHigh, 3);
        c.write(0, 0);
        c.write(0, 0); // 65,536: the BIOS's 18.2 Hz
        assert!(c.out(at(0, 32767)));
        assert!(!c.out(at(0, 32768)));
        assert_eq!(c.count(at(0, 3)), (65536u32 - 6) as u16);
        assert_eq!(c.edge_after(Some(65536)), Some(131072));
    }
}
