//! Address translation: linear addresses to physical ones through the TLB
//! and, on a miss, a two-level page walk that honours and sets the P, R/W,
//! U/S, A and D bits as the hardware does.

use crate::cpu::{Cr0, Cr4};
use crate::event::{Access, Event, EventKind, KindSet};
use crate::machine::Machine;
use crate::memory::PAGE_SIZE;
use crate::tlb::TlbEntry;
use crate::trap::{Exception, PfCode};
use serde::{Deserialize, Serialize};

/// Page directory and page table entry bits.
#[derive(Debug)]
pub struct Pte;

impl Pte {
    pub const PRESENT: u32 = 1 << 0;
    pub const WRITABLE: u32 = 1 << 1;
    pub const USER: u32 = 1 << 2;
    pub const ACCESSED: u32 = 1 << 5;
    pub const DIRTY: u32 = 1 << 6;
    /// In a directory entry with CR4.PSE set: the entry maps a 4 MiB page
    /// itself, with no page table.
    pub const LARGE: u32 = 1 << 7;
    /// The frame address bits of a 4 MiB page's directory entry.
    pub const LARGE_FRAME: u32 = 0xFFC0_0000;
    /// The frame address bits.
    pub const FRAME: u32 = 0xFFFF_F000;

    /// The flags a student reads in an entry, in bit order: the bit, its
    /// letter and its name.
    pub const SHOWN: [(u32, char, &'static str); 5] = [
        (Pte::PRESENT, 'P', "present"),
        (Pte::WRITABLE, 'W', "writable"),
        (Pte::USER, 'U', "user"),
        (Pte::ACCESSED, 'A', "accessed"),
        (Pte::DIRTY, 'D', "dirty"),
    ];

    /// Whether an entry is present.
    pub fn present(entry: u32) -> bool {
        entry & Pte::PRESENT != 0
    }

    /// An entry's shown flags as letters, `-` for each one clear
    /// (`PWUA-`).
    pub fn letters(entry: u32) -> String {
        Pte::SHOWN
            .iter()
            .map(|&(bit, c, _)| if entry & bit != 0 { c } else { '-' })
            .collect()
    }
}

/// Where an access lands in physical memory: one place, or two when it
/// crosses a page boundary (`first` bytes at `pa`, the rest at `pa2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub pa: u32,
    pub split: Option<(u32, u8)>,
}

/// A page walk for display: every entry read, without touching the TLB,
/// the A and D bits, or the counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    pub linear: u32,
    pub cr3: u32,
    pub directory_index: u32,
    pub table_index: u32,
    pub offset: u32,
    pub pde_addr: u32,
    pub pde: u32,
    pub pte_addr: Option<u32>,
    pub pte: Option<u32>,
    /// The physical address the linear address maps to, if it is mapped.
    pub physical: Option<u32>,
    /// Whether the directory entry maps a 4 MiB page (CR4.PSE and the
    /// entry's PS bit): then there is no table entry.
    pub large: bool,
    /// Whether the TLB holds this page now.
    pub in_tlb: bool,
}

/// What accesses made with one privilege need of a TLB entry, worked out
/// once: the block path keeps it for a block, whose shortcuts change
/// neither CPL nor CR0. Packed in one word (the bits a read needs, the bits
/// a write needs, paging, ring 3), so that it passes to the block path's
/// out-of-line accesses in a register, not through memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rights(u32);

impl Rights {
    const WRITE_SHIFT: u32 = 8;
    const PAGING: u32 = 1 << 16;
    const USER: u32 = 1 << 17;

    /// Rights from their parts; `read` and `write` are [`TlbEntry::word`]
    /// bits, all of which lie in the low byte.
    #[inline(always)]
    fn new(paging: bool, user: bool, read: u32, write: u32) -> Rights {
        debug_assert!(read | write <= 0xFF);
        Rights(
            read | write << Self::WRITE_SHIFT
                | if paging { Self::PAGING } else { 0 }
                | if user { Self::USER } else { 0 },
        )
    }

