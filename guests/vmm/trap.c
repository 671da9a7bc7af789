// Exits: every interrupt and exception, the guest's included, comes through
// the VMM's IDT to vmexit(). A #GP from the guest's kernel (ring 1) is
// usually a privileged instruction it believes it may run (it was written
// for ring 0): the VMM decodes it, does to the virtual CPU what it would
// have done to the real one, and resumes the guest after it. This is trap
// and emulate. A #PF is a hidden fault (shadow.c fills the shadow), a true
// one (reflected into the guest), or a load or store to the guest's APICs
// (vapic.c). A device's interrupt is held on the virtual local APIC, and
// delivered into the guest (inject.c) when its virtual IF allows.

#include "vmm.h"
#include "x86.h"
#include "insn.h"
#include "offsets.h"

// The offsets fastpath.S uses, checked against the structures.
_Static_assert(__builtin_offsetof(struct vcpu, vif) == VCPU_VIF, "VCPU_VIF");
_Static_assert(__builtin_offsetof(struct vcpu, exits) == VCPU_EXITS, "VCPU_EXITS");
_Static_assert(__builtin_offsetof(struct vcpu, count[X_PATCHED]) == VCPU_PATCHED, "VCPU_PATCHED");
_Static_assert(__builtin_offsetof(struct options, log) == OPT_LOG, "OPT_LOG");
_Static_assert(__builtin_offsetof(struct exitlog, rec) == EXITLOG_REC, "EXITLOG_REC");
_Static_assert(sizeof(struct exitrec) == EXITREC_SIZE, "EXITREC_SIZE");
_Static_assert(__builtin_offsetof(struct exitrec, steps) == 16, "exitrec.steps");
_Static_assert(__builtin_offsetof(struct vcpu, vmm_steps) == VCPU_VMM_STEPS, "VCPU_VMM_STEPS");
_Static_assert(NEXITLOG == 64, "fastpath.S indexes the log modulo 64");
_Static_assert(sizeof(struct vtlb_entry) == VTLB_SIZE, "VTLB_SIZE");
_Static_assert(__builtin_offsetof(struct vtlb_entry, wpage) == VTLB_WPAGE, "VTLB_WPAGE");
_Static_assert(__builtin_offsetof(struct vtlb_entry, delta) == VTLB_DELTA, "VTLB_DELTA");
_Static_assert(VTLB == 16, "fastpath.S indexes the TLB modulo 16");
_Static_assert(X_PATCHED == X_PATCHED_VALUE, "X_PATCHED_VALUE");
_Static_assert(__builtin_offsetof(struct vcpu, count[X_PRIVILEGED]) == VCPU_PRIVILEGED,
               "VCPU_PRIVILEGED");
_Static_assert(X_PRIVILEGED == X_PRIVILEGED_VALUE, "X_PRIVILEGED_VALUE");
_Static_assert(I_CLI == I_CLI_VALUE && I_STI == I_STI_VALUE, "I_CLI_VALUE, I_STI_VALUE");

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

// Whether this exit's lines are printed: the first `log=N` exits are.
static int logging(void)
{
  return vcpu.exits <= opt.log;
}

#define LOG(...)            \
  do {                      \
    if (logging())          \
      cprintf(__VA_ARGS__); \
  } while (0)

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

// The guest's EFLAGS as it believes them: the real ones with its virtual
// IF (and IOPL 0, as it set them).
static uint guest_eflags(struct trapframe *tf)
{
  return (tf->eflags & ~(FL_IF | FL_IOPL | FL_RF | FL_VM)) | (vcpu.vif ? FL_IF : 0);
}

// The real EFLAGS for guest flags `f`: the real IF stays set and IOPL 0, so
// that the VMM keeps its interrupts and every cli, sti, in and out traps.
static uint real_eflags(uint f)
{
  return (f & ~(FL_IF | FL_IOPL | FL_VM | FL_RF)) | FL_IF | 0x2;
}

