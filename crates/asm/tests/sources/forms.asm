; Instruction forms the kernel and the lessons use, to compare with NASM.
        bits 32
        org 0x80100000
start:
        mov eax, 1
        mov ebx, 0x12345678
        mov cl, 5
        mov ax, 7
        mov eax, ebx
        mov ax, bx
        mov al, bl
        mov ah, dh
        mov eax, [ebx]
        mov eax, [ebx+4]
        mov eax, [ebx-4]
        mov eax, [ebx+1000]
        mov eax, [ebp]
        mov eax, [ebp+8]
        mov eax, [esp]
        mov eax, [esp+4]
        mov eax, [ebx+esi*4]
        mov eax, [ebx+esi*4+8]
        mov eax, [esi*4+table]
        mov eax, [eax*2]
        mov eax, [table]
        mov ebx, [table]
        mov [table], eax
        mov [table], ecx
        mov al, [table]
        mov [ebx], eax
        mov [ebx+ecx], dl
        mov dword [ebx], 5
        mov byte [ebx], 5
        mov word [ebx], 5
        mov dword [table+4], table
        mov eax, table
        mov eax, cr0
        mov cr3, eax
        mov eax, cr2
        mov ds, ax
        mov ss, ax
        mov ax, ds
        mov eax, es
        movzx eax, byte [ebx]
        movzx eax, bl
        movzx eax, word [ebx]
        movsx eax, byte [ebx]
        movsx ecx, dx
        lea eax, [ebx+ecx*2+3]
        lea esp, [esp+8]
        xchg eax, ebx
        xchg ecx, eax
        xchg ecx, edx
        xchg [ebx], eax
        xchg al, bl
.loop:  add eax, ebx
        add eax, 1
        add eax, 1000
        add ebx, 1000
        add al, 5
        add bl, 5
        add dword [ebx], 1
        add dword [ebx], 1000
        add byte [ebx], 1
        add eax, [ebx]
        add [ebx], eax
        adc eax, ebx
        sbb eax, 2
        sub esp, 16
        and eax, 0xFFFFF000
        and eax, ~0xFFF
        or eax, 0x80000000
        xor eax, eax
        cmp eax, 10
        cmp byte [esi], 0
        cmp eax, -1
        test eax, eax
        test al, 1
        test eax, 0x200
        test ebx, 0x200
        test dword [ebx], 4
        test [ebx], ecx
        not eax
        neg ecx
        inc eax
        inc ecx
        dec esi
        inc byte [ebx]
        dec dword [ebx+4]
        inc ax
        shl eax, 1
        shl eax, 4
        shr ebx, cl
        sar edx, 31
        rol eax, 8
        ror word [ebx], 1
        rcl eax, 1
        rcr ebx, 3
        sal eax, 2
        mul ecx
        mul byte [ebx]
        imul ecx
        imul eax, ebx
        imul eax, [ebx+4]
        imul eax, ebx, 10
        imul eax, ebx, 1000
        imul eax, 5
        div ecx
        idiv dword [ebx]
        cdq
        cwde
        push eax
        push ebp
        push 5
        push 1000
        push -1
        push table
        push dword [ebx]
        push ds
        push es
        push fs
        push gs
        pop eax
        pop dword [ebx]
        pop ds
        pop gs
        pushad
        popad
        pushfd
        popfd
        jmp .loop
        jmp short .next
.next:  jmp near .next2
.next2: jmp eax
        jmp [ebx]
        jmp dword [table]
        jmp 0x08:.far
.far:   je .loop
        jne .fwd
        jz .loop
        jnz .loop
        jb .loop
        jae .loop
        jl .loop
        jge .loop
        jle .loop
        jg .loop
        js .loop
        jns .loop
        ja .loop
        jbe .loop
        jo .loop
        jp .loop
.fwd:   call func
        call eax
        call [ebx+4]
        loop .fwd
        loopne .fwd
        jecxz .fwd
        sete al
        setne byte [ebx]
        cmovz eax, ebx
        cmovg ecx, [ebx]
        ret
        ret 8
        leave
        int 0x40
        int 3
        int3
        iret
        cli
        sti
        hlt
        nop
        cld
        std
        clc
        stc
        cmc
        lgdt [gdt_desc]
        lidt [idt_desc]
        ltr ax
        invlpg [eax]
        invlpg [table]
        in al, 0x60
        in eax, dx
        in al, dx
        out 0xE9, al
        out dx, al
        out dx, eax
        out 0x40, eax
        ud2
        rep movsb
        rep movsd
        rep stosd
        rep stosb
        repe cmpsb
        repne scasb
        lodsb
        lodsd
        movsw
func:   ret
        align 4
table:  dd 1, 2, 3, start, table - start
        dw 0x1234, -2
        db 'osviz', 0, 10, "two", 0
        db `tab\there`, 0
        times 3 db 0xAA
        times 2 dd 0x11223344
gdt_desc:
        dw 23
        dd table
idt_desc:
        dw 2047
        dd 0
        align 16
        db 1
