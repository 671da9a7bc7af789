; Loads from three pages in order, page after page, in a loop (so that `run`
; takes its block path as well as single steps): each walk sets A in its
; page's table entry, and the page after them keeps A clear. The host reads
; a byte of that next page ahead of such walks, for its own translation's
; sake; the guest sees nothing of it: no walk, no A bit, no TLB entry.
; out: 00200023 00201023 00202023 00203003
%include "prelude.inc"

test_main:
        call paging_on
        mov esi, 0x200000
        mov ecx, 3
.next:  mov eax, [esi]
        add esi, 0x1000
        dec ecx
        jnz .next
        mov eax, PTE(0x200000)
        call puthex
        PRINT " "
        mov eax, PTE(0x201000)
        call puthex
        PRINT " "
        mov eax, PTE(0x202000)
        call puthex
        PRINT " "
        mov eax, PTE(0x203000)
        call puthex
        NEWLINE
        ret
