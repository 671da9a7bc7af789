// Shadow paging. While the guest's paging is on, the MMU walks a page
// directory the VMM owns (the shadow), not the guest's: its entries map
// guest-virtual addresses straight to host-physical ones, made from the
// guest's own tables (guest-virtual to guest-physical) and the VMM's map
// (guest-physical A is host-physical GUEST_BASE + A).
//
// The shadow is a virtual TLB. It starts empty, and each page fault from
// the guest is either hidden (the guest's tables map the address with the
// rights asked for: the VMM fills the shadow entry and the instruction runs
// again) or true (the guest's tables refuse it: the fault is the guest's,
// and the VMM reflects it, CR2 set on the virtual CPU). A guest that
// changes its page tables must tell its TLB, by reloading CR3 or with
// invlpg, as x86 requires of it, and the VMM drops the shadow then: so no
// write of the guest's to its tables is traced. xv6 reloads CR3 after every
// change to the tables it runs on (switchuvm after growproc and exec,
// switchkvm), and never uses invlpg.

#include "vmm.h"
#include "x86.h"

// The shadow page directory: the guest's half (below VMM_BASE, and from
// 0xFE000000) empty until faults fill it; the VMM's window copied from its
// own page directory and never dropped.
__attribute__((__aligned__(4096))) static uint spgdir[1024];
static uint *vmmpgdir;
// Page tables for the shadow, from the pool (memlayout.h), taken in order
// and all given back at once when the shadow is dropped.
static uint pool_next;
static int paging;  // the guest's paging is on: the shadow is loaded

#define PDX(va) ((va) >> 22)
#define PTX(va) (((va) >> 12) & 0x3FF)
#define WINDOW_FIRST PDX(VMM_BASE)
#define WINDOW_END PDX(0xFE000000u)

void shadow_init(uint *pgdir)
{
  vmmpgdir = pgdir;
  for (uint i = WINDOW_FIRST; i < WINDOW_END; i++)
    spgdir[i] = vmmpgdir[i];
}

// The VMM's own small TLB of the guest's linear pages it reaches (gva()),
// direct-mapped by page number: a patched pushfl writes the guest's stack
// on every exit of its kind. Emptied with the shadow, for the same reason.
struct vtlb_entry vtlb[VTLB];

static void vtlb_flush(void)
{
  for (int i = 0; i < VTLB; i++)
    vtlb[i].page = vtlb[i].wpage = 0;
}

// Each shadow page table taken from the pool since the last flush: the
// directory entry it fills (filled[n] for the pool's page n), and what
// prefetch() did in it since (refills, and the groups of PREFETCH pages it
// scanned, a bit each). A flush clears only these entries: xv6 switches
// address spaces twice a context switch, and a shadow then holds a handful
// of tables, not the 776 entries of the guest's half.
static ushort filled[POOL_PAGES];
static uchar refills[1024];
static uint scanned[1024];

// Drops every guest entry of the shadow (the guest wrote CR3, or CR0, or
// CR4, or the pool ran out) and reloads CR3 so the real TLB forgets them.
void shadow_flush(void)
{
  vtlb_flush();
  for (uint i = 0; i < pool_next; i++) {
    spgdir[filled[i]] = 0;
    refills[filled[i]] = 0;
    scanned[filled[i]] = 0;
  }
  pool_next = 0;
  if (paging)
    lcr3(V2P(spgdir));
}

// The guest's paging turned on or off: the MMU walks the shadow, or the
// VMM's own map (guest-physical memory at linear 0).
void shadow_paging(int on)
{
  paging = on;
  shadow_flush();
  lcr3(on ? V2P(spgdir) : V2P(vmmpgdir));
}

// A page table for the shadow's directory entry pdx, zeroed.
static uint *pool_page(uint pdx)
{
  if (pool_next == POOL_PAGES)
    return 0;
  filled[pool_next] = pdx;
  uint *pt = P2V(POOL_BASE + pool_next++ * 4096);
  memset(pt, 0, 4096);
  return pt;
}

// Whether the last guest walk found its page accessed before (its A bit
// set): a refill after a flush, not a first touch.
static int walked_before;

// A word of guest-physical memory, or 0 outside the guest's RAM.
static uint *guest_word(uint gpa)
{
  return guest_pa(gpa & ~3u, 4);
}

