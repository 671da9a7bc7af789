//! The devices: each a component with its own state (serialized in
//! snapshots, hashed in the state hash), its registers, its deadline and the
//! events it produces. They sit on the [`crate::bus::Bus`], which a board
//! profile ([`crate::bus::Board`]) fills. All of them count time in machine
//! ticks (one per step, see [`crate::Machine::clock`]), never the wall clock,
//! so every run replays exactly.
//!
//! The lessons' board:
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
//! The tester's board ([`crate::Board::tester`]) is the lessons' board with
//! one more port:
//!
//! | ports | device | |
//! |---|---|---|
//! | 0x190 | POST port | write: a power-on self-test code (test386's `POST_PORT`); read: all ones |
//!
//! Device line n raises vector 32 + n: the timer is line 0, the keyboard
//! line 1, the disk line 14. Any other port reads all ones and ignores writes,
//! as on a PC.

mod apic;
mod cga;
mod console;
mod disk;
mod ide;
mod keyboard;
mod pic;
mod pit;
mod post;
mod ps2;
mod rtc;
mod timer;
mod uart;

pub use apic::{Apic, IOAPIC_BASE, IOAPIC_ID, IoApic, LAPIC_BASE, Lapic, TIMER_COUNTS_PER_STEP};
pub use cga::{COLUMNS, CRT_DATA, CRT_INDEX, Cga, ROWS, TEXT_BASE};
pub use console::{Console, DebugPort};
pub use disk::{BLOCK_SIZE, Disk, DiskRequest};
pub use ide::{IDE_COMMAND, IDE_CONTROL, IDE_DATA, Ide, IdeOp, SECTOR, Transfer};
pub use keyboard::Keyboard;
pub use pic::Pic;
pub use pit::{PIT_BASE, PIT_CONTROL, PIT_HZ, Pit, PitAccess, PitChannel, SYSTEM_CONTROL_B};
pub use post::PostPort;
pub use ps2::{PS2_DATA, PS2_STATUS, Ps2, SYSTEM_CONTROL_A, scancodes};
pub use rtc::{CMOS_DATA, CMOS_INDEX, Civil, DEFAULT_START, Rtc, STEPS_PER_SECOND};
pub use timer::Timer;
pub use uart::{COM1, Uart};

use crate::decode::Width;
use crate::event::{Event, EventKind, KindSet};
use crate::machine::StopReason;
use crate::memory::PhysMem;
use serde::{Deserialize, Serialize};

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
pub const POST_PORT: u16 = 0x190;

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

/// What a device may touch while it answers an access or does what its
/// deadline brought: the clock, physical memory (for DMA), its interrupt
/// lines, the event record, and the machine's stop (the debug-exit port).
pub(crate) struct Ctx<'a> {
    pub clock: u64,
    pub mem: &'a mut PhysMem,
    /// The lines raised during the call, one bit each; the bus hands them to
    /// the interrupt controller afterwards.
    pub raised: u32,
    pub stop: Option<StopReason>,
    pub recording: bool,
    pub seen: &'a mut KindSet,
    pub events: &'a mut Vec<Event>,
    /// The A20 gate: whether address line 20 reaches memory (the keyboard
    /// controller's output port and port 0x92 set it; see [`crate::Bus::a20`]).
    pub a20: bool,
}

impl Ctx<'_> {
    /// Records an event of `kind` (built only when recording is on).
    pub fn emit(&mut self, kind: EventKind, make: impl FnOnce() -> Event) {
        self.seen.insert(kind);
        if self.recording {
            self.events.push(make());
        }
    }

    /// Raises interrupt line `line`.
    pub fn raise(&mut self, line: u8) {
        self.raised |= 1 << line;
    }
}

/// A device's registers and time.
pub(crate) trait Device {
    /// Reads the register at `addr` (a port, or a physical address for a
    /// memory-mapped device).
    fn read(&mut self, addr: u32, width: Width, ctx: &mut Ctx) -> u32;
    /// Writes the register at `addr`.
    fn write(&mut self, addr: u32, width: Width, value: u32, ctx: &mut Ctx);
    /// The earliest tick at which the device has something to do.
    fn deadline(&self) -> u64 {
        u64::MAX
    }
    /// Does what is due by `ctx.clock`.
    fn service(&mut self, _ctx: &mut Ctx) {}
}