    /// Whether paging is on (else linear addresses are physical).
    #[inline(always)]
    pub(crate) fn paging(self) -> bool {
        self.0 & Self::PAGING != 0
    }

    /// Whether accesses are checked as ring 3's.
    #[inline(always)]
    pub(crate) fn user(self) -> bool {
        self.0 & Self::USER != 0
    }

    /// The [`TlbEntry::word`] bits a read needs: a user page at ring 3.
    #[inline(always)]
    pub(crate) fn read(self) -> u32 {
        self.0 & 0xFF
    }

    /// The bits a write needs: a read's, D known set, and a writable page
    /// where R/W applies (ring 3, or CR0.WP).
    #[inline(always)]
    pub(crate) fn write(self) -> u32 {
        (self.0 >> Self::WRITE_SHIFT) & 0xFF
    }

    /// The bits an access of kind `access` needs.
    #[inline(always)]
    fn need(self, access: Access) -> u32 {
        if access == Access::Write {
            self.write()
        } else {
            self.read()
        }
    }

    /// Whether the page's U/S and R/W bits (`bits`, where a page table
    /// entry has them) refuse the access: see [`refuses`].
    #[inline(always)]
    fn refuse(self, access: Access, bits: u32) -> bool {
        refuses(self.need(access), bits)
    }
}

/// [`Rights`] as the block path's quick accesses check them
/// ([`Machine::quick_rights`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuickRights {
    paging: bool,
    read: u32,
    write: u32,
}

/// Whether the page's U/S and R/W bits (`bits`, where a page table entry
/// has them) refuse an access that needs the [`TlbEntry::word`] bits
/// `need`: ring 3 needs a user page; a write needs a writable page, at ring
/// 0 too when CR0.WP is set. D is not a permission: a walk sets it.
#[inline(always)]
fn refuses(need: u32, bits: u32) -> bool {
    let need = need & !TlbEntry::DIRTY;
    bits & need != need
}

impl Machine {
    /// The rights of accesses checked as ring 3's (`user`) or ring 0's.
    #[inline(always)]
    pub(crate) fn rights(&self, user: bool) -> Rights {
        let read = if user { TlbEntry::USER } else { 0 };
        let writable = if user || self.cpu.cr0 & Cr0::WP != 0 {
            TlbEntry::WRITABLE
        } else {
            0
        };
        Rights::new(
            self.cpu.cr0 & Cr0::PG != 0,
            user,
            read,
            read | TlbEntry::DIRTY | writable,
        )
    }

    /// The rights of accesses made with the current privilege level.
    #[inline(always)]
    pub(crate) fn cpl_rights(&self) -> Rights {
        self.rights(self.cpu.cpl() == 3)
    }

    /// Translates `linear` for an access, through the TLB model.
    /// `user` is whether the access is checked as ring 3's.
    #[inline(always)]
    pub(crate) fn translate(
        &mut self,
        linear: u32,
        access: Access,
        user: bool,
    ) -> Result<u32, Exception> {
        let rights = self.rights(user);
        self.translate_with(linear, access, rights)
    }

    /// [`Machine::translate`] with the rights worked out already.
    #[inline(always)]
    pub(crate) fn translate_with(
        &mut self,
        linear: u32,
        access: Access,
        rights: Rights,
    ) -> Result<u32, Exception> {
        self.translate_as::<false>(linear, access, rights)
    }

