//! The PC board profile: what an unmodified xv6 (or another kernel written
//! for a 1990s PC with an APIC) needs to boot and run, and what QEMU's
//! `-machine pc` gives it.
//!
//! | where | device |
//! |---|---|
//! | 0x20–0x21, 0xA0–0xA1 | the 8259 pair (masks only; it never interrupts) |
//! | 0x40–0x43, 0x61 | the 8254 PIT; channel 0 is ISA line 0, which reaches the I/O APIC's pin 2, as on QEMU's board |
//! | 0x60, 0x64 | PS/2 keyboard controller, set-1 scancodes, line 1; its output port's A20 gate |
//! | 0x92 | system control port A: the A20 gate |
//! | 0x70–0x71 | CMOS real-time clock (time from the board's start time and the steps) |
//! | 0x1F0–0x1F7, 0x3F6 | IDE controller, master and slave, PIO, line 14 |
//! | 0x3D4–0x3D5 | CGA cursor registers (the text screen is RAM at 0xB8000) |
//! | 0x3F8–0x3FF | 16550 UART (COM1), line 4 |
//! | 0xE9, 0xF4 | debug console and debug exit (as on the lessons' board) |
//! | 0xFEC00000 | I/O APIC (lines to vectors) |
//! | 0xFEE00000 | local APIC with its timer |
//!
//! Booting: either the kernel is loaded as a multiboot kernel ([`Machine::pc`],
//! as `qemu -kernel` does), or the CPU starts in real mode at 0000:7C00 with
//! the first disk's boot sector there ([`Machine::pc_boot_disk`], as a BIOS
//! hands over; xv6's `bootasm.S` and `bootmain.c` then do the rest).
//!
//! Firmware: the loader writes what a BIOS leaves in low memory: the BIOS
//! data area's EBDA segment (0x40E) and base memory size (0x413), and an
//! Intel MP floating pointer and configuration table (one processor, APIC
//! id 0; one ISA bus; one I/O APIC, id 1; no IMCR) in the EBDA at 0x9FC00,
//! where xv6's `mpinit` looks first.

use crate::bus::BoardKind;
use crate::bus::{Board, InterruptController, Part};
use crate::cpu::{Cpu, Reg, Seg, SegCache};
use crate::devices::{
    Apic, CMOS_DATA, CMOS_INDEX, COM1, CRT_DATA, CRT_INDEX, Cga, Component, DEBUG_CONSOLE,
    DEBUG_EXIT, DebugPort, IDE_COMMAND, IDE_CONTROL, IDE_DATA, IOAPIC_BASE, IRQ_DISK, IRQ_KEYBOARD,
    Ide, LAPIC_BASE, PIC_CMD, PIC_MASK_HIGH, PIC_MASK_LOW, PIC2_CMD, PIT_BASE, PIT_CONTROL,
    PS2_DATA, PS2_STATUS, Pit, Ps2, Rtc, SYSTEM_CONTROL_A, SYSTEM_CONTROL_B, TEXT_BASE, Uart,
};
use crate::machine::{Machine, MachineConfig};
use crate::memory::PhysMem;
use crate::multiboot::{self, MultibootError};

/// The serial port's interrupt line.
pub const IRQ_SERIAL: u8 = 4;
/// The PIT's channel 0: ISA line 0 (the I/O APIC's pin 2, see
/// [`crate::devices::Apic::pin_of`]).
pub const IRQ_PIT: u8 = 0;
/// Steps an IDE sector takes.
pub const IDE_LATENCY: u64 = 1_000;
/// The least RAM the PC board has: xv6's PHYSTOP (224 MiB).
pub const MIN_MEM_MIB: usize = 224;
/// Where the MP floating pointer goes (the first KiB of the EBDA).
const MP_ADDR: u32 = 0x9_FC00;
/// Where a BIOS loads the boot sector and jumps to, in real mode (0000:7C00).
pub const BOOT_SECTOR_ADDR: u32 = 0x7C00;
/// The drive number a BIOS passes in DL: the first hard disk.
pub const BOOT_DRIVE: u8 = 0x80;
/// A sector's size, and so the boot sector's.
const SECTOR: usize = 512;

