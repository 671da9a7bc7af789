; A user `int` through a DPL 3 gate enters ring 0 on the TSS stack with SS,
; ESP, EFLAGS, CS and EIP pushed; through a DPL 0 gate it is a #GP whose
; error code names the gate (vector * 8 + 2).
; out: #40 err=00000000 cr2=00000000 eip=000????? cpl=3
; out: frame ss=00000023 esp=00030000 on the TSS stack
; out: #0d err=00000182 cr2=00000000 eip=000????? cpl=3
; events: iret trap_entry iret trap_entry
%define ON_TRAP
%include "prelude.inc"

test_main:
        mov al, 0x40
        call gate_dpl3
        mov eax, user
        mov ebx, 0x30000
        jmp enter_user

user:   int 0x40
        int 0x30

on_trap:
        cmp dword [ebp], 0x40
        jne .stop
        PRINT "frame ss="
        mov eax, [ebp + 24]
        call puthex
        PRINT " esp="
        mov eax, [ebp + 20]
        call puthex
        ; The stub's two pushes sit just below the hardware's five.
        lea eax, [ebp + 28]
        cmp eax, kstack_top
        jne .wrong
        PRINT " on the TSS stack"
.wrong: NEWLINE
        mov eax, 1
        ret
.stop:  xor eax, eax
        ret
