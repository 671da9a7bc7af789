; Echoes every key typed: the keyboard interrupt (vector 0x21) reads port
; 0x60 and prints the byte; between keys the CPU waits in hlt. A '.' ends it.
; Run alone it prints nothing and waits for input.
; stop: idle
%define ON_TRAP
%define QUIET_TRAPS
%include "prelude.inc"

test_main:
        mov al, 0xFD            ; only the keyboard line
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        sti
.wait:  hlt
        cmp byte [last], '.'
        jne .wait
        ret

on_trap:
        cmp dword [ebp], 0x21
        jne .stop
        in al, 0x60
        mov [last], al
        call putc
        mov al, 0x20
        out 0x20, al
        mov eax, 1
        ret
.stop:  xor eax, eax
        ret

last:   db 0
