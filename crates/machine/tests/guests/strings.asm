; String instructions with rep prefixes, in both directions.
; out: movs: hello, world
; out: stos: 41414141 ecx=00000000
; out: cmps: differ at 00000007
; out: scas: found at 00000005
; out: lods: 6c std: dlrow
%include "prelude.inc"

test_main:
        cld
        mov esi, src
        mov edi, dst
        mov ecx, 13
        rep movsb
        PRINT "movs: "
        mov esi, dst
        call puts
        NEWLINE
        mov edi, dwords
        mov eax, 0x41414141
        mov ecx, 4
        rep stosd
        PRINT "stos: "
        mov eax, [dwords + 12]
        call puthex
        PRINT " ecx="
        mov eax, ecx
        call puthex
        NEWLINE
        ; repe cmpsb stops after the first difference.
        mov esi, src
        mov edi, other
        mov ecx, 13
        repe cmpsb
        PRINT "cmps: differ at "
        lea eax, [esi - src - 1]
        call puthex
        NEWLINE
        ; repne scasb finds the first ','.
        mov edi, src
        mov al, ','
        mov ecx, 13
        repne scasb
        PRINT "scas: found at "
        lea eax, [edi - src - 1]
        call puthex
        NEWLINE
        mov esi, src + 2
        lodsb
        PRINT "lods: "
        call puthex2
        ; Backwards: copy "world" reversed, one byte at a time.
        PRINT " std: "
        std
        mov esi, src + 11
        mov ecx, 5
.rev:   lodsb
        call putc
        loop .rev
        cld
        NEWLINE
        ret

src:    db "hello, world", 0
other:  db "hello, World", 0
dst:    times 16 db 0
dwords: times 4 dd 0
