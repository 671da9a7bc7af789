; A stale TLB entry keeps translating to the old frame after the page table
; changes, until invlpg drops it or a CR3 write flushes the whole TLB.
; out: AABBA
; events: cr3_write tlb_flush tlb_flush tlb_flush cr3_write tlb_flush
%include "prelude.inc"

%macro READ 0
        mov al, [0x300000]
        call putc
%endmacro

test_main:
        mov byte [0x300000], 'A'
        mov byte [0x301000], 'B'
        call paging_on
        READ
        mov PTE(0x300000), 0x301003
        READ
        invlpg [0x300000]
        READ
        mov PTE(0x300000), 0x300003
        READ
        mov eax, cr3
        mov cr3, eax
        READ
        NEWLINE
        ret
