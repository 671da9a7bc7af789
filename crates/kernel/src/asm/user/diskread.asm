; Reads block 1 of the disk (a DMA transfer; the process sleeps until the
; disk's interrupt) and prints the text it holds.
%include "user.inc"

start:  mov eax, SYS_read
        mov ebx, 1                  ; the disk
        mov ecx, block
        mov edx, 1                  ; block 1
        int 0x40
        mov esi, block
        call print
        xor ebx, ebx
        jmp exit

%include "ulib.inc"
block:  times 513 db 0
