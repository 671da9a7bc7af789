//! The PC's interrupt controllers: the local APIC (memory-mapped at
//! 0xFEE00000, with the timer that is xv6's only clock), the I/O APIC
//! (0xFEC00000, which routes device lines to vectors through its
//! redirection table), and the 8259 pair, which is present so that a kernel
//! can mask it (xv6 does, and never uses it).
//!
//! Time: the local APIC timer counts down at [`TIMER_COUNTS_PER_STEP`]
//! counts per machine step at divide-by-1. QEMU's APIC timer counts at
//! 1 GHz, so one step stands for 10 ns of device time (a 100 MIPS machine):
//! xv6's initial count of 10,000,000 gives a tick, and a time slice, every
//! 1,000,000 steps (10 ms), 100 ticks a second as on QEMU.

use super::Pic;
use crate::decode::Width;
use serde::{Deserialize, Serialize};

/// The local APIC's registers' physical address.
pub const LAPIC_BASE: u32 = 0xFEE0_0000;
/// The I/O APIC's registers' physical address.
pub const IOAPIC_BASE: u32 = 0xFEC0_0000;
/// Timer counts per step at divide-by-1 (see the module comment).
pub const TIMER_COUNTS_PER_STEP: u64 = 10;
/// The I/O APIC's id, as the MP table gives it (the CPU is 0).
pub const IOAPIC_ID: u8 = 1;
/// The I/O APIC's redirection entries (24, as on QEMU's).
pub const IOAPIC_LINES: usize = 24;

/// Local APIC register offsets.
mod reg {
    pub const ID: u32 = 0x020;
    pub const VER: u32 = 0x030;
    pub const TPR: u32 = 0x080;
    pub const EOI: u32 = 0x0B0;
    pub const SVR: u32 = 0x0F0;
    pub const ISR: u32 = 0x100;
    pub const IRR: u32 = 0x200;
    pub const ESR: u32 = 0x280;
    pub const ICR_LOW: u32 = 0x300;
    pub const ICR_HIGH: u32 = 0x310;
    pub const TIMER: u32 = 0x320;
    pub const PCINT: u32 = 0x340;
    pub const LINT0: u32 = 0x350;
    pub const LINT1: u32 = 0x360;
    pub const ERROR: u32 = 0x370;
    pub const TICR: u32 = 0x380;
    pub const TCCR: u32 = 0x390;
    pub const TDCR: u32 = 0x3E0;
}

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
const SVR_ENABLE: u32 = 1 << 8;

/// A 256-bit set of vectors (the IRR and the ISR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VectorSet([u64; 4]);

impl VectorSet {
    fn insert(&mut self, v: u8) {
        self.0[usize::from(v >> 6)] |= 1 << (v & 63);
    }

    fn remove(&mut self, v: u8) {
        self.0[usize::from(v >> 6)] &= !(1 << (v & 63));
    }

    /// The highest vector in the set.
    pub fn highest(&self) -> Option<u8> {
        (0..4).rev().find_map(|i| {
            let w = self.0[i];
            (w != 0).then(|| (i as u32 * 64 + 63 - w.leading_zeros()) as u8)
        })
    }

    /// Bits 32*k .. 32*k+31, as the register at ISR/IRR + 0x10*k reads.
    fn word(&self, k: u32) -> u32 {
        (self.0[(k / 2) as usize] >> (32 * (k % 2))) as u32
    }
}

/// The local APIC of the one CPU.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lapic {
    pub tpr: u32,
    pub svr: u32,
    pub irr: VectorSet,
    pub isr: VectorSet,
    pub icr_low: u32,
    pub icr_high: u32,
    /// The local vector table: timer, performance counter, LINT0, LINT1,
    /// error.
    pub lvt_timer: u32,
    pub lvt_pcint: u32,
    pub lvt_lint0: u32,
    pub lvt_lint1: u32,
    pub lvt_error: u32,
    pub initial_count: u32,
    pub divide_config: u32,
    /// The step at which the current count was loaded.
    pub loaded_at: u64,
    /// The step at which the timer next runs out (`u64::MAX` when stopped).
    pub next_fire: u64,
}

