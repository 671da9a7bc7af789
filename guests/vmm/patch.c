// The remedy for where x86 is not classically virtualizable. A sensitive
// instruction that does not trap in ring 1 cannot be trapped and emulated:
// `pushfl` there pushes the real EFLAGS, whose IF is the VMM's (always set
// while the guest runs, so that the VMM keeps its timer), not the guest's
// virtual IF; `popfl` silently keeps the real IF. xv6 reads its IF with
// pushfl (readeflags() in x86.h) in mycpu(), pushcli() and popcli(), and
// panics when it finds interrupts on where it turned them off.
//
// So before the guest runs, the VMM rewrites each pushfl and popfl in the
// guest kernel's code into int3, which from ring 1 meets the VMM's gate of
// DPL 0 and faults (#GP with the vector in its error code): an exit, where
// the VMM does what pushfl or popfl would have done with the virtual IF.
// It finds them by decoding the kernel's code, function by function from
// the ELF symbol table's addresses (a sweep from each symbol stays in step
// with the instructions even past data in the code, such as xv6's
// multiboot header); the module string `pure` leaves the code as it is.

#include "vmm.h"
#include "elf.h"
#include "insn.h"
#include "offsets.h"

#define MAXSYMS 4096
#define MAXPATCHES 256

struct patch {
  uint va;
  uchar orig;  // the instruction's opcode: 0x9C pushfl or 0x9D popfl
};

static struct patch patches[MAXPATCHES];
// The patched pushfl by their address's low bits, for the exit's fast path
// in assembly (fastpath.S): a site whose slot another holds takes the C
// path (vmexit), which finds every site in patches[].
uint fast_pushf[FAST_PUSHF];
static uint npatches;
static uint starts[MAXSYMS];

