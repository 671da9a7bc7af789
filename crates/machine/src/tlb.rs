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

impl Replacement {
    /// The policy as a student reads it.
    pub fn name(self) -> &'static str {
        match self {
            Replacement::Lru => "LRU",
            Replacement::Fifo => "FIFO",
            Replacement::Random => "random",
        }
    }
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

impl TlbEntry {
    /// The permission bits of [`TlbEntry::word`], where the page table
    /// entry has them.
    pub(crate) const WRITABLE: u32 = 1 << 1;
    pub(crate) const USER: u32 = 1 << 2;
    pub(crate) const DIRTY: u32 = 1 << 6;
    /// A bit no entry's word has (P is implied: only present pages are
    /// cached), for an access that must not use any entry as it is.
    pub(crate) const NEVER: u32 = 1 << 0;

    /// The entry holding `page` whose [`TlbEntry::word`] is `word`.
    #[inline(always)]
    pub(crate) fn from_word(page: u32, word: u32) -> TlbEntry {
        TlbEntry {
            page,
            frame: word >> 12,
            writable: word & Self::WRITABLE != 0,
            user: word & Self::USER != 0,
            dirty: word & Self::DIRTY != 0,
        }
    }

    /// The entry as an access checks it: the frame in the top 20 bits, the
    /// permission bits in the low 12, so one mask test says whether an
    /// access may use it as it is.
    #[inline]
    pub(crate) fn word(&self) -> u32 {
        (self.frame << 12)
            | if self.writable { Self::WRITABLE } else { 0 }
            | if self.user { Self::USER } else { 0 }
            | if self.dirty { Self::DIRTY } else { 0 }
    }
}

/// The code page instruction fetch is using (see [`Tlb`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FetchPage {
    pub page: u32,
    pub user: bool,
    pub frame: u32,
}

/// What a fill did: the slot it took, the entry it evicted (its page and
/// [`TlbEntry::word`]), and whether that entry was the fetch page's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Filled {
    pub slot: u8,
    pub evicted: Option<(u32, u32)>,
    pub lost_fetch: bool,
}

/// The most slots a TLB has room for (it uses at most 254): slots are
/// numbered by a `u8`, so indexing these arrays by slot needs no check.
const SLOTS: usize = 256;

/// The TLB: entries, counters, and the replacement state.
///
/// The replacement order (most recently used first under LRU, most
/// recently filled first under FIFO and random) is kept as a stamp per slot
/// from a counter that every use or fill advances: a hit is one store, and
/// the victim is the valid slot with the least stamp. Saved, compared and
/// hashed, the order is the list of slots it gives, linked through `prev`
/// and `next` from `head` to `tail` ([`TlbState`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "TlbState", into = "TlbState")]
pub struct Tlb {
    pub config: TlbConfig,
    /// Per slot (the first `config.entries` are the TLB's; the rest stay
    /// empty): the page it holds, or `EMPTY`. A slot's entry is its tag and
    /// its word ([`Tlb::entry`]). The arrays sit in the TLB itself, not
    /// behind pointers, so an access reaches them from the machine with no
    /// load of an address first.
    tags: [u32; SLOTS],
    /// Per slot: its entry's [`TlbEntry::word`] (0 when empty), what a hit
    /// reads.
    words: [u32; SLOTS],
    /// Per slot: when it was last used (LRU) or filled (FIFO, random).
    stamp: [u64; SLOTS],
    /// The latest stamp given. Stamps are 64 bits, so a use need not check
    /// for the clock wrapping; the list of the oldest slots packs a stamp in
    /// 56 bits, so before it is made from stamps past 2^55 (after some
    /// years of uses) they are renumbered in order (`renumber`).
    clock: u64,
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
    hint: Hint,
    /// The slots with the least stamps as a scan found them, least first:
    /// a cache for `victim`, not state.
    oldest: Oldest,
    /// The page the latest lookup or fill found (or `EMPTY`) and its slot:
    /// the most recently used entry, so another access to it changes no
    /// order and needs no search (a load and a store to one page, a loop
    /// over one page). A cache of `entries`, not state.
    last: (u32, u8),
    /// The page of the latest walk (or `EMPTY`), so a walk can tell that
    /// the guest's misses go page after page ([`Tlb::walked`]). The host's
    /// business, not state.
    last_walked: u32,
}