impl Board {
    /// The PC board (see the module comment), with the IDE master's and
    /// slave's images and the time its clock reads at step 0 (Unix seconds).
    pub fn pc(master: Option<Vec<u8>>, slave: Option<Vec<u8>>, rtc_start: u64) -> Board {
        let one = |port: u16| (port, port);
        Board {
            name: "pc",
            controller: InterruptController::Apic(Apic::default()),
            controller_ports: vec![(PIC_CMD, PIC_MASK_LOW), (PIC2_CMD, PIC_MASK_HIGH)],
            controller_mmio: vec![
                (IOAPIC_BASE, IOAPIC_BASE + 0xFFF),
                (LAPIC_BASE, LAPIC_BASE + 0xFFF),
            ],
            parts: vec![
                Part {
                    device: Component::Pit(Pit::new(IRQ_PIT)),
                    ports: vec![(PIT_BASE, PIT_CONTROL), one(SYSTEM_CONTROL_B)],
                    mmio: None,
                },
                Part {
                    device: Component::Ps2(Ps2::new(IRQ_KEYBOARD)),
                    ports: vec![one(PS2_DATA), one(PS2_STATUS), one(SYSTEM_CONTROL_A)],
                    mmio: None,
                },
                Part {
                    device: Component::Uart(Uart::new(IRQ_SERIAL)),
                    ports: vec![(COM1, COM1 + 7)],
                    mmio: None,
                },
                Part {
                    device: Component::Ide(Ide::new(master, slave, IDE_LATENCY, IRQ_DISK)),
                    ports: vec![(IDE_DATA, IDE_COMMAND), one(IDE_CONTROL)],
                    mmio: None,
                },
                Part {
                    device: Component::Rtc(Rtc::new(rtc_start)),
                    ports: vec![(CMOS_INDEX, CMOS_DATA)],
                    mmio: None,
                },
                Part {
                    device: Component::Cga(Cga::new()),
                    ports: vec![(CRT_INDEX, CRT_DATA)],
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
}

/// What to build a PC from.
#[derive(Clone, Debug)]
pub struct PcConfig {
    /// RAM in MiB (at least [`MIN_MEM_MIB`]).
    pub mem_mib: usize,
    /// The IDE master's and slave's images; `qemu -drive index=1` is the
    /// slave, as xv6's fs.img is.
    pub master: Option<Vec<u8>>,
    pub slave: Option<Vec<u8>>,
    /// Steps between checkpoints for reverse stepping (0: none).
    pub checkpoint_interval: u64,
    /// What the CMOS clock reads at step 0, in Unix seconds: the host's
    /// clock when the machine is made for a person, a fixed time in tests
    /// ([`crate::devices::DEFAULT_START`] by default). Part of the machine's
    /// state, so a replay reads the same time.
    pub rtc_start: u64,
    /// The multiboot modules [`Machine::pc`] places after the kernel, in
    /// order (QEMU's `-initrd a,b`); a disk boot ignores them.
    pub modules: Vec<multiboot::Module>,
}

impl Default for PcConfig {
    fn default() -> Self {
        PcConfig {
            mem_mib: MIN_MEM_MIB,
            master: None,
            slave: None,
            checkpoint_interval: 0,
            rtc_start: crate::devices::DEFAULT_START,
            modules: Vec::new(),
        }
    }
}

/// Why a PC could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PcError {
    TooLittleMemory {
        mib: usize,
    },
    Kernel(MultibootError),
    /// A disk boot with no IDE master.
    NoBootDisk,
    /// The master is shorter than a sector.
    ShortBootDisk {
        len: usize,
    },
    /// The boot sector does not end in 55 AA.
    NotBootable {
        signature: [u8; 2],
    },
}

impl std::fmt::Display for PcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcError::TooLittleMemory { mib } => write!(
                f,
                "{mib} MiB of RAM is too little: the PC board needs at least {MIN_MEM_MIB} MiB"
            ),
            PcError::Kernel(e) => write!(f, "cannot load the kernel: {e}"),
            PcError::NoBootDisk => write!(
                f,
                "no disk to boot from: the IDE master (the first --disk of two) holds the boot sector"
            ),
            PcError::ShortBootDisk { len } => write!(
                f,
                "the boot disk is {len} bytes long, shorter than its {SECTOR}-byte boot sector"
            ),
            PcError::NotBootable { signature } => write!(
                f,
                "the boot disk's first sector is not bootable: it ends in {:02X} {:02X}, not the 55 AA a BIOS looks for",
                signature[0], signature[1]
            ),
        }
    }
}

impl std::error::Error for PcError {}

impl Machine {
    /// A PC with the multiboot kernel `kernel` loaded, its modules after it,
    /// and the firmware's tables in low memory, about to enter the kernel.
    pub fn pc(mut config: PcConfig, kernel: &[u8]) -> Result<Machine, PcError> {
        let modules = std::mem::take(&mut config.modules);
        let mut m = Machine::pc_board(config)?;
        multiboot::load_with_modules(&mut m, kernel, &modules).map_err(PcError::Kernel)?;
        m.history.clear();
        Ok(m)
    }

