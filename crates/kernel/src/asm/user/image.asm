; A process's memory image: code and data from the program file at the
; bottom, the heap above them (grown with sbrk), the stack at the top of
; user space growing down, the kernel above 0x80000000.
%include "user.inc"

start:  mov eax, SYS_sbrk
        mov ebx, 4096
        int 0x40
        mov [heap], eax             ; the heap starts at the old break
        mov ebx, eax
        mov dword [ebx], 0x1234     ; the heap's first page arrives now
        push dword 42               ; and the stack's first page now
show:   mov esi, message
        call print
        mov eax, [heap]
        call print_dec
        mov esi, newline
        call print
        pop eax
        xor ebx, ebx
        jmp exit

heap:    dd 0
message: db "heap starts at ", 0
newline: db 10, 0
%include "ulib.inc"
