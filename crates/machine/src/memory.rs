//! Flat physical memory, with the per-frame bookkeeping the machine needs:
//! which frames hold decoded code (so writes there drop stale decodings) and
//! which frames changed since the last checkpoint.

use serde::{Deserialize, Serialize};

/// The size of a page and of a physical frame.
pub const PAGE_SIZE: u32 = 4096;

/// Physical RAM: a flat array of bytes starting at physical address 0, and
/// the firmware ROM's image at the top of the 4 GiB space, if there is one.
///
/// Addresses past the end of RAM behave as on a PC with no device there:
/// reads return all ones and writes are dropped; the ROM answers reads in
/// its range and drops writes.
#[derive(Clone, Serialize, Deserialize)]
pub struct PhysMem {
    bytes: Vec<u8>,
    /// The firmware ROM as the CPU sees it at the top of physical memory,
    /// ending at 0xFFFFFFFF (a 64 KiB ROM from 0xFFFF0000), where the reset
    /// vector 0xFFFFFFF0 lies. Empty on a machine without firmware.
    ///
    /// Why memory and not a device on the bus: a ROM is read as memory is.
    /// Its reads change nothing, so they are no memory-mapped I/O (no
    /// `Mmio` event, nothing for the block path to leave its block for),
    /// and the CPU fetches instructions from it, which it never does from a
    /// device's registers. Here the decoder's fetch window, the byte reads
    /// behind an access past RAM and the page-crossing fetch all find it
    /// the same way: only after RAM has missed, so no access to RAM pays
    /// anything for it. A PC decodes the same ROM below 1 MiB too (at
    /// 0xF0000 for 64 KiB); the machine loads a copy there into RAM, as a
    /// BIOS shadows itself (see [`crate::Machine::with_rom`]).
    #[serde(default)]
    rom: Vec<u8>,
    /// Per frame: bumped whenever a frame holding decoded code is written.
    #[serde(skip)]
    code_gen: Vec<u32>,
    /// Per frame: `DIRTY` if written since the last call to `take_dirty`,
    /// `CODE` if the decode cache holds instructions from it. One byte for
    /// both, so that a write to a dirty frame without code (nearly every
    /// write) is one load and one compare.
    #[serde(skip)]
    frame_state: Vec<u8>,
    /// Set when a frame holding decoded code is written (the block fast
    /// path clears it and checks it after each instruction).
    #[serde(skip)]
    pub(crate) code_written: bool,
    /// Set when a frame holding watched bytes is written: only then can a
    /// watch have changed, so only then are the watched bytes compared
    /// (the machine clears it when it compares them).
    #[serde(skip)]
    pub(crate) watch_written: bool,
}

/// The bits of [`PhysMem`]'s per-frame state.
const DIRTY: u8 = 1;
const CODE: u8 = 2;
const WATCHED: u8 = 4;

impl PartialEq for PhysMem {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PhysMem {}

impl std::hash::Hash for PhysMem {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
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
    /// Zeroed memory of `size` bytes (rounded up to whole frames).
    pub fn new(size: usize) -> Self {
        let size = size.div_ceil(PAGE_SIZE as usize) * PAGE_SIZE as usize;
        let frames = size / PAGE_SIZE as usize;
        let bytes = vec![0; size];
        huge_pages::advise(&bytes);
        PhysMem {
            bytes,
            rom: Vec::new(),
            code_gen: vec![0; frames],
            frame_state: vec![DIRTY; frames],
            code_written: false,
            watch_written: false,
        }
    }

    /// Rebuilds the bookkeeping after deserializing (no frame is watched;
    /// the machine marks its watches again).
    pub(crate) fn reset_bookkeeping(&mut self) {
        let frames = self.frames();
        self.code_gen = vec![0; frames];
        self.frame_state = vec![DIRTY; frames];
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The number of 4 KiB frames.
    pub fn frames(&self) -> usize {
        self.bytes.len() / PAGE_SIZE as usize
    }

    /// All of memory, for views and snapshots.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes of one frame (empty past the end).
    pub fn frame(&self, frame: u32) -> &[u8] {
        let start = frame as usize * PAGE_SIZE as usize;
        self.bytes
            .get(start..start + PAGE_SIZE as usize)
            .unwrap_or(&[])
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
                if !data.is_empty() {
                    self.touch_range(start, end);
                }
                Ok(())
            }
            None => Err(LoadError {
                addr,
                len: data.len(),
                mem_size: self.bytes.len(),
            }),
        }
    }

