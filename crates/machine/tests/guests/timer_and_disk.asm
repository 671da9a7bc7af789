; The timer interrupts every 500 ticks on vector 0x20 once unmasked and IF is
; set; hlt waits for it. The disk writes a block from memory by DMA, and
; reads it back into another buffer; each completion interrupts on vector
; 0x2e (line 14).
; out: #20 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: #20 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: #20 err=00000000 cr2=00000000 eip=000????? cpl=0
; out: ticks 3
; out: #2e err=00000000 cr2=00000000 eip=000????? cpl=0
; out: #2e err=00000000 cr2=00000000 eip=000????? cpl=0
; out: read back: osviz disk
; events: irq_raised irq_raised irq_raised disk_request dma irq_raised disk_request dma irq_raised
%define ON_TRAP
%include "prelude.inc"

test_main:
        ; Only the timer line unmasked.
        mov al, 0xFE
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        mov eax, 500
        out 0x40, eax
        sti
.wait:  hlt
        cmp dword [ticks], 3
        jb .wait
        cli
        xor eax, eax
        out 0x40, eax           ; timer off
        PRINT "ticks "
        mov al, [ticks]
        add al, '0'
        call putc
        NEWLINE
        ; Now only the disk line (14) unmasked.
        mov al, 0xFF
        out 0x21, al
        mov al, 0xBF
        out 0xA1, al
        ; Write block 3 from `message`, wait, then read it into `buffer`.
        mov dx, 0x1F0
        mov eax, 3
        out dx, eax
        mov dx, 0x1F4
        mov eax, message
        out dx, eax
        mov dx, 0x1F7
        mov al, 0x30
        out dx, al
        sti
        hlt
        cli
        mov dx, 0x1F4
        mov eax, buffer
        out dx, eax
        mov dx, 0x1F7
        mov al, 0x20
        out dx, al
        sti
        hlt
        cli
        PRINT "read back: "
        mov esi, buffer
        call puts
        NEWLINE
        ret

on_trap:
        cmp dword [ebp], 0x20
        je .timer
        cmp dword [ebp], 0x2e
        je .disk
        xor eax, eax
        ret
.timer: inc dword [ticks]
.disk:  mov al, 0x20            ; end of interrupt
        out 0x20, al
        mov eax, 1
        ret

ticks:  dd 0
message: db "osviz disk", 0
        align 512
buffer: times 512 db 0xEE
        db 0
