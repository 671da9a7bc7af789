//! The TLB model: a small fully associative cache of page translations with a
//! configurable size and replacement policy, and hit and miss counters.

use serde::{Deserialize, Serialize};

/// Which entry a full TLB gives up for a new translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    /// The least recently used entry.
    Lru,
    /// The oldest entry.
    Fifo,
    /// A pseudo-random entry (from a fixed seed, so runs replay exactly).
    Random,
}

/// The shape of the TLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct TlbConfig {
    /// Number of entries, 1 to 255.
    pub entries: u8,
    pub replacement: Replacement,
}

impl Default for TlbConfig {
    fn default() -> Self {
        TlbConfig {
            entries: 16,
            replacement: Replacement::Lru,
        }
    }
}

/// One cached translation: virtual page to physical frame, with the
/// permissions the page walk combined from the directory and table entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TlbEntry {
    pub page: u32,
    pub frame: u32,
    pub writable: bool,
    pub user: bool,
    /// Whether the page table entry's D bit is known to be set, so a write
    /// through this entry need not walk again to set it.
    pub dirty: bool,
}

/// The code page instruction fetch is using (see [`Tlb`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FetchPage {
    pub page: u32,
    pub user: bool,
    pub frame: u32,
}

/// The TLB: entries, counters, and the replacement state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tlb {
    pub config: TlbConfig,
    entries: Vec<Option<TlbEntry>>,
    /// Per slot: the page it holds, or `EMPTY`. Kept beside the entries so
    /// that looking a page up scans a dense array.
    tags: Vec<u32>,
    /// Per slot: when the entry was last used, and when it was filled (for
    /// LRU and FIFO).
    stamps: Vec<u64>,
    filled: Vec<u64>,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub flushes: u64,
    clock: u64,
    rng: u64,
    /// The page instructions are being fetched from, with the privilege it
    /// was checked for and its frame. Like a CPU's prefetch queue, fetching
    /// goes back to the TLB only when the code page changes, or when this
    /// page's entry leaves the TLB.
    pub(crate) fetch: Option<FetchPage>,
    /// A hint from the low bits of a page number to the slot that last held
    /// such a page, so a lookup rarely scans.
    #[serde(skip)]
    hint: Hint,
}

const HINT_SIZE: usize = 1024;

/// The tag of an empty slot (no page number reaches it).
const EMPTY: u32 = u32::MAX;

/// The lookup hint. It is a cache of `entries`, so it takes no part in
/// comparing, hashing or saving the TLB.
#[derive(Clone, Debug)]
struct Hint(Box<[u8; HINT_SIZE]>);

impl Default for Hint {
    fn default() -> Self {
        Hint(Box::new([0; HINT_SIZE]))
    }
}

impl PartialEq for Hint {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Hint {}

impl std::hash::Hash for Hint {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl std::ops::Index<usize> for Hint {
    type Output = u8;
    fn index(&self, i: usize) -> &u8 {
        &self.0[i]
    }
}

impl std::ops::IndexMut<usize> for Hint {
    fn index_mut(&mut self, i: usize) -> &mut u8 {
        &mut self.0[i]
    }
}

impl Tlb {
    pub fn new(config: TlbConfig) -> Self {
        let n = usize::from(config.entries.max(1));
        Tlb {
            config: TlbConfig {
                entries: n as u8,
                ..config
            },
            entries: vec![None; n],
            tags: vec![EMPTY; n],
            stamps: vec![0; n],
            filled: vec![0; n],
            hits: 0,
            misses: 0,
            evictions: 0,
            flushes: 0,
            clock: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            fetch: None,
            hint: Hint::default(),
        }
    }

    /// The entries by slot (empty slots are `None`).
    pub fn entries(&self) -> &[Option<TlbEntry>] {
        &self.entries
    }

    /// Finds the slot holding `page` without touching counters or LRU order.
    #[inline]
    pub fn find(&self, page: u32) -> Option<u8> {
        let h = self.hint[page as usize % HINT_SIZE];
        if self.tags.get(usize::from(h)) == Some(&page) {
            return Some(h);
        }
        self.tags.iter().position(|&t| t == page).map(|i| i as u8)
    }

    /// Looks `page` up as an access does: counts a hit and refreshes its age.
    #[inline]
    pub(crate) fn lookup(&mut self, page: u32) -> Option<(u8, TlbEntry)> {
        let slot = self.find(page)?;
        self.hint[page as usize % HINT_SIZE] = slot;
        self.hits += 1;
        self.clock += 1;
        self.stamps[usize::from(slot)] = self.clock;
        let e = self.entries[usize::from(slot)]?;
        Some((slot, e))
    }

    /// Counts a miss.
    #[inline]
    pub(crate) fn count_miss(&mut self) {
        self.misses += 1;
    }

    /// Inserts a translation (replacing any entry for the same page) and
    /// returns its slot and the entry it evicted, if any.
    pub(crate) fn fill(&mut self, entry: TlbEntry) -> (u8, Option<TlbEntry>) {
        self.clock += 1;
        let slot = match self.find(entry.page) {
            Some(s) => usize::from(s),
            None => match self.tags.iter().position(|&t| t == EMPTY) {
                Some(free) => free,
                None => self.victim(),
            },
        };
        let evicted = self.entries[slot].filter(|old| old.page != entry.page);
        if let Some(old) = evicted {
            self.evictions += 1;
            if self.fetch.is_some_and(|f| f.page == old.page) {
                self.fetch = None;
            }
        }
        self.entries[slot] = Some(entry);
        self.tags[slot] = entry.page;
        self.stamps[slot] = self.clock;
        self.filled[slot] = self.clock;
        self.hint[entry.page as usize % HINT_SIZE] = slot as u8;
        (slot as u8, evicted)
    }

    fn victim(&mut self) -> usize {
        // The slot with the smallest stamp (the first of equals).
        let oldest = |stamps: &[u64]| {
            let mut best = 0;
            for (i, &s) in stamps.iter().enumerate() {
                if s < stamps[best] {
                    best = i;
                }
            }
            best
        };
        match self.config.replacement {
            Replacement::Lru => oldest(&self.stamps),
            Replacement::Fifo => oldest(&self.filled),
            Replacement::Random => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                (self.rng % self.entries.len() as u64) as usize
            }
        }
    }

    /// Drops every entry (a CR3 write); returns how many were valid.
    pub(crate) fn flush_all(&mut self) -> u32 {
        self.flushes += 1;
        self.fetch = None;
        let n = self.tags.iter().filter(|&&t| t != EMPTY).count() as u32;
        self.entries.iter_mut().for_each(|e| *e = None);
        self.tags.iter_mut().for_each(|t| *t = EMPTY);
        n
    }

    /// Drops the entry for `page` (`invlpg`); returns whether there was one.
    pub(crate) fn flush_page(&mut self, page: u32) -> bool {
        if self.fetch.is_some_and(|f| f.page == page) {
            self.fetch = None;
        }
        match self.find(page) {
            Some(slot) => {
                self.entries[usize::from(slot)] = None;
                self.tags[usize::from(slot)] = EMPTY;
                true
            }
            None => false,
        }
    }

    /// Marks the entry for `page` as knowing its D bit is set.
    pub(crate) fn set_dirty(&mut self, slot: u8) {
        if let Some(Some(e)) = self.entries.get_mut(usize::from(slot)) {
            e.dirty = true;
        }
    }
}
