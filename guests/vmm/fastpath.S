// The most frequent exits, in assembly: the guest kernel's patched pushfl
// (patch.c), which xv6 runs in every mycpu(), pushcli() and popcli(), and
// its cli and sti (the second and third most frequent). The
// C path (vmexit) saves every register, decodes and logs; this one, entered
// from vector 13 before any of that, does what the C path does for the
// common case, in a tenth of the instructions: when the faulting EIP is a
// patched pushfl (fast_pushf[] holds it), its exit is not to be printed,
// and the word below the guest's ESP is in the VMM's TLB of guest pages,
// writable, it stores the guest's EFLAGS there with the virtual IF, counts
// and logs the exit, and returns to the instruction after. Anything else
// goes on to alltraps as vector 13. cli and sti likewise, when the byte
// at the guest's EIP is in the VMM's TLB, and for sti when no interrupt
// waits to be delivered.

#include "offsets.h"

#define FL_KEEP 0xFFFCCDFF   // EFLAGS less IF, IOPL, RF and VM
#define FL_IF   0x200

// The VMM's TLB entry (shadow.c's vtlb_hit) for the guest linear address in
// %eax: its offset in vtlb[] (page number modulo 16, times the entry's 16
// bytes) into %ecx.
.macro vtlb_index
  movl    %eax, %ecx
  shrl    $8, %ecx
  andl    $0xF0, %ecx
.endm

// The steps since the exit began (fast_tsc) into the record at %ecx's
// offset in the log, and added to the VMM's total. Uses %eax and %edx.
.macro spent
  rdtsc
  subl    %ss:fast_tsc, %eax
  movl    %eax, %ss:exitlog + EXITLOG_REC + 16(%ecx)
  addl    %eax, %ss:vcpu + VCPU_VMM_STEPS
  adcl    $0, %ss:vcpu + VCPU_VMM_STEPS + 4
.endm

.data
.align 4
fast_tsc:
  .long 0
.text

.globl gp_entry
gp_entry:
  // The CPU pushed: error code, EIP, CS, EFLAGS, ESP, SS.
  cmpl    $0, (%esp)             // a privileged instruction
  je      cli_sti
  cmpl    $0x1A, (%esp)          // int3 (vector 3) met a gate of DPL 0
  jne     slow
  pushl   %eax
  pushl   %ecx
  pushl   %edx
  rdtsc                          // when the exit began (the low word)
  movl    %eax, %ss:fast_tsc
  // Now: EIP at 16(%esp), CS at 20, EFLAGS at 24, the guest's ESP at 28.
  movl    20(%esp), %eax
  andl    $3, %eax
  cmpl    $1, %eax               // from the guest's kernel, in ring 1
  jne     restore
  movl    %ss:vcpu + VCPU_EXITS, %eax
  cmpl    %ss:opt + OPT_LOG, %eax   // exits so far < log=N: this one is printed
  jb      restore
  movl    16(%esp), %eax
  movl    %eax, %ecx
  andl    $(FAST_PUSHF - 1), %ecx
  cmpl    %eax, %ss:fast_pushf(, %ecx, 4)
  jne     restore
  // The stack word: the VMM's TLB entry for (ESP - 4)'s page, writable,
  // and the word aligned (so that it lies in one page), all in one compare
  // with the entry's wpage.
  movl    28(%esp), %eax
  subl    $4, %eax
  vtlb_index
  movl    %eax, %edx
  andl    $0xFFFFF003, %edx
  orl     $4, %edx
  cmpl    %edx, %ss:vtlb + VTLB_WPAGE(%ecx)
  jne     restore
  addl    %ss:vtlb + VTLB_DELTA(%ecx), %eax
  // The guest's EFLAGS with its virtual IF.
  movl    24(%esp), %edx
  andl    $FL_KEEP, %edx
  cmpl    $0, %ss:vcpu + VCPU_VIF
  je      1f
  orl     $FL_IF, %edx
1:
  movl    %edx, %ss:(%eax)
  subl    $4, 28(%esp)
  // The exit counted and logged as vmexit's note() does.
  incl    %ss:vcpu + VCPU_EXITS
  movl    %ss:vcpu + VCPU_EXITS, %eax
  incl    %ss:vcpu + VCPU_PATCHED
  // The record first, then the log's count, as note() does: whoever
  // watches the count finds the record written.
  movl    %ss:exitlog, %ecx
  andl    $63, %ecx
  imull   $EXITREC_SIZE, %ecx
  movl    $X_PATCHED_VALUE, %ss:exitlog + EXITLOG_REC(%ecx)
  movl    16(%esp), %edx
  movl    %edx, %ss:exitlog + EXITLOG_REC + 4(%ecx)
  movl    $0x9C, %ss:exitlog + EXITLOG_REC + 8(%ecx)
  movl    %eax, %ss:exitlog + EXITLOG_REC + 12(%ecx)
  spent
  incl    %ss:exitlog
  incl    16(%esp)               // past the one-byte pushfl
  popl    %edx
  popl    %ecx
  popl    %eax
  addl    $4, %esp               // the error code
  iret

cli_sti:
  pushl   %eax
  pushl   %ecx
  pushl   %edx
  rdtsc
  movl    %eax, %ss:fast_tsc
  movl    20(%esp), %eax
  andl    $3, %eax
  cmpl    $1, %eax               // from the guest's kernel, in ring 1
  jne     restore
  movl    %ss:vcpu + VCPU_EXITS, %eax
  cmpl    %ss:opt + OPT_LOG, %eax
  jb      restore
  // The instruction's byte, through the VMM's TLB entry for its page.
  movl    16(%esp), %eax
  vtlb_index
  movl    %eax, %edx
  andl    $0xFFFFF000, %edx
  orl     $1, %edx
  cmpl    %edx, %ss:vtlb(%ecx)
  jne     restore
  addl    %ss:vtlb + VTLB_DELTA(%ecx), %eax
  movzbl  %ss:(%eax), %eax
  cmpl    $0xFA, %eax
  je      1f
  cmpl    $0xFB, %eax
  jne     restore
  cmpl    $0, %ss:vapic_requested  // sti with an interrupt to deliver: C
  jne     restore
  movl    $1, %ss:vcpu + VCPU_VIF
  movl    $I_STI_VALUE, %edx
  jmp     2f
1:
  movl    $0, %ss:vcpu + VCPU_VIF
  movl    $I_CLI_VALUE, %edx
2:
  incl    %ss:vcpu + VCPU_EXITS
  movl    %ss:vcpu + VCPU_EXITS, %eax
  incl    %ss:vcpu + VCPU_PRIVILEGED
  movl    %ss:exitlog, %ecx
  andl    $63, %ecx
  imull   $EXITREC_SIZE, %ecx
  movl    $X_PRIVILEGED_VALUE, %ss:exitlog + EXITLOG_REC(%ecx)
  movl    %edx, %ss:exitlog + EXITLOG_REC + 8(%ecx)
  movl    16(%esp), %edx
  movl    %edx, %ss:exitlog + EXITLOG_REC + 4(%ecx)
  movl    %eax, %ss:exitlog + EXITLOG_REC + 12(%ecx)
  spent
  incl    %ss:exitlog
  incl    16(%esp)               // past the one-byte cli or sti
  popl    %edx
  popl    %ecx
  popl    %eax
  addl    $4, %esp
  iret

restore:
  popl    %edx
  popl    %ecx
  popl    %eax
slow:
  pushl   $13
  jmp     alltraps
