//! The bus: port I/O and memory-mapped I/O dispatched to the devices a
//! board profile puts on it, the interrupt controller the CPU asks for the
//! next vector, and device time (each device's deadline, serviced when it
//! comes).
//!
//! A [`Board`] says which devices a machine has, at which ports and
//! physical address ranges, wired to which interrupt lines. The lessons'
//! board is [`Board::lessons`]; a PC board is another profile on the same
//! bus.

use crate::decode::Width;
use crate::devices::{
    Apic, CONSOLE_DATA, CONSOLE_STATUS, Component, Console, Ctx, DEBUG_CONSOLE, DEBUG_EXIT,
    DISK_BLOCK, DISK_SIZE, DebugPort, DeviceClass, Disk, IRQ_DISK, IRQ_KEYBOARD, IRQ_TIMER,
    KEYBOARD_DATA, KEYBOARD_STATUS, Keyboard, PIC_CMD, PIC_MASK_HIGH, PIC_MASK_LOW, PIC2_CMD,
    POST_PORT, Pic, PostPort, TIMER_PORT, Timer,
};
use crate::event::{Event, EventKind, KindSet};
use crate::history::InputChannel;
use crate::machine::StopReason;
use crate::memory::PhysMem;
use serde::{Deserialize, Serialize};

/// The interrupt controllers a board can have, behind one interface: the
/// CPU asks whether a line requests service, which vector comes next, and
/// acknowledges it; devices raise lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterruptController {
    /// The lessons' controller (see [`Pic`]).
    Pic(Pic),
    /// The PC's local APIC, I/O APIC and masked 8259 pair (see [`Apic`]).
    Apic(Apic),
}

impl InterruptController {
    /// Raises a device line.
    pub fn raise(&mut self, line: u8) {
        match self {
            InterruptController::Pic(p) => p.raise(line),
            InterruptController::Apic(a) => a.raise(line),
        }
    }

    /// Whether some unmasked line is pending.
    #[inline(always)]
    pub fn requesting(&self) -> bool {
        match self {
            InterruptController::Pic(p) => p.requesting(),
            InterruptController::Apic(a) => a.requesting(),
        }
    }

    /// What the CPU would take now, if anything: a line of the PIC, a
    /// vector of the APIC (either is handed back to
    /// [`InterruptController::acknowledge`]).
    pub fn next(&self) -> Option<u8> {
        match self {
            InterruptController::Pic(p) => p.next(),
            InterruptController::Apic(a) => a.next(),
        }
    }

    /// The CPU takes what [`InterruptController::next`] offered: returns
    /// the vector to deliver.
    pub fn acknowledge(&mut self, next: u8) -> u8 {
        match self {
            InterruptController::Pic(p) => {
                p.acknowledge(next);
                p.vector(next)
            }
            InterruptController::Apic(a) => a.acknowledge(next),
        }
    }

    /// The vector a device line raises now, and whether it is masked on
    /// the way (the I/O APIC's redirection entry).
    pub fn route(&self, line: u8) -> (u8, bool) {
        match self {
            InterruptController::Pic(p) => (p.vector(line), false),
            InterruptController::Apic(a) => a.ioapic.route(crate::devices::Apic::pin_of(line)),
        }
    }

    /// The vector a line raises.
    pub fn vector(&self, line: u8) -> u8 {
        self.route(line).0
    }

    /// The vector the controller's own timer raises (the local APIC's),
    /// when it has one and it is not masked.
    pub fn timer_vector(&self) -> Option<u8> {
        match self {
            InterruptController::Pic(_) => None,
            InterruptController::Apic(a) => a.lapic.timer_vector(),
        }
    }

    /// The step at which the controller itself has something to do (the
    /// local APIC timer).
    pub fn deadline(&self) -> u64 {
        match self {
            InterruptController::Pic(_) => u64::MAX,
            InterruptController::Apic(a) => a.deadline(),
        }
    }

    fn read(&mut self, addr: u32, clock: u64) -> u32 {
        match self {
            InterruptController::Pic(p) => p.read(addr),
            InterruptController::Apic(a) => a.read(addr, clock),
        }
    }

    fn write(&mut self, addr: u32, width: Width, value: u32, clock: u64) {
        match self {
            InterruptController::Pic(p) => p.write(addr, width, value),
            InterruptController::Apic(a) => a.write(addr, width, value, clock),
        }
    }
}

