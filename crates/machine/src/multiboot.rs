//! Loading a multiboot kernel image that uses the a.out kludge (header flag bit 16).
//!
//! The loader does what a multiboot boot loader does: it finds the header,
//! copies the image to the load address it names, zeroes the bss, writes a
//! small information structure, and enters the image in flat 32-bit protected
//! mode at ring 0 with paging and interrupts off and EAX = 0x2BADB002.

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
    /// The header does not set flag bit 16, so it gives no load addresses.
    NoAddressFields,
    /// The addresses in the header contradict each other or the file.
    BadAddresses(String),
    /// The image does not fit in physical memory.
    TooLarge(String),
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
            MultibootError::NoAddressFields => {
                write!(
                    f,
                    "the multiboot header does not set flag bit 16 (load addresses)"
                )
            }
            MultibootError::BadAddresses(why) => write!(f, "bad multiboot addresses: {why}"),
            MultibootError::TooLarge(why) => write!(f, "image too large: {why}"),
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

/// Loads `image` into `machine` and sets up the CPU to enter it.
pub fn load(machine: &mut Machine, image: &[u8]) -> Result<(), MultibootError> {
    let search_end = image.len().min(8192).saturating_sub(12);
    let header = (0..=search_end)
        .step_by(4)
        .find(|&off| {
            let magic = word(image, off);
            let flags = word(image, off + 4);
            let checksum = word(image, off + 8);
            magic == HEADER_MAGIC && magic.wrapping_add(flags).wrapping_add(checksum) == 0
        })
        .ok_or(MultibootError::NoHeader)?;
    if word(image, header + 4) & (1 << 16) == 0 {
        return Err(MultibootError::NoAddressFields);
    }
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