static uint port_in(ushort port, int size)
{
  return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(ushort port, int size, uint v)
{
  if (size == 1)
    outb(port, v);
  else if (size == 2)
    outw(port, v);
  else
    outl(port, v);
}

// A mask of an operand's size in bytes.
static uint mask(int size)
{
  return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

// The string forms of in and out (xv6's insl and outsl move a disk
// sector), with rep: each element through the guest's page tables.
static int string_io(struct trapframe *tf, const struct insn *in)
{
  ushort port = tf->edx & 0xFFFF;
  int step = (tf->eflags & FL_DF) ? -in->size : in->size;
  uint count = in->rep ? tf->ecx : 1;
  while (count > 0) {
    uint v = 0;
    if (in->kind == I_INS) {
      v = port_in(port, in->size);
      if (gva_write(tf->edi, &v, in->size) < 0)
        return -1;
      tf->edi += step;
    } else {
      if (gva_read(tf->esi, &v, in->size) < 0)
        return -1;
      port_out(port, in->size, v);
      tf->esi += step;
    }
    count--;
    if (in->rep)
      tf->ecx = count;
  }
  return 0;
}

// The guest's hlt: with its IF set, the VMM waits (itself halted, its
// interrupts on) for an interrupt the guest can take.
static void idle(void)
{
  vmm_idle = 1;
  while (vapic_next() < 0)
    asm volatile("sti; hlt; cli");
  vmm_idle = 0;
}

// The guest's iret of a frame it believes returns to ring 0 (RPL 0 in the
// CS it pops), which faults in ring 1: it returns to ring 1, with the IF it
// pops made the virtual IF.
static int emulate_iret(struct trapframe *tf)
{
  uint f[3];
  if (gva_read(tf->esp, f, 12) < 0)
    return -1;
  uint cs = f[1] & 0xFFFF;
  // Only a return to the guest's kernel faults for ring compression's
  // sake; any other iret that faults would fault in ring 0 too.
  if ((cs & 3) != 0)
    return -1;
  tf->esp += 12;
  vcpu.vif = (f[2] & FL_IF) != 0;
  cs |= 1;
  tf->eip = f[0];
  tf->cs = cs;
  tf->eflags = real_eflags(f[2]);
  return 0;
}

// Does what a privileged instruction of the guest's kernel would have done
// in ring 0, to the virtual CPU (or, for in and out, to the board's ports:
// the board's devices are the guest's). Returns -1 when the instruction is
// not one it emulates, or faults as the guest's CPU would make it fault.
static int emulate(struct trapframe *tf, const struct insn *in)
{
  switch (in->kind) {
  case I_MOV_FROM_CR: {
    uint *cr = vcr(in->cr);
    if (!cr)
      return -1;
    *reg(tf, in->reg) = *cr;
    LOG("vmm:   %%%s = guest cr%d = 0x%x\n", regname[in->reg], in->cr, *cr);
    break;
  }
  case I_MOV_TO_CR: {
    uint *cr = vcr(in->cr);
    uint v = *reg(tf, in->reg), old = vcpu.cr0;
    if (!cr)
      return -1;
    if (in->cr == 0) {
      if (!(v & 1))
        stop("the guest leaves protected mode, which this VMM does not emulate");
      v |= 0x10;  // ET reads as 1 from a 486 on
    }
    *cr = v;
    LOG("vmm:   guest cr%d = 0x%x (the real cr%d stays the VMM's)\n", in->cr, v, in->cr);
    if (in->cr == 0 && ((old ^ v) & CR0_PG)) {
      LOG("vmm:   the guest's paging is %s: the MMU walks %s\n", (v & CR0_PG) ? "on" : "off",
          (v & CR0_PG) ? "the shadow page directory, empty until faults fill it"
                       : "the VMM's map of guest-physical memory");
      shadow_paging((v & CR0_PG) != 0);
    } else if (in->cr != 2 && (vcpu.cr0 & CR0_PG)) {
      // A new page directory, or new paging rules: the shadow is stale.
      shadow_flush();
    }
    break;
  }
  case I_CLI:
    vcpu.vif = 0;
    LOG("vmm:   guest IF = 0\n");
    break;
  case I_STI:
    vcpu.vif = 1;
    LOG("vmm:   guest IF = 1\n");
    break;
  case I_HLT:
    if (!vcpu.vif)
      stop("the guest halted with its interrupts off (eip 0x%x)", tf->eip);
    tf->eip += in->len;
    idle();
    return 0;
  case I_IN: {
    ushort port = in->port < 0 ? tf->edx & 0xFFFF : in->port;
    uint v = port_in(port, in->size), m = mask(in->size);
    tf->eax = (tf->eax & ~m) | (v & m);
    LOG("vmm:   port 0x%x read 0x%x\n", port, v & m);
    break;
  }
  case I_OUT: {
    ushort port = in->port < 0 ? tf->edx & 0xFFFF : in->port;
    // Said before it is done: a byte the guest writes to the console then
    // follows the VMM's line.
    LOG("vmm:   port 0x%x written 0x%x\n", port, tf->eax & mask(in->size));
    port_out(port, in->size, tf->eax);
    break;
  }
  case I_INS:
  case I_OUTS:
    if (string_io(tf, in) < 0)
      stop("the guest's buffer for %s is not mapped", in->kind == I_INS ? "ins" : "outs");
    break;
  case I_LGDT:
  case I_LIDT: {
    uchar d[6];
    if (gva_read(in->ea, d, 6) < 0)
      stop("the descriptor table register's operand (0x%x) is not mapped", in->ea);
    ushort limit = d[0] | (d[1] << 8);
    uint base = d[2] | (d[3] << 8) | (d[4] << 16) | ((uint)d[5] << 24);
    if (in->kind == I_LGDT) {
      vcpu.gdt_base = base;
      vcpu.gdt_limit = limit;
      gdt_load_guest();
    } else {
      vcpu.idt_base = base;
      vcpu.idt_limit = limit;
    }
    LOG("vmm:   guest %s = base 0x%x limit 0x%x\n", in->kind == I_LGDT ? "gdtr" : "idtr", base,
        limit);
    break;
  }
  case I_LTR: {
    ushort sel;
    uint d[2];
    if (in->mem ? gva_read(in->ea, &sel, 2) < 0 : 0)
      return -1;
    if (!in->mem)
      sel = *reg(tf, in->reg);
    if ((sel | 7) > vcpu.gdt_limit || gva_read(vcpu.gdt_base + (sel & ~7), d, 8) < 0)
      return -1;
    uint type = (d[1] >> 8) & 0x1F;
    if ((type != 0x9 && type != 0xB) || !(d[1] & 0x8000))
      return -1;
    // The CPU marks the TSS busy in the descriptor; so does the VMM.
    d[1] |= 0x200;
    gva_write(vcpu.gdt_base + (sel & ~7) + 4, &d[1], 4);
    vcpu.tr = sel;
    vcpu.tss_base = (d[0] >> 16) | ((d[1] & 0xFF) << 16) | (d[1] & 0xFF000000u);
    LOG("vmm:   guest tr = 0x%x, its TSS at 0x%x\n", sel, vcpu.tss_base);
    break;
  }
  case I_INVLPG:
    shadow_flush();
    break;
  case I_IRET:
    if (emulate_iret(tf) < 0)
      return -1;
    LOG("vmm:   iret to 0x%x in the guest's %s (cs 0x%x as it believes, 0x%x for real), its "
        "IF %d\n", tf->eip, (tf->cs & 3) == 3 ? "user mode" : "kernel",
        (tf->cs & 3) == 3 ? tf->cs : tf->cs & ~3u, tf->cs, vcpu.vif);
    return 0;
  default:
    return -1;
  }
  tf->eip += in->len;
  return 0;
}

// A pushfl or popfl the VMM patched to int3 (patch.c), done on the virtual
// IF.
static int emulate_patched(struct trapframe *tf, uchar op)
{
  if (op == 0x9C) {
    uint f = guest_eflags(tf);
    if (gva_write(tf->esp - 4, &f, 4) < 0)
      return -1;
    tf->esp -= 4;
    LOG("vmm:   pushfl: 0x%x pushed, IF %d (the guest's)\n", f, vcpu.vif);
  } else {
    uint f;
    if (gva_read(tf->esp, &f, 4) < 0)
      return -1;
    tf->esp += 4;
    vcpu.vif = (f & FL_IF) != 0;
    tf->eflags = real_eflags(f);
    LOG("vmm:   popfl: 0x%x popped, IF %d (the guest's)\n", f, vcpu.vif);
  }
  tf->eip += 1;
  return 0;
}

// A software interrupt the guest made (int n): what its CPU would do with
// the gate in its IDT, the gate's DPL checked against the guest's belief
// of its privilege.
static void soft_int(struct trapframe *tf, const struct insn *in)
{
  uint gate[2];
  int cpl = (tf->cs & 3) == 3 ? 3 : 0;
  if (in->imm * 8 + 7 > vcpu.idt_limit || gva_read(vcpu.idt_base + in->imm * 8, gate, 8) < 0 ||
      (int)((gate[1] >> 13) & 3) < cpl) {
    inject(tf, T_GPFLT, in->imm * 8 + 2);
    return;
  }
  tf->eip += in->len;
  inject(tf, in->imm, -1);
}

struct exitlog exitlog;
// Where the guest was when the exit being handled began, for note(): the
// instruction's own address, before its emulation moves EIP past it.
static uint exit_eip;
// The record note() wrote for the exit being handled, for its steps.
static struct exitrec *logged;

// Counts an exit of reason r and records it in the log with `info`.
static void note(enum reason r, uint info)
{
  vcpu.count[r]++;
  struct exitrec *e = &exitlog.rec[exitlog.next % NEXITLOG];
  e->reason = r;
  e->eip = exit_eip;
  e->info = info;
  e->number = vcpu.exits;
  e->steps = 0;
  logged = e;
  // In this order, which the compiler keeps: the count, the record, then
  // the log's count, so that whoever watches the count finds the record
  // written (osviz's break on an exit watches them).
  asm volatile("" ::: "memory");
  exitlog.next++;
}

// #GP: a privileged instruction of the guest's kernel, an int n of the
// guest's (the VMM's gates have DPL 0), a patched pushfl or popfl, or the
// guest's own #GP.
static void general_protection(struct trapframe *tf, const struct insn *in)
{
  int user = (tf->cs & 3) == 3;
  uchar orig;
  if ((tf->err & 3) == 2 && (in->kind == I_INT || in->kind == I_INT3) &&
      tf->err >> 3 == in->imm) {
    if (in->kind == I_INT3 && !user && patched_at(tf->eip, &orig)) {
      note(X_PATCHED, orig);
      if (emulate_patched(tf, orig) < 0)
        stop("the guest's stack at 0x%x is not mapped for its %s", tf->esp,
             orig == 0x9C ? "pushfl" : "popfl");
      return;
    }
    note(X_SOFT_INT, in->imm);
    LOG("vmm:   reflected into the guest's gate %u\n", in->imm);
    soft_int(tf, in);
    return;
  }
  int io = in->kind == I_IN || in->kind == I_OUT || in->kind == I_INS || in->kind == I_OUTS;
  if (user || emulate(tf, in) < 0) {
    // The guest's own #GP: its CPU would have raised it too.
    LOG("vmm:   the guest's own #GP, reflected\n");
    note(X_EXCEPTION, T_GPFLT);
    inject(tf, T_GPFLT, tf->err);
    return;
  }
  if (io)
    note(X_PORT_IO, in->port >= 0 ? (uint)in->port : tf->edx & 0xFFFF);
  else
    note(X_PRIVILEGED, in->kind == I_MOV_TO_CR ? vcpu.cr3 : in->kind);
}

// A load or store of the guest's to one of its APICs.
static void mmio(struct trapframe *tf, const struct insn *in, uint gpa)
{
  note(X_MMIO, gpa);
  switch (in->kind) {
  case I_LOAD:
    *reg(tf, in->reg) = vapic_read(gpa);
    LOG("vmm:   guest-physical 0x%x read 0x%x\n", gpa, *reg(tf, in->reg));
    break;
  case I_STORE:
  case I_STORE_IMM: {
    uint v = in->kind == I_STORE ? *reg(tf, in->reg) : in->imm;
    LOG("vmm:   guest-physical 0x%x written 0x%x\n", gpa, v);
    vapic_write(gpa, v);
    break;
  }
  default:
    stop("an access to the guest's APIC at 0x%x (guest-physical 0x%x) this VMM does not "
         "emulate, eip 0x%x", rcr2(), gpa, tf->eip);
  }
  if (in->size != 4)
    stop("a %d-byte access to the guest's APIC at guest-physical 0x%x", in->size, gpa);
  tf->eip += in->len;
}

// The guest's instruction at its EIP, decoded: for the exits that need
// it (and for the log), not for a hidden page fault, the most frequent
// after the patched pushfl.
static uint fetch_decode(struct trapframe *tf, uchar code[16], struct insn *in)
{
  memset(code, 0, 16);
  uint avail = gva_fetch(tf->eip, code, 15);
  decode(tf, code, avail, in);
  return avail;
}

// A page fault: `in` is the instruction when the log has decoded it, else
// 0 (it is decoded only for an access to an APIC).
static void page_fault(struct trapframe *tf, const struct insn *in)
{
  uint va = rcr2(), gpa = va, err;
  enum fault f = F_MMIO;
  if (vcpu.cr0 & CR0_PG)
    f = shadow_fault(va, (tf->err & 2) != 0, (tf->err & 4) != 0, &gpa, &err);
  else if (!vapic_is_mmio(gpa))
    f = F_OUTSIDE;
  switch (f) {
  case F_FILLED:
    note(X_SHADOW_FILL, va);
    LOG("vmm:   hidden: 0x%x is guest-physical 0x%x, the shadow filled\n", va, gpa);
    break;
  case F_GUEST:
    note(X_GUEST_PF, va);
    LOG("vmm:   the guest's own page fault at 0x%x (error 0x%x), reflected\n", va, err);
    vcpu.cr2 = va;
    inject(tf, T_PGFLT, err);
    break;
  case F_MMIO: {
    struct insn decoded;
    uchar code[16];
    if (!in) {
      fetch_decode(tf, code, &decoded);
      in = &decoded;
    }
    mmio(tf, in, gpa);
    break;
  }
  case F_OUTSIDE:
    stop("the guest touched 0x%x, guest-physical 0x%x, where it has neither memory nor a "
         "device the VMM emulates (eip 0x%x)", va, gpa, tf->eip);
  }
}

// Delivers the virtual local APIC's next interrupt into the guest, if its
// virtual IF allows one.
static void deliver(struct trapframe *tf)
{
  if (!vcpu.vif)
    return;
  int v = vapic_next();
  if (v < 0)
    return;
  vapic_ack(v);
  LOG("vmm:   interrupt %d delivered into the guest\n", v);
  inject(tf, v, -1);
}

static void interrupt(uint vector)
{
  if (vector == 0xFF)
    return;  // the board's spurious vector: nothing to acknowledge
  real_eoi();
  vapic_irq(vector);
}

// An exit, timed: the steps from its start to its return go into its
// record and the VMM's total. An interrupt taken while the VMM idles in a
// guest's hlt is timed within that exit, and counted in the total once.
static void handle_exit(struct trapframe *tf);

void vmexit(struct trapframe *tf)
{
  static int depth;
  struct exitrec *outer = logged;
  uint start = rdtsc_lo();
  depth++;
  logged = 0;
  handle_exit(tf);
  uint spent = rdtsc_lo() - start;
  if (logged)
    logged->steps = spent;
  if (depth == 1)
    vcpu.vmm_steps += spent;
  depth--;
  logged = outer;
}

static void handle_exit(struct trapframe *tf)
{
  vcpu.exits++;
  if ((tf->cs & 3) == 0) {
    // Only the VMM's idle wait takes interrupts in ring 0.
    if (vmm_idle && tf->trapno >= T_IRQ0) {
      // Logged at the guest's hlt, the exit the VMM is idling in.
      note(X_INTERRUPT, tf->trapno);
      interrupt(tf->trapno);
      return;
    }
    panic("%s (vector %d, error 0x%x) in the VMM itself at eip 0x%x, cr2 0x%x",
          vecname(tf->trapno), tf->trapno, tf->err, tf->eip, rcr2());
  }
  // The guest's user programs run with interrupts on (they cannot turn
  // them off): from user mode its IF is set, whatever its kernel's was.
  if ((tf->cs & 3) == 3)
    vcpu.vif = 1;

  // The most frequent exit, first and without decoding: a patched pushfl
  // or popfl (xv6 reads its IF on every mycpu(), pushcli() and popcli()).
  uchar orig;
  exit_eip = tf->eip;
  if (tf->trapno == T_GPFLT && tf->err == ((T_BPT << 3) | 2) && (tf->cs & 3) == 1 &&
      !logging() && patched_at(tf->eip, &orig)) {
    note(X_PATCHED, orig);
    // A pushfl onto a stack word the VMM's TLB holds, aligned: a store.
    uchar *slot = vtlb_hit(tf->esp - 4, 1);
    if (orig == 0x9C && slot && ((tf->esp - 4) & 0xFFF) <= 0xFFC) {
      *(uint *)slot = guest_eflags(tf);
      tf->esp -= 4;
      tf->eip += 1;
      return;  // the virtual IF is unchanged: nothing new to deliver
    }
    if (emulate_patched(tf, orig) < 0)
      stop("the guest's stack at 0x%x is not mapped for its %s", tf->esp,
           orig == 0x9C ? "pushfl" : "popfl");
    deliver(tf);
    return;
  }

  // Next most frequent: cli and sti (pushcli, popcli, the scheduler's
  // loop), known by their one byte.
  uchar op;
  if (tf->trapno == T_GPFLT && tf->err == 0 && (tf->cs & 3) == 1 && !logging() &&
      gva_fetch(tf->eip, &op, 1) == 1 && (op == 0xFA || op == 0xFB)) {
    note(X_PRIVILEGED, op == 0xFA ? I_CLI : I_STI);
    vcpu.vif = op == 0xFB;
    tf->eip += 1;
    deliver(tf);
    return;
  }

  if (tf->trapno == T_PGFLT && !logging()) {
    page_fault(tf, 0);
    deliver(tf);
    return;
  }

  if (tf->trapno >= T_IRQ0) {
    note(X_INTERRUPT, tf->trapno);
    LOG("vmm: exit %u: interrupt %u, guest eip 0x%x\n", vcpu.exits, tf->trapno, tf->eip);
    interrupt(tf->trapno);
    deliver(tf);
    return;
  }

  // The instruction, read through the guest's idea of memory.
  uchar code[16];
  struct insn in;
  uint avail = fetch_decode(tf, code, &in);
  if (logging()) {
    cprintf("vmm: exit %u: %s, error 0x%x, guest eip 0x%x:", vcpu.exits, vecname(tf->trapno),
            tf->err, tf->eip);
    if (tf->trapno == T_PGFLT)
      cprintf(" cr2 0x%x,", rcr2());
    uint shown = in.len ? in.len : (avail < 8 ? avail : 8);
    for (uint i = 0; i < shown; i++)
      cprintf(" %02x", code[i]);
    cprintf(" = ");
    print_insn(&in);
    cprintf("\n");
  }

  switch (tf->trapno) {
  case T_GPFLT:
    general_protection(tf, &in);
    break;
  case T_PGFLT:
    page_fault(tf, &in);
    break;
  case 8:
  case 18:
    stop("%s in the guest at eip 0x%x", vecname(tf->trapno), tf->eip);
  default: {
    // The guest's own exception: its CPU would have raised it too.
    int has_err = tf->trapno == 10 || tf->trapno == 11 || tf->trapno == 12 || tf->trapno == 17;
    note(X_EXCEPTION, tf->trapno);
    inject(tf, tf->trapno, has_err ? (int)tf->err : -1);
    break;
  }
  }
  deliver(tf);
}