    /// [`Machine::translate_with`], with a walk that tells the views nothing
    /// made in place when `IN_PLACE` (else called): for the block path's
    /// accesses that the quick path did not make, themselves out of line,
    /// where the call would cost more than the walk's own work.
    #[inline(always)]
    fn translate_as<const IN_PLACE: bool>(
        &mut self,
        linear: u32,
        access: Access,
        rights: Rights,
    ) -> Result<u32, Exception> {
        if !rights.paging() {
            return Ok(self.a20_gate(linear));
        }
        let user = rights.user();
        let page = linear >> 12;
        let write = access == Access::Write;
        // After the quick path, the hinted slot is known not to hold the
        // page unless it is the latest now (see `Tlb::lookup_after_quick`).
        let found = if IN_PLACE {
            self.tlb.lookup_after_quick(page)
        } else {
            self.tlb.lookup(page)
        };
        if let Some((slot, word)) = found {
            let need = rights.need(access);
            let frame = word >> 12;
            if word & need == need {
                self.emit(EventKind::TlbHit, || Event::TlbHit { page, frame, slot });
                return Ok((frame << 12) | (linear & 0xFFF));
            }
            if rights.refuse(access, word) {
                // The TLB's permissions are the walk's, so the fault is the same.
                self.emit(EventKind::TlbHit, || Event::TlbHit { page, frame, slot });
                return Err(protection_fault(linear, write, user));
            }
            // A first write through a clean entry walks again to set D.
            return self.walk_and_fill::<IN_PLACE>(linear, access, rights.need(access), Some(slot));
        }
        self.tlb.count_miss();
        // One test says whether the views notice the miss or its fill.
        let need = rights.need(access);
        if self.notices(MISS_KINDS) {
            return self.missed_told(linear, access, need);
        }
        if IN_PLACE {
            self.walk_and_fill_in_place::<false>(linear, access, need, None)
        } else {
            self.walk_and_fill_as::<false>(linear, access, need, None)
        }
    }

    /// A miss the views notice: its event, then the walk and fill that
    /// tell theirs.
    #[inline(never)]
    fn missed_told(&mut self, linear: u32, access: Access, need: u32) -> Result<u32, Exception> {
        let page = linear >> 12;
        self.emit(EventKind::TlbMiss, || Event::TlbMiss { page });
        self.walk_and_fill_in_place::<true>(linear, access, need, None)
    }

    /// Walks the tables for `linear` and fills the TLB: into `slot` when
    /// the page is there already (a first write through a clean entry),
    /// else as a miss, with no search for it. `need` is the
    /// [`TlbEntry::word`] bits the access needs ([`Rights`]), which also say
    /// whether it is ring 3's (U/S) and a write (D): a few arguments, so
    /// that all of them pass in registers.
    /// The walk is made in place when `IN_PLACE` and it tells nothing.
    #[inline(always)]
    fn walk_and_fill<const IN_PLACE: bool>(
        &mut self,
        linear: u32,
        access: Access,
        need: u32,
        slot: Option<u8>,
    ) -> Result<u32, Exception> {
        if self.notices(FILL_KINDS) {
            self.walk_and_fill_as::<true>(linear, access, need, slot)
        } else if IN_PLACE {
            self.walk_and_fill_in_place::<false>(linear, access, need, slot)
        } else {
            self.walk_and_fill_as::<false>(linear, access, need, slot)
        }
    }

    /// [`Machine::walk_and_fill_in_place`], called.
    #[inline(never)]
    fn walk_and_fill_as<const TELL: bool>(
        &mut self,
        linear: u32,
        access: Access,
        need: u32,
        slot: Option<u8>,
    ) -> Result<u32, Exception> {
        self.walk_and_fill_in_place::<TELL>(linear, access, need, slot)
    }