    /// Writes `count` copies of the `n`-byte little-endian `value` from
    /// `addr` on (as `rep stos` does); false, writing nothing, when the
    /// range is not all RAM.
    pub(crate) fn fill(&mut self, addr: u32, count: usize, n: usize, value: u32) -> bool {
        let a = addr as usize;
        let len = count * n;
        let Some(s) = self.bytes.get_mut(a..a + len) else {
            return false;
        };
        if n == 1 || value.to_le_bytes()[..n].iter().all(|&b| b == value as u8) {
            s.fill(value as u8);
        } else {
            let pattern = &value.to_le_bytes()[..n];
            for chunk in s.chunks_exact_mut(n) {
                chunk.copy_from_slice(pattern);
            }
        }
        if len > 0 {
            self.touch_range(a, a + len);
        }
        true
    }

    /// Copies `len` bytes from `src` to `dst` as a forward `rep movs` does
    /// when the ranges do not overlap; false, copying nothing, when either
    /// range is not all RAM or they overlap.
    pub(crate) fn copy(&mut self, src: u32, dst: u32, len: usize) -> bool {
        let (s, d) = (src as usize, dst as usize);
        if s + len > self.bytes.len() || d + len > self.bytes.len() || (s < d + len && d < s + len)
        {
            return false;
        }
        self.bytes.copy_within(s..s + len, d);
        if len > 0 {
            self.touch_range(d, d + len);
        }
        true
    }

    fn touch_range(&mut self, start: usize, end: usize) {
        for f in start / PAGE_SIZE as usize..=(end - 1) / PAGE_SIZE as usize {
            self.touch(f);
        }
    }

    /// Notes a write to frame `f`.
    #[inline(always)]
    fn touch(&mut self, f: usize) {
        if let Some(&state) = self.frame_state.get(f)
            && state != DIRTY
        {
            self.touch_news(f);
        }
    }

    /// A write to a frame not yet dirty, holding decoded code, or watched.
    #[cold]
    fn touch_news(&mut self, f: usize) {
        let state = self.frame_state[f];
        if state & CODE != 0 {
            self.code_written = true;
            self.code_gen[f] = self.code_gen[f].wrapping_add(1);
        }
        if state & WATCHED != 0 {
            self.watch_written = true;
        }
        self.frame_state[f] = DIRTY | (state & WATCHED);
    }

    /// Marks the frames that the byte range `addr..addr + len` lies in as
    /// watched (`on`) or not: a write to a watched frame sets
    /// `watch_written`, and misses the block path's quick store.
    pub(crate) fn mark_watched(&mut self, addr: u32, len: u32, on: bool) {
        let first = addr as usize / PAGE_SIZE as usize;
        let last = (addr as usize + len.max(1) as usize - 1) / PAGE_SIZE as usize;
        for f in first..=last {
            if let Some(state) = self.frame_state.get_mut(f) {
                if on {
                    *state |= WATCHED;
                } else {
                    *state &= !WATCHED;
                }
            }
        }
    }

    /// The bytes from `addr` to the end of its frame, for the decoder's
    /// fetch window: RAM, else the ROM, else none.
    #[inline]
    pub fn window(&self, addr: u32) -> &[u8] {
        let end = (addr | (PAGE_SIZE - 1)) as usize + 1;
        match self.bytes.get(addr as usize..end) {
            Some(window) => window,
            None => self.rom_window(addr),
        }
    }

    /// The first physical address of the ROM (0 when there is none).
    #[inline]
    fn rom_base(&self) -> u32 {
        0u32.wrapping_sub(self.rom.len() as u32)
    }

    /// The ROM's bytes from `addr` to the end of its frame (none outside
    /// the ROM).
    #[cold]
    fn rom_window(&self, addr: u32) -> &[u8] {
        if self.rom.is_empty() || addr < self.rom_base() {
            return &[];
        }
        let start = (addr - self.rom_base()) as usize;
        let end = ((addr | (PAGE_SIZE - 1)) - self.rom_base()) as usize + 1;
        &self.rom[start..end]
    }

