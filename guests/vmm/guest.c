// The guest's physical memory, its kernel loaded from an ELF image, and the
// first entry into it.

#include "vmm.h"
#include "x86.h"
#include "elf.h"
#include "multiboot.h"

// Where the guest finds its own multiboot information (guest-physical), as a
// boot loader would leave it.
#define GUEST_MBI 0x9000

static uint guest_entry;

// Where the guest's physical memory is in the host's, as variables (the
// #defines of memlayout.h leave no trace in the DWARF): osviz reads the
// guest's memory through them (osviz_xv6::vmm).
__attribute__((used)) const uint guest_base = GUEST_BASE;
__attribute__((used)) const uint guest_size = GUEST_SIZE;

// The VMM's pointer to `len` bytes of guest-physical memory at `gpa`, or 0
// when they do not all lie in the guest's memory.
void *guest_pa(uint gpa, uint len)
{
  if (gpa >= GUEST_SIZE || len > GUEST_SIZE - gpa)
    return 0;
  return P2V(GUEST_BASE + gpa);
}

// Copies each loadable segment of the ELF image to its physical address in
// guest-physical memory and zeroes the rest of it (the bss), as a multiboot
// loader loads xv6's kernel. The guest's memory starts zeroed: the board's
// RAM is zero at power-on under osviz and QEMU alike.
void guest_load(void *image, uint len)
{
  struct elfhdr *elf = image;
  if (len < sizeof(*elf) || elf->magic != ELF_MAGIC || elf->machine != 3)
    panic("module 0 is not an i386 ELF file");
  if (elf->phoff > len || elf->phnum * sizeof(struct proghdr) > len - elf->phoff)
    panic("module 0's program headers lie past its end");
  struct proghdr *ph = (struct proghdr *)((uchar *)image + elf->phoff);
  for (int i = 0; i < elf->phnum; i++, ph++) {
    if (ph->type != ELF_PROG_LOAD)
      continue;
    if (ph->off > len || ph->filesz > len - ph->off || ph->filesz > ph->memsz)
      panic("module 0's segment %d lies past its end", i);
    uchar *dst = guest_pa(ph->paddr, ph->memsz);
    if (!dst)
      panic("module 0's segment %d (0x%x, %u bytes) is outside the guest's memory", i,
            ph->paddr, ph->memsz);
    memmove(dst, (uchar *)image + ph->off, ph->filesz);
    memset(dst + ph->filesz, 0, ph->memsz - ph->filesz);
    cprintf("vmm: guest segment at guest-physical 0x%x: %u bytes, %u from the file\n",
            ph->paddr, ph->memsz, ph->filesz);
  }
  guest_entry = elf->entry;

  // The board's firmware areas, as the guest's firmware would have left
  // them: the BIOS data area, the EBDA (where the board's MP tables are
  // under osviz) and the BIOS (where QEMU's are). xv6's mpinit finds its
  // CPUs and I/O APIC there; they are the board's own, which the virtual
  // APICs answer for (vapic.c).
  memmove(guest_pa(0, 0xA0000), P2V(0), 0xA0000);
  memmove(guest_pa(0xE0000, 0x20000), P2V(0xE0000), 0x20000);

  struct mbinfo *mb = guest_pa(GUEST_MBI, sizeof(*mb));
  memset(mb, 0, sizeof(*mb));
  mb->flags = MB_INFO_MEM;
  mb->mem_lower = 639;
  mb->mem_upper = GUEST_SIZE / 1024 - 1024;
}

// Enters the guest's kernel at its entry point as a multiboot loader would
// (EAX the loader's magic, EBX its info), but in ring 1: an iret from a trap
// frame at the top of the exit stack, the frame every exit will land on.
void guest_enter(void)
{
  extern uchar exitstack[8192];
  struct trapframe *tf = (struct trapframe *)(exitstack + sizeof(exitstack)) - 1;
  memset(tf, 0, sizeof(*tf));
  tf->cs = SEL(SEG_G1CODE, 1);
  tf->ds = tf->es = tf->fs = tf->gs = tf->ss = SEL(SEG_G1DATA, 1);
  // IF set, IOPL 0: the VMM takes every interrupt, and every cli, sti, in
  // and out of the guest faults. The guest's own IF (virtual) is clear.
  tf->eflags = FL_IF | 0x2;
  tf->eip = guest_entry;
  tf->eax = MULTIBOOT_LOADER_MAGIC;
  tf->ebx = GUEST_MBI;

  // The CPU the guest believes in: protected mode with paging off (PE and
  // ET, as a 486 and later read), interrupts off.
  vcpu.cr0 = 0x11;
  vcpu.vif = 0;
  cprintf("vmm: entering the guest at 0x%x in ring 1, its paging off\n", guest_entry);
  asm volatile("movl %0, %%esp; jmp trapret" : : "r"(tf) : "memory");
  __builtin_unreachable();
}
