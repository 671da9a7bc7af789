; Walks an array of 8 pages four times, one dword per page: the first pass
; misses the TLB on every page, later passes hit (the TLB holds 16).
%include "user.inc"

start:  mov eax, SYS_sbrk
        mov ebx, 8 * 4096
        int 0x40
        mov [array], eax
        mov edi, 4                  ; passes
.pass:  mov esi, [array]
        mov ecx, 8
.store: mov [esi], ecx              ; one store per page
        add esi, 4096
        dec ecx
        jnz .store
        dec edi
        jnz .pass
        mov esi, done
        call print
        xor ebx, ebx
        jmp exit

array:  dd 0
done:   db "8 pages, 4 passes", 10, 0
%include "ulib.inc"