/// The valid slots as one scan of the stamps found them, oldest first.
/// Stamps only grow (a use or a fill gives the newest), so while a slot's
/// stamp is what the scan saw, no slot can be older than it: the first
/// unchanged one in the list is the least stamp of all. The scan sorts
/// every valid slot, so a loop that misses on every access (each fill
/// evicts the oldest) scans once per TLB's worth of misses, not on each
/// (measured on the benchmark's second loop, which misses on every
/// iteration: keeping only the 8 oldest cost about 80 host instructions a
/// miss in scans, sorting all of them about 20).
#[derive(Clone, Debug)]
struct Oldest {
    /// Each slot as `stamp << 8 | slot`, least first.
    keys: Box<[u64; SLOTS]>,
    len: u8,
    next: u8,
}

impl Default for Oldest {
    fn default() -> Self {
        Oldest {
            keys: Box::new([0; SLOTS]),
            len: 0,
            next: 0,
        }
    }
}

/// A TLB as it is saved: the replacement order as a doubly linked list of
/// the valid slots through `prev` and `next` (`NIL` ends it), from the most
/// recently used (LRU) or filled (FIFO) at `head` to the victim at `tail`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct TlbState {
    config: TlbConfig,
    entries: Vec<Option<TlbEntry>>,
    tags: Vec<u32>,
    prev: Vec<u8>,
    next: Vec<u8>,
    head: u8,
    tail: u8,
    valid: usize,
    hits: u64,
    misses: u64,
    evictions: u64,
    flushes: u64,
    rng: u64,
    fetch: Option<FetchPage>,
}

impl From<Tlb> for TlbState {
    fn from(t: Tlb) -> TlbState {
        t.state()
    }
}

impl From<TlbState> for Tlb {
    /// A TLB read back: the stamps follow the saved order (a list that does
    /// not hold together leaves the slots it misses oldest).
    fn from(s: TlbState) -> Tlb {
        let mut t = Tlb::new(s.config);
        let n = t.slots();
        for (slot, e) in s.entries.iter().take(n).enumerate() {
            if let Some(e) = e {
                t.tags[slot] = e.page;
                t.words[slot] = e.word();
            }
        }
        t.valid = t.tags.iter().filter(|&&tag| tag != EMPTY).count();
        let mut at = s.tail;
        for _ in 0..n {
            if usize::from(at) >= n {
                break;
            }
            t.clock += 1;
            t.stamp[usize::from(at)] = t.clock;
            at = s.prev.get(usize::from(at)).copied().unwrap_or(NIL);
        }
        t.hits = s.hits;
        t.misses = s.misses;
        t.evictions = s.evictions;
        t.flushes = s.flushes;
        t.rng = s.rng;
        t.fetch = s.fetch;
        t.rebuild_hint();
        t
    }
}

impl PartialEq for Tlb {
    fn eq(&self, other: &Tlb) -> bool {
        self.state() == other.state()
    }
}

impl Eq for Tlb {}

impl std::hash::Hash for Tlb {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.state().hash(h);
    }
}

const HINT_SIZE: usize = 1024;

/// The stamp past which the stamps are renumbered before the list of the
/// oldest slots is made (it packs a stamp in 56 bits).
const STAMP_LIMIT: u64 = 1 << 55;

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
    slot: [u8; HINT_SIZE],
    /// Per bucket: how many valid entries hold a page of the bucket. Zero
    /// means a sure miss, with no scan.
    count: [u8; HINT_SIZE],
}

impl Default for Hint {
    fn default() -> Self {
        Hint {
            slot: [0; HINT_SIZE],
            count: [0; HINT_SIZE],
        }
    }
}

impl Hint {
    fn bucket(page: u32) -> usize {
        page as usize % HINT_SIZE
    }

    /// Counts `page`, now in `slot`. A bucket counts at most every slot
    /// (254), so its count cannot overflow.
    #[inline(always)]
    fn added(&mut self, page: u32, slot: u8) {
        let b = Hint::bucket(page);
        self.slot[b] = slot;
        self.count[b] += 1;
    }

