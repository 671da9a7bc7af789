// A guest kernel that makes one exit of each kind the VMM emulates, for its
// tests: given as module 0 instead of xv6's kernel, it runs in ring 1 with
// its paging off, and the VMM's transcript shows each exit and what the
// emulation did. Its last instruction turns paging on, where the VMM stops.

.text
.globl start
start:
  movl    $stack_top, %esp
  cli  // the virtual IF cleared
  sti  // and set
  // pushfl does not fault in ring 1: the guest reads the real EFLAGS, whose
  // IF is clear, though it has just executed sti. Moved into CR2 (an exit
  // that shows the value) for the transcript to show it.
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
  // The descriptor-table registers: three addressing forms.
  lgdt    gdtdesc
  movl    $idtdesc, %eax
  lidt    (%eax)
  pushl   $0x12345678
  pushw   $0x7ff
  lidt    (%esp)
  addl    $6, %esp
  // CR4, CR3, then paging on: the VMM stops.
  movl    $0x10, %eax
  movl    %eax, %cr4
  movl    $0x200000, %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $0x80010000, %eax
  movl    %eax, %cr0
1:
  jmp     1b

.p2align 2
gdtdesc:
  .word   0x17
  .long   0x00101000
idtdesc:
  .word   0x7ff
  .long   0x00102000

.bss
.p2align 4
  .space  4096
stack_top:
