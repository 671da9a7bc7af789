; With neither the page-fault gate nor the double-fault gate present, a page
; fault ends in a triple fault, which stops the machine.
; stop: triple_fault
; events: page_fault double_fault triple_fault
%include "prelude.inc"

test_main:
        call paging_on
        and PTE(0x300000), ~1
        mov al, 14
        call gate_absent
        mov al, 8
        call gate_absent
        mov eax, [0x300000]
        ret
