//! The PC's IDE controller on 0x1F0–0x1F7 and 0x3F6: a master and a slave
//! drive, sectors moved by programmed I/O through the data register (the
//! CPU copies them with `insl`/`outsl`), an interrupt on line 14 when a
//! sector is ready to read or has been written.
//!
//! The drives hold copies of their images in memory: a guest's writes
//! change the copy, never the file it came from. The copy is shared with
//! the history's checkpoints (and a replay's comparisons) until the guest
//! writes a sector: xv6's 512 KB `fs.img` is not copied a million steps. A drive with no image is
//! absent (its status reads 0), except the master, which is always present
//! so that a kernel waiting for it to be ready (xv6's `idewait`) does not
//! wait forever; it has no sectors.

use super::{Ctx, Device};
use crate::decode::Width;
use crate::event::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The sector size.
pub const SECTOR: usize = 512;
/// The data register; the task-file registers follow it.
pub const IDE_DATA: u16 = 0x1F0;
/// The command (write) and status (read) register.
pub const IDE_COMMAND: u16 = 0x1F7;
/// The device control (write) and alternate status (read) register.
pub const IDE_CONTROL: u16 = 0x3F6;

const BSY: u8 = 0x80;
const DRDY: u8 = 0x40;
const DSC: u8 = 0x10;
const DRQ: u8 = 0x08;
const ERR: u8 = 0x01;
/// The error register's "aborted command" and "sector not found" bits.
const ABRT: u8 = 0x04;
const IDNF: u8 = 0x10;
/// Device control: interrupts disabled.
const NIEN: u8 = 0x02;

/// What an IDE command byte asks of the drive: the commands the
/// controller carries out, by their ATA names; any other is aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdeOp {
    /// READ SECTORS (0x20, or 0x21 without retries): one sector a data block.
    ReadSectors,
    /// READ MULTIPLE (0xC4): every sector in one data block.
    ReadMultiple,
    /// WRITE SECTORS (0x30, or 0x31 without retries).
    WriteSectors,
    /// WRITE MULTIPLE (0xC5).
    WriteMultiple,
    /// A command the controller does not carry out (it aborts it).
    Other,
}

impl IdeOp {
    /// The operation of a command byte written to the command register.
    pub fn of(command: u8) -> IdeOp {
        match command {
            0x20 | 0x21 => IdeOp::ReadSectors,
            0xC4 => IdeOp::ReadMultiple,
            0x30 | 0x31 => IdeOp::WriteSectors,
            0xC5 => IdeOp::WriteMultiple,
            _ => IdeOp::Other,
        }
    }

    /// Whether the command moves sectors to the drive.
    pub fn is_write(self) -> bool {
        matches!(self, IdeOp::WriteSectors | IdeOp::WriteMultiple)
    }

    /// Whether the command moves sectors at all.
    pub fn moves_sectors(self) -> bool {
        self != IdeOp::Other
    }

    /// The command's ATA name.
    pub fn name(self) -> &'static str {
        match self {
            IdeOp::ReadSectors => "READ SECTORS",
            IdeOp::ReadMultiple => "READ MULTIPLE",
            IdeOp::WriteSectors => "WRITE SECTORS",
            IdeOp::WriteMultiple => "WRITE MULTIPLE",
            IdeOp::Other => "unknown command",
        }
    }

    /// What it does, in a word: `read` or `write` (or `unknown`).
    pub fn verb(self) -> &'static str {
        match self {
            IdeOp::ReadSectors | IdeOp::ReadMultiple => "read",
            IdeOp::WriteSectors | IdeOp::WriteMultiple => "write",
            IdeOp::Other => "unknown",
        }
    }
}

/// A command in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    pub drive: u8,
    pub write: bool,
    /// The next sector to move.
    pub sector: u32,
    /// Sectors still to move.
    pub left: u32,
    /// Sectors per data block (one for READ/WRITE SECTORS, all of them for
    /// the MULTIPLE forms).
    pub per_block: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ide {
    /// The master's and the slave's images (`None`: no drive).
    pub drives: [Option<Arc<Vec<u8>>>; 2],
    pub features: u8,
    pub count: u8,
    pub lba: [u8; 3],
    pub drive_head: u8,
    pub control: u8,
    /// Status and error of the drives (one controller holds one set).
    pub status: u8,
    pub error: u8,
    /// The data block being read or written, and the position in it.
    pub buffer: Vec<u8>,
    pub pos: usize,
    pub transfer: Option<Transfer>,
    /// When the busy drive finishes what it is doing (`u64::MAX`: idle).
    pub due: u64,
    /// Steps a sector takes to read or write.
    pub latency: u64,
    /// The interrupt line it raises.
    pub line: u8,
}