    /// [`Machine::walk_and_fill`], telling the views what it did (the
    /// walk, the fill, the eviction) when `TELL`. One definition, made
    /// twice: without `TELL` nothing of the events is kept, so a miss with
    /// events off is the walk and the fill (measured on the benchmark's
    /// second loop, which misses on every iteration: the event's fields
    /// held across the walk cost about 40 host instructions a miss).
    #[inline(always)]
    fn walk_and_fill_in_place<const TELL: bool>(
        &mut self,
        linear: u32,
        access: Access,
        need: u32,
        slot: Option<u8>,
    ) -> Result<u32, Exception> {
        let write = need & TlbEntry::DIRTY != 0;
        let user = need & TlbEntry::USER != 0;
        debug_assert_eq!(write, access == Access::Write);
        let pde_addr = (self.cpu.cr3 & Pte::FRAME) | ((linear >> 22) << 2);
        let pde = self.mem.read32(pde_addr);
        let walk = |table: Option<(u32, u32)>| PageWalk {
            linear,
            access,
            pde_addr,
            pde,
            table,
        };
        // With CR4.PSE a directory entry with PS set maps a 4 MiB page
        // itself: it is then the last level, and there is no table entry.
        // The TLB holds the 4 KiB part of it that was touched (as CPUs that
        // split large pages do), so `invlpg` and the views treat every page
        // alike.
        let large =
            pde & Pte::LARGE != 0 && self.cpu.cr4 & Cr4::PSE != 0 && pde & Pte::PRESENT != 0;
        // The last level's entry: where it is, what it holds, and the frame.
        let (last_addr, last, frame, table) = if large {
            let frame = ((pde & Pte::LARGE_FRAME) >> 12) | ((linear >> 12) & 0x3FF);
            (pde_addr, pde, frame, None)
        } else if pde & Pte::PRESENT != 0 {
            let pte_addr = (pde & Pte::FRAME) | (((linear >> 12) & 0x3FF) << 2);
            let pte = self.mem.read32(pte_addr);
            if pte & Pte::PRESENT == 0 {
                return Err(self.walk_failed::<TELL>(
                    walk(Some((pte_addr, pte))),
                    not_present(linear, write, user),
                ));
            }
            self.touch_next_page(pte_addr, linear);
            (pte_addr, pte, pte >> 12, Some((pte_addr, pte)))
        } else {
            return Err(self.walk_failed::<TELL>(walk(None), not_present(linear, write, user)));
        };
        // The permissions are both levels' (one, for a 4 MiB page).
        if refuses(need, pde & last) {
            return Err(
                self.walk_failed::<TELL>(walk(table), protection_fault(linear, write, user))
            );
        }
        // The walk sets A in every level, and D in the last on a write.
        if !large && pde & Pte::ACCESSED == 0 {
            self.mem.write(pde_addr, 4, pde | Pte::ACCESSED);
        }
        let new_last = self.mark_used(last_addr, last, write);
        // The TLB's word has R/W, U/S and D where the entries have them. On
        // a write the entry knows D is set: the walk set it.
        const _: () = assert!(
            TlbEntry::WRITABLE == Pte::WRITABLE
                && TlbEntry::USER == Pte::USER
                && TlbEntry::DIRTY == Pte::DIRTY
        );
        let word =
            (frame << 12) | (pde & last & (Pte::WRITABLE | Pte::USER)) | (new_last & Pte::DIRTY);
        let page = linear >> 12;
        let filled = self.tlb.fill_known(page, word, slot);
        // Without the fetch page a block leaves.
        self.recheck |= filled.lost_fetch;
        if TELL {
            let entry = TlbEntry::from_word(page, word);
            let evicted = filled
                .evicted
                .map(|(page, word)| TlbEntry::from_word(page, word));
            self.fill_events(walk(table), entry, filled.slot, evicted);
        }
        Ok((frame << 12) | (linear & 0xFFF))
    }

    /// The events of a walk that filled `slot` with `entry` (evicting
    /// `evicted`), in the order they happened: out of line, so the walk
    /// keeps no event in its frame.
    #[inline(never)]
    fn fill_events(
        &mut self,
        walk: PageWalk,
        entry: TlbEntry,
        slot: u8,
        evicted: Option<TlbEntry>,
    ) {
        self.emit(EventKind::PageWalk, || walk.event(Some(entry.frame)));
        if let Some(old) = evicted {
            self.emit(EventKind::TlbEvict, || Event::TlbEvict {
                page: old.page,
                frame: old.frame,
                slot,
            });
        }
        self.emit(EventKind::TlbFill, || Event::TlbFill {
            page: entry.page,
            frame: entry.frame,
            slot,
            writable: entry.writable,
            user: entry.user,
        });
    }

    /// A walk that found no mapping or refused the access: says so to the
    /// views if they notice walks (`TELL`), and gives the fault.
    #[cold]
    #[inline(never)]
    fn walk_failed<const TELL: bool>(&mut self, walk: PageWalk, fault: Exception) -> Exception {
        if TELL {
            self.emit(EventKind::PageWalk, || walk.event(None));
        }
        fault
    }

