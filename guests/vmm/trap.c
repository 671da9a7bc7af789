// Exits: every interrupt and exception, the guest's included, comes through
// the VMM's IDT to vmexit(). A #GP from the guest's ring 1 is usually a
// privileged instruction the guest believes it may run (it was written for
// ring 0): the VMM decodes it, does to the virtual CPU what it would have
// done to the real one, and resumes the guest after it. This is trap and
// emulate.

#include "vmm.h"
#include "x86.h"

#define T_GPFLT 13

struct gatedesc {
  uint lo, hi;
};

static struct gatedesc idt[256];
extern uint vectors[];

// Every vector is a 32-bit interrupt gate of DPL 0 into the VMM's code: an
// `int n` in the guest (at CPL 1 or 3) faults with #GP instead of reaching
// a gate, so the VMM sees that too. Interrupt gates clear IF, so the VMM
// runs with interrupts off.
void idt_init(void)
{
  for (int i = 0; i < 256; i++) {
    idt[i].lo = (vectors[i] & 0xFFFF) | (SEL(SEG_VCODE, 0) << 16);
    idt[i].hi = (vectors[i] & 0xFFFF0000) | (1 << 15) | (0 << 13) | (0xE << 8);
  }
  lidt(idt, sizeof(idt));
}

static const char *vecname(uint v)
{
  static const char *names[] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
    "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
  };
  return v < sizeof(names) / sizeof(names[0]) ? names[v] : "interrupt";
}

// What one guest instruction is, as far as the VMM emulates it.
enum kind { I_UNKNOWN, I_MOV_FROM_CR, I_MOV_TO_CR, I_CLI, I_STI, I_IN, I_OUT, I_LGDT, I_LIDT };

struct insn {
  enum kind kind;
  uint len;   // its bytes
  int size;   // the operand's size for in and out: 1, 2 or 4
  int port;   // the port, or -1 when it is DX's
  int reg;    // the general register of mov cr*
  int cr;     // the control register of mov cr*
  uint ea;    // the memory operand's linear address (lgdt, lidt)
};

static const char *regname[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

// The guest's general register n (in ModRM's numbering) in its trap frame.
static uint *reg(struct trapframe *tf, int n)
{
  switch (n) {
  case 0: return &tf->eax;
  case 1: return &tf->ecx;
  case 2: return &tf->edx;
  case 3: return &tf->ebx;
  case 4: return &tf->esp;  // the guest's, pushed by the CPU on the way in
  case 5: return &tf->ebp;
  case 6: return &tf->esi;
  default: return &tf->edi;
  }
}

// The guest-physical address of a guest linear address. With the guest's
// paging off they are the same (its segments are flat, based at 0); with it
// on they go through the guest's page tables, which this VMM does not walk
// yet.
static int gva2gpa(uint va, uint *gpa)
{
  if (vcpu.cr0 & 0x80000000)
    return -1;
  *gpa = va;
  return 0;
}

static uint rd32(const uchar *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint)p[3] << 24);
}

// A ModRM memory operand (32-bit addressing: SIB, disp8, disp32) at p:
// its linear address in *ea and its length in bytes, or -1 for a register.
static int modrm_ea(struct trapframe *tf, const uchar *p, uint *ea)
{
  int mod = p[0] >> 6, rm = p[0] & 7, n = 1;
  uint a;
  if (mod == 3)
    return -1;
  if (rm == 4) {
    int sib = p[n++], scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
    if (base == 5 && mod == 0) {
      a = rd32(p + n);
      n += 4;
    } else {
      a = *reg(tf, base);
    }
    if (index != 4)
      a += *reg(tf, index) << scale;
  } else if (rm == 5 && mod == 0) {
    a = rd32(p + n);
    n += 4;
  } else {
    a = *reg(tf, rm);
  }
  if (mod == 1) {
    a += (signed char)p[n];
    n += 1;
  } else if (mod == 2) {
    a += rd32(p + n);
    n += 4;
  }
  *ea = a;
  return n;
}

