; A null selector in FS on an otherwise flat machine: reads through DS run
; as ever (in a loop, so the block path runs them), and the first access
; through FS raises #GP(0), not a read of address 0x100.
; out: #0d err=00000000 cr2=00000000 eip=000????? cpl=0
%include "prelude.inc"

test_main:
        xor eax, eax
        mov fs, ax
        mov ecx, 100
.loop:  add eax, [0x100]
        dec ecx
        jnz .loop
        mov eax, [fs:0x100]
        ret