/// Who raises an interrupt vector on a board: a device on an interrupt
/// line, or the interrupt controller's own timer (the local APIC's, which
/// has no line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptSource {
    pub device: DeviceClass,
    /// The line, for a device on one.
    pub line: Option<u8>,
}

/// Who answers an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Target {
    Controller,
    Component(usize),
}

/// A range of ports or of physical addresses, inclusive, and who answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Window {
    first: u32,
    last: u32,
    target: Target,
}

/// A device of a board and where it answers.
#[derive(Clone, Debug)]
pub struct Part {
    pub device: Component,
    /// Inclusive port ranges.
    pub ports: Vec<(u16, u16)>,
    /// An inclusive physical address range, for memory-mapped registers.
    pub mmio: Option<(u32, u32)>,
}

/// A board profile: the interrupt controller and the devices, with their
/// ports, memory-mapped ranges and interrupt lines (each device holds its
/// line).
#[derive(Clone, Debug)]
pub struct Board {
    pub name: &'static str,
    pub controller: InterruptController,
    /// The controller's ports.
    pub controller_ports: Vec<(u16, u16)>,
    /// The controller's memory-mapped ranges, inclusive.
    pub controller_mmio: Vec<(u32, u32)>,
    pub parts: Vec<Part>,
}

/// Which board a machine is built on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardKind {
    /// The teaching machine of the lessons (see [`Board::lessons`]).
    #[default]
    Lessons,
    /// A PC as xv6 needs one (see [`Board::pc`]); built with its drives by
    /// [`crate::Machine::pc`].
    Pc,
    /// The lessons' board with a POST port, for a CPU tester run as
    /// firmware (see [`Board::tester`]); built with its ROM by
    /// [`crate::Machine::with_rom`].
    Tester,
}

impl Board {
    /// The lessons' board: the interrupt controller, a timer on line 0, the
    /// keyboard on line 1, the console, a DMA disk on line 14, and the
    /// debug ports (the port map is in [`crate::devices`]).
    pub fn lessons(disk_blocks: usize, disk_latency: u64) -> Board {
        let one = |port: u16| (port, port);
        Board {
            name: "lessons",
            controller: InterruptController::Pic(Pic::default()),
            controller_ports: vec![(PIC_CMD, PIC_MASK_LOW), (PIC2_CMD, PIC_MASK_HIGH)],
            controller_mmio: Vec::new(),
            parts: vec![
                Part {
                    device: Component::Timer(Timer {
                        line: IRQ_TIMER,
                        ..Timer::default()
                    }),
                    ports: vec![one(TIMER_PORT)],
                    mmio: None,
                },
                Part {
                    device: Component::Keyboard(Keyboard {
                        line: IRQ_KEYBOARD,
                        ..Keyboard::default()
                    }),
                    ports: vec![one(KEYBOARD_DATA), one(KEYBOARD_STATUS)],
                    mmio: None,
                },
                Part {
                    device: Component::Console(Console::default()),
                    ports: vec![one(CONSOLE_DATA), one(CONSOLE_STATUS)],
                    mmio: None,
                },
                Part {
                    device: Component::Disk(Disk::new(disk_blocks, disk_latency, IRQ_DISK)),
                    ports: vec![(DISK_BLOCK, DISK_SIZE)],
                    mmio: None,
                },
                Part {
                    device: Component::DebugPort(DebugPort::default()),
                    ports: vec![one(DEBUG_CONSOLE), one(DEBUG_EXIT)],
                    mmio: None,
                },
            ],
        }
    }

    /// The board a CPU tester such as test386 runs on as firmware: the
    /// lessons' board (its debug port 0xE9 takes the tester's text) and the
    /// POST port 0x190, where the tester writes the number of each test it
    /// begins.
    pub fn tester(disk_blocks: usize, disk_latency: u64) -> Board {
        let mut board = Board::lessons(disk_blocks, disk_latency);
        board.name = "tester";
        board.parts.push(Part {
            device: Component::Post(PostPort::default()),
            ports: vec![(POST_PORT, POST_PORT)],
            mmio: None,
        });
        board
    }