    /// The byte at a physical address past RAM: the ROM's there, else all
    /// ones.
    #[cold]
    fn byte_past_ram(&self, addr: u32) -> u8 {
        self.rom_window(addr).first().copied().unwrap_or(0xFF)
    }

    /// Puts a firmware ROM at the top of physical memory (see the `rom`
    /// field): a whole number of frames, at most 16 MiB.
    pub(crate) fn set_rom(&mut self, rom: &[u8]) {
        assert!(
            rom.len() % PAGE_SIZE as usize == 0 && rom.len() <= 16 << 20,
            "a ROM is whole frames"
        );
        self.rom = rom.to_vec();
    }

    /// Whether RAM or the ROM holds the byte at `addr`.
    pub fn holds(&self, addr: u32) -> bool {
        (addr as usize) < self.bytes.len() || !self.rom_window(addr).is_empty()
    }

    /// The firmware ROM's image (empty without firmware).
    pub fn rom(&self) -> &[u8] {
        &self.rom
    }

    /// Notes that the decode cache now holds code from `frame`, and returns
    /// the frame's generation, which changes when the frame is written.
    #[inline]
    pub(crate) fn mark_code(&mut self, frame: u32) -> u32 {
        match self.frame_state.get_mut(frame as usize) {
            Some(state) => {
                *state |= CODE;
                self.code_gen[frame as usize]
            }
            None => 0,
        }
    }

    /// The current generation of a frame's code (see [`PhysMem::mark_code`]).
    #[inline]
    pub(crate) fn code_gen(&self, frame: u32) -> u32 {
        self.code_gen.get(frame as usize).copied().unwrap_or(0)
    }

    /// The frames written since the last call to `take_dirty`.
    pub(crate) fn dirty_frames(&self) -> Vec<usize> {
        (0..self.frame_state.len())
            .filter(|&f| self.frame_state[f] & DIRTY != 0)
            .collect()
    }

    /// How many frames were written since the last call to `take_dirty`.
    pub(crate) fn dirty_count(&self) -> usize {
        self.frame_state.iter().filter(|&&s| s & DIRTY != 0).count()
    }

    /// Returns the frames written since the last call, and forgets them.
    pub(crate) fn take_dirty(&mut self) -> Vec<usize> {
        let dirty: Vec<usize> = (0..self.frame_state.len())
            .filter(|&f| self.frame_state[f] & DIRTY != 0)
            .collect();
        self.frame_state.iter_mut().for_each(|s| *s &= !DIRTY);
        dirty
    }

    /// Replaces one frame's bytes (restoring a checkpoint).
    pub(crate) fn restore_frame(&mut self, frame: usize, data: &[u8]) {
        let start = frame * PAGE_SIZE as usize;
        if self.bytes[start..start + data.len()] != *data {
            self.bytes[start..start + data.len()].copy_from_slice(data);
            self.touch(frame);
        }
    }

    #[inline]
    pub fn read_u8(&self, addr: u32) -> u8 {
        match self.bytes.get(addr as usize) {
            Some(&b) => b,
            None => self.byte_past_ram(addr),
        }
    }

    #[inline]
    pub fn write_u8(&mut self, addr: u32, value: u8) {
        if let Some(b) = self.bytes.get_mut(addr as usize) {
            *b = value;
            self.touch(addr as usize / PAGE_SIZE as usize);
        }
    }

    /// Reads `n` (1, 2 or 4) bytes, or `None` if any of them is past the
    /// end of RAM (where a memory-mapped device may answer).
    #[inline(always)]
    pub fn try_read(&self, addr: u32, n: u32) -> Option<u32> {
        let a = addr as usize;
        if n == 4 {
            let s = self.bytes.get(a..a + 4)?;
            return Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        }
        let s = self.bytes.get(a..a + n as usize)?;
        Some(s.iter().rev().fold(0, |acc, &b| (acc << 8) | u32::from(b)))
    }

