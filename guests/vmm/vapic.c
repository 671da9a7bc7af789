// The guest's interrupt controllers: a virtual local APIC and I/O APIC at
// the guest-physical addresses xv6 finds in the board's MP tables
// (0xFEE00000, 0xFEC00000). The guest's tables map them, the VMM's shadow
// never does, so every load and store the guest makes there faults, and
// trap.c emulates it here (an MMIO exit).
//
// The board's own APICs are the VMM's. Their configuration follows the
// guest's where the guest's devices need it: its I/O APIC's redirection
// entries are written through to the board's (same vector, same mask), and
// its local APIC timer to the board's timer, so that a device or the timer
// interrupts with the vector the guest chose. Such an interrupt exits to
// the VMM, which acknowledges it on the board's local APIC at once and
// holds it as requested (IRR) on the virtual one; it is delivered into the
// guest, through the guest's IDT, when the guest's virtual IF allows it.
// The guest's EOI ends it on the virtual APIC (ISR).

#include "vmm.h"
#include "x86.h"

#define LAPIC_GPA  0xFEE00000u
#define IOAPIC_GPA 0xFEC00000u
#define LAPIC ((volatile uint *)(APIC_VA + (0xFEE00000u - APIC_PA)))
#define IOAPIC ((volatile uint *)APIC_VA)

// Local APIC registers, as byte offsets.
#define ID     0x020
#define VER    0x030
#define TPR    0x080
#define EOI    0x0B0
#define SVR    0x0F0
#define ISR    0x100
#define IRR    0x200
#define ICRLO  0x300
#define TIMER  0x320
#define LINT0  0x350
#define LINT1  0x360
#define ERROR  0x370
#define TICR   0x380
#define TCCR   0x390
#define TDCR   0x3E0
#define SVR_ENABLE 0x100
#define MASKED 0x10000
#define DELIVS 0x1000
#define SPURIOUS 0xFF   // the board's spurious vector: the VMM's own

#define IOREDTBL 0x10

// The virtual local APIC: its registers, in a page laid out as a local
// APIC's (the register at byte offset R is word R / 4), and its requested
// and in-service vectors, kept in that page's IRR and ISR too. The shadow
// maps this page, read-only, where the guest's tables put its local APIC:
// the guest's loads read it with no exit (xv6's mycpu() reads the APIC ID
// on every call), and only its stores fault and are emulated. This is what
// VT-x's APIC-access page does in hardware.
__attribute__((__aligned__(4096))) static uint lpage[1024];
#define lreg(off) lpage[(off) / 4]
static uint irr[8], isr[8];
// The virtual I/O APIC: its selected register, ID and version (the board's,
// which the MP tables name), and redirection entries.
static uint ioselect, io_id, io_ver, redir[2 * 24];

int vmm_idle;

static uint ioapic_read(uint r)
{
  IOAPIC[0] = r;
  return IOAPIC[4];
}

static void ioapic_write(uint r, uint v)
{
  IOAPIC[0] = r;
  IOAPIC[4] = v;
}

void real_eoi(void)
{
  LAPIC[EOI / 4] = 0;
}

// The board's APICs made the VMM's: the legacy PIC masked (the guest's
// picinit masks it too), the local APIC on with its local lines and timer
// masked, every I/O APIC entry masked until the guest unmasks its own.
void vapic_init(void)
{
  outb(0x21, 0xFF);
  outb(0xA1, 0xFF);
  LAPIC[SVR / 4] = SVR_ENABLE | SPURIOUS;
  LAPIC[LINT0 / 4] = MASKED;
  LAPIC[LINT1 / 4] = MASKED;
  LAPIC[TIMER / 4] = MASKED;
  LAPIC[ERROR / 4] = MASKED;
  LAPIC[TPR / 4] = 0;
  real_eoi();
  io_id = ioapic_read(0);
  io_ver = ioapic_read(1);
  uint lines = ((io_ver >> 16) & 0xFF) + 1;
  for (uint i = 0; i < 24; i++) {
    redir[2 * i] = MASKED;
    if (i < lines) {
      ioapic_write(IOREDTBL + 2 * i, MASKED);
      ioapic_write(IOREDTBL + 2 * i + 1, 0);
    }
  }
  // The virtual local APIC as a local APIC is at reset (SDM 10.4.7.1):
  // disabled, its local vector entries masked; its ID and version the
  // board's, as the MP tables the guest reads say.
  lreg(ID) = LAPIC[ID / 4];
  lreg(VER) = LAPIC[VER / 4];
  lreg(SVR) = 0xFF;
  lreg(TIMER) = lreg(LINT0) = lreg(LINT1) = lreg(ERROR) = MASKED;
}