impl Ide {
    /// A controller with the given drive images.
    pub fn new(master: Option<Vec<u8>>, slave: Option<Vec<u8>>, latency: u64, line: u8) -> Ide {
        Ide {
            drives: [
                Some(Arc::new(master.unwrap_or_default())),
                slave.map(Arc::new),
            ],
            status: DRDY | DSC,
            due: u64::MAX,
            latency,
            line,
            ..Ide::default()
        }
    }

    fn selected(&self) -> u8 {
        (self.drive_head >> 4) & 1
    }

    fn present(&self) -> bool {
        self.drives[usize::from(self.selected())].is_some()
    }

    fn sectors(&self, drive: u8) -> u32 {
        self.drives[usize::from(drive)]
            .as_ref()
            .map_or(0, |d| (d.len() / SECTOR) as u32)
    }

    fn lba28(&self) -> u32 {
        u32::from(self.lba[0])
            | u32::from(self.lba[1]) << 8
            | u32::from(self.lba[2]) << 16
            | (u32::from(self.drive_head) & 0xF) << 24
    }

    fn interrupt(&self, ctx: &mut Ctx) {
        if self.control & NIEN == 0 {
            ctx.raise(self.line);
        }
    }

    fn fail(&mut self, error: u8, ctx: &mut Ctx) {
        self.transfer = None;
        self.status = DRDY | DSC | ERR;
        self.error = error;
        self.interrupt(ctx);
    }

    fn command(&mut self, command: u8, ctx: &mut Ctx) {
        if !self.present() {
            return;
        }
        let drive = self.selected();
        let sector = self.lba28();
        let count = if self.count == 0 {
            256
        } else {
            u32::from(self.count)
        };
        ctx.emit(EventKind::IdeCommand, || Event::IdeCommand {
            drive,
            command,
            sector,
            count: self.count,
        });
        let op = IdeOp::of(command);
        if !op.moves_sectors() {
            return self.fail(ABRT, ctx);
        }
        let write = op.is_write();
        let multiple = matches!(op, IdeOp::ReadMultiple | IdeOp::WriteMultiple);
        if u64::from(sector) + u64::from(count) > u64::from(self.sectors(drive)) {
            return self.fail(IDNF, ctx);
        }
        self.error = 0;
        let per_block = if multiple { count } else { 1 };
        self.transfer = Some(Transfer {
            drive,
            write,
            sector,
            left: count,
            per_block,
        });
        if write {
            // The drive asks for the first block at once.
            self.buffer = vec![0; SECTOR * per_block as usize];
            self.pos = 0;
            self.status = DRDY | DSC | DRQ;
        } else {
            self.status = BSY | DRDY;
            self.due = ctx.clock + self.latency;
        }
    }

    /// Moves past the block just done: `None` when it was the last (the
    /// command is over), else the transfer of the next block.
    fn advance(&mut self, t: &Transfer) -> Option<Transfer> {
        let n = t.per_block.min(t.left);
        let left = t.left - n;
        self.transfer = (left > 0).then(|| Transfer {
            sector: t.sector + n,
            left,
            ..t.clone()
        });
        if self.transfer.is_none() {
            self.status = DRDY | DSC;
        }
        self.transfer.clone()
    }

    fn sector_events(t: &Transfer, ctx: &mut Ctx) {
        for s in t.sector..t.sector + t.per_block.min(t.left) {
            ctx.emit(EventKind::IdeSector, || Event::IdeSector {
                drive: t.drive,
                sector: s,
                write: t.write,
            });
        }
    }