// Decodes the instruction at p (at most `max` bytes readable) into *in.
static void decode(struct trapframe *tf, const uchar *p, uint max, struct insn *in)
{
  memset(in, 0, sizeof(*in));
  in->kind = I_UNKNOWN;
  in->size = 4;
  uint n = 0;
  if (max >= 1 && p[0] == 0x66) {
    in->size = 2;
    n = 1;
  }
  if (max < n + 1)
    return;
  uchar op = p[n];
  switch (op) {
  case 0xFA: in->kind = I_CLI; in->len = n + 1; return;
  case 0xFB: in->kind = I_STI; in->len = n + 1; return;
  case 0xE4: case 0xE5: case 0xE6: case 0xE7:
    if (max < n + 2)
      return;
    in->kind = op < 0xE6 ? I_IN : I_OUT;
    in->size = (op & 1) ? in->size : 1;
    in->port = p[n + 1];
    in->len = n + 2;
    return;
  case 0xEC: case 0xED: case 0xEE: case 0xEF:
    in->kind = op < 0xEE ? I_IN : I_OUT;
    in->size = (op & 1) ? in->size : 1;
    in->port = -1;
    in->len = n + 1;
    return;
  case 0x0F:
    if (max < n + 3)
      return;
    break;
  default:
    return;
  }
  uchar op2 = p[n + 1], modrm = p[n + 2];
  if ((op2 == 0x20 || op2 == 0x22) && (modrm >> 6) == 3) {
    in->kind = op2 == 0x20 ? I_MOV_FROM_CR : I_MOV_TO_CR;
    in->cr = (modrm >> 3) & 7;
    in->reg = modrm & 7;
    in->len = n + 3;
  } else if (op2 == 0x01 && (((modrm >> 3) & 7) == 2 || ((modrm >> 3) & 7) == 3) &&
             max >= n + 9) {
    int len = modrm_ea(tf, p + n + 2, &in->ea);
    if (len < 0)
      return;
    in->kind = ((modrm >> 3) & 7) == 2 ? I_LGDT : I_LIDT;
    in->len = n + 2 + len;
  }
}

static void print_insn(const struct insn *in)
{
  static const char *sfx = "?bw?l";
  switch (in->kind) {
  case I_MOV_FROM_CR: cprintf("mov %%cr%d,%%%s", in->cr, regname[in->reg]); break;
  case I_MOV_TO_CR: cprintf("mov %%%s,%%cr%d", regname[in->reg], in->cr); break;
  case I_CLI: cprintf("cli"); break;
  case I_STI: cprintf("sti"); break;
  case I_IN:
  case I_OUT:
    cprintf("%s%c ", in->kind == I_IN ? "in" : "out", sfx[in->size]);
    if (in->port < 0)
      cprintf("%%dx");
    else
      cprintf("$0x%x", in->port);
    break;
  case I_LGDT: cprintf("lgdt 0x%x", in->ea); break;
  case I_LIDT: cprintf("lidt 0x%x", in->ea); break;
  default: cprintf("(not emulated)"); break;
  }
}

// Stops the VMM: what the guest did next is past what it emulates.
__attribute__((noreturn)) static void stop(const char *why)
{
  cprintf("vmm: stopped: %s\n", why);
  halt_forever();
}

static uint *vcr(int n)
{
  switch (n) {
  case 0: return &vcpu.cr0;
  case 2: return &vcpu.cr2;
  case 3: return &vcpu.cr3;
  case 4: return &vcpu.cr4;
  default: return 0;
  }
}