    /// A PC that boots its IDE master as a BIOS does: the boot sector
    /// (checked for the 55 AA signature) loaded at 0000:7C00, the CPU in
    /// real mode there with DL = 0x80 (the first hard disk), CS, DS, ES and
    /// SS 0, SP 0x7C00 (below the boot sector, where a BIOS leaves a stack),
    /// interrupts off (there are no BIOS services behind the vector table),
    /// and the firmware's tables in low memory.
    pub fn pc_boot_disk(config: PcConfig) -> Result<Machine, PcError> {
        let sector = match &config.master {
            None => return Err(PcError::NoBootDisk),
            Some(disk) if disk.len() < SECTOR => {
                return Err(PcError::ShortBootDisk { len: disk.len() });
            }
            Some(disk) => disk[..SECTOR].to_vec(),
        };
        let signature = [sector[SECTOR - 2], sector[SECTOR - 1]];
        if signature != [0x55, 0xAA] {
            return Err(PcError::NotBootable { signature });
        }
        let mut m = Machine::pc_board(config)?;
        for (i, b) in sector.iter().enumerate() {
            m.mem.write_u8(BOOT_SECTOR_ADDR + i as u32, *b);
        }
        let mut cpu = Cpu::power_on();
        cpu.load_seg(Seg::Cs, 0, SegCache::real(0));
        cpu.eip = BOOT_SECTOR_ADDR;
        cpu.set_reg(Reg::Edx, u32::from(BOOT_DRIVE));
        cpu.set_reg(Reg::Esp, BOOT_SECTOR_ADDR);
        m.cpu = cpu;
        m.forget_decoded();
        m.history.clear();
        Ok(m)
    }

    /// The PC board with its firmware's tables, nothing loaded yet.
    fn pc_board(config: PcConfig) -> Result<Machine, PcError> {
        if config.mem_mib < MIN_MEM_MIB {
            return Err(PcError::TooLittleMemory {
                mib: config.mem_mib,
            });
        }
        let machine_config = MachineConfig {
            mem_size: config.mem_mib << 20,
            checkpoint_interval: config.checkpoint_interval,
            board: BoardKind::Pc,
            ..MachineConfig::default()
        };
        let board = Board::pc(config.master, config.slave, config.rtc_start);
        let mut m = Machine::with_board(machine_config, board);
        write_firmware(&mut m.mem);
        Ok(m)
    }

    /// The serial port's output so far.
    pub fn serial_output(&self) -> &[u8] {
        self.bus
            .device(|c| match c {
                Component::Uart(u) => Some(&u.output),
                _ => None,
            })
            .map_or(&[], Vec::as_slice)
    }

    /// What the CMOS clock read at step 0 (Unix seconds), if the board has
    /// one: with the steps run, the time it reads now.
    pub fn rtc_start(&self) -> Option<u64> {
        self.bus
            .device(|c| match c {
                Component::Rtc(r) => Some(&r.start),
                _ => None,
            })
            .copied()
    }

    /// The IDE drive's image as the guest has left it (0 master, 1 slave).
    pub fn ide_image(&self, drive: usize) -> Option<&[u8]> {
        self.bus
            .device(|c| match c {
                Component::Ide(d) => Some(d),
                _ => None,
            })
            .and_then(|d| d.image(drive))
    }
}

fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)))
}

/// Writes the BIOS data area, the MP tables and a blank text screen.
fn write_firmware(mem: &mut PhysMem) {
    // The EBDA's segment and the base memory size in KiB.
    mem.write(0x40E, 2, MP_ADDR >> 4);
    mem.write(0x413, 2, 639);

    let conf_addr = MP_ADDR + 16;
    let mut conf = Vec::new();
    conf.extend_from_slice(b"PCMP");
    conf.extend_from_slice(&[0, 0]); // length, below
    conf.push(4); // version 1.4
    conf.push(0); // checksum, below
    conf.extend_from_slice(b"OSVIZ   PC          "); // OEM id and product id
    conf.extend_from_slice(&0u32.to_le_bytes()); // no OEM table
    conf.extend_from_slice(&0u16.to_le_bytes());
    conf.extend_from_slice(&3u16.to_le_bytes()); // entries
    conf.extend_from_slice(&LAPIC_BASE.to_le_bytes());
    conf.extend_from_slice(&[0, 0, 0, 0]); // no extended table
    // The processor: APIC id 0, version 0x14, enabled and the bootstrap one.
    conf.extend_from_slice(&[0, 0, 0x14, 0x03]);
    conf.extend_from_slice(&0x0000_0633u32.to_le_bytes()); // family 6 signature
    conf.extend_from_slice(&0x0000_0201u32.to_le_bytes()); // FPU and APIC features
    conf.extend_from_slice(&[0; 8]);
    // The ISA bus.
    conf.extend_from_slice(&[1, 0]);
    conf.extend_from_slice(b"ISA   ");
    // The I/O APIC: id 1, version 0x11, enabled.
    conf.extend_from_slice(&[2, crate::devices::IOAPIC_ID, 0x11, 1]);
    conf.extend_from_slice(&IOAPIC_BASE.to_le_bytes());
    let len = conf.len() as u16;
    conf[4..6].copy_from_slice(&len.to_le_bytes());
    conf[7] = checksum(&conf);

    let mut mp = Vec::new();
    mp.extend_from_slice(b"_MP_");
    mp.extend_from_slice(&conf_addr.to_le_bytes());
    mp.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]); // length 1 (16 bytes), rev 1.4, no IMCR
    mp[10] = checksum(&mp);

    for (i, b) in mp.iter().chain(conf.iter()).enumerate() {
        mem.write_u8(MP_ADDR + i as u32, *b);
    }
    // A blank screen: spaces, light grey on black.
    for cell in 0..80 * 25 {
        mem.write(TEXT_BASE + cell * 2, 2, 0x0720);
    }
}
