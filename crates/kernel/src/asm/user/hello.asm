; Says hello with its process id and exits.
%include "user.inc"

start:  mov eax, SYS_getpid
        int 0x40
        add al, '0'
        mov [pid_digit], al
        mov eax, SYS_write
        mov ebx, message
        mov ecx, message_length
        int 0x40
        mov eax, SYS_exit
        xor ebx, ebx
        int 0x40

message:    db "hello from pid "
pid_digit:  db "?", 10
message_length equ $ - message
