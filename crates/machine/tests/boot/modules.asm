; A multiboot kernel (the a.out kludge: the header gives the load addresses)
; that prints what its boot loader told it to the debug console (port 0xE9),
; one "name=value" line each: the magic in EAX, the info structure's flags
; that say memory sizes (bit 0) and modules (bit 3) are given, mem_lower and
; mem_upper, the module count, and for each module whether it starts on a
; page boundary, its length, its bytes (as text, up to 64 of them) and its
; string. The same kernel run by QEMU (-kernel, -initrd, -debugcon) prints
; the same lines: the test holds them.
bits 32
org 0x100000

MB_MAGIC  equ 0x1BADB002
MB_FLAGS  equ 0x00010003        ; page-aligned modules, memory info, a.out kludge

header:
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)
        dd header               ; header_addr
        dd header               ; load_addr
        dd load_end             ; load_end_addr
        dd bss_end              ; bss_end_addr
        dd start                ; entry_addr

start:
        mov esp, stack_top
        mov ebp, ebx            ; the info structure, kept in EBP throughout
        mov edx, eax
        mov al, 'm'
        call show_hex           ; the loader's magic

        mov edx, [ebp]
        and edx, 0x9
        mov al, 'f'
        call show_hex           ; flags: MEM (bit 0) and MODS (bit 3)

        mov edx, [ebp + 4]
        mov al, 'l'
        call show_hex           ; mem_lower in KiB
        mov edx, [ebp + 8]
        mov al, 'u'
        call show_hex           ; mem_upper in KiB

        mov edx, [ebp + 20]
        mov al, 'n'
        call show_hex           ; mods_count
        mov esi, [ebp + 24]     ; mods_addr
        mov ecx, [ebp + 20]
.module:
        test ecx, ecx
        jz .done
        push ecx
        mov edx, [esi]
        and edx, 0xFFF
        mov al, 'a'
        call show_hex           ; mod_start's offset in its page: 0
        mov edx, [esi + 4]
        sub edx, [esi]
        mov al, 's'
        call show_hex           ; the module's length, mod_end - mod_start

        ; Its bytes as text, at most 64 of them, between quotes.
        mov al, 'b'
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        mov ebx, [esi]
        mov ecx, [esi + 4]
        sub ecx, ebx
        cmp ecx, 64
        jbe .bytes
        mov ecx, 64
.bytes:
        jecxz .bytes_done
        mov al, [ebx]
        cmp al, 10
        jne .plain
        mov al, '|'             ; a newline shown as '|', one line per module
.plain:
        out 0xE9, al
        inc ebx
        dec ecx
        jmp .bytes
.bytes_done:
        mov al, 10
        out 0xE9, al

        ; The string the loader gave the module (its file name, or what follows it).
        mov al, 't'
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        mov ebx, [esi + 8]
.string:
        mov al, [ebx]
        test al, al
        jz .string_done
        out 0xE9, al
        inc ebx
        jmp .string
.string_done:
        mov al, 10
        out 0xE9, al

        pop ecx
        add esi, 16
        dec ecx
        jmp .module
.done:
        mov al, 'e'
        out 0xE9, al
        mov al, 10
        out 0xE9, al
        ; QEMU's isa-debug-exit is not on its board by default: halt forever.
        cli
.halt:
        hlt
        jmp .halt

; Prints "C=hhhhhhhh\n" with C the letter in AL and the value in EDX.
show_hex:
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        mov ecx, 8
.digit:
        rol edx, 4
        mov al, dl
        and al, 0xF
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '9' - 1
.out:
        out 0xE9, al
        dec ecx
        jnz .digit
        mov al, 10
        out 0xE9, al
        ret

load_end:
align 16
stack:
        times 1024 db 0
stack_top:
bss_end:
