//! Port I/O, device time and input, as the machine sees them: each goes to
//! the [`crate::bus::Bus`], lending it memory and the event record.

use crate::decode::Width;
use crate::devices::Component;
use crate::event::{Event, EventKind};
use crate::machine::{Machine, StopReason};

/// What the bus may borrow from the machine for one call.
macro_rules! lend_from {
    ($m:expr) => {
        $crate::bus::Lend {
            clock: $m.clock,
            mem: &mut $m.mem,
            recording: $m.recording,
            seen: &mut $m.seen,
            events: &mut $m.step_events,
        }
    };
}
pub(crate) use lend_from as lend;

impl Machine {
    /// `in`: reads a port.
    pub(crate) fn port_in(&mut self, port: u16, w: Width) -> u32 {
        let value = self.bus.port_in(port, w, lend_from!(self));
        self.emit(EventKind::PortIn, || Event::PortIn {
            port,
            value,
            size: w.bytes() as u8,
        });
        value
    }

    /// `out`: writes a port. Returns a stop reason for the debug-exit port.
    pub(crate) fn port_out(&mut self, port: u16, w: Width, value: u32) -> Option<StopReason> {
        self.emit(EventKind::PortOut, || Event::PortOut {
            port,
            value,
            size: w.bytes() as u8,
        });
        let stop = self.bus.port_out(port, w, value, lend_from!(self));
        // A write may have set a device's deadline (a timer period, a disk
        // command).
        self.next_deadline = self.bus.next_deadline();
        stop
    }

    /// Runs every device whose deadline has come.
    pub(crate) fn service_devices(&mut self) {
        self.bus.service(lend_from!(self));
        self.next_deadline = self.bus.next_deadline();
    }

    /// Types a byte on the keyboard now. The byte is recorded with the
    /// current step so that replays (reverse stepping, share links) deliver
    /// it at exactly the same point.
    pub fn press_key(&mut self, byte: u8) {
        self.history.record_input(self.steps, byte);
        self.deliver_key(byte);
    }

    pub(crate) fn deliver_key(&mut self, byte: u8) {
        let keyboard = self.bus.device_mut(|c| match c {
            Component::Keyboard(k) => Some(k),
            _ => None,
        });
        // A board without a keyboard drops what is typed.
        let Some(keyboard) = keyboard else {
            return;
        };
        keyboard.queue.push_back(byte);
        let line = keyboard.line;
        self.emit(EventKind::KeyInput, || Event::KeyInput { byte });
        self.bus.raise(line, lend_from!(self));
    }
}
