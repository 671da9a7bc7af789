; A boot sector that checks real mode and the way out of it, printing each
; result to the debug console (port 0xE9) as "X=hhhh" lines (a letter, the
; value in hex; the test names the letters): segment
; arithmetic, the 16-bit addressing forms and their default segments, 64 KiB
; wraparound, the stack, near and far calls, an interrupt through the vector
; table, `loop` and `rep movsb` with 16-bit registers, the 0x66 and 0x67
; prefixes, the A20 gate (through port 0x92 and the keyboard controller),
; and a trip into 32-bit protected mode and back through a 16-bit segment.
; The same sector run by QEMU (-debugcon) prints the same lines.
bits 16
org 0x7C00

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00

        ; Segment arithmetic: 0x1234:0x0010 is linear 0x12350.
        mov ax, 0x1234
        mov es, ax
        mov byte [es:0x10], 0x5A
        mov ax, 0x1000
        mov ds, ax
        mov al, [0x2350]
        mov dl, 's'
        call show

        ; [bx+si+disp] through DS, [bp+di] through SS: DS is 0x1000, SS 0.
        mov bx, 0x100
        mov si, 0x20
        mov word [bx+si+5], 0xA1B2      ; linear 0x10125
        xor ax, ax
        mov es, ax
        mov ax, [es:0x0125]             ; linear 0x125: not written
        mov cx, [0x0125]                ; linear 0x10125
        mov word [es:0x500], 0xC3D4
        mov bp, 0x400
        mov di, 0x100
        mov dx, [bp+di]                 ; SS:0x500
        push dx
        mov ax, cx
        mov dl, 'd'
        call show
        pop ax
        mov dl, 'S'
        call show

        ; The offset wraps at 64 KiB: 0xFFFF + 3 is 0x0002.
        xor ax, ax
        mov ds, ax
        mov word [0x0002], 0x1357
        mov bx, 0xFFFF
        mov si, 3
        mov ax, [bx+si]
        mov dl, 'w'
        call show

        ; An interrupt through the vector table: the handler sees IF clear
        ; and the flags it pushed; iret brings them back.
        mov word [0x80*4], handler
        mov word [0x80*4+2], 0
        sti
        int 0x80
        cli
        mov dl, 'i'
        call show
        mov ax, bx
        mov dl, 'f'
        call show

        ; loop counts CX down; rep movsb moves DS:SI to ES:DI.
        mov cx, 5
        xor ax, ax
.count: add ax, 3
        loop .count
        mov dl, 'l'
        call show
        mov ax, 0x2000
        mov es, ax
        mov si, text
        xor di, di
        mov cx, 4
        cld
        rep movsb
        mov ax, [es:0x0002]
        mov dl, 'm'
        call show

        ; 0x66: a 32-bit register in 16-bit code; 0x67: a 32-bit address.
        mov eax, 0x12345678
        mov ebx, 0x7000
        mov esi, 2
        mov [ebx+esi*4], eax
        mov ax, [0x700A]
        mov dl, 'o'
        call show

        ; A far call and return.
        call 0:far_routine
        mov dl, 'F'
        call show

        ; The A20 gate: FFFF:0010 is 1 MiB, which wraps to 0 while it is
        ; closed.
        mov ax, 0xFFFF
        mov es, ax
        mov byte [0], 0x22
        mov byte [es:0x10], 0x11
        in al, 0x92
        and al, ~2
        out 0x92, al
        mov al, [es:0x10]
        mov dl, 'c'
        call show
        in al, 0x92
        mov dl, 'p'
        call show
        mov al, 0xD1                    ; as bootasm.S opens it
        out 0x64, al
        mov al, 0xDF
        out 0x60, al
        mov al, [es:0x10]
        mov dl, 'a'
        call show
        mov al, 0xD0
        out 0x64, al
        in al, 0x60
        mov dl, 'k'
        call show

        ; Into 32-bit protected mode and back to real mode through a 16-bit
        ; code segment.
        lgdt [gdtdesc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp 0x08:prot32
bits 32
prot32:
        mov ax, 0x10
        mov ds, ax
        mov eax, 0xCAFEF00D
        mov [0x7004], eax
        jmp 0x18:prot16
bits 16
prot16:
        mov eax, cr0
        and al, ~1
        mov cr0, eax
        jmp 0:real_again
real_again:
        xor ax, ax
        mov ds, ax
        mov ax, [0x7006]
        mov dl, 'P'
        call show
        hlt

handler:
        pushf
        pop bx
        mov ax, 0xBEEF
        iret

far_routine:
        mov ax, 0xFA12
        retf

; Prints "X=hhhh" and a newline: X the letter in DL, hhhh AX in hex.
show:
        xchg ax, dx
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        xchg ax, dx
        mov cx, 4
.digit: rol ax, 4
        push ax
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '0' - 10
.out:   out 0xE9, al
        pop ax
        loop .digit
        mov al, 10
        out 0xE9, al
        ret

text:   db "osvz"

align 8
gdt:
        dq 0
        dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code, base 0, 4 GiB
        dq 0x00CF92000000FFFF           ; 0x10: data, base 0, 4 GiB
        dq 0x00009A000000FFFF           ; 0x18: 16-bit code, base 0, 64 KiB
gdtdesc:
        dw gdtdesc - gdt - 1
        dd gdt

        times 510 - ($ - $$) db 0
        dw 0xAA55
