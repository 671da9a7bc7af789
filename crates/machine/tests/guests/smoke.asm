; The prelude's own machinery: output, the trap handler, and halting.
; out: hello 0000002a
; out: #03 err=00000000 cr2=00000000 eip=0001???? cpl=0
%include "prelude.inc"
test_main:
        PRINT "hello "
        mov eax, 42
        call puthex
        NEWLINE
        int3
        ret
