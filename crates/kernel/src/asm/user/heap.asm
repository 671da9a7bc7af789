; Grows the heap with sbrk and touches it, and grows the stack by calls:
; every new page arrives through a page fault the kernel handles.
%include "user.inc"

start:  mov eax, SYS_sbrk
        mov ebx, 3 * 4096
        int 0x40
        mov edi, eax                ; the old break: the new heap starts here
        mov dword [edi], 1          ; first heap page
        mov dword [edi + 4096], 2   ; second
        mov dword [edi + 8191], 3   ; still the second
        mov dword [edi + 8192], 4   ; third
        mov eax, [edi]
        add eax, [edi + 4096]
        add eax, [edi + 8192]
        mov esi, heap_msg
        call print
        call print_dec
        mov esi, newline
        call print
        ; Eight nested calls, each with a 2 KiB local array: the stack
        ; grows down across several pages.
        mov ecx, 8
        call deep
        mov esi, stack_msg
        call print
        xor ebx, ebx
        jmp exit

deep:   sub esp, 2048
        mov dword [esp], ecx
        dec ecx
        jz .back
        call deep
.back:  add esp, 2048
        ret

heap_msg:  db "heap sum ", 0
stack_msg: db "stack ok", 10, 0
newline:   db 10, 0
%include "ulib.inc"
