; A multiboot kernel that runs code in ring 1, as a VMM runs a guest's
; kernel, and prints what the CPU did to the debug console (port 0xE9), one
; line each: "X=hhhhhhhh" for a value (the letters are named below), and
; "t=vector,error,cs" (",cr2" for a page fault) for each exception, after
; which the handler resumes at the address in `resume`. The same kernel run
; by QEMU prints the same lines (the test in tests/ring1.rs holds them).
;
; It checks: iret from ring 0 to ring 1 (a DPL 0 data segment in DS is
; nulled, a DPL 1 one kept), the stack an interrupt through a DPL 1 gate
; switches to (TSS.esp0), pushf and popf at CPL 1 with IOPL 0 (popf keeps IF
; and IOPL, silently), that with IOPL 1 cli and in do not fault in ring 1,
; that with IOPL 0 cli, in, mov from cr0, hlt and lgdt fault in ring 1
; while sgdt and smsw do not, int n through a DPL 0 gate, loading SS,
; DS and CS with more privileged selectors, user/supervisor pages (ring 1 is
; a supervisor ring: it reads and, with CR0.WP clear, writes read-only
; supervisor pages; with WP set the write faults with U clear in the error
; code), iret from ring 1 to ring 3 (IF and IOPL kept, DS and ES of ring 1
; nulled), and an interrupt from ring 3 through a DPL 3 gate into ring 1
; code (the stack from TSS.esp1).
bits 32
org 0x100000

MB_MAGIC  equ 0x1BADB002
MB_FLAGS  equ 0x00010000        ; the a.out kludge: the header gives the load addresses

CODE0 equ 0x08
DATA0 equ 0x10
CODE1 equ 0x19                  ; ring 1 selectors (RPL 1)
DATA1 equ 0x21
CODE3 equ 0x2B
DATA3 equ 0x33
TSSSEL equ 0x38

header:
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)
        dd header
        dd header
        dd load_end
        dd bss_end
        dd start

start:
        mov esp, stack0_top
        lgdt [gdtr]
        jmp CODE0:.flat
.flat:
        mov ax, DATA0
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax

        ; The TSS: ring 0's and ring 1's stacks, no I/O permission bitmap.
        mov dword [tss + 4], stack0_top
        mov dword [tss + 8], DATA0
        mov dword [tss + 12], stack1_top
        mov dword [tss + 16], DATA1
        mov word [tss + 102], 104
        mov eax, tss
        mov [gdt_tss + 2], ax
        shr eax, 16
        mov [gdt_tss + 4], al
        mov [gdt_tss + 7], ah
        mov ax, TSSSEL
        ltr ax

        ; The IDT: vectors 0-31 to the exception stubs (DPL 0), and the
        ; gates the test uses.
        xor ecx, ecx
.gate:
        mov eax, [stubs + ecx * 4]
        mov bl, 0x8E                    ; present, DPL 0, 32-bit interrupt gate
        mov dx, CODE0
        call set_gate
        inc ecx
        cmp ecx, 32
        jb .gate
        mov ecx, 0x40
        mov eax, print_gate             ; int 0x40: print AL=EDX (DPL 1)
        mov bl, 0xAE
        call set_gate
        mov ecx, 0x41
        mov eax, stub0                  ; int 0x41: a DPL 0 gate
        mov bl, 0x8E
        call set_gate
        mov ecx, 0x42
        mov eax, ring1_gate             ; int 0x42: ring 3 into ring 1 code (DPL 3)
        mov bl, 0xEE
        mov dx, CODE1 & ~3
        call set_gate
        mov ecx, 0x43
        mov eax, frame_gate             ; int 0x43: the frame a DPL 1 gate pushed
        mov bl, 0xAE
        mov dx, CODE0
        call set_gate
        mov ecx, 0x44
        mov eax, finish_gate            ; int 0x44: the end (DPL 3)
        mov bl, 0xEE
        call set_gate
        mov ecx, 0x45
        mov eax, wp_gate                ; int 0x45: set CR0.WP (DPL 1)
        mov bl, 0xAE
        call set_gate
        mov ecx, 0x46
        mov eax, iopl_gate              ; int 0x46: flip IOPL between 0 and 1 (DPL 1)
        mov bl, 0xAE
        call set_gate
        lidt [idtr]

        mov edx, cr0
        mov al, 'r'
        call show_hex                   ; CR0 as the loader left it

        ; Paging: the first 4 MiB identity-mapped, user pages but for
        ; ro_page (supervisor, read-only) and sup_page (supervisor, writable).
        mov edi, page_table
        mov eax, 0x7                    ; present, writable, user
        mov ecx, 1024
