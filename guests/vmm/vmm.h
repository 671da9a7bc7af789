#include "memlayout.h"

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;

// Selectors of the VMM's GDT (see gdt.c). The guest's kernel runs with the
// ring 1 pair, its user programs with the ring 3 pair.
#define SEG_VCODE   1   // ring 0 code: the VMM
#define SEG_VDATA   2   // ring 0 data
#define SEG_G1CODE  3   // ring 1 code: the guest's kernel
#define SEG_G1DATA  4   // ring 1 data
#define SEG_G3CODE  5   // ring 3 code: the guest's user programs
#define SEG_G3DATA  6   // ring 3 data
#define SEG_TSS     7   // the TSS that gives ring 0's stack on an exit
#define NSEGS       8

#define SEL(seg, rpl) (((seg) << 3) | (rpl))

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

// The virtual CPU: what the guest believes its CPU holds. Each field
// changes only by the VMM's emulation of a guest instruction; the real
// registers hold the VMM's own values.
struct vcpu {
  uint cr0, cr2, cr3, cr4;
  int vif;                  // the guest's interrupt flag
  uint gdt_base, idt_base;  // the guest's GDTR and IDTR
  ushort gdt_limit, idt_limit;
  uint exits;               // exits so far
};

extern struct vcpu vcpu;

// console.c
void console_init(void);
void cprintf(const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));

// string.c
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memcpy(void *dst, const void *src, uint n);

// gdt.c
void seg_init(void);

// trap.c
void idt_init(void);
void vmexit(struct trapframe *tf);

// guest.c
void *guest_pa(uint gpa, uint len);
void guest_load(void *elf, uint len);
void guest_enter(void) __attribute__((noreturn));

// trapasm.S
void trapret(void);
