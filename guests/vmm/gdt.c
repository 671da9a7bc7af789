// The real GDT (its layout in seg.h) and the VMM's TSS. The guest's kernel
// runs in ring 1 on its own descriptors, compressed from ring 0; its user
// programs in ring 3 on theirs, unchanged; the TSS gives the ring 0 stack
// every exit lands on.

#include "vmm.h"
#include "x86.h"

struct segdesc {
  uint lo, hi;
};

// The 32-bit TSS; only ss0:esp0 and the I/O map base matter here.
struct taskstate {
  uint link;
  uint esp0;
  ushort ss0, padding1;
  uint esp1;
  ushort ss1, padding2;
  uint esp2;
  ushort ss2, padding3;
  uint cr3, eip, eflags;
  uint eax, ecx, edx, ebx, esp, ebp, esi, edi;
  ushort es, padding4, cs, padding5, ss, padding6;
  ushort ds, padding7, fs, padding8, gs, padding9;
  ushort ldt, padding10;
  ushort t;
  ushort iomb;
};

#define STA_X 0x8  // executable
#define STA_R 0x2  // readable (code)
#define STA_W 0x2  // writable (data)
#define STS_T32A 0x9

static struct segdesc gdt[NSEGS];
static struct taskstate ts;
// The stack every exit runs on: the trap frame is at its top.
__attribute__((aligned(16))) uchar exitstack[8192];

// A descriptor: `s` 1 for code or data (4 KiB granules, 32-bit), 0 for a
// system segment (byte granules).
static struct segdesc seg(uint type, uint base, uint limit, uint dpl, int s)
{
  struct segdesc d;
  uint g = 0;
  if (s && limit > 0xFFFFF) {
    limit >>= 12;
    g = 1;
  }
  d.lo = (limit & 0xFFFF) | (base << 16);
  d.hi = ((base >> 16) & 0xFF) | (type << 8) | (s << 12) | (dpl << 13) | (1 << 15) |
         (limit & 0xF0000) | ((s ? 1 : 0) << 22) | (g << 23) | (base & 0xFF000000);
  return d;
}

void seg_init(void)
{
  gdt[SEG_VCODE] = seg(STA_X | STA_R, 0, 0xFFFFFFFF, 0, 1);
  gdt[SEG_VDATA] = seg(STA_W, 0, 0xFFFFFFFF, 0, 1);
  gdt[SEG_G1CODE] = seg(STA_X | STA_R, 0, 0xFFFFFFFF, 1, 1);
  gdt[SEG_G1DATA] = seg(STA_W, 0, 0xFFFFFFFF, 1, 1);

  ts.ss0 = SEL(SEG_VDATA, 0);
  ts.esp0 = (uint)exitstack + sizeof(exitstack);
  // No I/O permission bitmap (its base is past the TSS's limit): every
  // in and out the guest makes in ring 1 or 3 with IOPL 0 faults to the VMM.
  ts.iomb = sizeof(ts);
  gdt[SEG_TSS] = seg(STS_T32A, (uint)&ts, sizeof(ts) - 1, 0, 0);

  lgdt(gdt, sizeof(gdt));
  asm volatile("ljmp %0, $1f\n1:" : : "i"(SEL(SEG_VCODE, 0)));
  asm volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss; movw %w0, %%fs; movw %w0, %%gs"
               : : "r"(SEL(SEG_VDATA, 0)));
  ltr(SEL(SEG_TSS, 0));
}

#define DESC_S    (1u << 12)   // a code or data segment, not a system one
#define DESC_DPL  (3u << 13)

// Ring compression: the guest's lgdt (and ltr, which follows its changes to
// the TSS descriptor) copies the guest's descriptors into the real GDT at
// the same indices, each code or data descriptor of DPL 0 given DPL 1, so
// that the guest's kernel, in ring 1, loads its own selectors (a data
// segment of DPL 1 may be loaded with RPL 0 from CPL 1). System descriptors
// are left out: the guest's TSS is virtual (the VMM reads its ESP0), and
// the real TR stays the VMM's.
void gdt_load_guest(void)
{
  uint n = (vcpu.gdt_limit + 1u) / 8;
  for (uint i = 1; i < GUEST_NSEGS; i++) {
    struct segdesc d = { 0, 0 };
    if (i < n && gva_read(vcpu.gdt_base + i * 8, &d, 8) < 0)
      stop("the guest's GDT at 0x%x is not mapped", vcpu.gdt_base);
    if (i >= n || !(d.hi & DESC_S))
      d.lo = d.hi = 0;
    else if ((d.hi & DESC_DPL) == 0)
      d.hi |= 1u << 13;
    gdt[i] = d;
  }
}