.pte:
        stosd
        add eax, 4096
        loop .pte
        mov dword [page_table + ((ro_page - $$) >> 12) * 4 + 0x100 * 4], ro_page + 0x1
        mov dword [page_table + ((sup_page - $$) >> 12) * 4 + 0x100 * 4], sup_page + 0x3
        mov dword [page_dir], page_table + 0x7
        mov eax, page_dir
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        ; Into ring 1 by iret, DS a ring 0 segment (nulled on the way) and
        ; ES a ring 1 one (kept).
        mov ax, DATA1
        mov es, ax
        push DATA1
        push stack1b_top
        push 0x2                        ; IF clear, IOPL 0
        push CODE1
        push ring1
        iret

; ECX the vector, EAX the handler, DX the selector, BL the type byte.
set_gate:
        mov [idt + ecx * 8], ax
        mov [idt + ecx * 8 + 2], dx
        mov byte [idt + ecx * 8 + 4], 0
        mov [idt + ecx * 8 + 5], bl
        shr eax, 16
        mov [idt + ecx * 8 + 6], ax
        ret

; ---------------------------------------------------------------- ring 1
ring1:
        xor edx, edx
        mov dx, ds
        mov al, 'd'
        int 0x40                        ; DS after the iret: null
        mov dx, es
        mov al, 'E'
        int 0x40                        ; ES: DATA1, kept
        mov dx, cs
        mov al, 'c'
        int 0x40
        mov dx, ss
        mov al, 's'
        int 0x40
        mov ax, DATA1
        mov ds, ax
        mov fs, ax
        mov gs, ax

        int 0x43                        ; the frame of a DPL 1 gate into ring 0

        pushfd
        pop edx
        mov al, 'f'
        int 0x40                        ; EFLAGS in ring 1
        push 0x3202                     ; IF set, IOPL 3
        popfd
        pushfd
        pop edx
        mov al, 'p'
        int 0x40                        ; after popf: IF and IOPL unchanged

        ; With IOPL 1, ring 1 may run cli and in without a fault (which is
        ; why a VMM keeps its guest's kernel at IOPL 0), while popf still
        ; keeps IOPL.
        int 0x46                        ; IOPL 1
        mov dword [resume], .o1
        cli
        in al, 0x80
.o1:
        pushfd
        pop edx
        mov al, 'o'
        int 0x40
        push 0x0002
        popfd
        pushfd
        pop edx
        mov al, 'O'
        int 0x40
        int 0x46                        ; IOPL 0 again

        mov dword [resume], .r1
        cli
.r1:
        mov dword [resume], .r2
        in al, 0x80
.r2:
        mov dword [resume], .r3
        mov eax, cr0
.r3:
        mov dword [resume], .r4
        hlt
.r4:
        mov dword [resume], .r5
        lgdt [gdtr]
.r5:
        mov dword [resume], .r6
        int 0x41
.r6:
        mov dword [resume], .r7
        mov ax, DATA0
        mov ss, ax
.r7:
        mov dword [resume], .r8
        mov ax, DATA0
        mov ds, ax
.r8:
        mov dword [resume], .r9
        jmp CODE0:.r9
.r9:
        sgdt [scratch]
        mov edx, [scratch + 2]
        mov al, 'G'
        int 0x40                        ; sgdt in ring 1: the real GDT's base
        smsw eax
        movzx edx, ax
        mov al, 'w'
        int 0x40                        ; smsw in ring 1: CR0's low bits
        mov ax, DATA3
        mov ds, ax
        xor edx, edx
        mov dx, ds
        mov al, 'x'
        int 0x40                        ; a DPL 3 data segment loads in ring 1
        mov ax, DATA1
        mov ds, ax

        mov edx, [ro_page]
        mov al, 'R'
        int 0x40                        ; ring 1 reads a supervisor page
        mov dword [resume], .w1
        mov dword [ro_page], 0x11111111
.w1:
        mov edx, [ro_page]
        mov al, 'W'
        int 0x40                        ; and, WP clear, writes a read-only one
        int 0x45                        ; WP set
        mov dword [resume], .w2
        mov dword [ro_page], 0x22222222
.w2:
        mov edx, [ro_page]
        mov al, 'V'
        int 0x40                        ; the write faulted: unchanged

        ; Into ring 3 by iret from ring 1, asking for IF and IOPL 3.
        push DATA3
        push stack3_top
        push 0x3202
        push CODE3
        push ring3
        iret

; ---------------------------------------------------------------- ring 3
ring3:
        ; DS and ES held ring 1 segments: the iret to ring 3 nulled them, so
        ; they are read and kept through SS.
        xor eax, eax
        mov ax, ds
        mov [ss:r3ds], eax
        mov ax, es
        mov [ss:r3es], eax
        mov ax, DATA3
        mov ds, ax
        pushfd
        pop dword [r3flags]
        mov dword [resume], .u1
        int 0x40                        ; a DPL 1 gate from ring 3
.u1:
        mov dword [resume], .u2
        mov eax, [sup_page]             ; a supervisor page from ring 3
.u2:
        int 0x42                        ; into ring 1 through a DPL 3 gate
        jmp $

; Ring 1 code entered from ring 3 (TSS.ss1:esp1 is its stack).
ring1_gate:
        xor edx, edx
        mov dx, cs
        mov al, 'j'
        int 0x40
        mov dx, ss
        mov al, 'J'
        int 0x40
        mov edx, [esp + 4]
        mov al, 'K'
        int 0x40                        ; the interrupted CS: ring 3's
        mov edx, [esp + 16]
        mov al, 'L'
        int 0x40                        ; the interrupted SS
        mov edx, stack1_top
        sub edx, esp
        mov al, 'D'
        int 0x40                        ; bytes pushed on ring 1's stack
        mov edx, [r3flags]
        mov al, 'F'
        int 0x40                        ; EFLAGS ring 3 saw after the iret
        mov edx, [r3ds]
        mov al, 'N'
        int 0x40                        ; DS and ES in ring 3 after the iret: null
        mov edx, [r3es]
        mov al, 'M'
        int 0x40
        int 0x44

; ---------------------------------------------------------------- ring 0
; int 0x40: prints AL=EDX.
print_gate:
        push ds
        push eax
        mov ax, DATA0
        mov ds, ax
        pop eax
        call show_hex
        pop ds
        iret

; int 0x43: prints the pushed CS and SS and how far below TSS.esp0 the
; CPU's pushes reached.
frame_gate:
        mov edx, stack0_top
        sub edx, esp
        mov al, 'k'
        call show_hex
        mov edx, [esp + 4]
        mov al, 'C'
        call show_hex
        mov edx, [esp + 16]
        mov al, 'S'
        call show_hex
        iret

wp_gate:
        push eax
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        pop eax
        iret

iopl_gate:
        xor dword [esp + 8], 0x1000     ; the interrupted EFLAGS' IOPL
        iret

finish_gate:
        mov al, 'e'
        out 0xE9, al
        mov al, 10
        out 0xE9, al
        cli
.halt:
        hlt
        jmp .halt

; The exception stubs: an error code (0 where the CPU pushes none), the vector.
%assign i 0
%rep 32
stub %+ i:
%if i == 8 || (i >= 10 && i <= 14) || i == 17
%else
        push 0
%endif
        push i
        jmp fault
%assign i i + 1
%endrep

; Prints t=vector,error,cs[,cr2] and resumes at [resume].
fault:
        push ds
        pushad
        mov ax, DATA0
        mov ds, ax
        mov al, 't'
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        mov edx, [esp + 36]
        call hex
        mov al, ','
        out 0xE9, al
        mov edx, [esp + 40]
        call hex
        mov al, ','
        out 0xE9, al
        mov edx, [esp + 48]
        call hex
        cmp dword [esp + 36], 14
        jne .nl
        mov al, ','
        out 0xE9, al
        mov edx, cr2
        call hex
.nl:
        mov al, 10
        out 0xE9, al
        mov eax, [resume]
        mov [esp + 44], eax
        popad
        pop ds
        add esp, 8
        iret

; Prints "C=hhhhhhhh\n" with C the letter in AL and the value in EDX.
show_hex:
        out 0xE9, al
        mov al, '='
        out 0xE9, al
        call hex
        mov al, 10
        out 0xE9, al
        ret

; Prints EDX as eight hex digits (keeps every register but EAX).
hex:
        push ecx
        push edx
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
        pop edx
        pop ecx
        ret

stubs:
%assign i 0
%rep 32
        dd stub %+ i
%assign i i + 1
%endrep

align 8
gdt:
        dq 0
        dq 0x00CF9A000000FFFF           ; 0x08 ring 0 code
        dq 0x00CF92000000FFFF           ; 0x10 ring 0 data
        dq 0x00CFBA000000FFFF           ; 0x18 ring 1 code
        dq 0x00CFB2000000FFFF           ; 0x20 ring 1 data
        dq 0x00CFFA000000FFFF           ; 0x28 ring 3 code
        dq 0x00CFF2000000FFFF           ; 0x30 ring 3 data
gdt_tss:
        dq 0x0000890000000067           ; 0x38 the TSS (its base filled in)
gdt_end:
gdtr:
        dw gdt_end - gdt - 1
        dd gdt
idtr:
        dw 256 * 8 - 1
        dd idt
resume:  dd 0
r3flags: dd 0
r3ds:    dd 0
r3es:    dd 0
scratch: dd 0, 0

align 4096
page_dir:  times 1024 dd 0
page_table: times 1024 dd 0
ro_page:   times 1024 dd 0x5A5A5A5A
sup_page:  times 1024 dd 0x6B6B6B6B
load_end:
idt:       times 256 dq 0
tss:       times 104 db 0
align 16
           times 1024 db 0
stack0_top:
           times 1024 db 0
stack1_top:
           times 1024 db 0
stack1b_top:
           times 1024 db 0
stack3_top:
bss_end:
