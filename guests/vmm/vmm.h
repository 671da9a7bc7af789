#include "memlayout.h"
#include "seg.h"

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;

// EFLAGS bits the VMM reads or keeps.
#define FL_TF   0x00000100
#define FL_IF   0x00000200
#define FL_DF   0x00000400
#define FL_IOPL 0x00003000
#define FL_NT   0x00004000
#define FL_RF   0x00010000
#define FL_VM   0x00020000

#define CR0_PG 0x80000000u
#define CR0_WP 0x00010000u
#define CR4_PSE 0x00000010u

// Page table entry bits.
#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_U  0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A  0x020
#define PTE_D  0x040
#define PTE_PS 0x080

#define T_BPT   3
#define T_GPFLT 13
#define T_PGFLT 14
#define T_IRQ0  32

// What an exit saves: the vector stub's and alltraps' pushes below the
// CPU's, as in xv6's struct trapframe.
struct trapframe {
  // pushal
  uint edi, esi, ebp, oesp, ebx, edx, ecx, eax;
  ushort gs, padding1;
  ushort fs, padding2;
  ushort es, padding3;
  ushort ds, padding4;
  uint trapno;
  // pushed by the CPU (err by the stub for vectors without one)
  uint err;
  uint eip;
  ushort cs, padding5;
  uint eflags;
  // pushed by the CPU on the way in from an outer ring: always for an exit
  // from the guest, which never runs in ring 0
  uint esp;
  ushort ss, padding6;
};

// Why the guest exited, as the VMM counts exits.
enum reason {
  X_PRIVILEGED,   // a privileged instruction, emulated (cli, mov cr3, lgdt, ...)
  X_PORT_IO,      // in or out, passed to the board's device
  X_MMIO,         // a load or store to the local or I/O APIC, emulated
  X_SHADOW_FILL,  // a hidden page fault: the shadow page table filled
  X_GUEST_PF,     // a true page fault of the guest, reflected into it
  X_INTERRUPT,    // a device's or the timer's interrupt, taken by the VMM
  X_SOFT_INT,     // int n (a system call), reflected into the guest's gate
  X_PATCHED,      // a patched pushfl or popfl
  X_EXCEPTION,    // another exception of the guest's, reflected
  NREASONS
};

// The virtual CPU: what the guest believes its CPU holds. Each field
// changes only by the VMM's emulation of a guest instruction or by an
// interrupt it delivers; the real registers hold the VMM's own values.
struct vcpu {
  uint cr0, cr2, cr3, cr4;
  int vif;                  // the guest's interrupt flag
  uint gdt_base, idt_base;  // the guest's GDTR and IDTR (linear addresses)
  ushort gdt_limit, idt_limit;
  ushort tr;                // the guest's task register
  uint tss_base;            // and its TSS (linear), where ESP0 is read
  uint exits;               // exits so far
  uint injected;            // interrupts and exceptions delivered into it
  uint count[NREASONS];     // exits by reason
  // Steps the VMM spent handling exits (rdtsc counts osviz's steps): the
  // rest of the machine's steps are the guest's own.
  unsigned long long vmm_steps;
};

extern struct vcpu vcpu;

// The last exits, newest at (next - 1) % NEXITLOG, for osviz's views,
// which read them through the VMM's DWARF as they read xv6's structures.
#define NEXITLOG 64
struct exitrec {
  enum reason reason;
  uint eip;    // the guest's instruction (or where it was interrupted)
  uint info;   // the vector, the port, the faulting address, or the CR3
  uint number; // which exit it was: vcpu.exits then
  uint steps;  // the VMM's steps on it, from its start (0 while handled)
};
struct exitlog {
  uint next;
  struct exitrec rec[NEXITLOG];
};
extern struct exitlog exitlog;

// What module 0's string asked for after the file's name.
struct options {
  int pure;   // "pure": no patching, pure trap-and-emulate
  uint log;   // "log=N": print the first N exits
};
extern struct options opt;

// console.c
void console_init(void);
void cprintf(const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));
void stop(const char *fmt, ...) __attribute__((noreturn));

// string.c
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memcpy(void *dst, const void *src, uint n);
int strncmp(const char *p, const char *q, uint n);

// gdt.c
void seg_init(void);
void gdt_load_guest(void);

// trap.c
void idt_init(void);
void vmexit(struct trapframe *tf);

// guest.c
void *guest_pa(uint gpa, uint len);
void guest_load(void *elf, uint len);
void guest_enter(void) __attribute__((noreturn));

// shadow.c
void shadow_init(uint *vmmpgdir);
void shadow_flush(void);
void shadow_paging(int on);
int gva_read(uint va, void *dst, uint n);
int gva_write(uint va, const void *src, uint n);
uint gva_fetch(uint va, uchar *dst, uint max);
enum fault { F_FILLED, F_GUEST, F_MMIO, F_OUTSIDE };
enum fault shadow_fault(uint va, int write, int user, uint *gpa, uint *guest_err);

// The VMM's own small TLB of the guest's linear pages it reaches,
// direct-mapped by page number (shadow.c): emptied with the shadow.
#define VTLB 16
struct vtlb_entry {
  uint page;    // the linear page, | 1 when the entry is valid
  // The page | 4 when the VMM may write it, else 0: fastpath.S checks a
  // stack word's page, the right to write it and its alignment in one
  // compare, against (va & 0xFFFFF003) | 4.
  uint wpage;
  uint delta;   // where the VMM reaches the page's bytes: at va + delta
  uint unused;  // to 16 bytes, so that fastpath.S indexes with a mask
};
extern struct vtlb_entry vtlb[VTLB];

// Where the VMM reaches guest linear address va, if its TLB holds the page
// (with the right to write, for a write); else 0.
static inline uchar *vtlb_hit(uint va, int write)
{
  struct vtlb_entry *e = &vtlb[(va >> 12) % VTLB];
  if (e->page == ((va & ~0xFFFu) | 1) && (!write || e->wpage))
    return (uchar *)(va + e->delta);
  return 0;
}

// vapic.c
void vapic_init(void);
int vapic_is_mmio(uint gpa);
uint vapic_page(uint gpa);
uint vapic_read(uint gpa);
void vapic_write(uint gpa, uint value);
void vapic_irq(uint vector);
int vapic_next(void);
void vapic_ack(uint vector);
void real_eoi(void);
extern int vmm_idle;
extern uint vapic_requested;

// inject.c
void inject(struct trapframe *tf, uint vector, int err);

// patch.c
void patch_guest(void *image, uint len);
int patched_at(uint va, uchar *orig);

// trapasm.S
void trapret(void);