    /// Counts `page` gone: it was counted when it came.
    #[inline(always)]
    fn removed(&mut self, page: u32) {
        let b = Hint::bucket(page);
        self.count[b] -= 1;
    }

    fn clear(&mut self) {
        self.count.fill(0);
    }
}

impl Tlb {
    pub fn new(config: TlbConfig) -> Self {
        let n = config.entries.clamp(1, 254);
        Tlb {
            config: TlbConfig {
                entries: n,
                ..config
            },
            tags: [EMPTY; SLOTS],
            words: [0; SLOTS],
            stamp: [0; SLOTS],
            clock: 0,
            valid: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
            flushes: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            fetch: None,
            hint: Hint::default(),
            oldest: Oldest::default(),
            last: (EMPTY, 0),
            last_walked: EMPTY,
        }
    }

    /// The number of slots (the configured size).
    #[inline(always)]
    fn slots(&self) -> usize {
        usize::from(self.config.entries)
    }

    /// The TLB as it is saved and compared, with its replacement order as
    /// a list (see [`TlbState`]).
    fn state(&self) -> TlbState {
        let n = self.slots();
        let mut order: Vec<u8> = (0..n as u8)
            .filter(|&s| self.tags[usize::from(s)] != EMPTY)
            .collect();
        order.sort_by_key(|&s| std::cmp::Reverse(self.stamp[usize::from(s)]));
        let (mut prev, mut next) = (vec![NIL; n], vec![NIL; n]);
        for w in order.windows(2) {
            next[usize::from(w[0])] = w[1];
            prev[usize::from(w[1])] = w[0];
        }
        TlbState {
            config: self.config,
            entries: self.entries(),
            tags: self.tags[..n].to_vec(),
            prev,
            next,
            head: order.first().copied().unwrap_or(NIL),
            tail: order.last().copied().unwrap_or(NIL),
            valid: self.valid,
            hits: self.hits,
            misses: self.misses,
            evictions: self.evictions,
            flushes: self.flushes,
            rng: self.rng,
            fetch: self.fetch,
        }
    }

    /// Rebuilds the lookup hint from the entries (the hint is not saved).
    pub(crate) fn rebuild_hint(&mut self) {
        self.hint = Hint::default();
        self.last = (EMPTY, 0);
        for slot in 0..SLOTS {
            if self.tags[slot] != EMPTY {
                self.hint.added(self.tags[slot], slot as u8);
            }
        }
    }

    /// The entries by slot (empty slots are `None`).
    pub fn entries(&self) -> Vec<Option<TlbEntry>> {
        (0..self.slots()).map(|s| self.entry(s)).collect()
    }

    /// The entry in `slot`, if it holds one.
    fn entry(&self, slot: usize) -> Option<TlbEntry> {
        let page = self.tags[slot];
        (page != EMPTY).then(|| TlbEntry::from_word(page, self.words[slot]))
    }

    /// Finds the slot holding `page` without touching counters or LRU order.
    #[inline(always)]
    pub fn find(&self, page: u32) -> Option<u8> {
        // The hinted slot holding the page is found whatever the count (the
        // count only says when a scan would be in vain).
        let b = Hint::bucket(page);
        let h = self.hint.slot[b];
        if self.tags[usize::from(h)] == page {
            return Some(h);
        }
        if self.hint.count[b] == 0 {
            return None;
        }
        self.tags[..self.slots()]
            .iter()
            .position(|&t| t == page)
            .map(|i| i as u8)
    }

    /// Looks `page` up as an access does: counts a hit and refreshes its
    /// age. Gives the slot and the entry's [`TlbEntry::word`].
    #[inline(always)]
    pub(crate) fn lookup(&mut self, page: u32) -> Option<(u8, u32)> {
        // The most recent entry again: it stays the most recent (its stamp
        // is the greatest already), so only the hit is counted. `last` never
        // names a slot that no longer holds its page (fills, flushes and
        // evictions all move it).
        let (last, slot) = self.last;
        if last == page {
            debug_assert_eq!(self.tags[usize::from(slot)], page);
            self.hits += 1;
            return Some((slot, self.words[usize::from(slot)]));
        }
        let slot = self.find(page)?;
        self.hint.slot[Hint::bucket(page)] = slot;
        self.last = (page, slot);
        self.hits += 1;
        if self.config.replacement == Replacement::Lru {
            self.touch(slot);
        }
        Some((slot, self.words[usize::from(slot)]))
    }

