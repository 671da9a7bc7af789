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
    /// Number of entries, 1 to 254.
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
    /// The valid slots in replacement order, as a doubly linked list through
    /// `prev` and `next` (`NIL` ends it): most recently used (LRU) or filled
    /// (FIFO) first, so the victim is always the last.
    prev: Vec<u8>,
    next: Vec<u8>,
    head: u8,
    tail: u8,
    /// How many slots hold an entry.
    valid: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub flushes: u64,
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

/// The end of the replacement-order list (slots number at most 254).
const NIL: u8 = u8::MAX;

/// The lookup hint. It is a cache of `entries`, so it takes no part in
/// comparing, hashing or saving the TLB.
#[derive(Clone, Debug)]
struct Hint {
    /// Per bucket (page number modulo `HINT_SIZE`): the slot that last held
    /// a page of the bucket.
    slot: Box<[u8; HINT_SIZE]>,
    /// Per bucket: how many valid entries hold a page of the bucket. Zero
    /// means a sure miss, with no scan.
    count: Box<[u8; HINT_SIZE]>,
}

impl Default for Hint {
    fn default() -> Self {
        Hint {
            slot: Box::new([0; HINT_SIZE]),
            count: Box::new([0; HINT_SIZE]),
        }
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

impl Hint {
    fn bucket(page: u32) -> usize {
        page as usize % HINT_SIZE
    }

    fn added(&mut self, page: u32, slot: u8) {
        let b = Hint::bucket(page);
        self.slot[b] = slot;
        self.count[b] = self.count[b].saturating_add(1);
    }

    fn removed(&mut self, page: u32) {
        let b = Hint::bucket(page);
        self.count[b] = self.count[b].saturating_sub(1);
    }

    fn clear(&mut self) {
        self.count.fill(0);
    }
}

impl Tlb {
    pub fn new(config: TlbConfig) -> Self {
        let n = usize::from(config.entries.clamp(1, 254));
        Tlb {
            config: TlbConfig {
                entries: n as u8,
                ..config
            },
            entries: vec![None; n],
            tags: vec![EMPTY; n],
            prev: vec![NIL; n],
            next: vec![NIL; n],
            head: NIL,
            tail: NIL,
            valid: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
            flushes: 0,
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
    #[inline(always)]
    pub fn find(&self, page: u32) -> Option<u8> {
        let b = Hint::bucket(page);
        if self.hint.count[b] == 0 {
            return None;
        }
        let h = self.hint.slot[b];
        if self.tags.get(usize::from(h)) == Some(&page) {
            return Some(h);
        }
        self.tags.iter().position(|&t| t == page).map(|i| i as u8)
    }

    /// Looks `page` up as an access does: counts a hit and refreshes its age.
    #[inline(always)]
    pub(crate) fn lookup(&mut self, page: u32) -> Option<(u8, TlbEntry)> {
        let slot = self.find(page)?;
        self.hint.slot[Hint::bucket(page)] = slot;
        self.hits += 1;
        if self.config.replacement == Replacement::Lru && self.head != slot {
            self.unlink(slot);
            self.link_front(slot);
        }
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
        let slot = match self.find(entry.page) {
            Some(s) => usize::from(s),
            None if self.valid < self.tags.len() => {
                self.tags.iter().position(|&t| t == EMPTY).unwrap_or(0)
            }
            None => self.victim(),
        };
        let old = self.entries[slot];
        if let Some(old) = old {
            self.hint.removed(old.page);
            self.valid -= 1;
            self.unlink(slot as u8);
        }
        let evicted = old.filter(|old| old.page != entry.page);
        if let Some(old) = evicted {
            self.evictions += 1;
            if self.fetch.is_some_and(|f| f.page == old.page) {
                self.fetch = None;
            }
        }
        self.entries[slot] = Some(entry);
        self.tags[slot] = entry.page;
        self.link_front(slot as u8);
        self.hint.added(entry.page, slot as u8);
        self.valid += 1;
        (slot as u8, evicted)
    }

    fn victim(&mut self) -> usize {
        match self.config.replacement {
            Replacement::Lru | Replacement::Fifo => usize::from(self.tail),
            Replacement::Random => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                (self.rng % self.entries.len() as u64) as usize
            }
        }
    }

    #[inline(always)]
    fn unlink(&mut self, slot: u8) {
        let (p, n) = (self.prev[usize::from(slot)], self.next[usize::from(slot)]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[usize::from(p)] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[usize::from(n)] = p;
        }
    }

    #[inline(always)]
    fn link_front(&mut self, slot: u8) {
        self.prev[usize::from(slot)] = NIL;
        self.next[usize::from(slot)] = self.head;
        if self.head == NIL {
            self.tail = slot;
        } else {
            self.prev[usize::from(self.head)] = slot;
        }
        self.head = slot;
    }

    /// Drops every entry (a CR3 write); returns how many were valid.
    pub(crate) fn flush_all(&mut self) -> u32 {
        self.flushes += 1;
        self.fetch = None;
        let n = self.valid as u32;
        self.entries.iter_mut().for_each(|e| *e = None);
        self.tags.iter_mut().for_each(|t| *t = EMPTY);
        self.hint.clear();
        self.valid = 0;
        self.head = NIL;
        self.tail = NIL;
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
                self.hint.removed(page);
                self.valid -= 1;
                self.unlink(slot);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(page: u32) -> TlbEntry {
        TlbEntry {
            page,
            frame: page + 100,
            writable: true,
            user: false,
            dirty: false,
        }
    }

    fn tlb(entries: u8, replacement: Replacement) -> Tlb {
        Tlb::new(TlbConfig {
            entries,
            replacement,
        })
    }

    fn pages(t: &Tlb) -> Vec<u32> {
        let mut p: Vec<u32> = t.entries().iter().flatten().map(|e| e.page).collect();
        p.sort();
        p
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut t = tlb(3, Replacement::Lru);
        for p in [1, 2, 3] {
            assert_eq!(t.fill(entry(p)).1, None);
        }
        assert!(t.lookup(1).is_some()); // 2 is now the least recently used
        let (_, evicted) = t.fill(entry(4));
        assert_eq!(evicted.map(|e| e.page), Some(2));
        assert!(t.lookup(3).is_some());
        let (_, evicted) = t.fill(entry(5));
        assert_eq!(evicted.map(|e| e.page), Some(1));
        assert_eq!(pages(&t), [3, 4, 5]);
        assert_eq!((t.hits, t.evictions), (2, 2));
    }

    #[test]
    fn fifo_evicts_the_oldest_fill_whatever_its_use() {
        let mut t = tlb(3, Replacement::Fifo);
        for p in [1, 2, 3] {
            t.fill(entry(p));
        }
        assert!(t.lookup(1).is_some());
        assert_eq!(t.fill(entry(4)).1.map(|e| e.page), Some(1));
        assert_eq!(t.fill(entry(5)).1.map(|e| e.page), Some(2));
    }

    #[test]
    fn flushes_keep_the_order_consistent() {
        let mut t = tlb(3, Replacement::Lru);
        for p in [1, 2, 3] {
            t.fill(entry(p));
        }
        assert!(t.flush_page(2));
        assert!(!t.flush_page(2));
        assert_eq!(t.find(2), None);
        // The freed slot is used before anything is evicted.
        assert_eq!(t.fill(entry(6)).1, None);
        assert_eq!(t.fill(entry(7)).1.map(|e| e.page), Some(1));
        assert_eq!(t.flush_all(), 3);
        assert_eq!(pages(&t), Vec::<u32>::new());
        for p in [8, 9, 10] {
            assert_eq!(t.fill(entry(p)).1, None);
        }
        assert_eq!(t.fill(entry(11)).1.map(|e| e.page), Some(8));
    }

    #[test]
    fn refilling_a_page_replaces_its_entry() {
        let mut t = tlb(2, Replacement::Lru);
        t.fill(entry(1));
        t.fill(entry(2));
        let (slot, evicted) = t.fill(TlbEntry {
            dirty: true,
            ..entry(1)
        });
        assert_eq!(evicted, None);
        assert_eq!(t.find(1), Some(slot));
        assert_eq!(pages(&t), [1, 2]);
        // Page 1 was just refilled, so 2 goes first.
        assert_eq!(t.fill(entry(3)).1.map(|e| e.page), Some(2));
    }

    #[test]
    fn random_replacement_is_reproducible() {
        let run = || {
            let mut t = tlb(4, Replacement::Random);
            (0..50)
                .filter_map(|p| t.fill(entry(p)).1.map(|e| e.page))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert_eq!(run().len(), 46);
    }
}
