; Prints its pid five times, with a long busy loop in between: with two of
; these running, the timer interrupt makes their output interleave.
%include "user.inc"

start:  mov eax, SYS_getpid
        int 0x40
        add al, '0'
        mov [mark], al
        mov edi, 5
.again: mov esi, mark
        call print
        mov ecx, 3000
.busy:  dec ecx
        jnz .busy
        dec edi
        jnz .again
        xor ebx, ebx
        jmp exit

mark:   db "?", 0
%include "ulib.inc"
