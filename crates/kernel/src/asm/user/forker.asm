; Forks: the child exits with status 7; the parent waits for it.
%include "user.inc"

start:  mov eax, SYS_fork
        int 0x40
        test eax, eax
        jz child
        mov [child_pid], eax
        mov eax, SYS_wait
        int 0x40
        mov esi, parent_msg
        call print
        call print_dec
        mov esi, status_msg
        call print
        mov eax, ebx
        call print_dec
        mov esi, newline
        call print
        xor ebx, ebx
        jmp exit

child:  mov esi, child_msg
        call print
        mov ebx, 7
        jmp exit

child_pid:  dd 0
parent_msg: db "parent: child ", 0
status_msg: db " exited with status ", 0
child_msg:  db "child running", 10, 0
newline:    db 10, 0
%include "ulib.inc"
