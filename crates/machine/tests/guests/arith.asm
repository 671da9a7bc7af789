; Multiply, divide and their faults: a zero divisor and a quotient too large
; (among them EDX:EAX = -2^63 over -1, whose quotient not even 64 bits hold)
; raise #DE at the divide instruction; ud2 raises #UD.
; out: mul 0b00ea4e 242d2080
; out: #00 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: #00 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: #00 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: div 0000000e 00000001
; out: idiv fffffff2 ffffffff
; out: imul fffffffa 00000000 00000dea
; out: shifts 80000000 00000001 fffffff0 0fffffff 00000123
; out: #06 err=00000000 cr2=00000000 eip=000????? cpl=0
%define ON_TRAP
%include "prelude.inc"

test_main:
        mov eax, 0x12345678
        mov ecx, 0x9abcdef0
        mul ecx
        mov ebx, eax
        SHOW2 "mul ", edx, ebx
        xor edx, edx
        mov eax, 5
        xor ecx, ecx
        div ecx                 ; divide by zero (2 bytes)
        mov eax, 0x80000000
        cdq
        mov ecx, -1
        idiv ecx                ; quotient too large (2 bytes)
        mov edx, 0x80000000
        xor eax, eax
        idiv ecx                ; -2^63 / -1 (2 bytes)
        mov eax, 43
        xor edx, edx
        mov ecx, 3
        div ecx
        SHOW2 "div ", eax, edx
        mov eax, -43
        cdq
        mov ecx, 3
        idiv ecx
        SHOW2 "idiv ", eax, edx
        mov eax, -2
        mov ecx, 3
        imul ecx
        mov ebx, eax
        mov esi, edx
        imul edi, ecx, 0x4a3    ; 3 * 0x4a3 = 0xde9
        inc edi
        PRINT "imul "
        mov eax, ebx
        call puthex
        PRINT " "
        mov eax, esi
        inc eax
        call puthex
        PRINT " "
        mov eax, edi
        call puthex
        NEWLINE
        PRINT "shifts "
        mov eax, 1
        shl eax, 31
        call puthex
        PRINT " "
        rol eax, 1
        call puthex
        PRINT " "
        mov eax, -1
        shl eax, 4
        call puthex
        PRINT " "
        mov eax, -1
        shr eax, 4
        call puthex
        PRINT " "
        mov eax, 0x1230
        mov cl, 4
        ror eax, cl
        call puthex
        NEWLINE
        ud2
        ret

on_trap:
        cmp dword [ebp], 0
        jne .stop
        add dword [ebp + 8], 2
        mov eax, 1
        ret
.stop:  xor eax, eax
        ret
