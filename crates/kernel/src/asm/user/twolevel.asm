; Touches memory far apart: code near 0, the heap, and the stack near
; 0x80000000. Each 4 MiB region needs its own page table; everything in
; between needs none, which is why the table has two levels.
%include "user.inc"

start:  mov eax, SYS_sbrk
        mov ebx, 0x800000           ; 8 MiB of heap...
        int 0x40
        mov ebx, eax
        add ebx, 0x7FF000           ; ...touched only at its far end
        mov dword [ebx], 1
far:    push dword 2                ; and the stack
        pop eax
counted:
        mov esi, done
        call print
        xor ebx, ebx
        jmp exit

done:   db "three regions touched", 10, 0
%include "ulib.inc"