// The patched instruction at guest linear address va, if any.
int patched_at(uint va, uchar *orig)
{
  uint lo = 0, hi = npatches;
  while (lo < hi) {
    uint mid = (lo + hi) / 2;
    if (patches[mid].va == va) {
      *orig = patches[mid].orig;
      return 1;
    }
    if (patches[mid].va < va)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

struct image {
  uchar *bytes;
  uint len;
  struct elfhdr *elf;
  struct elfsym *syms;
  uint nsyms;
  const char *strs;
  uint strslen;
};

// The name of the function that holds va, for the VMM's lines.
static const char *func_at(struct image *im, uint va)
{
  // A function whose extent holds va; else the nearest symbol below it
  // (assembly's labels have no size).
  const char *func = 0, *label = "?";
  uint label_value = 0;
  for (uint i = 0; i < im->nsyms; i++) {
    struct elfsym *s = &im->syms[i];
    if (s->name == 0 || s->name >= im->strslen || s->value > va || s->shndx == 0)
      continue;
    if ((s->info & 0xF) == STT_FUNC && va < s->value + s->size)
      func = im->strs + s->name;
    if (s->value >= label_value) {
      label = im->strs + s->name;
      label_value = s->value;
    }
  }
  return func ? func : label;
}

// The guest-physical address the loader put linear address va at, from
// the program headers.
static int va_to_gpa(struct image *im, uint va, uint *gpa)
{
  struct proghdr *ph = (struct proghdr *)(im->bytes + im->elf->phoff);
  for (int i = 0; i < im->elf->phnum; i++, ph++) {
    if (ph->type == ELF_PROG_LOAD && va >= ph->vaddr && va - ph->vaddr < ph->filesz) {
      *gpa = ph->paddr + (va - ph->vaddr);
      return 0;
    }
  }
  return -1;
}

static void record(struct image *im, uint va, uchar op)
{
  uint gpa;
  uchar *p;
  if (npatches == MAXPATCHES)
    panic("more than %d pushfl and popfl to patch", MAXPATCHES);
  if (va_to_gpa(im, va, &gpa) < 0 || !(p = guest_pa(gpa, 1)) || *p != op)
    panic("cannot patch 0x%x: it is not in the guest's loaded code", va);
  if (!opt.pure) {
    *p = 0xCC;
    if (op == 0x9C && !fast_pushf[va % FAST_PUSHF])
      fast_pushf[va % FAST_PUSHF] = va;
  }
  patches[npatches].va = va;
  patches[npatches].orig = op;
  npatches++;
  cprintf("vmm: %s at 0x%x (in %s)%s\n", op == 0x9C ? "pushfl" : "popfl", va, func_at(im, va),
          opt.pure ? " left as it is" : " patched to int3");
}

// Decodes the section's code from each start to the next, recording each
// pushfl and popfl.
static void sweep(struct image *im, struct secthdr *sh, uint *s, uint ns)
{
  for (uint i = 0; i < ns; i++) {
    uint va = s[i], end = i + 1 < ns ? s[i + 1] : sh->addr + sh->size;
    while (va < end) {
      const uchar *p = im->bytes + sh->offset + (va - sh->addr);
      uint left = sh->addr + sh->size - va;
      int len = insn_length(p, left < 15 ? left : 15);
      if (len > 0 && va + len > end)
        break;  // data before the next symbol (xv6's multiboot header)
      if (len == 0) {
        cprintf("vmm: cannot decode the guest's code at 0x%x (in %s): its next %u bytes "
                "are not searched\n", va, func_at(im, va), end - va);
        break;
      }
      if (p[0] == 0x9C || p[0] == 0x9D)
        record(im, va, p[0]);
      va += len;
    }
  }
}

void patch_guest(void *bytes, uint len)
{
  struct image im = { bytes, len, bytes, 0, 0, 0, 0 };
  struct elfhdr *elf = im.elf;
  if (elf->shoff == 0 || elf->shoff > len || elf->shnum * sizeof(struct secthdr) > len - elf->shoff)
    panic("module 0 has no section headers: the VMM needs its symbols to find its code");
  struct secthdr *sh = (struct secthdr *)(im.bytes + elf->shoff);
  for (uint i = 0; i < elf->shnum; i++) {
    if (sh[i].type == SHT_SYMTAB && sh[i].link < elf->shnum && sh[i].offset <= len &&
        sh[i].size <= len - sh[i].offset) {
      im.syms = (struct elfsym *)(im.bytes + sh[i].offset);
      im.nsyms = sh[i].size / sizeof(struct elfsym);
      im.strs = (const char *)(im.bytes + sh[sh[i].link].offset);
      im.strslen = sh[sh[i].link].size;
    }
  }
  if (!im.syms)
    panic("module 0 has no symbol table: the VMM needs it to find its code");

  for (uint k = 0; k < elf->shnum; k++) {
    if (sh[k].type != SHT_PROGBITS || !(sh[k].flags & SHF_EXECINSTR) || sh[k].offset > len ||
        sh[k].size > len - sh[k].offset)
      continue;
    // The section's start and its symbols' addresses, sorted, each once.
    uint ns = 0;
    starts[ns++] = sh[k].addr;
    for (uint i = 0; i < im.nsyms && ns < MAXSYMS; i++) {
      uint v = im.syms[i].value;
      if (im.syms[i].shndx == k && v > sh[k].addr && v < sh[k].addr + sh[k].size)
        starts[ns++] = v;
    }
    for (uint i = 1; i < ns; i++)
      for (uint j = i; j > 0 && starts[j - 1] > starts[j]; j--) {
        uint t = starts[j];
        starts[j] = starts[j - 1];
        starts[j - 1] = t;
      }
    uint u = 0;
    for (uint i = 0; i < ns; i++)
      if (u == 0 || starts[i] != starts[u - 1])
        starts[u++] = starts[i];
    sweep(&im, &sh[k], starts, u);
  }
  // Sorted for patched_at's search (sections may come in any order).
  for (uint i = 1; i < npatches; i++)
    for (uint j = i; j > 0 && patches[j - 1].va > patches[j].va; j--) {
      struct patch t = patches[j];
      patches[j] = patches[j - 1];
      patches[j - 1] = t;
    }
  cprintf("vmm: %u pushfl and popfl in the guest's code%s\n", npatches,
          opt.pure ? ": pure trap-and-emulate, none patched" : ", each patched to int3");
}
