; Loads and stores through a TLB entry for a frame past the end of RAM,
; where nothing answers: loads read all ones and stores are dropped, and a
; run counts each access's TLB hit once, as single steps do (the block
; path's quick access gives way to the full one there, having counted
; nothing).
; out: ffffffd8
%include "prelude.inc"

test_main:
        call paging_on
        mov PTE(0x3FF000), 0xF0000003
        xor ebx, ebx
        mov ecx, 40
.loop:  mov eax, [0x3FF000]
        add ebx, eax
        mov [0x3FF004], ebx
        dec ecx
        jnz .loop
        mov eax, ebx
        call puthex
        NEWLINE
        ret
