//! Port I/O, device time and input, as the machine sees them: each goes to
//! the [`crate::bus::Bus`], lending it memory and the event record.

use crate::decode::Width;
use crate::devices::Component;
use crate::event::{Event, EventKind};
use crate::history::InputChannel;
use crate::machine::{Machine, StopReason};

/// What the bus may borrow from the machine for one call.
macro_rules! lend_from {
    ($m:expr) => {
        $crate::bus::Lend {
            clock: $m.steps + $m.clock_ahead,
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
        self.history
            .record_input(self.steps, byte, InputChannel::Keyboard);
        self.deliver_input(byte, InputChannel::Keyboard);
    }

    /// Types these keys at these steps (in order, none before now), as
    /// recorded input: going forward ([`Machine::seek`], a replay) delivers
    /// each at its step, as [`Machine::press_key`] would have then. Input
    /// recorded for later steps is replaced. Needs the history on.
    pub fn press_keys_at(&mut self, keys: &[(u64, u8)]) -> Result<(), crate::SeekError> {
        if !self.history.enabled() {
            return Err(crate::SeekError::NoHistory);
        }
        let now = self.steps;
        self.history.schedule_inputs(
            now,
            keys.iter()
                .filter(|k| k.0 >= now)
                .map(|&(step, byte)| crate::Input {
                    step,
                    byte,
                    channel: InputChannel::Keyboard,
                }),
        );
        Ok(())
    }

    /// Sends a byte down the serial line now (recorded as
    /// [`Machine::press_key`] records keys). It enters the UART's receive
    /// register when that is empty.
    pub fn send_serial(&mut self, byte: u8) {
        self.history
            .record_input(self.steps, byte, InputChannel::Serial);
        self.deliver_input(byte, InputChannel::Serial);
    }

    /// Whether the serial line still holds typed bytes the guest has not
    /// taken into the receive register.
    pub fn serial_input_waiting(&self) -> usize {
        self.bus
            .device(|c| match c {
                Component::Uart(u) => Some(u),
                _ => None,
            })
            .map_or(0, |u| u.input.len() + usize::from(u.received.is_some()))
    }

    pub(crate) fn deliver_input(&mut self, byte: u8, channel: InputChannel) {
        self.emit(EventKind::KeyInput, || Event::KeyInput { byte });
        self.bus.type_input(byte, channel, lend_from!(self));
        self.next_deadline = self.bus.next_deadline();
    }
}