    /// [`Tlb::lookup`] for an access that needs the [`TlbEntry::word`] bits
    /// `need`, through the latest entry or the hinted slot only, and
    /// without counting the hit (the caller counts it once the access is
    /// made): the word, or `None` when neither holds the page or the entry
    /// lacks the bits. An entry found is the latest afterwards (aged as
    /// `lookup` ages it), so a `lookup` after it finds it at once, ages
    /// nothing more and counts the hit.
    #[inline(always)]
    pub(crate) fn quick_lookup(&mut self, page: u32, need: u32) -> Option<u32> {
        let (last, mut slot) = self.last;
        if last != page {
            slot = self.hint.slot[Hint::bucket(page)];
            if self.tags[usize::from(slot)] != page {
                return None;
            }
            self.last = (page, slot);
            if self.config.replacement == Replacement::Lru {
                self.touch(slot);
            }
        }
        let word = self.words[usize::from(slot)];
        (word & need == need).then_some(word)
    }

    /// [`Tlb::lookup`] without the look at the hinted slot, for an access
    /// that [`Tlb::quick_lookup`] may have tried first: that made a page
    /// the hinted slot held the latest, so the slot need not be looked at
    /// again (and when the quick path did not try, the search finds what
    /// the hint would have).
    #[inline(always)]
    pub(crate) fn lookup_after_quick(&mut self, page: u32) -> Option<(u8, u32)> {
        // A sure miss (no entry of the page's bucket) goes straight back;
        // anything else is `lookup`'s.
        if self.last.0 != page && self.hint.count[Hint::bucket(page)] == 0 {
            return None;
        }
        self.lookup(page)
    }

    /// Makes `slot` the most recent in the replacement order.
    #[inline(always)]
    fn touch(&mut self, slot: u8) {
        self.clock += 1;
        self.stamp[usize::from(slot)] = self.clock;
    }

    /// Counts `n` more hits on the entry the last lookup found (further
    /// accesses to the same page leave the replacement order as it is).
    #[inline(always)]
    pub(crate) fn count_hits(&mut self, n: u64) {
        self.hits += n;
    }

    /// Notes a walk for `page`, and says whether the walk before it was for
    /// the page just below: the guest is going through memory page by page.
    #[inline(always)]
    pub(crate) fn walked(&mut self, page: u32) -> bool {
        let follows = self.last_walked.wrapping_add(1) == page;
        self.last_walked = page;
        follows
    }

    /// Counts a miss.
    #[inline]
    pub(crate) fn count_miss(&mut self) {
        self.misses += 1;
    }

    /// Inserts a translation (replacing any entry for the same page) and
    /// returns its slot and the entry it evicted, if any.
    #[cfg(test)]
    pub(crate) fn fill(&mut self, entry: TlbEntry) -> (u8, Option<TlbEntry>) {
        let f = self.fill_known(entry.page, entry.word(), self.find(entry.page));
        (
            f.slot,
            f.evicted
                .map(|(page, word)| TlbEntry::from_word(page, word)),
        )
    }

    /// [`Tlb::fill`] where the caller knows the slot holding the page, or
    /// (`None`) that no slot does: a miss needs no second search. The entry is
    /// `page` and its [`TlbEntry::word`]; an evicted one comes back the same
    /// way. Inlined into the walk, whose one caller it is.
    #[inline(always)]
    pub(crate) fn fill_known(&mut self, page: u32, word: u32, holder: Option<u8>) -> Filled {
        debug_assert_eq!(holder, self.find(page));
        let slot = match holder {
            Some(s) => usize::from(s),
            None => self.free_or_victim(),
        };
        let old = self.tags[slot];
        let mut filled = Filled {
            slot: slot as u8,
            evicted: None,
            lost_fetch: false,
        };
        if old != page {
            if old == EMPTY {
                self.valid += 1;
            } else {
                self.hint.removed(old);
                if self.fetch.is_some_and(|f| f.page == old) {
                    self.fetch = None;
                    filled.lost_fetch = true;
                }
                self.evictions += 1;
                filled.evicted = Some((old, self.words[slot]));
            }
            self.hint.added(page, slot as u8);
        }
        self.tags[slot] = page;
        self.words[slot] = word;
        self.touch(slot as u8);
        self.last = (page, slot as u8);
        filled
    }