impl Default for Lapic {
    fn default() -> Self {
        Lapic {
            tpr: 0,
            // Software-disabled at reset, spurious vector 0xFF.
            svr: 0xFF,
            irr: VectorSet::default(),
            isr: VectorSet::default(),
            icr_low: 0,
            icr_high: 0,
            lvt_timer: LVT_MASKED,
            lvt_pcint: LVT_MASKED,
            lvt_lint0: LVT_MASKED,
            lvt_lint1: LVT_MASKED,
            lvt_error: LVT_MASKED,
            initial_count: 0,
            divide_config: 0,
            loaded_at: 0,
            next_fire: u64::MAX,
        }
    }
}

impl Lapic {
    /// The timer's divisor from the divide configuration register.
    fn divisor(&self) -> u64 {
        let code = (self.divide_config & 3) | ((self.divide_config >> 1) & 4);
        if code == 7 { 1 } else { 2 << code }
    }

    /// Steps for the whole initial count to run down.
    fn period_steps(&self) -> u64 {
        (u64::from(self.initial_count) * self.divisor())
            .div_ceil(TIMER_COUNTS_PER_STEP)
            .max(1)
    }

    fn current_count(&self, clock: u64) -> u32 {
        if self.initial_count == 0 || self.next_fire == u64::MAX {
            return 0;
        }
        let elapsed = clock.saturating_sub(self.loaded_at) * TIMER_COUNTS_PER_STEP / self.divisor();
        u32::try_from(u64::from(self.initial_count).saturating_sub(elapsed)).unwrap_or(0)
    }

    fn start_timer(&mut self, clock: u64) {
        self.loaded_at = clock;
        self.next_fire = if self.initial_count == 0 {
            u64::MAX
        } else {
            clock + self.period_steps()
        };
    }

    /// The processor priority's class: what an incoming vector must exceed.
    fn priority_class(&self) -> u8 {
        let isr = self.isr.highest().map_or(0, |v| v >> 4);
        isr.max((self.tpr >> 4) as u8 & 0xF)
    }

    /// The vector the CPU would take now, if any.
    fn next(&self) -> Option<u8> {
        if self.svr & SVR_ENABLE == 0 {
            return None;
        }
        let v = self.irr.highest()?;
        (v >> 4 > self.priority_class()).then_some(v)
    }

    fn read(&self, offset: u32, clock: u64) -> u32 {
        match offset {
            reg::ID => 0,
            // Version 0x14 with six LVT entries (max LVT index 5), as QEMU's.
            reg::VER => 0x0005_0014,
            reg::TPR => self.tpr,
            reg::SVR => self.svr,
            o if (reg::ISR..reg::ISR + 0x80).contains(&o) => self.isr.word((o - reg::ISR) / 0x10),
            o if (reg::IRR..reg::IRR + 0x80).contains(&o) => self.irr.word((o - reg::IRR) / 0x10),
            reg::ESR => 0,
            // The delivery status bit (12) always reads clear: an IPI is
            // sent at once.
            reg::ICR_LOW => self.icr_low & !(1 << 12),
            reg::ICR_HIGH => self.icr_high,
            reg::TIMER => self.lvt_timer,
            reg::PCINT => self.lvt_pcint,
            reg::LINT0 => self.lvt_lint0,
            reg::LINT1 => self.lvt_lint1,
            reg::ERROR => self.lvt_error,
            reg::TICR => self.initial_count,
            reg::TCCR => self.current_count(clock),
            reg::TDCR => self.divide_config,
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, value: u32, clock: u64) {
        match offset {
            reg::TPR => self.tpr = value & 0xFF,
            reg::EOI => {
                if let Some(v) = self.isr.highest() {
                    self.isr.remove(v);
                }
            }
            reg::SVR => self.svr = value & 0x3FF,
            // There is one CPU: an INIT or startup IPI has no one to reach.
            reg::ICR_LOW => self.icr_low = value,
            reg::ICR_HIGH => self.icr_high = value,
            reg::TIMER => self.lvt_timer = value & 0x3_00FF,
            reg::PCINT => self.lvt_pcint = value,
            reg::LINT0 => self.lvt_lint0 = value,
            reg::LINT1 => self.lvt_lint1 = value,
            reg::ERROR => self.lvt_error = value,
            reg::TICR => {
                self.initial_count = value;
                self.start_timer(clock);
            }
            reg::TDCR => self.divide_config = value & 0xB,
            _ => {}
        }
    }

    /// The vector the local timer raises when it runs out, unless its
    /// entry is masked.
    pub fn timer_vector(&self) -> Option<u8> {
        (self.lvt_timer & LVT_MASKED == 0).then_some((self.lvt_timer & 0xFF) as u8)
    }

    /// The timer ran out at `clock`: reload it if periodic; the vector it
    /// requests unless masked.
    fn timer_fired(&mut self, clock: u64) -> Option<u8> {
        if self.lvt_timer & LVT_PERIODIC != 0 {
            // A timer far behind (after a long stretch with no steps) fires
            // once, as a real interrupt stays requested once.
            let period = self.period_steps();
            let mut next = self.next_fire + period;
            if next <= clock {
                next = clock + period;
            }
            self.loaded_at = next - period;
            self.next_fire = next;
        } else {
            self.next_fire = u64::MAX;
        }
        if self.lvt_timer & LVT_MASKED != 0 {
            return None;
        }
        let vector = (self.lvt_timer & 0xFF) as u8;
        self.irr.insert(vector);
        Some(vector)
    }
}

/// The I/O APIC: a register select and a window onto the id, the version
/// and the redirection table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IoApic {
    pub select: u32,
    /// Each line's entry: low word (vector, mask bit 16, ...) and high word
    /// (destination).
    pub redirection: Vec<(u32, u32)>,
}

