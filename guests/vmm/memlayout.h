// The VMM's memory map.
//
// Host physical memory (what the board has, 512 MiB on the command lines the
// project uses):
//
//   0x00000000 - 0x00100000  the firmware's low memory (BIOS data area, the
//                            multiboot info at 0x9000, the MP tables)
//   0x00100000 - ...         the VMM's image, then the modules the boot loader
//                            placed after it (module 0 is xv6's kernel ELF)
//   GUEST_BASE - +GUEST_SIZE the guest's physical memory: guest-physical
//                            address A is host-physical GUEST_BASE + A
//
// GUEST_BASE is 256 MiB: a multiple of 4 MiB, so the VMM maps guest-physical
// memory with large pages (56 of them for 224 MiB); far above the VMM's
// image and the modules, which take a few hundred KiB past 1 MiB; and with
// the guest's 224 MiB (xv6's PHYSTOP) it ends at 480 MiB, within a 512 MiB
// board.
//
// Linear addresses, in the one page directory the VMM owns:
//
//   0x00000000 - GUEST_SIZE  guest-physical memory, at the offset above: while
//                            the guest's paging is off, its linear addresses
//                            are its physical ones, so this map is the whole
//                            translation (the identity plus GUEST_BASE)
//   VMM_BASE - ...           all of host-physical memory (the VMM's window):
//                            the VMM's code, data and stacks are linked here
//   APIC_VA - +4 MiB         host-physical 0xFEC00000 up: the board's I/O APIC
//                            and local APIC, uncached, for the VMM alone
//
// VMM_BASE is 0xC0000000, inside the hole xv6 never maps (its kernel's
// mappings end at KERNBASE + PHYSTOP = 0x8E000000, its devices start at
// 0xFE000000), so that once the guest's own page tables are shadowed, the
// VMM's window can stay in every shadow page directory.

#define VMM_BASE    0xC0000000u
#define GUEST_BASE  0x10000000u
#define GUEST_SIZE  0x0E000000u   // 224 MiB: xv6's PHYSTOP
#define HOST_WINDOW 0x3DC00000u   // at most 988 MiB of host RAM in the window
#define APIC_VA     0xFDC00000u   // the window's last 4 MiB: the board's APICs
#define APIC_PA     0xFEC00000u
// The shadow page tables come from 32 MiB of host RAM between the modules
// and the guest's memory (16 MiB up, far past the VMM and its modules).
#define POOL_BASE   0x01000000u
#define POOL_PAGES  8192

#define P2V(a) ((void *)((unsigned int)(a) + VMM_BASE))
#define V2P(a) ((unsigned int)(a) - VMM_BASE)
// Without casts, for assembly.
#define V2P_WO(x) ((x) - VMM_BASE)