/// A device on the bus. An enum rather than boxed trait objects: the
/// components are plain data that snapshots serialize, the state hash
/// hashes, and a clone copies, and a call dispatches without indirection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Component {
    Timer(Timer),
    Keyboard(Keyboard),
    Console(Console),
    Disk(Disk),
    DebugPort(DebugPort),
    Ide(Ide),
    Uart(Uart),
    Ps2(Ps2),
    Cga(Cga),
    Rtc(Rtc),
    Pit(Pit),
    Post(PostPort),
}

/// What a device is for, whatever the board's model of it: the lessons'
/// DMA disk and the PC's IDE controller are both a disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    Timer,
    Keyboard,
    Console,
    Disk,
    Serial,
    Display,
    Debug,
    Clock,
}

impl DeviceClass {
    /// The device in a word or two a student reads.
    pub fn words(self) -> &'static str {
        match self {
            DeviceClass::Timer => "timer",
            DeviceClass::Keyboard => "keyboard",
            DeviceClass::Console => "console",
            DeviceClass::Disk => "disk",
            DeviceClass::Serial => "serial port",
            DeviceClass::Display => "display",
            DeviceClass::Debug => "debug port",
            DeviceClass::Clock => "real-time clock",
        }
    }
}

impl Component {
    /// What the device is for.
    pub fn class(&self) -> DeviceClass {
        match self {
            Component::Timer(_) | Component::Pit(_) => DeviceClass::Timer,
            Component::Keyboard(_) | Component::Ps2(_) => DeviceClass::Keyboard,
            Component::Console(_) => DeviceClass::Console,
            Component::Disk(_) | Component::Ide(_) => DeviceClass::Disk,
            Component::Uart(_) => DeviceClass::Serial,
            Component::Cga(_) => DeviceClass::Display,
            Component::DebugPort(_) | Component::Post(_) => DeviceClass::Debug,
            Component::Rtc(_) => DeviceClass::Clock,
        }
    }

    /// The interrupt line the device raises, if it raises one.
    pub fn line(&self) -> Option<u8> {
        match self {
            Component::Timer(d) => Some(d.line),
            Component::Keyboard(d) => Some(d.line),
            Component::Disk(d) => Some(d.line),
            Component::Ide(d) => Some(d.line),
            Component::Uart(d) => Some(d.line),
            Component::Ps2(d) => Some(d.line),
            Component::Pit(d) => Some(d.line),
            // The clock's interrupts (line 8) are not modelled.
            Component::Console(_)
            | Component::DebugPort(_)
            | Component::Cga(_)
            | Component::Rtc(_)
            | Component::Post(_) => None,
        }
    }

    /// What the device is, in a word.
    pub fn name(&self) -> &'static str {
        match self {
            Component::Timer(_) => "timer",
            Component::Keyboard(_) => "keyboard",
            Component::Console(_) => "console",
            Component::Disk(_) => "disk",
            Component::DebugPort(_) => "debug",
            Component::Ide(_) => "ide",
            Component::Uart(_) => "uart",
            Component::Ps2(_) => "ps2",
            Component::Cga(_) => "cga",
            Component::Rtc(_) => "rtc",
            Component::Pit(_) => "pit",
            Component::Post(_) => "post",
        }
    }

    fn device(&mut self) -> &mut dyn Device {
        match self {
            Component::Timer(d) => d,
            Component::Keyboard(d) => d,
            Component::Console(d) => d,
            Component::Disk(d) => d,
            Component::DebugPort(d) => d,
            Component::Ide(d) => d,
            Component::Uart(d) => d,
            Component::Ps2(d) => d,
            Component::Cga(d) => d,
            Component::Rtc(d) => d,
            Component::Pit(d) => d,
            Component::Post(d) => d,
        }
    }

    pub(crate) fn read(&mut self, addr: u32, width: Width, ctx: &mut Ctx) -> u32 {
        self.device().read(addr, width, ctx)
    }

    pub(crate) fn write(&mut self, addr: u32, width: Width, value: u32, ctx: &mut Ctx) {
        self.device().write(addr, width, value, ctx)
    }

    pub(crate) fn deadline(&self) -> u64 {
        match self {
            Component::Timer(d) => d.deadline(),
            Component::Disk(d) => d.deadline(),
            Component::Ide(d) => d.deadline(),
            Component::Pit(d) => d.deadline(),
            Component::Keyboard(_)
            | Component::Console(_)
            | Component::DebugPort(_)
            | Component::Uart(_)
            | Component::Ps2(_)
            | Component::Cga(_)
            | Component::Rtc(_)
            | Component::Post(_) => u64::MAX,
        }
    }

    pub(crate) fn service(&mut self, ctx: &mut Ctx) {
        self.device().service(ctx)
    }
}
