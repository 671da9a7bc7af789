; Touches an address outside its memory: the kernel kills it.
%include "user.inc"

start:  mov eax, [0x50000000]
        mov esi, survived
        call print
        xor ebx, ebx
        jmp exit

survived: db "still alive?", 10, 0
%include "ulib.inc"