    /// When the guest's walks go page after page, reads one byte of the
    /// next page, at the offset of this access, from the host's memory, so
    /// that the host has walked its own tables for that page before the
    /// guest gets there. Nothing of the guest's changes (no A bit, no
    /// event, no device: RAM only, and the byte is dropped).
    ///
    /// Why: guest RAM is one host allocation, and where the host maps it
    /// in 4 KiB pages (wasm memory always is: the engine gives it no huge
    /// pages), a guest that touches more pages than the host's TLB reaches
    /// makes the host walk its tables for every new page, in line after the
    /// modelled walk. Measured on the benchmark's second loop (a new page
    /// every iteration over 16 MiB) in node, medians of 6 to 8 runs
    /// alternating: 89 -> 145 M instructions per second. Other offsets did
    /// less, each beside this one: the page's first byte 122 (this offset
    /// 149, none 105), and the line that loop reads next (this offset plus
    /// 64) 98 (this offset 154), so what helps is the host's walk made
    /// early, not a guess at the guest's next line. Natively, where guest
    /// RAM is in huge pages, no change. A read, not a prefetch instruction:
    /// wasm has none.
    #[inline(always)]
    fn touch_next_page(&mut self, pte_addr: u32, linear: u32) {
        // The next page's entry is the next dword of the same table, when
        // this one is not the table's last.
        if self.tlb.walked(linear >> 12) && pte_addr & (PAGE_SIZE - 1) != PAGE_SIZE - 4 {
            let next = self.mem.read32(pte_addr + 4);
            if next & Pte::PRESENT != 0 {
                std::hint::black_box(self.mem.read_u8((next & Pte::FRAME) | (linear & 0xFFF)));
            }
        }
    }

    /// Sets the A bit of the entry that maps the page (and D on a write),
    /// as the walk does; returns the entry as it now is.
    #[inline(always)]
    fn mark_used(&mut self, addr: u32, entry: u32, write: bool) -> u32 {
        let new = entry | Pte::ACCESSED | if write { Pte::DIRTY } else { 0 };
        if new != entry {
            self.mem.write(addr, 4, new);
        }
        new
    }

    /// Translates an access of `n` bytes, splitting it at a page boundary.
    #[inline(always)]
    pub(crate) fn locate_as(
        &mut self,
        linear: u32,
        n: u32,
        access: Access,
        user: bool,
    ) -> Result<Span, Exception> {
        let pa = self.translate(linear, access, user)?;
        if (linear & (PAGE_SIZE - 1)) + n <= PAGE_SIZE {
            return Ok(Span { pa, split: None });
        }
        let first = PAGE_SIZE - (linear & (PAGE_SIZE - 1));
        let pa2 = self.translate(linear.wrapping_add(first), access, user)?;
        Ok(Span {
            pa,
            split: Some((pa2, first as u8)),
        })
    }

    /// Translates an access made with the current privilege level.
    #[inline(always)]
    pub(crate) fn locate(
        &mut self,
        linear: u32,
        n: u32,
        access: Access,
    ) -> Result<Span, Exception> {
        let user = self.cpu.cpl() == 3;
        self.locate_as(linear, n, access, user)
    }

    /// Translates a 4-byte supervisor access (descriptor tables, the TSS,
    /// the frame a trap pushes), which ring 0 makes whatever the CPL.
    pub(crate) fn locate_sys(&mut self, linear: u32, access: Access) -> Result<Span, Exception> {
        self.locate_as(linear, 4, access, false)
    }

    /// Reads `n` bytes at a physical address as the CPU does: RAM, else a
    /// memory-mapped device, else all ones (nothing answers).
    #[inline(always)]
    pub(crate) fn phys_read(&mut self, pa: u32, n: u32) -> u32 {
        match self.mem.try_read(pa, n) {
            Some(v) => v,
            None => self.mmio_read(pa, n),
        }
    }

    /// Writes `n` bytes at a physical address as the CPU does.
    #[inline(always)]
    pub(crate) fn phys_write(&mut self, pa: u32, n: u32, value: u32) {
        if !self.mem.try_write(pa, n, value) {
            self.mmio_write(pa, n, value);
        }
    }

