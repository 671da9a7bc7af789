// The multiboot information structure (Multiboot 0.6.96, section 3.3): the
// fields the VMM reads.

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u
#define MB_INFO_MEM  (1 << 0)
#define MB_INFO_MODS (1 << 3)

struct mbinfo {
  uint flags;
  uint mem_lower, mem_upper;  // KiB below 640 KiB and above 1 MiB
  uint boot_device;
  uint cmdline;
  uint mods_count, mods_addr; // physical
};

struct mbmod {
  uint start, end;            // physical, end exclusive
  uint string;                // physical, a NUL-terminated string
  uint reserved;
};