    /// The slot a fill of a page no slot holds takes: a free one while
    /// there is one, else the replacement policy's victim.
    #[inline(always)]
    fn free_or_victim(&mut self) -> usize {
        let n = self.slots();
        if self.valid < n {
            return self.tags[..n].iter().position(|&t| t == EMPTY).unwrap_or(0);
        }
        self.victim()
    }

    /// Gives the stamps the numbers 1, 2, ... in their order (the same
    /// order, so the same victims), and the clock the largest: before the
    /// stamps outgrow [`STAMP_LIMIT`].
    fn renumber(&mut self) {
        let mut order: Vec<usize> = (0..SLOTS).filter(|&s| self.stamp[s] != 0).collect();
        order.sort_by_key(|&s| self.stamp[s]);
        for (rank, &s) in order.iter().enumerate() {
            self.stamp[s] = rank as u64 + 1;
        }
        self.clock = order.len() as u64;
        self.oldest = Oldest::default();
    }

    /// The valid slot with the least stamp, from the remembered oldest
    /// slots while one of them is unchanged, else from a renewed list. An
    /// empty slot's stamp is 0, which no key has, so one comparison says a
    /// key is current.
    #[inline(always)]
    fn least_stamp(&mut self) -> usize {
        let o = &mut self.oldest;
        while o.next < o.len {
            let key = o.keys[usize::from(o.next)];
            o.next += 1;
            let s = usize::from(key as u8);
            if self.stamp[s] == key >> 8 {
                return s;
            }
        }
        self.renew_oldest()
    }

    /// Makes the list of the oldest slots again and gives its first. The
    /// list is only made for a full TLB (a fill takes a free slot while
    /// there is one), so a list of every slot stays one: it is read again
    /// with the stamps the slots have now, in its old order, which the
    /// fills since mostly kept (each took the oldest and made it the
    /// newest), so the sort finds it sorted or nearly so. A list not yet
    /// made is made from a scan of the slots.
    #[inline(never)]
    fn renew_oldest(&mut self) -> usize {
        if self.clock >= STAMP_LIMIT {
            self.renumber();
        }
        let n = self.slots();
        let o = &mut self.oldest;
        if usize::from(o.len) == n {
            // One pass: each key read again and put in its place among the
            // ones before it (where it nearly always is already).
            // `top` is the greatest key placed so far: a key not less than
            // it is in its place already, with no search back.
            let keys = &mut o.keys[..n];
            let mut top = 0;
            for i in 0..n {
                let s = keys[i] & 0xFF;
                let key = (self.stamp[s as usize] << 8) | s;
                if key >= top {
                    keys[i] = key;
                    top = key;
                    continue;
                }
                let mut j = i;
                while j > 0 && keys[j - 1] > key {
                    keys[j] = keys[j - 1];
                    j -= 1;
                }
                keys[j] = key;
            }
        } else {
            let mut len = 0usize;
            for s in 0..n {
                if self.tags[s] != EMPTY {
                    o.keys[len] = (self.stamp[s] << 8) | s as u64;
                    len += 1;
                }
            }
            if len == 0 {
                return 0;
            }
            o.len = len as u8;
            sort_keys(&mut o.keys[..len]);
        }
        o.next = 1;
        usize::from(o.keys[0] as u8)
    }

