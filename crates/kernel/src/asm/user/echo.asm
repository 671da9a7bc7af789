; Reads a line from the keyboard (sleeping until keys arrive) and echoes it.
%include "user.inc"

start:  mov esi, prompt
        call print
        xor edi, edi
.more:  mov eax, SYS_read
        xor ebx, ebx                ; the keyboard
        lea ecx, [line + edi]
        mov edx, 1
        int 0x40
        mov al, [line + edi]
        inc edi
        cmp al, 10
        je .done
        cmp edi, 60
        jb .more
.done:  mov byte [line + edi], 0
        mov esi, echoed
        call print
        mov esi, line
        call print
        xor ebx, ebx
        jmp exit

prompt: db "type a line: ", 0
echoed: db "you typed: ", 0
line:   times 64 db 0
%include "ulib.inc"
