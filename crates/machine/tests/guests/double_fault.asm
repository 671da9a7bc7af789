; A page fault whose gate is not present becomes #NP while being delivered;
; a page fault followed by a contributory fault is a double fault (#DF,
; error code 0), delivered through gate 8.
; out: #08 err=00000000 cr2=00300000 eip=000????? cpl=0
; events: page_fault double_fault trap_entry
%include "prelude.inc"

test_main:
        call paging_on
        and PTE(0x300000), ~1
        mov al, 14
        call gate_absent
        mov eax, [0x300000]
        ret