// Does what the instruction would have done in ring 0, to the virtual CPU
// (or, for in and out, to the real ports: the board's devices are the
// guest's for now).
static void emulate(struct trapframe *tf, const struct insn *in)
{
  switch (in->kind) {
  case I_MOV_FROM_CR: {
    uint *cr = vcr(in->cr);
    if (!cr)
      stop("a control register the guest's CPU does not have");
    *reg(tf, in->reg) = *cr;
    cprintf("vmm:   %%%s = guest cr%d = 0x%x\n", regname[in->reg], in->cr, *cr);
    break;
  }
  case I_MOV_TO_CR: {
    uint *cr = vcr(in->cr);
    uint v = *reg(tf, in->reg);
    if (!cr)
      stop("a control register the guest's CPU does not have");
    if (in->cr == 0) {
      if (!(v & 1))
        stop("the guest leaves protected mode, which this VMM does not emulate");
      if (v & 0x80000000) {
        cprintf("vmm:   guest cr0 = 0x%x turns its paging on, with its page directory at "
                "guest-physical 0x%x (cr3) and cr4 0x%x\n", v, vcpu.cr3, vcpu.cr4);
        stop("the guest's paging needs shadow page tables, which come next");
      }
      v |= 0x10;  // ET reads as 1 from a 486 on
    }
    *cr = v;
    cprintf("vmm:   guest cr%d = 0x%x (the real cr%d stays the VMM's)\n", in->cr, v, in->cr);
    break;
  }
  case I_CLI:
    vcpu.vif = 0;
    cprintf("vmm:   guest IF = 0\n");
    break;
  case I_STI:
    vcpu.vif = 1;
    cprintf("vmm:   guest IF = 1\n");
    break;
  case I_IN: {
    ushort port = in->port < 0 ? tf->edx & 0xFFFF : in->port;
    if (in->size == 1)
      tf->eax = (tf->eax & ~0xFFu) | inb(port);
    else if (in->size == 2)
      tf->eax = (tf->eax & ~0xFFFFu) | inw(port);
    else
      tf->eax = inl(port);
    cprintf("vmm:   port 0x%x read 0x%x\n", port,
            in->size == 4 ? tf->eax : tf->eax & ((1u << (8 * in->size)) - 1));
    break;
  }
  case I_OUT: {
    ushort port = in->port < 0 ? tf->edx & 0xFFFF : in->port;
    uint mask = in->size == 4 ? 0xFFFFFFFF : (1u << (8 * in->size)) - 1;
    // Said before it is done: a byte the guest writes to the console then
    // follows the VMM's line.
    cprintf("vmm:   port 0x%x written 0x%x\n", port, tf->eax & mask);
    if (in->size == 1)
      outb(port, tf->eax);
    else if (in->size == 2)
      outw(port, tf->eax);
    else
      outl(port, tf->eax);
    break;
  }
  case I_LGDT:
  case I_LIDT: {
    uint gpa;
    const uchar *p;
    if (gva2gpa(in->ea, &gpa) < 0 || !(p = guest_pa(gpa, 6)))
      stop("the descriptor table register's operand is outside the guest's memory");
    ushort limit = p[0] | (p[1] << 8);
    uint base = rd32(p + 2);
    if (in->kind == I_LGDT) {
      vcpu.gdt_base = base;
      vcpu.gdt_limit = limit;
    } else {
      vcpu.idt_base = base;
      vcpu.idt_limit = limit;
    }
    cprintf("vmm:   guest %s = base 0x%x limit 0x%x\n", in->kind == I_LGDT ? "gdtr" : "idtr",
            base, limit);
    break;
  }
  default:
    stop("an instruction this VMM does not emulate");
  }
  tf->eip += in->len;
}

void vmexit(struct trapframe *tf)
{
  vcpu.exits++;
  if ((tf->cs & 3) == 0)
    panic("%s (vector %d, error 0x%x) in the VMM itself at eip 0x%x, cr2 0x%x",
          vecname(tf->trapno), tf->trapno, tf->err, tf->eip, rcr2());

  // The instruction's bytes, read through the guest's idea of memory.
  uint gpa;
  const uchar *code = 0;
  uint avail = 0;
  if (gva2gpa(tf->eip, &gpa) == 0) {
    for (avail = 15; avail > 0 && !(code = guest_pa(gpa, avail)); avail--)
      ;
  }
  struct insn in;
  if (code)
    decode(tf, code, avail, &in);
  else
    memset(&in, 0, sizeof(in));

  cprintf("vmm: exit %u: %s, error 0x%x, guest eip 0x%x:", vcpu.exits, vecname(tf->trapno),
          tf->err, tf->eip);
  uint shown = in.len ? in.len : (avail < 8 ? avail : 8);
  for (uint i = 0; i < shown; i++)
    cprintf(" %02x", code[i]);
  cprintf(" = ");
  print_insn(&in);
  cprintf("\n");

  if (tf->trapno != T_GPFLT)
    stop("an exit this VMM does not handle yet");
  emulate(tf, &in);
}