impl Default for IoApic {
    fn default() -> Self {
        IoApic {
            select: 0,
            redirection: vec![(LVT_MASKED, 0); IOAPIC_LINES],
        }
    }
}

impl IoApic {
    fn read(&self, offset: u32) -> u32 {
        match offset {
            0x00 => self.select,
            0x10 => match self.select {
                0 => u32::from(IOAPIC_ID) << 24,
                1 => ((IOAPIC_LINES as u32 - 1) << 16) | 0x11,
                r @ 0x10..=0x3F => {
                    let (low, high) = self.redirection[((r - 0x10) / 2) as usize];
                    if r % 2 == 0 { low } else { high }
                }
                _ => 0,
            },
            _ => 0,
        }
    }

    fn write(&mut self, offset: u32, value: u32) {
        match offset {
            0x00 => self.select = value & 0xFF,
            0x10 => {
                if let r @ 0x10..=0x3F = self.select {
                    let entry = &mut self.redirection[((r - 0x10) / 2) as usize];
                    if r % 2 == 0 {
                        entry.0 = value;
                    } else {
                        entry.1 = value;
                    }
                }
            }
            _ => {}
        }
    }

    /// Where line `irq` goes: its vector and whether the entry is masked.
    pub fn route(&self, irq: u8) -> (u8, bool) {
        match self.redirection.get(usize::from(irq)) {
            Some(&(low, _)) => ((low & 0xFF) as u8, low & LVT_MASKED != 0),
            None => (0, true),
        }
    }
}

/// The PC's interrupt controllers together, as the CPU and the bus see them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Apic {
    pub lapic: Lapic,
    pub ioapic: IoApic,
    /// The 8259 pair: its mask registers work; it never interrupts (the
    /// I/O APIC carries every line on this board).
    pub pic: Pic,
}

impl Apic {
    /// A device raised line `irq`: the I/O APIC routes it to the local
    /// APIC. An edge on a masked line is dropped, as the 82093AA manual
    /// says (and QEMU's I/O APIC does); the devices raise their line again
    /// while their condition holds, as a level on an ISA line is seen
    /// again at each register access.
    pub fn raise(&mut self, irq: u8) {
        let (vector, masked) = self.ioapic.route(Apic::pin_of(irq));
        if !masked {
            self.lapic.irr.insert(vector);
        }
    }

    #[inline(always)]
    pub fn requesting(&self) -> bool {
        self.lapic.irr.0 != [0; 4] && self.lapic.next().is_some()
    }