    pub fn of(kind: BoardKind, disk_blocks: usize, disk_latency: u64) -> Board {
        match kind {
            BoardKind::Lessons => Board::lessons(disk_blocks, disk_latency),
            BoardKind::Pc => Board::pc(None, None, crate::devices::DEFAULT_START),
            BoardKind::Tester => Board::tester(disk_blocks, disk_latency),
        }
    }
}

/// What the machine lends the bus for one access: memory for DMA, and the
/// event record.
pub(crate) struct Lend<'a> {
    pub clock: u64,
    pub mem: &'a mut PhysMem,
    pub recording: bool,
    pub seen: &'a mut KindSet,
    pub events: &'a mut Vec<Event>,
}

impl<'a> Lend<'a> {
    /// The context a device gets: what was lent, no lines raised yet, no stop.
    fn into_ctx(self) -> Ctx<'a> {
        Ctx {
            clock: self.clock,
            mem: self.mem,
            raised: 0,
            stop: None,
            recording: self.recording,
            seen: self.seen,
            events: self.events,
            // The bus puts its own gate in (see `Bus::with_device`).
            a20: true,
        }
    }
}

/// The devices of a machine, where they answer, and its interrupt
/// controller. Plain data: snapshots serialize it and the state hash
/// hashes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bus {
    controller: InterruptController,
    components: Vec<Component>,
    ports: Vec<Window>,
    mmio: Vec<Window>,
    /// Loads and stores a memory-mapped device answered since the machine
    /// started: counted whether or not their events are recorded (xv6's
    /// idle loop reads the local APIC's ID millions of times).
    mmio_accesses: u64,
    /// The A20 gate (see [`Bus::a20`]).
    a20: bool,
}

impl Bus {
    pub fn new(board: Board) -> Bus {
        let mut ports: Vec<Window> = board
            .controller_ports
            .iter()
            .map(|&(first, last)| Window {
                first: u32::from(first),
                last: u32::from(last),
                target: Target::Controller,
            })
            .collect();
        let mut mmio: Vec<Window> = board
            .controller_mmio
            .iter()
            .map(|&(first, last)| Window {
                first,
                last,
                target: Target::Controller,
            })
            .collect();
        let mut components = Vec::new();
        for (i, part) in board.parts.into_iter().enumerate() {
            let target = Target::Component(i);
            ports.extend(part.ports.iter().map(|&(first, last)| Window {
                first: u32::from(first),
                last: u32::from(last),
                target,
            }));
            if let Some((first, last)) = part.mmio {
                mmio.push(Window {
                    first,
                    last,
                    target,
                });
            }
            components.push(part.device);
        }
        Bus {
            controller: board.controller,
            components,
            ports,
            mmio,
            mmio_accesses: 0,
            a20: true,
        }
    }

    /// Whether address line 20 reaches memory. When the gate is closed,
    /// bit 20 of every physical address the CPU makes with paging off is
    /// cleared, so that 1 MiB and up wraps to 0 as on an 8086. It starts
    /// open, as QEMU's and Bochs's reset and the BIOS hand over; the
    /// keyboard controller's output port (command 0xD1, as xv6's
    /// `bootasm.S` writes it, or 0xDD/0xDF) and port 0x92 open and close it.
    #[inline(always)]
    pub fn a20(&self) -> bool {
        self.a20
    }

    /// The interrupt controller.
    #[inline(always)]
    pub fn controller(&self) -> &InterruptController {
        &self.controller
    }

    pub(crate) fn controller_mut(&mut self) -> &mut InterruptController {
        &mut self.controller
    }

    /// The devices, in the board's order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// What the device wired to interrupt line `line` is (the board's
    /// wiring: the page asks this rather than knowing that the disk is on
    /// line 14).
    pub fn device_on_line(&self, line: u8) -> Option<DeviceClass> {
        self.components
            .iter()
            .find(|c| c.line() == Some(line))
            .map(Component::class)
    }

