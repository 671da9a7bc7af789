; Page faults carry the architectural error code (P, W/R, U/S) and CR2 holds
; the faulting address. The handler makes the page present, writable and
; user-accessible, and the instruction restarts and completes.
; out: #0e err=00000000 cr2=00201000 eip=000????? cpl=0
; out: #0e err=00000003 cr2=00200000 eip=000????? cpl=0
; out: #0e err=00000005 cr2=00202000 eip=000????? cpl=3
; out: #0e err=00000007 cr2=00204000 eip=000????? cpl=3
; out: #0e err=00000006 cr2=00203000 eip=000????? cpl=3
; out: #41 err=00000000 cr2=00203000 eip=000????? cpl=3
; out: done 00000067
%define ON_TRAP
%include "prelude.inc"

test_main:
        call paging_on
        call user_image
        mov al, 0x41
        call gate_dpl3
        ; 0x200000: user, read-only. 0x201000, 0x203000: not present.
        ; 0x202000: supervisor. 0x204000: user, read-only.
        mov PTE(0x200000), 0x200005
        and PTE(0x201000), ~1
        and PTE(0x203000), ~1
        mov PTE(0x204000), 0x204005
        ; Kernel read of a page that is not present.
        mov eax, [0x201000]
        ; With CR0.WP clear the kernel may write a read-only page...
        mov dword [0x200000], 1
        ; ...and with WP set it may not.
        mov eax, cr0
        or eax, 1 << 16
        mov cr0, eax
        mov dword [0x200000], 2
        ; Now from ring 3.
        mov eax, user
        mov ebx, 0x30000
        jmp enter_user

user:   mov eax, [0x202000]     ; supervisor page: err 5
        mov dword [0x204000], 3 ; read-only page: err 7
        mov dword [0x203000], 4 ; not present: err 6
        int 0x41

on_trap:
        cmp dword [ebp], 14
        jne .other
        mov eax, cr2
        shr eax, 12
        or dword [PT0 + eax*4], 7
        mov eax, cr2
        invlpg [eax]
        mov eax, 1
        ret
.other: PRINT "done "
        mov eax, PTE(0x204000)
        and eax, 0xFF
        call puthex
        NEWLINE
        xor eax, eax
        ret
