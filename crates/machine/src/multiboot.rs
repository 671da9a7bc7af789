//! Loading a multiboot kernel image: either the a.out kludge (header flag
//! bit 16: the header gives the load addresses) or, when that bit is clear,
//! an ELF file whose program headers say where each segment goes (as xv6's
//! kernel is, and as `qemu -kernel` loads it).
//!
//! The loader does what a multiboot boot loader does: it finds the header,
//! copies the image (or each loadable segment) to its physical address,
//! zeroes the bss, writes a small information structure, and enters the
//! image in flat 32-bit protected mode at ring 0 with paging and interrupts
//! off and EAX = 0x2BADB002.

use crate::cpu::{Cpu, Reg};
use crate::machine::Machine;

/// The magic number that starts a multiboot header.
pub const HEADER_MAGIC: u32 = 0x1BAD_B002;
/// The value EAX holds when a multiboot loader enters the image.
pub const LOADER_MAGIC: u32 = 0x2BAD_B002;
/// Where the loader writes its multiboot information structure.
pub const INFO_ADDR: u32 = 0x9000;

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

/// Loads `image` into `machine` and sets up the CPU to enter it.
pub fn load(machine: &mut Machine, image: &[u8]) -> Result<(), MultibootError> {
    let header = find_header(image)?;
    let entry_addr = if word(image, header + 4) & (1 << 16) == 0 {
        load_elf(machine, image)?
    } else {
        load_aout_kludge(machine, image, header)?
    };

    // The information structure: flags bit 0 says mem_lower and mem_upper are valid.
    let mem_kib = (machine.mem.len() / 1024) as u32;
    machine.mem.write(INFO_ADDR, 4, 1);
    machine.mem.write(INFO_ADDR + 4, 4, 640);
    machine
        .mem
        .write(INFO_ADDR + 8, 4, mem_kib.saturating_sub(1024));

    machine.cpu = Cpu::default();
    machine.cpu.set_reg(Reg::Eax, LOADER_MAGIC);
    machine.cpu.set_reg(Reg::Ebx, INFO_ADDR);
    machine.cpu.eip = entry_addr;
    Ok(())
}

/// Loads the image as the header's address fields say; returns the entry.
fn load_aout_kludge(
    machine: &mut Machine,
    image: &[u8],
    header: usize,
) -> Result<u32, MultibootError> {
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

    Ok(entry_addr)
}

/// Loads each loadable segment of an ELF image at its physical address,
/// zeroing what the file does not hold; returns the entry point.
fn load_elf(machine: &mut Machine, image: &[u8]) -> Result<u32, MultibootError> {
    let (entry, segments) = elf_segments(image)?;
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
    Ok(entry)
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
