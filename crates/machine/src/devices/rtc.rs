//! The PC's CMOS real-time clock (a Motorola MC146818 as every PC has one):
//! an index port (0x70) and a data port (0x71) in front of 128 bytes of CMOS
//! RAM whose first ten bytes are the time and date, followed by status
//! registers A to D.
//!
//! Its time is the machine's: the start time the board was built with (Unix
//! seconds, recorded with the machine, so a replay reads the same time)
//! plus the steps run at the board's rate of 10 ns a step, plus whatever the
//! guest set. Register A's update-in-progress bit is set in the last 244 µs
//! of each second, before the time registers change, as the datasheet says:
//! a reader such as xv6's `cmostime()` waits for it to clear. The periodic,
//! alarm and update interrupts (line 8) are not modelled: register C reads 0
//! and nothing is raised.

use super::{Ctx, Device};
use crate::decode::Width;
use serde::{Deserialize, Serialize};

/// The index port: bits 0–6 choose a byte of CMOS RAM (bit 7 masks NMI).
pub const CMOS_INDEX: u16 = 0x70;
/// The data port: the chosen byte.
pub const CMOS_DATA: u16 = 0x71;

/// Machine steps in a second (10 ns a step, as the local APIC's timer counts).
pub const STEPS_PER_SECOND: u64 = 100_000_000;
/// How long before each second's update register A says it is coming:
/// 244 µs (MC146818 datasheet, "update cycle").
const UIP_STEPS: u64 = 24_400;

/// The start time a board gets when it is built with none: 2026-01-01
/// 00:00:00 UTC, so that tests see a fixed clock.
pub const DEFAULT_START: u64 = 1_767_225_600;

mod reg {
    pub const SECONDS: u8 = 0x00;
    pub const MINUTES: u8 = 0x02;
    pub const HOURS: u8 = 0x04;
    pub const WEEKDAY: u8 = 0x06;
    pub const DAY: u8 = 0x07;
    pub const MONTH: u8 = 0x08;
    pub const YEAR: u8 = 0x09;
    pub const A: u8 = 0x0A;
    pub const B: u8 = 0x0B;
    pub const C: u8 = 0x0C;
    pub const D: u8 = 0x0D;
    /// The century, where IBM's BIOS keeps it.
    pub const CENTURY: u8 = 0x32;
}

/// Register A: update in progress.
const A_UIP: u8 = 0x80;
/// Register B: updates stopped while the time is set.
const B_SET: u8 = 0x80;
/// Register B: binary, not BCD.
const B_BINARY: u8 = 0x04;
/// Register B: 24-hour, not 12-hour.
const B_24H: u8 = 0x02;
/// Register D: the RAM and the time are valid (the battery is good).
const D_VALID: u8 = 0x80;

/// The clock's state: its start, what the guest set, and the RAM.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rtc {
    /// Unix seconds at clock tick 0.
    pub start: u64,
    /// Seconds the guest moved the time by, writing its registers.
    pub adjust: i64,
    /// The byte the index port chose.
    index: u8,
    /// CMOS RAM; the time registers in it are computed when read.
    ram: Vec<u8>,
}

impl Rtc {
    /// A clock reading `start` (Unix seconds) at tick 0, in BCD and 24-hour
    /// mode as a PC's BIOS leaves it.
    pub fn new(start: u64) -> Rtc {
        let mut ram = vec![0u8; 128];
        ram[usize::from(reg::A)] = 0x26; // 32.768 kHz time base, 1024 Hz rate
        ram[usize::from(reg::B)] = B_24H;
        ram[usize::from(reg::D)] = D_VALID;
        Rtc {
            start,
            adjust: 0,
            index: 0,
            ram,
        }
    }

    /// The time (Unix seconds) at clock tick `clock`.
    pub fn now(&self, clock: u64) -> i64 {
        self.start as i64 + self.adjust + (clock / STEPS_PER_SECOND) as i64
    }

    fn b(&self) -> u8 {
        self.ram[usize::from(reg::B)]
    }

    /// A field as the guest reads it: BCD unless register B says binary.
    fn encode(&self, v: u32) -> u8 {
        if self.b() & B_BINARY != 0 {
            v as u8
        } else {
            (((v / 10) << 4) | (v % 10)) as u8
        }
    }