    /// Who raises `vector` now, as the interrupt controller routes the
    /// lines (the I/O APIC's table is the kernel's to program): the
    /// controller's own timer, or the device whose line is routed there
    /// unmasked. `None` for a vector no device raises (an exception, a
    /// system call, a spurious or unrouted one).
    pub fn source_of_vector(&self, vector: u8) -> Option<InterruptSource> {
        if self.controller.timer_vector() == Some(vector) {
            return Some(InterruptSource {
                device: DeviceClass::Timer,
                line: None,
            });
        }
        self.components.iter().find_map(|c| {
            let line = c.line()?;
            let (routed, masked) = self.controller.route(line);
            (routed == vector && !masked).then(|| InterruptSource {
                device: c.class(),
                line: Some(line),
            })
        })
    }

    fn find(windows: &[Window], addr: u32) -> Option<Target> {
        windows
            .iter()
            .find(|w| (w.first..=w.last).contains(&addr))
            .map(|w| w.target)
    }

    /// What the device answering I/O port `port` is; `None` where none
    /// answers, or where the interrupt controller does (it is no device a
    /// student's program drives).
    pub fn device_at_port(&self, port: u16) -> Option<DeviceClass> {
        match Self::find(&self.ports, u32::from(port))? {
            Target::Component(i) => self.components.get(i).map(Component::class),
            Target::Controller => None,
        }
    }

    /// Whether a physical address belongs to a memory-mapped device.
    #[inline(always)]
    pub fn is_mmio(&self, pa: u32) -> bool {
        !self.mmio.is_empty() && Self::find(&self.mmio, pa).is_some()
    }

    /// Whether the board has any memory-mapped device.
    #[inline(always)]
    pub fn has_mmio(&self) -> bool {
        !self.mmio.is_empty()
    }

    /// Loads and stores a memory-mapped device has answered since the
    /// machine started (part of its state: time travel keeps it right).
    pub fn mmio_accesses(&self) -> u64 {
        self.mmio_accesses
    }

    /// Counts `n` more accesses: those of idle periods a replay skipped.
    pub(crate) fn add_mmio_accesses(&mut self, n: u64) {
        self.mmio_accesses += n;
    }

    pub(crate) fn set_mmio_accesses(&mut self, n: u64) {
        self.mmio_accesses = n;
    }

    /// Calls `f` on device `index` with the context it may use; then hands
    /// the lines it raised to the interrupt controller (each with its
    /// event). Returns `f`'s result and the stop a device asked for.
    fn with_device<R>(
        &mut self,
        index: usize,
        lend: Lend,
        f: impl FnOnce(&mut Component, &mut Ctx) -> R,
    ) -> (R, Option<StopReason>) {
        let mut ctx = lend.into_ctx();
        ctx.a20 = self.a20;
        let result = f(&mut self.components[index], &mut ctx);
        self.a20 = ctx.a20;
        let (raised, stop) = (ctx.raised, ctx.stop.take());
        self.raise_lines(raised, &mut ctx);
        (result, stop)
    }

    fn raise_lines(&mut self, mut lines: u32, ctx: &mut Ctx) {
        while lines != 0 {
            let line = lines.trailing_zeros() as u8;
            lines &= lines - 1;
            self.controller.raise(line);
            let (vector, masked) = self.controller.route(line);
            ctx.emit(EventKind::IrqRaised, || Event::IrqRaised {
                irq: line,
                vector,
            });
            if matches!(self.controller, InterruptController::Apic(_)) {
                ctx.emit(EventKind::IoApicDelivery, || Event::IoApicDelivery {
                    irq: line,
                    vector,
                    masked,
                });
            }
        }
    }

    /// A byte typed: the device of its channel takes it (a board without
    /// one drops it). The lessons' keyboard queues the byte; the PC's PS/2
    /// controller its scancodes; the UART waits to receive it.
    pub(crate) fn type_input(&mut self, byte: u8, channel: InputChannel, lend: Lend) {
        let index = self.components.iter().position(|c| match channel {
            InputChannel::Keyboard => matches!(c, Component::Keyboard(_) | Component::Ps2(_)),
            InputChannel::Serial => matches!(c, Component::Uart(_)),
        });
        let Some(index) = index else {
            return;
        };
        self.with_device(index, lend, |d, ctx| match d {
            Component::Keyboard(k) => {
                k.queue.push_back(byte);
                ctx.raise(k.line);
            }
            Component::Ps2(p) => p.type_byte(byte, ctx),
            Component::Uart(u) => u.type_byte(byte, ctx),
            _ => {}
        });
    }