    #[cold]
    fn mmio_read(&mut self, pa: u32, n: u32) -> u32 {
        self.settle_for_device();
        let width = crate::decode::Width::of_bytes(n);
        let value = if self.bus.has_mmio() {
            self.bus.mmio_read(pa, width, crate::io::lend!(self))
        } else {
            None
        };
        match value {
            Some((v, effects)) => {
                self.mmio_touched |= effects;
                self.recheck |= effects;
                self.emit(EventKind::Mmio, || Event::Mmio {
                    addr: pa,
                    value: v,
                    size: n as u8,
                    write: false,
                });
                v
            }
            None => self.mem.read(pa, n),
        }
    }

    #[cold]
    fn mmio_write(&mut self, pa: u32, n: u32, value: u32) {
        self.settle_for_device();
        let width = crate::decode::Width::of_bytes(n);
        if self.bus.has_mmio()
            && self
                .bus
                .mmio_write(pa, width, value, crate::io::lend!(self))
        {
            self.mmio_touched = true;
            self.recheck = true;
            self.next_deadline = self.bus.next_deadline();
            self.emit(EventKind::Mmio, || Event::Mmio {
                addr: pa,
                value: value & width.mask(),
                size: n as u8,
                write: true,
            });
        }
    }

    #[inline(always)]
    pub(crate) fn load_span(&mut self, span: Span, n: u32) -> u32 {
        match span.split {
            None => self.phys_read(span.pa, n),
            Some((pa2, first)) => (0..n).rev().fold(0, |acc, i| {
                let pa = if i < u32::from(first) {
                    span.pa + i
                } else {
                    pa2 + i - u32::from(first)
                };
                (acc << 8) | u32::from(self.mem.read_u8(pa))
            }),
        }
    }

    #[inline(always)]
    pub(crate) fn store_span(&mut self, span: Span, n: u32, value: u32) {
        match span.split {
            None => self.phys_write(span.pa, n, value),
            Some((pa2, first)) => {
                for i in 0..n {
                    let pa = if i < u32::from(first) {
                        span.pa + i
                    } else {
                        pa2 + i - u32::from(first)
                    };
                    self.mem.write_u8(pa, (value >> (8 * i)) as u8);
                }
            }
        }
    }

    /// Reads `n` bytes at a linear address with the CPL's privilege.
    #[inline]
    pub(crate) fn lin_read(&mut self, linear: u32, n: u32) -> Result<u32, Exception> {
        let span = self.locate(linear, n, Access::Read)?;
        Ok(self.load_span(span, n))
    }

    /// Writes `n` bytes at a linear address with the CPL's privilege.
    #[inline]
    pub(crate) fn lin_write(&mut self, linear: u32, n: u32, value: u32) -> Result<(), Exception> {
        let span = self.locate(linear, n, Access::Write)?;
        self.store_span(span, n, value);
        Ok(())
    }

    /// The physical address of `linear` when the TLB entry the latest
    /// access used, or the one its hint names, holds its page with the
    /// [`TlbEntry::word`] bits `need`, and the views do not watch TLB hits:
    /// the commonest translation, kept short for the block path. It ages
    /// the entry as [`Machine::translate_with`] would but leaves the hit to
    /// be counted by the caller, once the access is made ([`Tlb::count_hits`]);
    /// when it gives `None`, or the caller then goes the full way (to a
    /// device, say), that path gives the same result, finding the entry it
    /// aged as the latest, so it is aged and counted once.
    #[inline(always)]
    fn quick_translate(&mut self, linear: u32, need: u32) -> Option<u32> {
        let word = self.tlb.quick_lookup(linear >> 12, need)?;
        Some((word & Pte::FRAME) | (linear & 0xFFF))
    }

    /// The rights the quick path checks for accesses with `rights`: the
    /// same, but that when the views notice TLB hits they need a bit no
    /// entry has, so that every access goes the full way, which tells of
    /// its hit (one mask test then says both things).
    #[inline(always)]
    pub(crate) fn quick_rights(&self, rights: Rights) -> QuickRights {
        let never = if self.notices(HIT_KIND) {
            TlbEntry::NEVER
        } else {
            0
        };
        QuickRights {
            paging: rights.paging(),
            read: rights.read() | never,
            write: rights.write() | never,
        }
    }