    fn decode(&self, v: u8) -> u32 {
        if self.b() & B_BINARY != 0 {
            u32::from(v)
        } else {
            u32::from(v >> 4) * 10 + u32::from(v & 0xF)
        }
    }

    /// The hours register: 0–23, or 1–12 with bit 7 for PM in 12-hour mode.
    fn encode_hour(&self, hour: u32) -> u8 {
        if self.b() & B_24H != 0 {
            return self.encode(hour);
        }
        let twelve = match hour % 12 {
            0 => 12,
            h => h,
        };
        self.encode(twelve) | if hour >= 12 { 0x80 } else { 0 }
    }

    fn decode_hour(&self, v: u8) -> u32 {
        if self.b() & B_24H != 0 {
            return self.decode(v);
        }
        self.decode(v & 0x7F) % 12 + if v & 0x80 != 0 { 12 } else { 0 }
    }

    fn read_register(&self, index: u8, clock: u64) -> u8 {
        let t = Civil::of(self.now(clock));
        match index {
            reg::SECONDS => self.encode(t.second),
            reg::MINUTES => self.encode(t.minute),
            reg::HOURS => self.encode_hour(t.hour),
            reg::WEEKDAY => self.encode(t.weekday),
            reg::DAY => self.encode(t.day),
            reg::MONTH => self.encode(t.month),
            reg::YEAR => self.encode(t.year.rem_euclid(100) as u32),
            reg::CENTURY => self.encode(t.year.div_euclid(100) as u32),
            reg::A => {
                let updating = self.b() & B_SET == 0
                    && clock % STEPS_PER_SECOND >= STEPS_PER_SECOND - UIP_STEPS;
                self.ram[usize::from(reg::A)] & !A_UIP | if updating { A_UIP } else { 0 }
            }
            reg::C => 0,
            reg::D => D_VALID,
            i => self.ram[usize::from(i)],
        }
    }

    /// A write to a time register moves the clock so that it reads the
    /// value written (what the other fields read stays).
    fn write_register(&mut self, index: u8, value: u8, clock: u64) {
        let now = self.now(clock);
        let mut t = Civil::of(now);
        match index {
            reg::SECONDS => t.second = self.decode(value),
            reg::MINUTES => t.minute = self.decode(value),
            reg::HOURS => t.hour = self.decode_hour(value),
            reg::DAY => t.day = self.decode(value),
            reg::MONTH => t.month = self.decode(value),
            reg::YEAR => t.year = t.year.div_euclid(100) * 100 + self.decode(value) as i64,
            reg::CENTURY => t.year = self.decode(value) as i64 * 100 + t.year.rem_euclid(100),
            reg::A => {
                self.ram[usize::from(reg::A)] = value & !A_UIP;
                return;
            }
            // Status C and D are read-only.
            reg::C | reg::D => return,
            // The day of the week follows from the date.
            reg::WEEKDAY => return,
            i => {
                self.ram[usize::from(i)] = value;
                return;
            }
        }
        if let Some(then) = t.to_unix() {
            self.adjust += then - now;
        }
    }
}

impl Device for Rtc {
    fn read(&mut self, addr: u32, _width: Width, ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            CMOS_DATA => u32::from(self.read_register(self.index, ctx.clock)),
            // The index port is write-only; it reads as a PC's floating bus.
            _ => 0xFF,
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        match addr as u16 {
            CMOS_INDEX => self.index = value as u8 & 0x7F,
            _ => self.write_register(self.index, value as u8, ctx.clock),
        }
    }
}

/// A moment as a calendar shows it (UTC), with the day of the week as the
/// RTC counts it (Sunday 1 to Saturday 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub weekday: u32,
}

