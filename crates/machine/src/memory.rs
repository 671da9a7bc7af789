//! Flat physical memory.

use serde::{Deserialize, Serialize};

/// Physical RAM: a flat array of bytes starting at physical address 0.
///
/// Addresses past the end behave as on a PC with no device there: reads
/// return all ones and writes are dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysMem {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for PhysMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhysMem({} bytes)", self.bytes.len())
    }
}

/// A program that does not fit in physical memory where it was asked to go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub addr: u32,
    pub len: usize,
    pub mem_size: usize,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes at {:#010x} do not fit in {} bytes of physical memory",
            self.len, self.addr, self.mem_size
        )
    }
}

impl std::error::Error for LoadError {}

impl PhysMem {
    /// Zeroed memory of `size` bytes.
    pub fn new(size: usize) -> Self {
        PhysMem {
            bytes: vec![0; size],
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// All of memory, for views and snapshots.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// Copies `data` to physical address `addr`.
    pub fn load(&mut self, addr: u32, data: &[u8]) -> Result<(), LoadError> {
        let start = addr as usize;
        let end = start
            .checked_add(data.len())
            .filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                self.bytes[start..end].copy_from_slice(data);
                Ok(())
            }
            None => Err(LoadError {
                addr,
                len: data.len(),
                mem_size: self.bytes.len(),
            }),
        }
    }

    /// The bytes from `addr` to the end of memory (empty past the end), for
    /// the decoder's fetch window.
    #[inline]
    pub fn window(&self, addr: u32) -> &[u8] {
        self.bytes.get(addr as usize..).unwrap_or(&[])
    }

    #[inline]
    pub fn read_u8(&self, addr: u32) -> u8 {
        self.bytes.get(addr as usize).copied().unwrap_or(0xFF)
    }

    #[inline]
    pub fn write_u8(&mut self, addr: u32, value: u8) {
        if let Some(b) = self.bytes.get_mut(addr as usize) {
            *b = value;
        }
    }

    /// Reads `n` (1, 2 or 4) little-endian bytes.
    #[inline]
    pub fn read(&self, addr: u32, n: u32) -> u32 {
        let a = addr as usize;
        match self.bytes.get(a..a + n as usize) {
            Some(s) => s.iter().rev().fold(0, |acc, &b| (acc << 8) | u32::from(b)),
            None => (0..n).rev().fold(0, |acc, i| {
                (acc << 8) | u32::from(self.read_u8(addr.wrapping_add(i)))
            }),
        }
    }

    /// Writes the low `n` (1, 2 or 4) bytes of `value`, little-endian.
    #[inline]
    pub fn write(&mut self, addr: u32, n: u32, value: u32) {
        for i in 0..n {
            self.write_u8(addr.wrapping_add(i), (value >> (8 * i)) as u8);
        }
    }
}
