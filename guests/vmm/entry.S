// The VMM's multiboot header and entry. The boot loader (QEMU's -kernel,
// osviz pc --kernel) enters _start with paging off in flat ring 0 segments,
// EAX = 0x2BADB002 and EBX the multiboot info's physical address. The VMM is
// linked at VMM_BASE + its physical address (kernel.ld), as xv6 is at
// KERNBASE: the entry turns on a boot page directory that maps the first
// 4 MiB both at 0 and at VMM_BASE, then jumps to main at its linked address.

#include "memlayout.h"

#define MB_HEADER_MAGIC 0x1BADB002
// Bit 0: modules on page boundaries; bit 1: memory sizes in the info.
#define MB_HEADER_FLAGS 0x3

#define CR0_PG   0x80000000
#define CR0_WP   0x00010000
#define CR4_PSE  0x00000010

.p2align 2
.text
.globl multiboot_header
multiboot_header:
  .long MB_HEADER_MAGIC
  .long MB_HEADER_FLAGS
  .long (-MB_HEADER_MAGIC - MB_HEADER_FLAGS)

// The ELF entry point, a physical address: paging is off when the loader
// jumps to it.
.globl _start
_start = V2P_WO(entry)

.globl entry
entry:
  // The loader's magic and info pointer, kept for main.
  movl    %eax, %esi
  movl    %ebx, %edi
  // 4 MiB pages, so the boot page directory needs no page tables.
  movl    %cr4, %eax
  orl     $(CR4_PSE), %eax
  movl    %eax, %cr4
  movl    $(V2P_WO(entrypgdir)), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $(CR0_PG|CR0_WP), %eax
  movl    %eax, %cr0
  // From here the VMM runs at its linked addresses.
  movl    $(bootstack + 4096), %esp
  pushl   %edi
  pushl   %esi
  movl    $main, %eax
  call    *%eax
1:
  cli
  hlt
  jmp     1b

.comm bootstack, 4096
