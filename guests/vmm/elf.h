// The ELF headers the VMM reads of the guest's kernel.

#define ELF_MAGIC 0x464C457Fu  // "\x7FELF" in little endian

struct elfhdr {
  uint magic;
  uchar elf[12];
  ushort type;
  ushort machine;
  uint version;
  uint entry;
  uint phoff;
  uint shoff;
  uint flags;
  ushort ehsize;
  ushort phentsize;
  ushort phnum;
  ushort shentsize;
  ushort shnum;
  ushort shstrndx;
};

struct proghdr {
  uint type;
  uint off;
  uint vaddr;
  uint paddr;
  uint filesz;
  uint memsz;
  uint flags;
  uint align;
};

#define ELF_PROG_LOAD 1

// Section headers and symbols: the patcher (patch.c) finds the guest
// kernel's code and its functions' starts with them.
struct secthdr {
  uint name, type, flags, addr, offset, size, link, info, addralign, entsize;
};

struct elfsym {
  uint name, value, size;
  uchar info, other;
  ushort shndx;
};

#define SHT_PROGBITS 1
#define SHT_SYMTAB 2
#define SHF_EXECINSTR 4
#define STT_FUNC 2
