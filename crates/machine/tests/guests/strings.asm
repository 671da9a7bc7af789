; String instructions with rep prefixes, in both directions.
; out: movs: hello, world
; out: stos: 41414141 ecx=00000000
; out: cmps: differ at 00000007
; out: scas: found at 00000005
; out: lods: 6c std: dlrow
; out: paged: 01020304 esi=002036e0 edi=002076e4
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
        ; With paging on, across pages: each page's first element walks and
        ; the rest hit the TLB entry it filled (unaligned, and the copy's
        ; source and destination cross pages at different elements).
        call paging_on
        mov edi, 0x200800
        mov eax, 0x01020304
        mov ecx, 3000
        rep stosd
        mov esi, 0x200800
        mov edi, 0x204804
        mov ecx, 3000
        rep movsd
        PRINT "paged: "
        mov eax, [0x204804 + 4 * 2999]
        call puthex
        PRINT " esi="
        mov eax, esi
        call puthex
        PRINT " edi="
        mov eax, edi
        call puthex
        NEWLINE
        ret

src:    db "hello, world", 0
other:  db "hello, World", 0
dst:    times 16 db 0
dwords: times 4 dd 0