    /// Reads a dword that lies in one page, when [`Machine::quick_translate`]
    /// finds it and it is in RAM; `None` leaves the access to
    /// [`Machine::lin_read32`], untouched but for the TLB's aging.
    #[inline(always)]
    pub(crate) fn quick_read32(&mut self, linear: u32, rights: QuickRights) -> Option<u32> {
        if linear & (PAGE_SIZE - 1) > PAGE_SIZE - 4 {
            return None;
        }
        if !rights.paging {
            return self.mem.try_read(linear, 4);
        }
        let pa = self.quick_translate(linear, rights.read)?;
        let v = self.mem.try_read(pa, 4)?;
        self.tlb.count_hits(1);
        Some(v)
    }

    /// Writes a dword that lies in one page, when [`Machine::quick_translate`]
    /// finds it and its frame is RAM already written since the last
    /// snapshot and holding no decoded code (so the write changes nothing
    /// but the bytes); false leaves the access to [`Machine::lin_write32`].
    #[inline(always)]
    pub(crate) fn quick_write32(&mut self, linear: u32, value: u32, rights: QuickRights) -> bool {
        if linear & (PAGE_SIZE - 1) > PAGE_SIZE - 4 {
            return false;
        }
        if !rights.paging {
            return self.mem.try_write32_plain(linear, value);
        }
        let Some(pa) = self.quick_translate(linear, rights.write) else {
            return false;
        };
        if !self.mem.try_write32_plain(pa, value) {
            return false;
        }
        self.tlb.count_hits(1);
        true
    }

    /// Reads a dword at a linear address with the CPL's privilege, whose
    /// rights are `rights`: the common case, kept short for the block fast
    /// path.
    #[inline(always)]
    pub(crate) fn lin_read32(&mut self, linear: u32, rights: Rights) -> Result<u32, Exception> {
        self.lin_read32_as::<false>(linear, rights)
    }

    /// Writes a dword at a linear address with the CPL's privilege, whose
    /// rights are `rights`.
    #[inline(always)]
    pub(crate) fn lin_write32(
        &mut self,
        linear: u32,
        value: u32,
        rights: Rights,
    ) -> Result<(), Exception> {
        self.lin_write32_as::<false>(linear, value, rights)
    }

    /// [`Machine::lin_read32`], with a miss's walk made in place when
    /// `IN_PLACE` (see [`Machine::translate_as`]).
    #[inline(always)]
    pub(crate) fn lin_read32_as<const IN_PLACE: bool>(
        &mut self,
        linear: u32,
        rights: Rights,
    ) -> Result<u32, Exception> {
        if linear & (PAGE_SIZE - 1) <= PAGE_SIZE - 4 {
            let pa = self.translate_as::<IN_PLACE>(linear, Access::Read, rights)?;
            return Ok(self.phys_read(pa, 4));
        }
        self.lin_read(linear, 4)
    }

    /// [`Machine::lin_write32`], with a miss's walk made in place when
    /// `IN_PLACE`.
    #[inline(always)]
    pub(crate) fn lin_write32_as<const IN_PLACE: bool>(
        &mut self,
        linear: u32,
        value: u32,
        rights: Rights,
    ) -> Result<(), Exception> {
        if linear & (PAGE_SIZE - 1) <= PAGE_SIZE - 4 {
            let pa = self.translate_as::<IN_PLACE>(linear, Access::Write, rights)?;
            // The dword lies in one page, so in one frame.
            if !self.mem.try_write32(pa, value) {
                self.mmio_write(pa, 4, value);
            }
            return Ok(());
        }
        self.lin_write(linear, 4, value)
    }

    /// Reads with supervisor privilege.
    pub(crate) fn sys_read(&mut self, linear: u32, n: u32) -> Result<u32, Exception> {
        let span = self.locate_as(linear, n, Access::Read, false)?;
        Ok(self.load_span(span, n))
    }