    /// The slot a fill into a full TLB takes.
    #[inline(always)]
    fn victim(&mut self) -> usize {
        let n = self.slots();
        match self.config.replacement {
            // The last in the order: the least recently used or filled.
            // The least stamp: the least recently used or filled.
            Replacement::Lru | Replacement::Fifo => self.least_stamp(),
            Replacement::Random => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                (self.rng % n as u64) as usize
            }
        }
    }

    /// Drops every entry (a CR3 write); returns how many were valid.
    pub(crate) fn flush_all(&mut self) -> u32 {
        self.flushes += 1;
        self.fetch = None;
        let n = self.valid as u32;
        self.tags.fill(EMPTY);
        self.words.fill(0);
        self.stamp.fill(0);
        self.hint.clear();
        self.last = (EMPTY, 0);
        self.valid = 0;
        n
    }

    /// Drops the entry for `page` (`invlpg`); returns whether there was one.
    pub(crate) fn flush_page(&mut self, page: u32) -> bool {
        if self.fetch.is_some_and(|f| f.page == page) {
            self.fetch = None;
        }
        match self.find(page) {
            Some(slot) => {
                self.tags[usize::from(slot)] = EMPTY;
                self.words[usize::from(slot)] = 0;
                self.stamp[usize::from(slot)] = 0;
                self.hint.removed(page);
                if self.last.0 == page {
                    self.last = (EMPTY, 0);
                }
                self.valid -= 1;
                true
            }
            None => false,
        }
    }
}

