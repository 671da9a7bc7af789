; Loops that end in `inc` or `dec` of a register and `jz` or `jnz`: the block
; path runs such a pair as one shortcut, so single steps and runs in uneven
; chunks (which stop between the two) must agree, and the flags after are
; those of the `inc`/`dec` (CF kept from before it).
; out: dec/jnz 0007a314 00000000
; out: inc/jnz 00000000 00000055
; out: dec/jz 00000031 00000000
; out: inc/jz 00000014 00000000
%include "prelude.inc"

test_main:
        ; A counted sum: the pair closes a three-instruction block.
        mov ecx, 1000
        xor eax, eax
.a:     add eax, ecx
        dec ecx
        jnz .a
        mov ebx, eax
        SHOW2 "dec/jnz ", ebx, ecx
        ; The pair alone is the block; CF set before it survives `inc`.
        mov ecx, -300
        stc
.b:     inc ecx
        jnz .b
        pushfd
        pop ebx
        and ebx, 0x8D5          ; OF SF ZF AF PF CF
        SHOW2 "inc/jnz ", ecx, ebx
        ; `jz` leaves the loop, its fall-through is the loop's body.
        mov ecx, 50
        xor ebx, ebx
.c:     dec ecx
        jz .c_done
        inc ebx
        jmp .c
.c_done:
        SHOW2 "dec/jz ", ebx, ecx
        mov edx, -20
        xor esi, esi
.d:     inc esi
        inc edx
        jz .d_done
        jmp .d
.d_done:
        SHOW2 "inc/jz ", esi, edx
        ret