    /// Walks the page tables for `linear` as the hardware would, but only
    /// to look: no TLB use, no A or D bits set, no counters. For the views.
    pub fn walk(&self, linear: u32) -> Walk {
        let pde_addr = (self.cpu.cr3 & Pte::FRAME) | ((linear >> 22) << 2);
        let pde = self.mem.read(pde_addr, 4);
        let mut w = Walk {
            linear,
            cr3: self.cpu.cr3,
            directory_index: linear >> 22,
            table_index: (linear >> 12) & 0x3FF,
            offset: linear & 0xFFF,
            pde_addr,
            pde,
            pte_addr: None,
            pte: None,
            physical: None,
            large: false,
            in_tlb: self.tlb.find(linear >> 12).is_some(),
        };
        if pde & Pte::PRESENT != 0 && pde & Pte::LARGE != 0 && self.cpu.cr4 & Cr4::PSE != 0 {
            w.large = true;
            w.physical = Some((pde & Pte::LARGE_FRAME) | (linear & 0x3F_FFFF));
        } else if pde & Pte::PRESENT != 0 {
            let pte_addr = (pde & Pte::FRAME) | (w.table_index << 2);
            let pte = self.mem.read(pte_addr, 4);
            w.pte_addr = Some(pte_addr);
            w.pte = Some(pte);
            if pte & Pte::PRESENT != 0 {
                w.physical = Some((pte & Pte::FRAME) | w.offset);
            }
        }
        w
    }

    /// The physical address `linear` maps to now (the linear address itself
    /// when paging is off), without disturbing the TLB or the page tables.
    pub fn peek_translate(&self, linear: u32) -> Option<u32> {
        if !self.cpu.paging() {
            return Some(linear);
        }
        self.walk(linear).physical
    }

    /// Reads `len` bytes of virtual memory for a view, through the page
    /// tables but without disturbing the TLB; unmapped bytes are `None`.
    pub fn peek_virtual(&self, linear: u32, len: usize) -> Vec<Option<u8>> {
        (0..len as u32)
            .map(|i| {
                self.peek_translate(linear.wrapping_add(i))
                    .filter(|&pa| self.mem.holds(pa))
                    .map(|pa| self.mem.read_u8(pa))
            })
            .collect()
    }
}

/// The kind a TLB hit makes.
const HIT_KIND: KindSet = KindSet(EventKind::TlbHit.bit());

/// The kinds a walk that fills the TLB makes.
const FILL_KINDS: KindSet =
    KindSet(EventKind::PageWalk.bit() | EventKind::TlbEvict.bit() | EventKind::TlbFill.bit());

/// The kinds a miss makes: its own and its fill's.
const MISS_KINDS: KindSet = KindSet(EventKind::TlbMiss.bit() | FILL_KINDS.0);

/// What a page walk read, for its event.
#[derive(Clone, Copy)]
struct PageWalk {
    linear: u32,
    access: Access,
    pde_addr: u32,
    pde: u32,
    /// The table entry's address and value, when the walk read one.
    table: Option<(u32, u32)>,
}

impl PageWalk {
    /// The walk as the views see it, ending at `frame` (none when it failed).
    fn event(self, frame: Option<u32>) -> Event {
        Event::PageWalk {
            linear: self.linear,
            access: self.access,
            pde_addr: self.pde_addr,
            pde: self.pde,
            pte_addr: self.table.map(|t| t.0),
            pte: self.table.map(|t| t.1),
            frame,
        }
    }
}

/// The fault of an access to a page that is not present.
fn not_present(linear: u32, write: bool, user: bool) -> Exception {
    Exception::PageFault {
        linear,
        error_code: (if write { PfCode::WRITE } else { 0 }) | (if user { PfCode::USER } else { 0 }),
    }
}

fn protection_fault(linear: u32, write: bool, user: bool) -> Exception {
    Exception::PageFault {
        linear,
        error_code: PfCode::PRESENT
            | if write { PfCode::WRITE } else { 0 }
            | if user { PfCode::USER } else { 0 },
    }
}
