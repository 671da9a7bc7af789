//! A machine that runs firmware from the reset vector: a 64 KiB ROM at the
//! top of physical memory and below 1 MiB, as on a PC, and the CPU as it
//! comes out of reset. CPU testers such as test386 run this way.

use crate::bus::{Board, BoardKind};
use crate::cpu::Cpu;
use crate::devices::Component;
use crate::machine::{Machine, MachineConfig};

/// The size of a firmware ROM.
pub const ROM_SIZE: usize = 64 * 1024;

/// Where a PC decodes the ROM below 1 MiB (its copy at the top of the 4 GiB
/// space starts at 0xFFFF0000).
pub const ROM_LOW_BASE: u32 = 0xF0000;

/// Why a ROM cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RomError {
    /// The image is not 64 KiB.
    Size { len: usize },
    /// Memory ends below 1 MiB, where the ROM's low copy goes.
    TooLittleMemory { mem_size: usize },
}

impl std::fmt::Display for RomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RomError::Size { len } => {
                write!(f, "a ROM is {ROM_SIZE} bytes, this one {len}")
            }
            RomError::TooLittleMemory { mem_size } => write!(
                f,
                "the ROM goes below 1 MiB, and memory has {mem_size} bytes"
            ),
        }
    }
}

impl std::error::Error for RomError {}

impl Machine {
    /// A machine on the tester's board ([`Board::tester`]) with `rom` at
    /// physical 0xF0000 and at 0xFFFF0000, the CPU as reset leaves it:
    /// real mode, CS selector F000 with base FFFF0000, EIP FFF0, so that
    /// the first instruction is the ROM's last 16 bytes at 0xFFFFFFF0.
    ///
    /// The copy at 0xFFFF0000 is the ROM itself (see
    /// [`crate::PhysMem::rom`]: reads and fetches find it, writes are
    /// dropped). The copy at 0xF0000 is RAM loaded with the ROM, as a BIOS
    /// shadows itself: firmware runs from there once its first far jump
    /// reloads CS (test386's goes to F000:0045), and reads its tables
    /// there. Unlike a write-protected shadow, a write there would stick.
    pub fn with_rom(config: MachineConfig, rom: &[u8]) -> Result<Machine, RomError> {
        if rom.len() != ROM_SIZE {
            return Err(RomError::Size { len: rom.len() });
        }
        if config.mem_size < (ROM_LOW_BASE as usize + ROM_SIZE) {
            return Err(RomError::TooLittleMemory {
                mem_size: config.mem_size,
            });
        }
        let config = MachineConfig {
            board: BoardKind::Tester,
            ..config
        };
        let board = Board::tester(config.disk_blocks, config.disk_latency);
        let mut m = Machine::with_board(config, board);
        m.mem.load(ROM_LOW_BASE, rom).expect("memory reaches 1 MiB");
        m.mem.set_rom(rom);
        m.cpu = Cpu::power_on();
        m.forget_decoded();
        m.history.clear();
        Ok(m)
    }

    /// The POST codes written to port 0x190 so far, oldest first (empty
    /// on a board without the port).
    pub fn post_codes(&self) -> &[u8] {
        self.bus
            .device(|c| match c {
                Component::Post(p) => Some(&p.codes),
                _ => None,
            })
            .map_or(&[], Vec::as_slice)
    }
}
