//! Loading a multiboot kernel image: either the a.out kludge (header flag
//! bit 16: the header gives the load addresses) or, when that bit is clear,
//! an ELF file whose program headers say where each segment goes (as xv6's
//! kernel is, and as `qemu -kernel` loads it).
//!
//! The loader does what a multiboot boot loader does: it finds the header,
//! copies the image (or each loadable segment) to its physical address,
//! zeroes the bss, places the modules (as QEMU's `-initrd` does), writes the
//! information structure, and enters the image in flat 32-bit protected mode
//! at ring 0 with paging and interrupts off, EAX = 0x2BADB002 and EBX the
//! structure's address.
//!
//! Where things go is where QEMU 7.2 puts them, so that a kernel sees the
//! same addresses under both: the information structure at 0x9000; on the
//! first page boundary past the kernel's last byte (its bss included) the
//! module list and the modules' strings, in at least one page; then each
//! module on a page boundary of its own, in order (Multiboot 0.6.96, section
//! 3.3: `mods_addr` points to 16-byte entries of `mod_start`, `mod_end`,
//! `string` and a reserved word).

use crate::cpu::{Cpu, Reg};
use crate::machine::Machine;

/// The magic number that starts a multiboot header.
pub const HEADER_MAGIC: u32 = 0x1BAD_B002;
/// The value EAX holds when a multiboot loader enters the image.
pub const LOADER_MAGIC: u32 = 0x2BAD_B002;
/// Where the loader writes its multiboot information structure.
pub const INFO_ADDR: u32 = 0x9000;
/// The information structure's flag that says `mem_lower` and `mem_upper`
/// are valid.
pub const INFO_MEM: u32 = 1 << 0;
/// The information structure's flag that says `mods_count` and `mods_addr`
/// are valid (set with no modules too, as QEMU does).
pub const INFO_MODS: u32 = 1 << 3;
/// The base memory a kernel is told of, in KiB: 639, the last KiB of the
/// 640 being the EBDA, where the board's MP tables are (as the BIOS data
/// area's word at 0x413 says too, and as QEMU tells).
pub const MEM_LOWER_KIB: u32 = 639;
/// The RAM at the top that `mem_upper` leaves out, in KiB: QEMU's firmware
/// keeps the last 128 KiB of RAM for its own tables and marks it reserved,
/// so QEMU's loader reports the memory above 1 MiB less these (224 MiB
/// gives 228,224 KiB, 512 MiB gives 523,136 KiB). Telling a kernel the same
/// number makes its output the same under both machines.
pub const FIRMWARE_RESERVED_KIB: u32 = 128;
/// A module's entry in the list `mods_addr` points to.
const MOD_ENTRY: u32 = 16;
const PAGE: u32 = 4096;

/// A boot module: a file the loader puts in memory for the kernel, and the
/// string it passes with it (QEMU passes what `-initrd` named: the file's
/// path and any words after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub bytes: Vec<u8>,
    pub string: String,
}

/// Why an image could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultibootError {
    /// No header magic with a valid checksum in the first 8 KiB.
    NoHeader,
    /// A loadable i386 ELF file, but without a multiboot header: a program,
    /// not a kernel a boot loader starts.
    NoHeaderInElf,
    /// An ELF file this machine cannot load (the reason says why: its
    /// class, its machine, its segments).
    NotLoadableElf(String),
    /// The addresses in the header contradict each other or the file.
    BadAddresses(String),
    /// The image does not fit in physical memory.
    TooLarge(String),
    /// Header flag bit 16 is clear, so the image must be an ELF file, and
    /// it is not one this machine can load (the reason says why).
    BadElf(String),
}

