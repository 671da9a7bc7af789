; Sleeps for three timer ticks, then says so.
%include "user.inc"

start:  mov eax, SYS_sleep
        mov ebx, 3
        int 0x40
        mov esi, woke
        call print
        xor ebx, ebx
        jmp exit

woke:   db "slept 3 ticks", 10, 0
%include "ulib.inc"