int vapic_is_mmio(uint gpa)
{
  return (gpa & ~0xFFFu) == LAPIC_GPA || (gpa & ~0xFFFu) == IOAPIC_GPA;
}

// The host-physical page the shadow maps, read-only, at the guest's local
// APIC, or 0 for a guest-physical page that is not it.
uint vapic_page(uint gpa)
{
  return (gpa & ~0xFFFu) == LAPIC_GPA ? V2P(lpage) : 0;
}

// The IRR and ISR words of the page, after a change to either.
static void sync_bits(uint v)
{
  lreg(IRR + (v / 32) * 16) = irr[v / 32];
  lreg(ISR + (v / 32) * 16) = isr[v / 32];
}

static int highest(const uint *bits)
{
  for (int w = 7; w >= 0; w--)
    if (bits[w])
      return w * 32 + 31 - __builtin_clz(bits[w]);
  return -1;
}

uint vapic_read(uint gpa)
{
  uint off = gpa & 0xFFF;
  if ((gpa & ~0xFFFu) == IOAPIC_GPA) {
    if (off == 0x00)
      return ioselect;
    if (off != 0x10)
      return 0;
    if (ioselect == 0)
      return io_id;
    if (ioselect == 1)
      return io_ver;
    if (ioselect >= IOREDTBL && ioselect < IOREDTBL + 48)
      return redir[ioselect - IOREDTBL];
    return 0;
  }
  if (off >= 0x400 || (off & 0xF))
    return 0;
  if (off == TCCR)
    return LAPIC[TCCR / 4];
  if (off == ICRLO)
    return lreg(ICRLO);
  return lreg(off);
}

void vapic_write(uint gpa, uint v)
{
  uint off = gpa & 0xFFF;
  if ((gpa & ~0xFFFu) == IOAPIC_GPA) {
    if (off == 0x00) {
      ioselect = v & 0xFF;
    } else if (off == 0x10 && ioselect >= IOREDTBL && ioselect < IOREDTBL + 48) {
      redir[ioselect - IOREDTBL] = v;
      ioapic_write(ioselect, v);
    }
    return;
  }
  if (off >= 0x400 || (off & 0xF))
    return;
  switch (off) {
  case ID: case VER: case ISR: case IRR: case TCCR:
    return;  // read-only (ID is writable on a real one; xv6 does not)
  case EOI: {
    int v = highest(isr);
    if (v >= 0) {
      isr[v / 32] &= ~(1u << (v % 32));
      sync_bits(v);
    }
    return;
  }
  case TIMER: case TICR: case TDCR:
    // The guest's timer is the board's.
    LAPIC[off / 4] = v;
    break;
  }
  if (off == ICRLO)
    v &= ~DELIVS;  // an IPI is sent at once
  lreg(off) = v;
}

// The board interrupted with a vector the guest programmed: it is now
// requested on the virtual local APIC.
// Whether any vector is requested: fastpath.S's sti takes the C path
// (which delivers) when one is.
uint vapic_requested;

static void note_requested(void)
{
  vapic_requested = irr[1] | irr[2] | irr[3] | irr[4] | irr[5] | irr[6] | irr[7];
}

void vapic_irq(uint vector)
{
  irr[vector / 32] |= 1u << (vector % 32);
  sync_bits(vector);
  note_requested();
  // The timer's current count, as the guest reads it from the page: as of
  // this interrupt (xv6 never reads it).
  lreg(TCCR) = LAPIC[TCCR / 4];
}

// The vector the virtual local APIC would deliver now, or -1: its highest
// requested one, if the APIC is enabled and the vector's priority class is
// above both the task priority's and the highest in service's (SDM 10.8.3).
int vapic_next(void)
{
  if (!vapic_requested)
    return -1;  // nothing requested (vectors 0-31 are never requested)
  int v = highest(irr);
  if (v < 0 || !(lreg(SVR) & SVR_ENABLE))
    return -1;
  int s = highest(isr);
  int ppr = (lreg(TPR) >> 4) & 0xF;
  if (s >= 0 && (s >> 4) > ppr)
    ppr = s >> 4;
  if ((v >> 4) <= ppr)
    return -1;
  return v;
}

// The vector is delivered: from requested to in service.
void vapic_ack(uint vector)
{
  irr[vector / 32] &= ~(1u << (vector % 32));
  isr[vector / 32] |= 1u << (vector % 32);
  sync_bits(vector);
  note_requested();
}