impl std::fmt::Display for MultibootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MultibootError::NoHeader => {
                write!(
                    f,
                    "no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB"
                )
            }
            MultibootError::NoHeaderInElf => write!(
                f,
                "an i386 ELF file, but with no multiboot header (magic 0x1BADB002 with a valid \
                 checksum in the first 8 KiB): a program, not a kernel a boot loader starts"
            ),
            MultibootError::NotLoadableElf(why) => {
                write!(f, "not a 32-bit x86 (i386) ELF file a PC boots: {why}")
            }
            MultibootError::BadAddresses(why) => write!(f, "bad multiboot addresses: {why}"),
            MultibootError::TooLarge(why) => write!(f, "image too large: {why}"),
            MultibootError::BadElf(why) => write!(
                f,
                "the multiboot header has no load addresses (flag bit 16 clear), so the \
                 image must be a 32-bit x86 ELF file: {why}"
            ),
        }
    }
}

impl std::error::Error for MultibootError {}

fn word(image: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = image.get(offset..offset + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

/// The offset of the multiboot header in the first 8 KiB.
fn find_header(image: &[u8]) -> Result<usize, MultibootError> {
    let search_end = image.len().min(8192).saturating_sub(12);
    (0..=search_end)
        .step_by(4)
        .find(|&off| {
            let magic = word(image, off);
            let flags = word(image, off + 4);
            let checksum = word(image, off + 8);
            magic == HEADER_MAGIC && magic.wrapping_add(flags).wrapping_add(checksum) == 0
        })
        .ok_or(MultibootError::NoHeader)
}

/// Whether `image` is a kernel this loader boots, without loading it: the
/// same checks `load` makes before it copies anything, for a page that
/// wants to say what is wrong with a file at once.
pub fn check(image: &[u8]) -> Result<(), MultibootError> {
    let is_elf = image.get(..4) == Some(b"\x7fELF".as_slice());
    // An ELF is checked as one first (32-bit, i386, loadable), so a file
    // for another machine is named as that, not as a missing header.
    if is_elf {
        elf_segments(image).map_err(|e| match e {
            MultibootError::BadElf(why) => MultibootError::NotLoadableElf(why),
            other => other,
        })?;
    }
    let header = find_header(image).map_err(|e| match is_elf {
        true => MultibootError::NoHeaderInElf,
        false => e,
    })?;
    if word(image, header + 4) & (1 << 16) == 0 && !is_elf {
        return Err(MultibootError::BadElf(
            "it does not start with the ELF magic".into(),
        ));
    }
    Ok(())
}

/// Loads `image` into `machine` with no modules and sets up the CPU to enter it.
pub fn load(machine: &mut Machine, image: &[u8]) -> Result<(), MultibootError> {
    load_with_modules(machine, image, &[])
}

/// Loads `image` into `machine`, places `modules` after it, writes the
/// information structure and sets up the CPU to enter the image.
pub fn load_with_modules(
    machine: &mut Machine,
    image: &[u8],
    modules: &[Module],
) -> Result<(), MultibootError> {
    let header = find_header(image)?;
    let (entry_addr, kernel_end) = if word(image, header + 4) & (1 << 16) == 0 {
        load_elf(machine, image)?
    } else {
        load_aout_kludge(machine, image, header)?
    };
    let mods_addr = place_modules(machine, kernel_end, modules)?;

    // The information structure (Multiboot 0.6.96, section 3.3): the flags,
    // mem_lower and mem_upper in KiB, and at offsets 20 and 24 mods_count
    // and mods_addr.
    let mem_kib = (machine.mem.len() / 1024) as u32;
    machine.mem.write(INFO_ADDR, 4, INFO_MEM | INFO_MODS);
    machine.mem.write(INFO_ADDR + 4, 4, MEM_LOWER_KIB);
    machine.mem.write(
        INFO_ADDR + 8,
        4,
        mem_kib.saturating_sub(1024 + FIRMWARE_RESERVED_KIB),
    );
    machine.mem.write(INFO_ADDR + 20, 4, modules.len() as u32);
    machine.mem.write(INFO_ADDR + 24, 4, mods_addr);

    machine.cpu = Cpu::default();
    machine.cpu.set_reg(Reg::Eax, LOADER_MAGIC);
    machine.cpu.set_reg(Reg::Ebx, INFO_ADDR);
    machine.cpu.eip = entry_addr;
    Ok(())
}

/// Writes the module list, the modules' strings and the modules themselves
/// past `kernel_end` (see the module comment); returns the list's address.
/// With no modules nothing is written, so a kernel booted without any finds
/// its memory as before.
fn place_modules(
    machine: &mut Machine,
    kernel_end: u64,
    modules: &[Module],
) -> Result<u32, MultibootError> {
    let align = |a: u64| a.div_ceil(u64::from(PAGE)) * u64::from(PAGE);
    let list = align(kernel_end);
    let strings = list + u64::from(MOD_ENTRY) * modules.len() as u64;
    let strings_len: u64 = modules.iter().map(|m| m.string.len() as u64 + 1).sum();
    // The list and strings take at least a page, as in QEMU, whose loader
    // also keeps the kernel's command line and its own name there.
    let mut at = align((strings + strings_len).max(list + 1));
    let too_large = |what: String| {
        MultibootError::TooLarge(format!(
            "{what} past the machine's {} bytes of memory",
            machine.mem.len()
        ))
    };
    let mut entries = Vec::new();
    let mut string_at = strings;
    for (i, m) in modules.iter().enumerate() {
        let end = at + m.bytes.len() as u64;
        if end > machine.mem.len() as u64 {
            return Err(too_large(format!(
                "module {i} ({}, {} bytes) would end at {end:#x},",
                m.string,
                m.bytes.len()
            )));
        }
        entries.push((at, end, string_at));
        string_at += m.string.len() as u64 + 1;
        at = align(end);
    }
    if modules.is_empty() {
        return Ok(list.min(u64::from(u32::MAX)) as u32);
    }
    if string_at > machine.mem.len() as u64 {
        return Err(too_large(format!(
            "the module list would end at {string_at:#x},"
        )));
    }
    let write = |machine: &mut Machine, addr: u64, data: &[u8]| {
        machine
            .load(addr as u32, data)
            .map_err(|e| MultibootError::TooLarge(e.to_string()))
    };
    for (i, (m, &(start, end, string))) in modules.iter().zip(&entries).enumerate() {
        write(machine, start, &m.bytes)?;
        let mut entry = Vec::with_capacity(MOD_ENTRY as usize);
        for w in [start as u32, end as u32, string as u32, 0] {
            entry.extend(w.to_le_bytes());
        }
        write(machine, list + u64::from(MOD_ENTRY) * i as u64, &entry)?;
        let mut text = m.string.as_bytes().to_vec();
        text.push(0);
        write(machine, string, &text)?;
    }
    Ok(list as u32)
}

/// Loads the image as the header's address fields say; returns the entry
/// and the end of what was loaded (its bss included).
fn load_aout_kludge(
    machine: &mut Machine,
    image: &[u8],
    header: usize,
) -> Result<(u32, u64), MultibootError> {
    let header_addr = word(image, header + 12);
    let load_addr = word(image, header + 16);
    let load_end_addr = word(image, header + 20);
    let bss_end_addr = word(image, header + 24);
    let entry_addr = word(image, header + 28);

    let bad = |why: &str| MultibootError::BadAddresses(why.to_string());
    let header_delta = header_addr
        .checked_sub(load_addr)
        .ok_or_else(|| bad("header_addr is below load_addr"))? as usize;
    let file_start = header
        .checked_sub(header_delta)
        .ok_or_else(|| bad("load_addr lies before the start of the file"))?;
    let load_len = if load_end_addr == 0 {
        image.len() - file_start
    } else {
        load_end_addr
            .checked_sub(load_addr)
            .ok_or_else(|| bad("load_end_addr is below load_addr"))? as usize
    };
    let data = image
        .get(file_start..file_start + load_len)
        .ok_or_else(|| bad("load_end_addr lies past the end of the file"))?;
    machine
        .load(load_addr, data)
        .map_err(|e| MultibootError::TooLarge(e.to_string()))?;
    let loaded_end = load_addr.wrapping_add(load_len as u32);
    if bss_end_addr > loaded_end {
        let zeros = vec![0u8; (bss_end_addr - loaded_end) as usize];
        machine
            .load(loaded_end, &zeros)
            .map_err(|e| MultibootError::TooLarge(e.to_string()))?;
    }

    Ok((
        entry_addr,
        u64::from(loaded_end.max(bss_end_addr).max(load_addr)),
    ))
}

/// Loads each loadable segment of an ELF image at its physical address,
/// zeroing what the file does not hold; returns the entry point and the
/// end of the highest segment.
fn load_elf(machine: &mut Machine, image: &[u8]) -> Result<(u32, u64), MultibootError> {
    let (entry, segments) = elf_segments(image)?;
    let mut kernel_end = 0;
    for s in segments {
        // The whole segment must fit before any of it is written (its size
        // comes from the file: nothing is allocated for it).
        let end = u64::from(s.pa) + u64::from(s.memsz);
        if end > machine.mem.len() as u64 {
            return Err(MultibootError::TooLarge(format!(
                "the segment for {:#x} ends at {end:#x}, past the machine's {} bytes of memory",
                s.pa,
                machine.mem.len()
            )));
        }
        kernel_end = kernel_end.max(end);
        machine
            .load(s.pa, s.data)
            .map_err(|e| MultibootError::TooLarge(e.to_string()))?;
        // The rest of the segment in memory is zeros (the .bss), written a
        // page-sized piece at a time.
        const ZEROS: [u8; 4096] = [0; 4096];
        let mut at = s.pa as u64 + s.data.len() as u64;
        while at < end {
            let n = (end - at).min(ZEROS.len() as u64) as usize;
            machine
                .load(at as u32, &ZEROS[..n])
                .map_err(|e| MultibootError::TooLarge(e.to_string()))?;
            at += n as u64;
        }
    }
    Ok((entry, kernel_end))
}

/// A loadable segment: where it goes, its bytes in the file, and its size
/// in memory (the rest zero-filled when loaded).
struct Segment<'a> {
    pa: u32,
    data: &'a [u8],
    memsz: u32,
}

/// An ELF image's entry point and its loadable segments, or why it is not
/// an image this machine loads. Nothing is allocated for a segment: a file
/// from anyone may claim gigabytes.
fn elf_segments(image: &[u8]) -> Result<(u32, Vec<Segment<'_>>), MultibootError> {
    use object::read::elf::{FileHeader, ProgramHeader};
    let bad = |why: String| MultibootError::BadElf(why);
    if image.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(bad("it does not start with the ELF magic".into()));
    }
    let elf = object::elf::FileHeader32::<object::LittleEndian>::parse(image)
        .map_err(|e| bad(format!("not a 32-bit little-endian ELF file ({e})")))?;
    let endian = elf.endian().map_err(|e| bad(e.to_string()))?;
    if elf.e_machine(endian) != object::elf::EM_386 {
        return Err(bad(format!(
            "its machine is {}, not i386 (3)",
            elf.e_machine(endian)
        )));
    }
    let headers = elf
        .program_headers(endian, image)
        .map_err(|e| bad(format!("unreadable program headers ({e})")))?;
    let mut segments = Vec::new();
    for ph in headers
        .iter()
        .filter(|ph| ph.p_type(endian) == object::elf::PT_LOAD)
    {
        let pa = ph.p_paddr(endian);
        let data = ph.data(endian, image).map_err(|_| {
            bad(format!(
                "the segment for {pa:#x} lies past the end of the file"
            ))
        })?;
        let memsz = ph.p_memsz(endian);
        if (memsz as usize) < data.len() {
            return Err(bad(format!(
                "the segment for {pa:#x} is larger in the file than in memory"
            )));
        }
        if u64::from(pa) + u64::from(memsz) > 1 << 32 {
            return Err(bad(format!(
                "the segment for {pa:#x} ({memsz} bytes) runs past the 4 GiB a 32-bit machine addresses"
            )));
        }
        segments.push(Segment { pa, data, memsz });
    }
    if segments.is_empty() {
        return Err(bad("it has no loadable segment".into()));
    }
    Ok((elf.e_entry(endian), segments))
}