// The guest's walk of its own tables for `va`, as its MMU would do it:
// its PDE and PTE (or its 4 MiB PDE when CR4.PSE is on), their accessed
// bits set and the dirty bit on a write. Returns 0 with the guest-physical
// address and the rights the shadow may give (PTE_U, and PTE_W once the
// guest's entry is dirty), or -1 with the page-fault error code the
// guest's CPU would give.
static int guest_walk(uint va, int write, int user, uint *gpa, uint *shadow_rights, uint *err)
{
  uint ecode = (write ? 2 : 0) | (user ? 4 : 0);
  uint *pde = guest_word((vcpu.cr3 & ~0xFFFu) + PDX(va) * 4);
  if (!pde)
    stop("the guest's page directory (cr3 0x%x) is outside its memory", vcpu.cr3);
  if (!(*pde & PTE_P)) {
    *err = ecode;
    return -1;
  }
  uint rights, *leaf;
  if ((*pde & PTE_PS) && (vcpu.cr4 & CR4_PSE)) {
    leaf = pde;
    rights = *pde;
    *gpa = (*pde & 0xFFC00000u) | (va & 0x3FFFFF);
  } else {
    leaf = guest_word((*pde & ~0xFFFu) + PTX(va) * 4);
    if (!leaf)
      stop("a guest page table (0x%x) is outside its memory", *pde & ~0xFFFu);
    if (!(*leaf & PTE_P)) {
      *err = ecode;
      return -1;
    }
    rights = *pde & *leaf;
    *gpa = (*leaf & ~0xFFFu) | (va & 0xFFF);
  }
  int w = (rights & PTE_W) != 0;
  if ((user && !(rights & PTE_U)) || (write && !w && (user || (vcpu.cr0 & CR0_WP)))) {
    *err = ecode | 1;
    return -1;
  }
  walked_before = (*leaf & PTE_A) != 0;
  *pde |= PTE_A;
  *leaf |= PTE_A | (write ? PTE_D : 0);
  // A page is writable in the shadow only once the guest's entry is
  // dirty, so that the first write faults and sets D as the MMU would.
  *shadow_rights = (rights & PTE_U) | (w && (*leaf & PTE_D) ? PTE_W : 0);
  return 0;
}

// The host-physical page for a guest-physical one, or -1 when the guest
// has no memory there (its APICs, or nothing). The display memory
// (0xA0000-0xBFFFF) is the board's own, passed through: the guest's text
// screen is the board's.
static int host_page(uint gpa, uint *hpa)
{
  if (gpa >= 0xA0000 && gpa < 0xC0000) {
    *hpa = gpa & ~0xFFFu;
    return 0;
  }
  if (!guest_pa(gpa, 1))
    return -1;
  *hpa = GUEST_BASE + (gpa & ~0xFFFu);
  return 0;
}

static int shadow_set(uint va, uint hpa, uint rights)
{
  if (PDX(va) >= WINDOW_FIRST && PDX(va) < WINDOW_END)
    stop("the guest maps 0x%x, inside the VMM's window (0x%x-0xfe000000)", va, VMM_BASE);
  uint *pt;
  if (spgdir[PDX(va)] & PTE_P) {
    pt = P2V(spgdir[PDX(va)] & ~0xFFFu);
  } else {
    if (!(pt = pool_page(PDX(va))))
      return -1;
    spgdir[PDX(va)] = V2P(pt) | PTE_P | PTE_W | PTE_U;
  }
  pt[PTX(va)] = hpa | PTE_P | rights;
  // The entry may replace a read-only one the TLB holds.
  invlpg(va);
  return 0;
}

// Fills, beside the page just filled, other pages of the same guest page
// table that the guest has already accessed (their A bit set): after each
// flush (each guest CR3 write: at least two a context switch), a program
// that sweeps its memory would otherwise fault once a page. A page without
// A is left to fault, so that its A bit is set when the guest first uses
// it, as its MMU would; a page is mapped writable only once dirty, as in
// guest_walk(). Only a refill prefetches: a first touch (kinit's sweep
// over every page) finds its neighbours untouched too, and the scan would
// be wasted.
//
// How far: the first refill in a table since the flush scans the aligned
// group of PREFETCH pages around the fault, and each further refill in the
// same table an aligned run of groups twice as long, up to the whole
// table, skipping the groups already scanned; a table scanned whole is
// not scanned again until the next flush. A process that touches a few
// pages (the common case: its stack, its code) pays for a small scan; one
// that walks megabytes of its memory after every flush (usertests' mem,
// whose malloc walks its free list after each sbrk) fills a table in a few
// faults rather than in one fault per group.
#define PREFETCH 32
static void prefetch(uint va)
{
  uint pdx = PDX(va);
  if (scanned[pdx] == ~0u)
    return;  // the whole table was scanned since the flush
  uint groups = 1u << refills[pdx]++;  // at most 32: then all are scanned
  uint *pdep = guest_word((vcpu.cr3 & ~0xFFFu) + pdx * 4);
  if (!pdep)
    return;
  uint pde = *pdep;
  if (!(pde & PTE_P) || ((pde & PTE_PS) && (vcpu.cr4 & CR4_PSE)))
    return;
  uint *pt = guest_pa(pde & ~0xFFFu, 4096);
  uint *spt = P2V(spgdir[pdx] & ~0xFFFu);
  if (!pt)
    return;
  // The rights the directory entry allows; a page is writable when its
  // entry allows it too and it is dirty (PTE_D >> 5 is PTE_W).
  uint allowed = pde & (PTE_U | PTE_W);
  uint first = (PTX(va) / PREFETCH) & ~(groups - 1);
  for (uint g = first; g < first + groups; g++) {
    if (scanned[pdx] & (1u << g))
      continue;
    scanned[pdx] |= 1u << g;
    for (uint i = g * PREFETCH; i < (g + 1) * PREFETCH; i++) {
      uint pte = pt[i], gpa = pte & ~0xFFFu;
      if ((pte & (PTE_P | PTE_A)) != (PTE_P | PTE_A) || (spt[i] & PTE_P))
        continue;
      // Only the guest's RAM (host_page()'s common case): the display
      // memory and the APICs are left to fault.
      if (gpa >= GUEST_SIZE || (gpa >= 0xA0000 && gpa < 0xC0000))
        continue;
      spt[i] = (GUEST_BASE + gpa) | PTE_P | (pte & allowed & (PTE_U | (pte >> 5)));
    }
  }
}

