//! Port I/O and device time: what `in` and `out` reach, and what devices do
//! when their moment comes.

use crate::decode::Width;
use crate::devices::*;
use crate::event::{Event, EventKind};
use crate::machine::{Machine, StopReason};

impl Machine {
    /// `in`: reads a port.
    pub(crate) fn port_in(&mut self, port: u16, w: Width) -> u32 {
        let d = &mut self.devices;
        let value = match port {
            PIC_CMD => u32::from(d.pic.pending & 0xFF),
            PIC2_CMD => u32::from(d.pic.pending >> 8),
            PIC_MASK_LOW => u32::from(d.pic.mask & 0xFF),
            PIC_MASK_HIGH => u32::from(d.pic.mask >> 8),
            TIMER_PORT => {
                if d.timer.period == 0 {
                    0
                } else {
                    d.timer.next.saturating_sub(self.clock) as u32
                }
            }
            KEYBOARD_DATA => {
                let byte = d.keyboard.queue.pop_front().unwrap_or(0);
                // More bytes waiting raise the line again, as a keyboard
                // controller does after each read.
                if !d.keyboard.queue.is_empty() {
                    d.pic.raise(IRQ_KEYBOARD);
                }
                u32::from(byte)
            }
            KEYBOARD_STATUS => u32::from(!d.keyboard.queue.is_empty()),
            CONSOLE_STATUS => 0x60,
            DISK_BLOCK => d.disk.block_reg,
            DISK_ADDR => d.disk.addr_reg,
            DISK_COMMAND => {
                if d.disk.busy.is_some() {
                    DISK_STATUS_BUSY
                } else if d.disk.error {
                    DISK_STATUS_READY | DISK_STATUS_ERROR
                } else {
                    DISK_STATUS_READY
                }
            }
            DISK_SIZE => d.disk.block_count(),
            DEBUG_CONSOLE => 0xE9,
            // Nothing answers: the bus floats high, as on a PC.
            _ => 0xFFFF_FFFF,
        } & w.mask();
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
        let clock = self.clock;
        let d = &mut self.devices;
        match port {
            PIC_CMD | PIC2_CMD if value & 0xFF == EOI => d.pic.eoi(),
            PIC_MASK_LOW => d.pic.mask = (d.pic.mask & 0xFF00) | (value as u16 & 0xFF),
            PIC_MASK_HIGH => d.pic.mask = (d.pic.mask & 0x00FF) | ((value as u16 & 0xFF) << 8),
            TIMER_PORT => {
                d.timer.period = u64::from(value);
                d.timer.next = clock + u64::from(value);
                self.next_deadline = d.next_deadline();
            }
            CONSOLE_DATA => d.console.push(value as u8),
            DEBUG_CONSOLE => d.debug.push(value as u8),
            DEBUG_EXIT => return Some(StopReason::DebugExit { code: value as u8 }),
            DISK_BLOCK => d.disk.block_reg = value,
            DISK_ADDR => d.disk.addr_reg = value,
            DISK_COMMAND => self.disk_command(value),
            _ => {}
        }
        None
    }

    fn disk_command(&mut self, command: u32) {
        let clock = self.clock;
        let disk = &mut self.devices.disk;
        let write = match command & 0xFF {
            DISK_CMD_READ => false,
            DISK_CMD_WRITE => true,
            _ => return,
        };
        if disk.busy.is_some() || disk.block_reg >= disk.block_count() {
            disk.error = true;
            return;
        }
        disk.error = false;
        let request = DiskRequest {
            block: disk.block_reg,
            addr: disk.addr_reg,
            write,
            done_at: clock + disk.latency.max(1),
        };
        let (block, addr, done_at) = (request.block, request.addr, request.done_at);
        disk.busy = Some(request);
        self.next_deadline = self.devices.next_deadline();
        self.emit(EventKind::DiskRequest, || Event::DiskRequest {
            block,
            addr,
            write,
            done_at,
        });
    }

    /// Raises device line `irq` at the interrupt controller.
    pub(crate) fn raise_irq(&mut self, irq: u8) {
        self.devices.pic.raise(irq);
        self.emit(EventKind::IrqRaised, || Event::IrqRaised {
            irq,
            vector: IRQ_BASE + irq,
        });
    }

    /// Runs every device whose deadline has come.
    pub(crate) fn service_devices(&mut self) {
        let clock = self.clock;
        let timer = &mut self.devices.timer;
        if timer.period > 0 && clock >= timer.next {
            // A timer far behind (after a long halt) fires once, not once per
            // missed period, as a real interrupt line stays raised once.
            timer.next = (timer.next + timer.period).max(clock + 1);
            self.raise_irq(IRQ_TIMER);
        }
        let done = self
            .devices
            .disk
            .busy
            .as_ref()
            .is_some_and(|r| clock >= r.done_at);
        if done && let Some(r) = self.devices.disk.busy.take() {
            self.dma(r);
            self.raise_irq(IRQ_DISK);
        }
        self.next_deadline = self.devices.next_deadline();
    }

    /// Moves one block between the disk and physical memory. DMA uses
    /// physical addresses: it bypasses paging and the TLB.
    fn dma(&mut self, r: DiskRequest) {
        let start = r.block as usize * BLOCK_SIZE;
        let len = BLOCK_SIZE as u32;
        if r.write {
            let data: Vec<u8> = (0..len)
                .map(|i| self.mem.read_u8(r.addr.wrapping_add(i)))
                .collect();
            self.devices.disk.blocks[start..start + BLOCK_SIZE].copy_from_slice(&data);
        } else {
            let data = self.devices.disk.blocks[start..start + BLOCK_SIZE].to_vec();
            for (i, b) in data.into_iter().enumerate() {
                self.mem.write_u8(r.addr.wrapping_add(i as u32), b);
            }
        }
        self.emit(EventKind::Dma, || Event::Dma {
            block: r.block,
            addr: r.addr,
            len,
            to_memory: !r.write,
        });
    }

    /// Types a byte on the keyboard now. The byte is recorded with the
    /// current step so that replays (reverse stepping, share links) deliver
    /// it at exactly the same point.
    pub fn press_key(&mut self, byte: u8) {
        self.history.record_input(self.steps, byte);
        self.deliver_key(byte);
    }

    pub(crate) fn deliver_key(&mut self, byte: u8) {
        self.devices.keyboard.queue.push_back(byte);
        self.emit(EventKind::KeyInput, || Event::KeyInput { byte });
        self.raise_irq(IRQ_KEYBOARD);
    }
}