impl Civil {
    /// The calendar moment `unix` seconds after 1970-01-01 00:00:00 UTC
    /// (Howard Hinnant's `civil_from_days`, proleptic Gregorian calendar).
    pub fn of(unix: i64) -> Civil {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday (5 when Sunday is 1).
            weekday: ((days + 4).rem_euclid(7) + 1) as u32,
        }
    }

    /// The Unix time of this moment (the day of the week is not read), or
    /// `None` when a field is out of its range.
    pub fn to_unix(self) -> Option<i64> {
        if !(1..=12).contains(&self.month)
            || !(1..=31).contains(&self.day)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
        {
            return None;
        }
        let y = self.year - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(
            days * 86_400
                + i64::from(self.hour) * 3600
                + i64::from(self.minute) * 60
                + i64::from(self.second),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads register `index` at `clock`, as a guest does through the ports.
    fn read(rtc: &Rtc, index: u8, clock: u64) -> u8 {
        rtc.read_register(index, clock)
    }

    #[test]
    fn the_calendar_round_trips_and_knows_its_weekdays() {
        // 2026-12-07 12:34:56 UTC, a Monday (2).
        let t = Civil::of(1_796_646_896);
        assert_eq!(
            t,
            Civil {
                year: 2026,
                month: 12,
                day: 7,
                hour: 12,
                minute: 34,
                second: 56,
                weekday: 2
            }
        );
        assert_eq!(t.to_unix(), Some(1_796_646_896));
        // Leap days, the epoch and a century that is not a leap year.
        for unix in [0, 951_782_400, 1_709_164_800, 4_107_542_400, -86_400] {
            assert_eq!(Civil::of(unix).to_unix(), Some(unix), "{unix}");
        }
        assert_eq!(
            (Civil::of(951_782_400).month, Civil::of(951_782_400).day),
            (2, 29)
        );
        assert_eq!(Civil::of(0).weekday, 5, "1970-01-01 was a Thursday");
    }

    #[test]
    fn the_time_reads_in_bcd_and_moves_with_the_steps() {
        let rtc = Rtc::new(1_796_646_896);
        assert_eq!(read(&rtc, reg::SECONDS, 0), 0x56);
        assert_eq!(read(&rtc, reg::MINUTES, 0), 0x34);
        assert_eq!(read(&rtc, reg::HOURS, 0), 0x12);
        assert_eq!(read(&rtc, reg::DAY, 0), 0x07);
        assert_eq!(read(&rtc, reg::MONTH, 0), 0x12);
        assert_eq!(read(&rtc, reg::YEAR, 0), 0x26);
        assert_eq!(read(&rtc, reg::CENTURY, 0), 0x20);
        assert_eq!(read(&rtc, reg::WEEKDAY, 0), 0x02);
        assert_eq!(read(&rtc, reg::B, 0), B_24H, "BCD, 24-hour");
        assert_eq!(read(&rtc, reg::D, 0), D_VALID);
        // Four seconds of steps later, 12:35:00.
        let later = 4 * STEPS_PER_SECOND;
        assert_eq!(
            (
                read(&rtc, reg::SECONDS, later),
                read(&rtc, reg::MINUTES, later)
            ),
            (0x00, 0x35)
        );
    }

    #[test]
    fn update_in_progress_is_set_only_in_the_last_244_microseconds_of_a_second() {
        let rtc = Rtc::new(DEFAULT_START);
        let uip = |clock| read(&rtc, reg::A, clock) & A_UIP != 0;
        assert!(!uip(0));
        assert!(!uip(STEPS_PER_SECOND - UIP_STEPS - 1));
        assert!(uip(STEPS_PER_SECOND - UIP_STEPS));
        assert!(uip(STEPS_PER_SECOND - 1));
        assert!(!uip(STEPS_PER_SECOND));
        assert_eq!(read(&rtc, reg::A, 0), 0x26);
    }

    #[test]
    fn binary_and_twelve_hour_modes_and_setting_the_time() {
        let mut rtc = Rtc::new(1_796_646_896); // 12:34:56
        rtc.write_register(reg::B, B_BINARY, 0); // binary, 12-hour
        assert_eq!(read(&rtc, reg::SECONDS, 0), 56);
        assert_eq!(read(&rtc, reg::HOURS, 0), 0x80 | 12, "12 PM");
        // Setting 3 AM keeps the minutes and seconds and moves the clock.
        rtc.write_register(reg::HOURS, 3, 0);
        assert_eq!(read(&rtc, reg::HOURS, 0), 3);
        assert_eq!(read(&rtc, reg::MINUTES, 0), 34);
        assert_eq!(rtc.now(0), 1_796_646_896 - 9 * 3600);
        // Other CMOS bytes are RAM.
        rtc.write_register(0x40, 0xAB, 0);
        assert_eq!(read(&rtc, 0x40, 0), 0xAB);
    }
}
