; Tries a privileged instruction in user mode: #GP, and the kernel kills it.
%include "user.inc"

start:  cli
        mov esi, survived
        call print
        xor ebx, ebx
        jmp exit

survived: db "still alive?", 10, 0
%include "ulib.inc"