    /// Reads the register at `addr` of whoever answers it.
    fn read_in(&mut self, target: Target, addr: u32, width: Width, lend: Lend) -> u32 {
        let value = match target {
            Target::Controller => self.controller.read(addr, lend.clock),
            Target::Component(i) => {
                self.with_device(i, lend, |d, ctx| d.read(addr, width, ctx))
                    .0
            }
        };
        value & width.mask()
    }

    /// Writes the register at `addr` of whoever answers it; a stop reason
    /// when a device stops the machine.
    fn write_in(
        &mut self,
        target: Target,
        addr: u32,
        width: Width,
        value: u32,
        lend: Lend,
    ) -> Option<StopReason> {
        let value = value & width.mask();
        match target {
            Target::Controller => {
                self.controller.write(addr, width, value, lend.clock);
                None
            }
            Target::Component(i) => {
                self.with_device(i, lend, |d, ctx| d.write(addr, width, value, ctx))
                    .1
            }
        }
    }

    /// `in`: what the port reads; all ones where no device answers, as on a PC.
    pub(crate) fn port_in(&mut self, port: u16, width: Width, lend: Lend) -> u32 {
        let addr = u32::from(port);
        match Self::find(&self.ports, addr) {
            Some(target) => self.read_in(target, addr, width, lend),
            None => width.mask(),
        }
    }

    /// `out`: writes a port; a stop reason when a device stops the machine.
    pub(crate) fn port_out(
        &mut self,
        port: u16,
        width: Width,
        value: u32,
        lend: Lend,
    ) -> Option<StopReason> {
        let addr = u32::from(port);
        let target = Self::find(&self.ports, addr)?;
        self.write_in(target, addr, width, value, lend)
    }

    /// A memory-mapped read; `None` when no device answers there. The flag
    /// says whether the read may have changed something (a device's state,
    /// a line raised): reads of the interrupt controllers' registers do
    /// not (the local APIC's current count is computed from the clock), so
    /// the block path need not leave its block after them.
    pub(crate) fn mmio_read(&mut self, pa: u32, width: Width, lend: Lend) -> Option<(u32, bool)> {
        let target = Self::find(&self.mmio, pa)?;
        self.mmio_accesses += 1;
        let effects = target != Target::Controller;
        Some((self.read_in(target, pa, width, lend), effects))
    }

    /// A memory-mapped write; false when no device answers there.
    pub(crate) fn mmio_write(&mut self, pa: u32, width: Width, value: u32, lend: Lend) -> bool {
        let Some(target) = Self::find(&self.mmio, pa) else {
            return false;
        };
        self.mmio_accesses += 1;
        self.write_in(target, pa, width, value, lend);
        true
    }

    /// The earliest tick at which a device has something to do.
    pub fn next_deadline(&self) -> u64 {
        self.components
            .iter()
            .map(Component::deadline)
            .fold(self.controller.deadline(), u64::min)
    }

    /// Services every device whose deadline has come, in the board's order.
    pub(crate) fn service(&mut self, lend: Lend) {
        let Lend {
            clock,
            mem,
            recording,
            seen,
            events,
        } = lend;
        if let InterruptController::Apic(apic) = &mut self.controller
            && let Some(vector) = apic.service(clock)
        {
            seen.insert(EventKind::LapicTimer);
            if recording {
                events.push(Event::LapicTimer { vector });
            }
        }
        for i in 0..self.components.len() {
            if self.components[i].deadline() > clock {
                continue;
            }
            let lend = Lend {
                clock,
                mem: &mut *mem,
                recording,
                seen: &mut *seen,
                events: &mut *events,
            };
            self.with_device(i, lend, |d, ctx| d.service(ctx));
        }
    }

    /// The first device of a kind, by a selector such as
    /// `|c| match c { Component::Disk(d) => Some(d), _ => None }`.
    pub fn device<'a, T>(&'a self, pick: impl Fn(&'a Component) -> Option<&'a T>) -> Option<&'a T> {
        self.components.iter().find_map(pick)
    }

    /// The first device of a kind, to change it.
    pub(crate) fn device_mut<'a, T>(
        &'a mut self,
        pick: impl Fn(&'a mut Component) -> Option<&'a mut T>,
    ) -> Option<&'a mut T> {
        self.components.iter_mut().find_map(pick)
    }
}