    /// The I/O APIC pin ISA line `irq` reaches: its own number, but for
    /// line 0 (the PIT), which reaches pin 2 (pin 0 carries the 8259's
    /// output): QEMU's board wires it so (`ioapic_set_irq`), and its
    /// firmware tables say so with an interrupt source override.
    pub fn pin_of(irq: u8) -> u8 {
        if irq == 0 { 2 } else { irq }
    }

    /// The vector the CPU would take now.
    pub fn next(&self) -> Option<u8> {
        self.lapic.next()
    }

    /// The CPU takes `vector`: it moves from requested to in service.
    pub fn acknowledge(&mut self, vector: u8) -> u8 {
        self.lapic.irr.remove(vector);
        self.lapic.isr.insert(vector);
        vector
    }

    pub(crate) fn read(&mut self, addr: u32, clock: u64) -> u32 {
        if addr >= LAPIC_BASE {
            self.lapic.read(addr - LAPIC_BASE, clock)
        } else if addr >= IOAPIC_BASE {
            self.ioapic.read(addr - IOAPIC_BASE)
        } else {
            self.pic.read(addr)
        }
    }

    pub(crate) fn write(&mut self, addr: u32, width: Width, value: u32, clock: u64) {
        if addr >= LAPIC_BASE {
            self.lapic.write(addr - LAPIC_BASE, value, clock);
        } else if addr >= IOAPIC_BASE {
            self.ioapic.write(addr - IOAPIC_BASE, value);
        } else {
            self.pic.write(addr, width, value);
        }
    }

    /// The step at which the local APIC timer next runs out.
    pub fn deadline(&self) -> u64 {
        self.lapic.next_fire
    }

    /// The timer ran out: the vector it requested, if not masked.
    pub fn service(&mut self, clock: u64) -> Option<u8> {
        if clock >= self.lapic.next_fire {
            self.lapic.timer_fired(clock)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_runs_down_at_the_documented_rate_and_reloads() {
        let mut a = Apic::default();
        a.write(LAPIC_BASE + reg::SVR, Width::Dword, SVR_ENABLE | 63, 0);
        a.write(LAPIC_BASE + reg::TDCR, Width::Dword, 0xB, 0);
        a.write(LAPIC_BASE + reg::TIMER, Width::Dword, LVT_PERIODIC | 32, 0);
        a.write(LAPIC_BASE + reg::TICR, Width::Dword, 10_000_000, 100);
        assert_eq!(a.deadline(), 100 + 1_000_000);
        assert_eq!(a.read(LAPIC_BASE + reg::TCCR, 100 + 500_000), 5_000_000);
        assert_eq!(a.service(1_000_100), Some(32));
        assert_eq!(a.deadline(), 2_000_100);
        assert_eq!(a.next(), Some(32));
        assert_eq!(a.acknowledge(32), 32);
        assert_eq!(a.next(), None);
        a.write(LAPIC_BASE + reg::EOI, Width::Dword, 0, 0);
        assert_eq!(a.lapic.isr.highest(), None);
    }

    #[test]
    fn an_edge_on_a_masked_line_is_dropped_and_an_unmasked_one_delivered() {
        let mut a = Apic::default();
        a.write(LAPIC_BASE + reg::SVR, Width::Dword, SVR_ENABLE | 63, 0);
        a.raise(4);
        assert_eq!(a.next(), None);
        // Select entry 4's low word and write vector 36, unmasked.
        a.write(IOAPIC_BASE, Width::Dword, 0x10 + 2 * 4, 0);
        a.write(IOAPIC_BASE + 0x10, Width::Dword, 36, 0);
        assert_eq!(a.next(), None);
        a.raise(4);
        assert_eq!(a.next(), Some(36));
        assert_eq!(a.ioapic.route(4), (36, false));
    }

    #[test]
    fn a_vector_in_service_blocks_its_class_and_lower_ones() {
        let mut a = Apic::default();
        a.lapic.svr = SVR_ENABLE;
        a.lapic.irr.insert(46);
        a.acknowledge(46);
        a.lapic.irr.insert(33);
        assert_eq!(a.next(), None);
        a.lapic.irr.insert(64);
        assert_eq!(a.next(), Some(64));
    }
}
