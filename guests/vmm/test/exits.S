// A guest kernel that makes one exit of each kind the VMM handles, for its
// tests: given as module 0 instead of xv6's kernel (with the module string
// "exits pure log=100": its pushfl left as it is, every exit printed), it
// runs in ring 1, and the VMM's transcript shows each exit and what the VMM
// did. It ends with hlt while its interrupts are off, where the VMM stops.

#define TSS_ADDR 0x110000   // a TSS, at a fixed address so that its
                            // descriptor can be written here

.text
.globl start
start:
  movl    $stack_top, %esp
  sti  // the virtual IF set
  cli  // and cleared
  // pushfl does not fault in ring 1: the guest reads the real EFLAGS, whose
  // IF the VMM keeps set, though it has just executed cli. Moved into CR2
  // (an exit that shows the value) for the transcript to show it.
  pushfl
  popl    %eax
  movl    %eax, %cr2
  movl    %cr2, %ebx
  // Port I/O, passed through to the board: a character to COM1 and the
  // line status read back.
  movw    $0x3F8, %dx
  movb    $'!', %al
  outb    %al, %dx
  movb    $'\n', %al
  outb    %al, %dx
  movw    $0x3FD, %dx
  inb     %dx, %al
  // The descriptor-table registers, in three addressing forms: a GDT of
  // ring 0 segments, which the VMM compresses to ring 1, so that loading
  // its data segment with RPL 0 makes no exit.
  lgdt    gdtdesc
  movw    $0x10, %ax
  movw    %ax, %ds
  movw    %ax, %es
  pushl   $0x12345678
  pushw   $0x7ff
  lidt    (%esp)
  addl    $6, %esp
  call    make_idt
  movl    $idtdesc, %eax
  lidt    (%eax)
  // The task register: the VMM reads the TSS from the guest's GDT.
  movw    $0x18, %ax
  ltr     %ax
  // CR4 (large pages), CR3, then paging on: from here the shadow is
  // filled page by page, each fill a hidden page fault.
  movl    $0x10, %eax
  movl    %eax, %cr4
  movl    $pgdir, %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $0x80010000, %eax
  movl    %eax, %cr0
  // The local APIC: a load and a store of the guest's, each emulated.
  movl    0xFEE00030, %eax
  movl    $0x1FF, 0xFEE000F0
  // A system call's path: int through the guest's gate (DPL 0 is enough
  // from its kernel), and its handler's iret, emulated (the frame's CS has
  // RPL 0).
  int     $0x40
  // A true page fault (nothing is mapped at 4 MiB): reflected into the
  // guest's handler, which reads CR2 and skips the load.
  movl    0x400000, %eax
  hlt

// The IDT's gates for 0x40 and #PF, built at run time (a gate splits its
// handler's address, which the assembler cannot).
make_idt:
  movl    $syscall, %eax
  movl    $(idt + 0x40 * 8), %edx
  call    gate
  movl    $pagefault, %eax
  movl    $(idt + 14 * 8), %edx
  call    gate
  ret
gate:
  movw    %ax, (%edx)
  movw    $0x08, 2(%edx)
  movw    $0x8E00, 4(%edx)
  shrl    $16, %eax
  movw    %ax, 6(%edx)
  ret

syscall:
  movl    $0x40, %esi
  iret
pagefault:
  movl    %cr2, %edi
  addl    $4, %esp      // the error code
  addl    $5, (%esp)    // past the 5-byte load
  iret

.data
.p2align 12
// 4 MiB pages: the first 4 MiB (this guest) and the APICs' 4 MiB.
pgdir:
  .long   0x00000083
  .fill   0x3FA, 4, 0
  .long   0xFEC00083
  .fill   4, 4, 0
.p2align 3
gdt:
  .quad   0
  .quad   0x00CF9A000000FFFF   // ring 0 code, flat
  .quad   0x00CF92000000FFFF   // ring 0 data, flat
  // A 32-bit TSS at TSS_ADDR, 104 bytes.
  .word   0x67, TSS_ADDR & 0xFFFF
  .byte   (TSS_ADDR >> 16) & 0xFF, 0x89, 0x00, (TSS_ADDR >> 24) & 0xFF
gdtend:
.p2align 2
gdtdesc:
  .word   gdtend - gdt - 1
  .long   gdt
idtdesc:
  .word   0x7ff
  .long   idt

.bss
.p2align 12
idt:
  .space  0x800
.p2align 4
  .space  4096
stack_top:
