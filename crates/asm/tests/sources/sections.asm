; Sections, structures, equ, local labels and expressions.
        bits 32
        org 0x1000

STACK   equ 4096
PAGE    equ 1 << 12
MASK    equ ~(PAGE - 1)

struc proc
.pid:   resd 1
.state: resd 1
.name:  resb 16
.pgdir: resd 1
endstruc

        section .text
main:   mov eax, [procs + proc.state]
        mov ebx, procs + proc_size * 2
        mov ecx, (message_end - message)
        and eax, MASK
        mov edx, STACK / 4 + PAGE % 7
        lea esi, [ebx + proc.name]
        jmp .done
.done:  call other
        hlt
other:  mov eax, $
        mov ebx, $$
.done:  ret

        section .data
message: db "hello", 10
message_end:
procs:  times 3 * proc_size db 0
counter: dd 0

        section .bss
stack:  resb STACK
stack_top:
buffer: resd 16
