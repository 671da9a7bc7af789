; The page walk sets A in the directory and table entries and D on a write;
; a TLB hit does not walk, so A cleared by software stays clear until the
; entry is flushed with invlpg.
; (The directory entry's A bit is set again at once: fetching the test's own
; code walks through the same directory entry.)
; out: pte=00200003 pde=00101027
; out: pte=00200023 pde=00101027
; out: pte=00200063
; out: pte=00200043
; out: pte=00200063
%include "prelude.inc"

%macro SHOW 0
        PRINT "pte="
        mov eax, PTE(0x200000)
        call puthex
%endmacro

test_main:
        call paging_on
        ; The kernel's own pages were touched; this one was not.
        and dword [PD], ~0x20
        invlpg [0x200000]
        SHOW
        PRINT " pde="
        mov eax, [PD]
        call puthex
        NEWLINE
        mov eax, [0x200000]
        SHOW
        PRINT " pde="
        mov eax, [PD]
        call puthex
        NEWLINE
        mov dword [0x200000], 1
        SHOW
        NEWLINE
        ; Clear A and D: the TLB still holds the page, so no walk sets them.
        and PTE(0x200000), ~0x60
        mov eax, [0x200000]
        or PTE(0x200000), 0x40   ; (puts D back so only A differs)
        SHOW
        NEWLINE
        invlpg [0x200000]
        mov eax, [0x200000]
        SHOW
        NEWLINE
        ret
