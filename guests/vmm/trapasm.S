// The common path of every exit: the vector stubs (vectors.S) push an error
// code (a zero where the CPU pushes none) and the vector, alltraps pushes the
// rest of struct trapframe and calls vmexit(tf) on the ring 0 stack the TSS
// gave; trapret resumes the guest from a trap frame.

#include "memlayout.h"

#include "seg.h"

.globl alltraps
alltraps:
  pushl   %ds
  pushl   %es
  pushl   %fs
  pushl   %gs
  pushal
  // The VMM's own data segment: the guest's may be anything it loaded.
  movw    $(SEG_VDATA << 3), %ax
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %fs
  movw    %ax, %gs
  pushl   %esp
  call    vmexit
  addl    $4, %esp

.globl trapret
trapret:
  popal
  popl    %gs
  popl    %fs
  popl    %es
  popl    %ds
  // The vector and the error code.
  addl    $8, %esp
  iret
