// The VMM's start: its console, its own page directory, segments and
// interrupt table, the board's APICs, then xv6's kernel (module 0) loaded
// into the guest's physical memory, its pushfl and popfl patched, and
// entered in ring 1.

#include "vmm.h"
#include "x86.h"
#include "multiboot.h"

#define BIGPAGE 0x400000u

struct vcpu vcpu;
struct options opt;

// The words after the file's name in module 0's string (QEMU's -initrd
// "kernel pure log=40", osviz pc --module "kernel pure log=40").
static void parse_options(const char *s)
{
  while (*s && *s != ' ')
    s++;
  while (*s) {
    while (*s == ' ')
      s++;
    if (strncmp(s, "pure", 4) == 0 && (s[4] == ' ' || !s[4])) {
      opt.pure = 1;
    } else if (strncmp(s, "log=", 4) == 0) {
      opt.log = 0;
      for (s += 4; *s >= '0' && *s <= '9'; s++)
        opt.log = opt.log * 10 + (*s - '0');
    } else if (*s) {
      panic("module 0's string has a word the VMM does not know: %s (it knows pure and log=N)",
            s);
    }
    while (*s && *s != ' ')
      s++;
  }
}

// The boot page directory entry.S turns on: the first 4 MiB of host memory
// at 0 (where the entry runs until its jump) and at VMM_BASE (where the VMM
// is linked), in one large page each.
__attribute__((__aligned__(4096))) uint entrypgdir[1024] = {
  [0] = 0 | PTE_P | PTE_W | PTE_PS,
  [VMM_BASE >> 22] = 0 | PTE_P | PTE_W | PTE_PS,
};

// The page directory the VMM runs on and the guest runs on while its own
// paging is off (memlayout.h): guest-physical memory at linear 0, host
// memory at VMM_BASE. Both are supervisor pages: ring 1 is a supervisor
// ring to the MMU, so the guest's kernel reaches its memory, and the VMM's
// window is kept from it only by the guest never using that hole.
__attribute__((__aligned__(4096))) uint vmmpgdir[1024];

static void paging_init(uint ram_end)
{
  for (uint a = 0; a < GUEST_SIZE; a += BIGPAGE)
    vmmpgdir[a >> 22] = (GUEST_BASE + a) | PTE_P | PTE_W | PTE_PS;
  uint window = ram_end > HOST_WINDOW ? HOST_WINDOW : ram_end;
  for (uint pa = 0; pa < window; pa += BIGPAGE)
    vmmpgdir[(VMM_BASE + pa) >> 22] = pa | PTE_P | PTE_W | PTE_PS;
  // The board's APICs, uncached, for the VMM alone.
  vmmpgdir[APIC_VA >> 22] = APIC_PA | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
  lcr3(V2P(vmmpgdir));
  shadow_init(vmmpgdir);
  cprintf("vmm: guest-physical 0x0-0x%x is host-physical 0x%x-0x%x\n", GUEST_SIZE,
          GUEST_BASE, GUEST_BASE + GUEST_SIZE);
}

int main(uint magic, uint mbi_pa)
{
  console_init();
  cprintf("vmm: osviz's teaching hypervisor: xv6 in ring 1 by trap-and-emulate\n");
  if (magic != MULTIBOOT_LOADER_MAGIC)
    panic("not started by a multiboot loader (eax 0x%x)", magic);
  // The info structure and the modules lie in the first 4 MiB, which the
  // boot page directory maps at VMM_BASE.
  struct mbinfo *mb = P2V(mbi_pa);
  if (!(mb->flags & MB_INFO_MEM))
    panic("the boot loader gave no memory sizes");
  cprintf("vmm: memory: %u KiB below 640 KiB, %u KiB above 1 MiB\n", mb->mem_lower,
          mb->mem_upper);
  // The RAM's end, from mem_upper (capped so that it cannot overflow).
  uint upper = mb->mem_upper > 0x3FF00000 / 1024 ? 0x3FF00000 / 1024 : mb->mem_upper;
  uint ram_end = 0x100000 + upper * 1024;
  if (ram_end < GUEST_BASE + GUEST_SIZE)
    panic("the guest's %u MiB at host-physical 0x%x need %u MiB of RAM; the board has %u "
          "MiB (osviz pc --mem-mib 512, qemu -m 512)",
          GUEST_SIZE >> 20, GUEST_BASE, (GUEST_BASE + GUEST_SIZE) >> 20, ram_end >> 20);
  if (!(mb->flags & MB_INFO_MODS) || mb->mods_count < 1)
    panic("no module: give xv6's kernel ELF as module 0 (qemu -initrd, osviz pc --module)");
  struct mbmod *mods = P2V(mb->mods_addr);
  for (uint i = 0; i < mb->mods_count; i++)
    cprintf("vmm: module %u: %s, %u bytes at 0x%x\n", i, (char *)P2V(mods[i].string),
            mods[i].end - mods[i].start, mods[i].start);

  parse_options(P2V(mods[0].string));

  paging_init(ram_end);
  seg_init();
  idt_init();
  vapic_init();
  guest_load(P2V(mods[0].start), mods[0].end - mods[0].start);
  patch_guest(P2V(mods[0].start), mods[0].end - mods[0].start);
  guest_enter();
}