/// Sorts the oldest-first keys. A TLB that misses on every access fills
/// its slots round and round in the order their stamps have, so the scan
/// finds them nearly sorted (a rotation, or a pair out of place where the
/// code page was used again): then an insertion sort takes one pass. On
/// the benchmark's second loop a general sort cost about 60 host
/// instructions a miss.
fn sort_keys(keys: &mut [u64]) {
    let descents = keys.windows(2).filter(|w| w[0] > w[1]).count();
    if descents == 0 {
        return;
    }
    if descents == 1 && keys[keys.len() - 1] < keys[0] {
        // Sorted from some key on, wrapping: that key's place is where the
        // one descent is, if the rest is ascending.
        if let Some(at) = keys.windows(2).position(|w| w[0] > w[1]) {
            keys.rotate_left(at + 1);
            if keys.is_sorted() {
                return;
            }
        }
    }
    if descents <= 8 {
        for i in 1..keys.len() {
            let mut j = i;
            while j > 0 && keys[j - 1] > keys[j] {
                keys.swap(j - 1, j);
                j -= 1;
            }
        }
    } else {
        keys.sort_unstable();
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
    fn the_remembered_oldest_slots_give_the_least_stamp_every_time() {
        // Random uses and fills of 200 pages in a 16-entry TLB, with an
        // occasional flush: every eviction takes the slot a full scan for
        // the least stamp names.
        let mut t = tlb(16, Replacement::Lru);
        let mut x = 12345u32;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let page = x % 200;
            if i % 997 == 0 {
                t.flush_all();
            }
            if t.lookup(page).is_none() {
                let n = t.slots();
                let full = t.valid == n;
                let expected = (0..n).min_by_key(|&s| t.stamp[s]).unwrap();
                let (slot, _) = t.fill(entry(page));
                if full {
                    assert_eq!(usize::from(slot), expected, "fill {i}");
                }
            }
        }
        assert!(t.evictions > 10_000);
    }

    #[test]
    fn a_tlb_that_misses_on_every_access_still_evicts_the_least_recently_used() {
        // The benchmark's second loop: a new page on every access, and now
        // and then a use of the code page, with a flush and a dropped page
        // on the way. Every fill into the full TLB takes the slot a full
        // scan for the least stamp names, under LRU and FIFO.
        for replacement in [Replacement::Lru, Replacement::Fifo] {
            let mut t = tlb(16, replacement);
            let code = 1_000_000;
            t.fill(entry(code));
            for page in 0..5_000u32 {
                if page % 7 == 0 && t.lookup(code).is_none() {
                    t.fill(entry(code));
                }
                if page == 2_500 {
                    t.flush_all();
                }
                if page == 3_000 {
                    t.flush_page(2_990);
                }
                let n = t.slots();
                let full = t.valid == n;
                let expected = (0..n).min_by_key(|&s| t.stamp[s]).unwrap();
                let (slot, _) = t.fill(entry(page));
                if full {
                    assert_eq!(usize::from(slot), expected, "{replacement:?} page {page}");
                }
                assert!(t.lookup(page).is_some());
            }
        }
    }

    #[test]
    fn a_quick_lookup_then_a_full_one_ages_and_counts_as_one_lookup() {
        // Two TLBs see the same accesses; one tries the quick lookup first
        // (and gives way to the full one, as the block path does when the
        // access then goes to a device or lacks a right), the other only
        // looks up. They stay equal: order, entries and counts.
        let mut quick = tlb(4, Replacement::Lru);
        let mut full = tlb(4, Replacement::Lru);
        for p in [1, 2, 3, 4] {
            quick.fill(entry(p));
            full.fill(entry(p));
        }
        for (page, need) in [(2, 0), (1, TlbEntry::USER), (1, 0), (9, 0), (3, 0), (3, 0)] {
            match quick.quick_lookup(page, need) {
                Some(_) => quick.count_hits(1),
                None => {
                    quick.lookup_after_quick(page);
                }
            }
            full.lookup(page);
            assert_eq!(quick, full, "page {page}");
            assert_eq!((quick.hits, quick.misses), (full.hits, full.misses));
        }
        assert_eq!(quick.fill(entry(5)), full.fill(entry(5)));
    }

    #[test]
    fn keys_sort_whether_sorted_rotated_or_neither() {
        for keys in [
            vec![],
            vec![5],
            vec![1, 2, 3, 4],
            vec![3, 4, 1, 2],
            vec![4, 1, 2, 3],
            vec![2, 3, 4, 1],
            vec![3, 1, 4, 2],
            vec![2, 1, 3, 4],
            vec![1, 3, 2, 4],
            vec![4, 3, 2, 1],
            vec![2, 1, 3, 4, 5, 6],
            vec![5, 6, 1, 3, 2, 4],
            (0..40).rev().collect(),
            (0..40).map(|k| (k * 17) % 41).collect(),
        ] {
            let mut sorted = keys.clone();
            sort_keys(&mut sorted);
            let mut expected = keys.clone();
            expected.sort();
            assert_eq!(sorted, expected, "{keys:?}");
        }
    }

    #[test]
    fn the_order_survives_the_stamps_growing_past_what_the_list_packs() {
        let mut t = tlb(3, Replacement::Lru);
        for p in [1, 2, 3] {
            t.fill(entry(p));
        }
        // As if 2^55 uses had passed: the next list of the oldest slots
        // renumbers the stamps first, keeping their order.
        for s in 0..3 {
            t.stamp[s] += STAMP_LIMIT;
        }
        t.clock += STAMP_LIMIT;
        assert!(t.lookup(1).is_some());
        assert!(t.lookup(2).is_some());
        assert_eq!(
            t.fill(entry(4)).1.map(|e| e.page),
            Some(3),
            "3 is the least recently used"
        );
        assert!(t.clock < 10, "renumbered: {}", t.clock);
        assert!(t.lookup(1).is_some());
        assert_eq!(t.fill(entry(5)).1.map(|e| e.page), Some(2));
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
    fn the_replacement_order_is_saved_compared_and_read_back() {
        let mut t = tlb(4, Replacement::Lru);
        for p in [1, 2, 3, 4] {
            t.fill(entry(p));
        }
        assert!(t.lookup(1).is_some());
        assert!(t.lookup(3).is_some());
        // Most recent first: 3, 1, 4, 2.
        let s = t.state();
        assert_eq!((s.head, s.tail), (2, 1));
        assert_eq!((s.next[2], s.next[0], s.next[3]), (0, 3, 1));
        assert_eq!((s.prev[0], s.prev[3], s.prev[1]), (2, 0, 3));
        let bytes = postcard::to_stdvec(&t).unwrap();
        let mut back: Tlb = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.find(4), t.find(4));
        // Both evict 2, then 4.
        for p in [5, 6] {
            assert_eq!(back.fill(entry(p)), t.fill(entry(p)));
        }
        assert_eq!(back, t);
        assert_eq!(pages(&t), [1, 3, 5, 6]);
        // The same entries used in another order are another state.
        let mut other = back.clone();
        assert!(back.lookup(1).is_some());
        assert!(other.lookup(5).is_some());
        assert_ne!(back, other);
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
