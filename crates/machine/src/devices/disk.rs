//! The lessons' disk: 512-byte blocks moved by DMA to or from a physical
//! buffer, with an interrupt when done, a set latency after the command.

use super::{
    Ctx, DISK_ADDR, DISK_BLOCK, DISK_CMD_READ, DISK_CMD_WRITE, DISK_COMMAND, DISK_SIZE,
    DISK_STATUS_BUSY, DISK_STATUS_ERROR, DISK_STATUS_READY, Device,
};
use crate::decode::Width;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};

/// The size of a disk block.
pub const BLOCK_SIZE: usize = 512;

/// A disk request in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskRequest {
    pub block: u32,
    pub addr: u32,
    pub write: bool,
    pub done_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Disk {
    pub blocks: Vec<u8>,
    /// Ticks from a command to its interrupt.
    pub latency: u64,
    pub block_reg: u32,
    pub addr_reg: u32,
    pub busy: Option<DiskRequest>,
    pub error: bool,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Disk {
    pub fn new(blocks: usize, latency: u64, line: u8) -> Disk {
        Disk {
            blocks: vec![0; blocks * BLOCK_SIZE],
            latency,
            block_reg: 0,
            addr_reg: 0,
            busy: None,
            error: false,
            line,
        }
    }

    pub fn block_count(&self) -> u32 {
        (self.blocks.len() / BLOCK_SIZE) as u32
    }

    fn command(&mut self, command: u32, ctx: &mut Ctx) {
        let write = match command & 0xFF {
            DISK_CMD_READ => false,
            DISK_CMD_WRITE => true,
            _ => return,
        };
        if self.busy.is_some() || self.block_reg >= self.block_count() {
            self.error = true;
            return;
        }
        self.error = false;
        let request = DiskRequest {
            block: self.block_reg,
            addr: self.addr_reg,
            write,
            done_at: ctx.clock + self.latency.max(1),
        };
        let (block, addr, done_at) = (request.block, request.addr, request.done_at);
        self.busy = Some(request);
        ctx.emit(EventKind::DiskRequest, || Event::DiskRequest {
            block,
            addr,
            write,
            done_at,
        });
    }

    /// Moves one block between the disk and physical memory. DMA uses
    /// physical addresses: it bypasses paging and the TLB.
    fn dma(&mut self, r: DiskRequest, ctx: &mut Ctx) {
        let start = r.block as usize * BLOCK_SIZE;
        let len = BLOCK_SIZE as u32;
        if r.write {
            let data: Vec<u8> = (0..len)
                .map(|i| ctx.mem.read_u8(r.addr.wrapping_add(i)))
                .collect();
            self.blocks[start..start + BLOCK_SIZE].copy_from_slice(&data);
        } else {
            for (i, b) in self.blocks[start..start + BLOCK_SIZE].iter().enumerate() {
                ctx.mem.write_u8(r.addr.wrapping_add(i as u32), *b);
            }
        }
        ctx.emit(EventKind::Dma, || Event::Dma {
            block: r.block,
            addr: r.addr,
            len,
            to_memory: !r.write,
        });
    }
}

impl Device for Disk {
    fn read(&mut self, addr: u32, _width: Width, _ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            DISK_BLOCK => self.block_reg,
            DISK_ADDR => self.addr_reg,
            DISK_COMMAND => {
                if self.busy.is_some() {
                    DISK_STATUS_BUSY
                } else if self.error {
                    DISK_STATUS_READY | DISK_STATUS_ERROR
                } else {
                    DISK_STATUS_READY
                }
            }
            DISK_SIZE => self.block_count(),
            _ => u32::MAX,
        }
    }

    fn write(&mut self, addr: u32, _width: Width, value: u32, ctx: &mut Ctx) {
        match addr as u16 {
            DISK_BLOCK => self.block_reg = value,
            DISK_ADDR => self.addr_reg = value,
            DISK_COMMAND => self.command(value, ctx),
            _ => {}
        }
    }

    fn deadline(&self) -> u64 {
        self.busy.as_ref().map_or(u64::MAX, |r| r.done_at)
    }

    fn service(&mut self, ctx: &mut Ctx) {
        if self.busy.as_ref().is_some_and(|r| ctx.clock >= r.done_at)
            && let Some(r) = self.busy.take()
        {
            self.dma(r, ctx);
            ctx.raise(self.line);
        }
    }
}
