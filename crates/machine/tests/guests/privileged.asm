; Privileged instructions in ring 3 raise #GP(0). The handler skips each one
; (the user code puts its length in EDX) and returns to ring 3.
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=3
; out: #41 err=00000000 cr2=00000000 eip=000????? cpl=3
%define ON_TRAP
%include "prelude.inc"

test_main:
        mov al, 0x41
        call gate_dpl3
        mov eax, user
        mov ebx, 0x30000
        jmp enter_user

user:   mov edx, 1
        cli
        hlt
        mov edx, 3
        mov eax, cr3
        mov edx, 2
        in al, 0x60
        out 0xE9, al
        mov edx, 7
        lidt [0x1000]
        int 0x41

on_trap:
        cmp dword [ebp], 13
        jne .stop
        mov eax, [ebp - 20]     ; the saved EDX
        add [ebp + 8], eax
        mov eax, 1
        ret
.stop:  xor eax, eax
        ret