    /// Writes `n` (1, 2 or 4) bytes; false, writing nothing, if any of them
    /// is past the end of RAM.
    #[inline(always)]
    pub fn try_write(&mut self, addr: u32, n: u32, value: u32) -> bool {
        let a = addr as usize;
        let Some(s) = self.bytes.get_mut(a..a + n as usize) else {
            return false;
        };
        s.copy_from_slice(&value.to_le_bytes()[..n as usize]);
        let (first, last) = (
            a / PAGE_SIZE as usize,
            (a + n as usize - 1) / PAGE_SIZE as usize,
        );
        self.touch(first);
        if last != first {
            self.touch(last);
        }
        true
    }

    /// Writes a dword that does not cross a frame; false, writing nothing,
    /// past the end of RAM.
    #[inline(always)]
    pub(crate) fn try_write32(&mut self, addr: u32, value: u32) -> bool {
        let a = addr as usize;
        let Some(s) = self.bytes.get_mut(a..a + 4) else {
            return false;
        };
        s.copy_from_slice(&value.to_le_bytes());
        self.touch(a / PAGE_SIZE as usize);
        true
    }

    /// Writes a dword that does not cross a frame when that is all the
    /// write does: the frame is RAM, dirty already, holds no decoded code
    /// and no watched bytes. False, writing nothing, otherwise.
    #[inline(always)]
    pub(crate) fn try_write32_plain(&mut self, addr: u32, value: u32) -> bool {
        let a = addr as usize;
        if self.frame_state.get(a / PAGE_SIZE as usize) != Some(&DIRTY) {
            return false;
        }
        match self.bytes.get_mut(a..a + 4) {
            Some(s) => {
                s.copy_from_slice(&value.to_le_bytes());
                true
            }
            None => false,
        }
    }

    /// Reads a dword that does not cross a frame (all ones past the end).
    #[inline(always)]
    pub fn read32(&self, addr: u32) -> u32 {
        let a = addr as usize;
        match self.bytes.get(a..a + 4) {
            Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
            None => self.read(addr, 4),
        }
    }

    /// Writes a dword that does not cross a frame.
    #[inline(always)]
    pub fn write32(&mut self, addr: u32, value: u32) {
        let a = addr as usize;
        if let Some(s) = self.bytes.get_mut(a..a + 4) {
            s.copy_from_slice(&value.to_le_bytes());
            self.touch(a / PAGE_SIZE as usize);
        }
    }

    /// Reads `n` (1, 2 or 4) little-endian bytes.
    #[inline]
    pub fn read(&self, addr: u32, n: u32) -> u32 {
        let a = addr as usize;
        if n == 4
            && let Some(s) = self.bytes.get(a..a + 4)
        {
            return u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        }
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
        let a = addr as usize;
        // The common case: a dword within one frame.
        if n == 4
            && a & (PAGE_SIZE as usize - 1) <= PAGE_SIZE as usize - 4
            && let Some(s) = self.bytes.get_mut(a..a + 4)
        {
            s.copy_from_slice(&value.to_le_bytes());
            self.touch(a / PAGE_SIZE as usize);
            return;
        }
        if let Some(s) = self.bytes.get_mut(a..a + n as usize) {
            s.copy_from_slice(&value.to_le_bytes()[..n as usize]);
            let f = a / PAGE_SIZE as usize;
            self.touch(f);
            if (a + n as usize - 1) / PAGE_SIZE as usize != f {
                self.touch(f + 1);
            }
        } else {
            for i in 0..n {
                self.write_u8(addr.wrapping_add(i), (value >> (8 * i)) as u8);
            }
        }
    }
}

/// Guest RAM in transparent huge pages where the host has them: a guest
/// that touches many pages (the benchmark's second loop, a new page every
/// iteration over 16 MiB) otherwise misses the host's TLB on nearly every
/// access it makes. QEMU advises its guest RAM the same way.
mod huge_pages {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    pub(super) fn advise(bytes: &[u8]) {
        const HUGE: usize = 2 << 20;
        let start = bytes.as_ptr() as usize;
        let end = start + bytes.len();
        // Only whole 2 MiB pages inside the allocation can be huge.
        let first = start.div_ceil(HUGE) * HUGE;
        let last = end / HUGE * HUGE;
        if last > first {
            // SAFETY: the range lies inside `bytes`, an allocation this
            // process owns; MADV_HUGEPAGE is advice about how to back it and
            // changes neither its contents nor its mapping's permissions.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn advise(_bytes: &[u8]) {}
}