    /// The block now due: read into the buffer, or the written block done.
    fn finish_block(&mut self, ctx: &mut Ctx) {
        self.due = u64::MAX;
        let Some(t) = self.transfer.clone() else {
            return;
        };
        if t.write {
            if let Some(next) = self.advance(&t) {
                self.buffer = vec![0; SECTOR * next.per_block.min(next.left) as usize];
                self.pos = 0;
                self.status = DRDY | DSC | DRQ;
            }
        } else {
            let image = self.drives[usize::from(t.drive)]
                .as_deref()
                .map_or(&[][..], Vec::as_slice);
            let start = t.sector as usize * SECTOR;
            let n = t.per_block.min(t.left) as usize;
            self.buffer = image[start..start + n * SECTOR].to_vec();
            self.pos = 0;
            self.status = DRDY | DSC | DRQ;
            Self::sector_events(&t, ctx);
        }
        self.interrupt(ctx);
    }

    /// The CPU has moved the whole data block through the data register.
    fn block_moved(&mut self, ctx: &mut Ctx) {
        let Some(t) = self.transfer.clone() else {
            return;
        };
        if t.write {
            let start = t.sector as usize * SECTOR;
            if let Some(image) = self.drives[usize::from(t.drive)].as_mut() {
                // The checkpoints share the image until a write.
                let image = Arc::make_mut(image);
                image[start..start + self.buffer.len()].copy_from_slice(&self.buffer);
            }
            Self::sector_events(&t, ctx);
            self.status = BSY | DRDY;
            self.due = ctx.clock + self.latency;
        } else if self.advance(&t).is_some() {
            self.status = BSY | DRDY;
            self.due = ctx.clock + self.latency;
        }
    }

    fn data_in(&mut self, width: Width, ctx: &mut Ctx) -> u32 {
        if self.status & DRQ == 0 || self.transfer.as_ref().is_none_or(|t| t.write) {
            return width.mask();
        }
        let n = width.bytes() as usize;
        let mut v = 0u32;
        for i in 0..n {
            v |= u32::from(self.buffer.get(self.pos + i).copied().unwrap_or(0)) << (8 * i);
        }
        self.pos += n;
        if self.pos >= self.buffer.len() {
            self.block_moved(ctx);
        }
        v
    }

    fn data_out(&mut self, width: Width, value: u32, ctx: &mut Ctx) {
        if self.status & DRQ == 0 || !self.transfer.as_ref().is_some_and(|t| t.write) {
            return;
        }
        for i in 0..width.bytes() as usize {
            if let Some(b) = self.buffer.get_mut(self.pos + i) {
                *b = (value >> (8 * i)) as u8;
            }
        }
        self.pos += width.bytes() as usize;
        if self.pos >= self.buffer.len() {
            self.block_moved(ctx);
        }
    }

    fn status_now(&self) -> u8 {
        if self.present() { self.status } else { 0 }
    }

    /// A drive's image as the guest has left it (for saving it on request).
    pub fn image(&self, drive: usize) -> Option<&[u8]> {
        self.drives.get(drive)?.as_deref().map(Vec::as_slice)
    }
}

impl Device for Ide {
    fn read(&mut self, addr: u32, width: Width, ctx: &mut Ctx) -> u32 {
        match addr as u16 {
            IDE_DATA => self.data_in(width, ctx),
            0x1F1 => u32::from(self.error),
            0x1F2 => u32::from(self.count),
            0x1F3 => u32::from(self.lba[0]),
            0x1F4 => u32::from(self.lba[1]),
            0x1F5 => u32::from(self.lba[2]),
            0x1F6 => u32::from(self.drive_head),
            IDE_COMMAND | IDE_CONTROL => u32::from(self.status_now()),
            _ => width.mask(),
        }
    }

    fn write(&mut self, addr: u32, width: Width, value: u32, ctx: &mut Ctx) {
        let byte = value as u8;
        match addr as u16 {
            IDE_DATA => self.data_out(width, value, ctx),
            0x1F1 => self.features = byte,
            0x1F2 => self.count = byte,
            0x1F3 => self.lba[0] = byte,
            0x1F4 => self.lba[1] = byte,
            0x1F5 => self.lba[2] = byte,
            0x1F6 => self.drive_head = byte,
            IDE_COMMAND => self.command(byte, ctx),
            IDE_CONTROL => self.control = byte,
            _ => {}
        }
    }

    fn deadline(&self) -> u64 {
        self.due
    }

    fn service(&mut self, ctx: &mut Ctx) {
        if ctx.clock >= self.due {
            self.finish_block(ctx);
        }
    }
}