// A page fault the guest took at `va` (a write or not, from its user mode
// or not), with the guest's paging on. F_FILLED: hidden, the shadow now
// maps it. F_GUEST: true, *guest_err is the guest's error code. F_MMIO:
// the guest's tables map it to guest-physical *gpa, one of its APICs.
// F_OUTSIDE: mapped to guest-physical *gpa where it has nothing.
enum fault shadow_fault(uint va, int write, int user, uint *gpa, uint *guest_err)
{
  uint rights, hpa;
  if (guest_walk(va, write, user, gpa, &rights, guest_err) < 0)
    return F_GUEST;
  if ((hpa = vapic_page(*gpa)) != 0) {
    // The guest's local APIC: loads read the virtual APIC's page, stores
    // are emulated.
    if (write)
      return F_MMIO;
    rights &= ~PTE_W;
  } else if (host_page(*gpa, &hpa) < 0) {
    return vapic_is_mmio(*gpa) ? F_MMIO : F_OUTSIDE;
  }
  if (shadow_set(va, hpa, rights) < 0) {
    // The pool is spent: start the shadow again, as a full TLB would.
    shadow_flush();
    shadow_set(va, hpa, rights);
  }
  if (walked_before)
    prefetch(va);
  return F_FILLED;
}

// A guest linear address as the VMM reaches it: through the guest's tables
// when its paging is on (as its kernel would, with the accessed and dirty
// bits set), directly when off. A pointer into the VMM's window, or 0.
static uchar *gva(uint va, int write)
{
  uchar *p = vtlb_hit(va, write);
  if (p)
    return p;
  uint i = (va >> 12) % VTLB, page = (va & ~0xFFFu) | 1;
  uint gpa = va, hpa, err, rights = PTE_W;
  if ((vcpu.cr0 & CR0_PG) && guest_walk(va, write, 0, &gpa, &rights, &err) < 0)
    return 0;
  if (host_page(gpa, &hpa) < 0)
    return 0;
  vtlb[i].page = page;
  vtlb[i].wpage = (rights & PTE_W) ? (page & ~1u) | 4 : 0;
  vtlb[i].delta = (uint)P2V(hpa) - (page & ~1u);
  return (uchar *)(va + vtlb[i].delta);
}

// Copies n bytes between the guest's linear memory at va and the VMM's
// buffer, a page at a time (into the guest when `write`); -1 when a byte is
// not mapped with the rights the access needs.
static int gva_copy(uint va, uchar *buf, uint n, int write)
{
  while (n > 0) {
    uint chunk = 4096 - (va & 0xFFF);
    if (chunk > n)
      chunk = n;
    uchar *p = gva(va, write);
    if (!p)
      return -1;
    if (write)
      memmove(p, buf, chunk);
    else
      memmove(buf, p, chunk);
    buf += chunk;
    va += chunk;
    n -= chunk;
  }
  return 0;
}

int gva_read(uint va, void *dst, uint n)
{
  return gva_copy(va, dst, n, 0);
}

int gva_write(uint va, const void *src, uint n)
{
  return gva_copy(va, (uchar *)src, n, 1);
}

// Up to `max` bytes of the guest's code at va, as many as are mapped.
uint gva_fetch(uint va, uchar *dst, uint max)
{
  uint n = 0;
  while (n < max) {
    uchar *p = gva(va + n, 0);
    if (!p)
      break;
    uint chunk = 4096 - ((va + n) & 0xFFF);
    if (chunk > max - n)
      chunk = max - n;
    memmove(dst + n, p, chunk);
    n += chunk;
  }
  return n;
}
