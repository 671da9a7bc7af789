; The osviz teaching kernel.
;
; It is small on purpose: a student can step through every line of it. It
; is modeled on the classic x86 teaching kernels: the kernel mapped high in
; every address space, a process table of PCBs, trap frames built on each
; process's kernel stack, a system-call vector (0x40), a timer-driven
; round-robin scheduler, demand paging for the heap and the stack, and
; blocking I/O served by interrupts.
;
; Calling convention inside the kernel: arguments on the stack, the result
; in EAX; EBX, ESI, EDI and EBP are preserved by the callee.

%include "defs.inc"

BOOT_TABLE  equ 0x8000          ; where the loader lists the programs to start

        bits 32
        org KERNLINK

        section .text

; ---------------------------------------------------------------------------
; Boot. The loader enters here with paging off, so this code runs at its
; physical address (its label minus KERNBASE) until paging is on.
; ---------------------------------------------------------------------------
entry:
        cld
        ; One page table maps the first 4 MiB of physical memory...
        mov edi, kpgtable - KERNBASE
        mov eax, PTE_P | PTE_W
        mov ecx, 1024
.fill:  mov [edi], eax
        add eax, PAGE
        add edi, 4
        dec ecx
        jnz .fill
        ; ...both at 0 (so the next instructions still run) and at KERNBASE.
        mov eax, kpgtable - KERNBASE + (PTE_P | PTE_W)
        mov [kpgdir - KERNBASE], eax
        mov [kpgdir - KERNBASE + (KERNBASE >> 22) * 4], eax
        mov eax, kpgdir - KERNBASE
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        ; Jump to the kernel's high address.
        mov eax, main
        jmp eax

main:
        mov esp, boot_stack_top
        call gdt_init
        call idt_init
        call kinit
        call pic_init
        mov esi, banner
        call kputs
        mov eax, [freecount]
        call kputdec
        mov esi, banner_frames
        call kputs
        call spawn_boot_programs
        ; The time slice starts now.
        mov eax, TIMER_TICKS
        out TIMER_PORT, eax
        jmp scheduler

; Loads the GDT (flat ring 0 and ring 3 segments and the TSS) and the task register.
gdt_init:
        mov eax, tss
        mov [gdt_tss + 2], ax
        shr eax, 16
        mov [gdt_tss + 4], al
        mov [gdt_tss + 7], ah
        lgdt [gdt_desc]
        jmp KCODE:.reload
.reload:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov dword [tss + 8], KDATA          ; SS0: the kernel stack segment
        mov ax, TSS_SEL
        ltr ax
        ret

; Points every IDT gate at its vector stub. Only the system-call gate may be
; used from ring 3 (DPL 3); all are interrupt gates, so the kernel runs with
; interrupts off.
idt_init:
        xor ecx, ecx
.gate:  mov eax, [vectors + ecx*4]
        mov [idt + ecx*8], ax
        mov word [idt + ecx*8 + 2], KCODE
        mov word [idt + ecx*8 + 4], 0x8E00
        shr eax, 16
        mov [idt + ecx*8 + 6], ax
        inc ecx
        cmp ecx, 256
        jb .gate
        mov byte [idt + T_SYSCALL*8 + 5], 0xEE
        lidt [idt_desc]
        ret

; Unmasks the timer (line 0), the keyboard (line 1) and the disk (line 14).
pic_init:
        mov al, 0xFC
        out PIC_MASK, al
        mov al, 0xBF
        out PIC2_MASK, al
        ret

; Starts every program the loader listed in the boot table.
spawn_boot_programs:
        push ebx
        push esi
        mov esi, KERNBASE + BOOT_TABLE
        mov ebx, [esi]
        add esi, 4
.next:  test ebx, ebx
        jz .done
        lea eax, [esi + 8]
        push eax                            ; name
        push dword [esi + 4]                ; size
        mov eax, [esi]
        add eax, KERNBASE
        push eax                            ; image
        call spawn
        add esp, 12
        add esi, 24
        dec ebx
        jmp .next
.done:  pop esi
        pop ebx
        ret

; ---------------------------------------------------------------------------
; Physical frames. The core map holds one byte per frame: FRAME_FREE, the
; pid of the process a user page belongs to, FRAME_PT or FRAME_KERN.
; ---------------------------------------------------------------------------

; Marks the frames below the end of the kernel as the kernel's.
kinit:
        mov ecx, kernel_end - KERNBASE + PAGE - 1
        shr ecx, 12
        mov edi, coremap
        mov al, FRAME_KERN
        rep stosb
        mov eax, NFRAMES
        mov ecx, kernel_end - KERNBASE + PAGE - 1
        shr ecx, 12
        sub eax, ecx
        mov [freecount], eax
        ret

; kalloc(owner) -> EAX: the kernel address of a zeroed frame, 0 if none is free.
kalloc:
        push edi
        mov edi, coremap
        mov ecx, NFRAMES
        xor eax, eax
        repne scasb
        jne .full
        dec edi
        mov eax, [esp + 8]
        mov [edi], al
        dec dword [freecount]
        mov eax, edi
        sub eax, coremap
        shl eax, 12
        add eax, KERNBASE
        mov edi, eax
        push eax
        mov ecx, 1024
        xor eax, eax
        rep stosd
        pop eax
        pop edi
        ret
.full:  xor eax, eax
        pop edi
        ret

; kfree(address): gives a frame back.
kfree:
        mov eax, [esp + 4]
        sub eax, KERNBASE
        shr eax, 12
        mov byte [coremap + eax], FRAME_FREE
        inc dword [freecount]
        ret

; ---------------------------------------------------------------------------
; Page tables.
; ---------------------------------------------------------------------------

; walk(pgdir, va, create) -> EAX: the kernel address of the page table entry
; for va in the page directory at kernel address pgdir, 0 if there is no
; page table (and create is 0, or no frame is free).
walk:
        push ebx
        mov ebx, [esp + 8]
        mov eax, [esp + 12]
        shr eax, 22
        lea ebx, [ebx + eax*4]
        mov eax, [ebx]
        test eax, PTE_P
        jnz .table
        cmp dword [esp + 16], 0
        je .none
        push FRAME_PT
        call kalloc
        add esp, 4
        test eax, eax
        jz .none
        sub eax, KERNBASE
        or eax, PTE_P | PTE_W | PTE_U
        mov [ebx], eax
.table: and eax, 0xFFFFF000
        add eax, KERNBASE
        mov ebx, [esp + 12]
        shr ebx, 12
        and ebx, 0x3FF
        lea eax, [eax + ebx*4]
        pop ebx
        ret
.none:  xor eax, eax
        pop ebx
        ret

; map_page(pgdir, va, entry): sets the page table entry of va to entry
; (a frame's physical address with its flags). EAX = 0 if out of memory.
map_page:
        push dword 1
        push dword [esp + 12]
        push dword [esp + 12]
        call walk
        add esp, 12
        test eax, eax
        jz .out
        mov ecx, [esp + 12]
        mov [eax], ecx
.out:   ret

; new_pgdir() -> EAX: a page directory (kernel address) sharing the kernel's mappings.
new_pgdir:
        push esi
        push edi
        push FRAME_PT
        call kalloc
        add esp, 4
        test eax, eax
        jz .out
        lea edi, [eax + (KERNBASE >> 22) * 4]
        mov esi, kpgdir + (KERNBASE >> 22) * 4
        mov ecx, 1024 - (KERNBASE >> 22)
        rep movsd
.out:   pop edi
        pop esi
        ret

; free_uvm(proc): frees a process's user pages, page tables and page directory.
free_uvm:
        push ebx
        push esi
        push edi
        mov eax, [esp + 16]
        mov esi, [eax + proc.pgdir]
        add esi, KERNBASE
        xor ebx, ebx                        ; directory index
.dir:   mov eax, [esi + ebx*4]
        test eax, PTE_P
        jz .nextdir
        and eax, 0xFFFFF000
        add eax, KERNBASE
        mov edi, eax                        ; the page table
        xor ecx, ecx
.page:  mov eax, [edi + ecx*4]
        test eax, PTE_P
        jz .nextpage
        and eax, 0xFFFFF000
        add eax, KERNBASE
        push ecx
        push eax
        call kfree
        add esp, 4
        pop ecx
.nextpage:
        inc ecx
        cmp ecx, 1024
        jb .page
        push edi
        call kfree
        add esp, 4
.nextdir:
        inc ebx
        cmp ebx, KERNBASE >> 22
        jb .dir
        push esi
        call kfree
        add esp, 4
        pop edi
        pop esi
        pop ebx
        ret

; ---------------------------------------------------------------------------
; Processes.
; ---------------------------------------------------------------------------

; newpid() -> EAX: the next pid that no process has, from 1 to MAXPID. The
; core map keeps an owner's pid in one byte, so pids wrap around and are
; reused, as a long-running system's must be.
newpid:
        push ebx
.next:  mov eax, [nextpid]
        inc dword [nextpid]
        cmp dword [nextpid], MAXPID
        jbe .check
        mov dword [nextpid], 1
.check: mov ebx, ptable
.scan:  cmp dword [ebx + proc.state], UNUSED
        je .skip
        cmp [ebx + proc.pid], eax
        je .next
.skip:  add ebx, proc_size
        cmp ebx, ptable + NPROC * proc_size
        jb .scan
        pop ebx
        ret

; allocproc() -> EAX: a fresh PCB in the EMBRYO state with a kernel stack
; holding an empty trap frame and a context that returns to trapret; 0 if
; the table or memory is full.
allocproc:
        push ebx
        mov ebx, ptable
.find:  cmp dword [ebx + proc.state], UNUSED
        je .found
        add ebx, proc_size
        cmp ebx, ptable + NPROC * proc_size
        jb .find
        xor eax, eax
        pop ebx
        ret
.found: mov dword [ebx + proc.state], EMBRYO
        mov dword [ebx + proc.pid], 0
        call newpid
        mov [ebx + proc.pid], eax
        push FRAME_KERN
        call kalloc
        add esp, 4
        test eax, eax
        jz .nomem
        mov [ebx + proc.kstack], eax
        ; The trap frame sits at the top of the kernel stack...
        add eax, PAGE - trapframe_size
        mov [ebx + proc.tf], eax
        ; ...and below it a context whose return address is trapret.
        sub eax, 4
        mov dword [eax], trapret
        sub eax, context_size - 4
        mov [ebx + proc.context], eax
        mov eax, ebx
        pop ebx
        ret
.nomem: mov dword [ebx + proc.state], UNUSED
        xor eax, eax
        pop ebx
        ret

; spawn(image, size, name) -> EAX: starts a process running a copy of the
; program image (at a kernel address) from USER_BASE; its pid, or -1.
spawn:
        push ebx
        push esi
        push edi
        push ebp
        call allocproc
        test eax, eax
        jz .fail
        mov ebx, eax
        call new_pgdir
        test eax, eax
        jz .fail
        mov ebp, eax                        ; the page directory (kernel address)
        sub eax, KERNBASE
        mov [ebx + proc.pgdir], eax
        ; Copy the image page by page into frames of the process's own.
        xor esi, esi                        ; offset in the image
.page:  cmp esi, [esp + 24]
        jae .loaded
        push dword [ebx + proc.pid]
        call kalloc
        add esp, 4
        test eax, eax
        jz .fail
        mov edi, eax
        push edi
        mov ecx, [esp + 28]
        sub ecx, esi
        cmp ecx, PAGE
        jbe .part
        mov ecx, PAGE
.part:  push esi
        add esi, [esp + 28]
        rep movsb
        pop esi
        pop edi
        sub edi, KERNBASE
        or edi, PTE_P | PTE_W | PTE_U
        push edi
        lea eax, [esi + USER_BASE]
        push eax
        push ebp
        call map_page
        add esp, 12
        add esi, PAGE
        jmp .page
.loaded:
        lea eax, [esi + USER_BASE]
        mov [ebx + proc.heap], eax
        mov [ebx + proc.brk], eax
        ; The name: up to 15 characters.
        mov esi, [esp + 28]
        lea edi, [ebx + proc.name]
        mov ecx, 15
.name:  lodsb
        stosb
        test al, al
        jz .named
        dec ecx
        jnz .name
.named: ; A trap frame that "returns" to the start of the program in ring 3.
        mov edi, [ebx + proc.tf]
        mov dword [edi + trapframe.cs], UCODE
        mov dword [edi + trapframe.ds], UDATA
        mov dword [edi + trapframe.es], UDATA
        mov dword [edi + trapframe.fs], UDATA
        mov dword [edi + trapframe.gs], UDATA
        mov dword [edi + trapframe.ss], UDATA
        mov dword [edi + trapframe.eflags], 0x202
        mov dword [edi + trapframe.esp], USTACK_TOP
        mov dword [edi + trapframe.eip], USER_BASE
        mov dword [ebx + proc.state], RUNNABLE
        mov eax, [ebx + proc.pid]
        jmp .out
.fail:  mov eax, -1
.out:   pop ebp
        pop edi
        pop esi
        pop ebx
        ret

; swtch(save, context): saves the callee-saved registers on the current
; kernel stack, stores ESP at *save, and continues on the stack of context.
swtch:
        mov eax, [esp + 4]
        mov edx, [esp + 8]
        push ebp
        push ebx
        push esi
        push edi
        mov [eax], esp
        mov esp, edx
        pop edi
        pop esi
        pop ebx
        pop ebp
        ret

; The scheduler: round robin over the process table. It runs on the boot
; stack with the kernel's page directory, and switches to each runnable
; process in turn: TSS.ESP0 to its kernel stack, CR3 to its page directory.
scheduler:
.loop:  cli
        xor esi, esi                        ; processes still alive
        mov ebx, ptable
.scan:  cmp dword [ebx + proc.state], UNUSED
        je .next
        inc esi
        cmp dword [ebx + proc.state], RUNNABLE
        jne .next
        mov [current], ebx
        mov eax, [ebx + proc.kstack]
        add eax, PAGE
        mov [tss + 4], eax
        mov eax, [ebx + proc.pgdir]
        mov cr3, eax
        mov dword [ebx + proc.state], RUNNING
        push dword [ebx + proc.context]
        push sched_context
        call swtch
        add esp, 8
        mov eax, kpgdir - KERNBASE
        mov cr3, eax
        mov dword [current], 0
        ; A process nobody waits for is reaped here once it has exited.
        cmp dword [ebx + proc.state], ZOMBIE
        jne .next
        cmp dword [ebx + proc.parent], 0
        jne .next
        push ebx
        call reap
        add esp, 4
.next:  add ebx, proc_size
        cmp ebx, ptable + NPROC * proc_size
        jb .scan
        test esi, esi
        jz .alldone
        ; Nothing could run: wait for an interrupt.
        sti
        hlt
        jmp .loop
.alldone:
        mov esi, msg_alldone
        call kputs
        mov eax, [freecount]
        call kputdec
        mov esi, banner_frames
        call kputs
        cli
        hlt

; sched(): gives the CPU back to the scheduler (the caller set the state).
sched:
        mov eax, [current]
        push dword [sched_context]
        lea eax, [eax + proc.context]
        push eax
        call swtch
        add esp, 8
        ret

; yield(): the running process lets another run.
yield:
        mov eax, [current]
        mov dword [eax + proc.state], RUNNABLE
        call sched
        ret

; sleep(chan): the running process waits until wakeup(chan).
sleep:
        mov eax, [current]
        mov ecx, [esp + 4]
        mov [eax + proc.chan], ecx
        mov dword [eax + proc.state], SLEEPING
        call sched
        mov eax, [current]
        mov dword [eax + proc.chan], 0
        ret

; wakeup(chan): makes every process sleeping on chan runnable.
wakeup:
        mov eax, ptable
        mov ecx, [esp + 4]
.scan:  cmp dword [eax + proc.state], SLEEPING
        jne .next
        cmp [eax + proc.chan], ecx
        jne .next
        mov dword [eax + proc.state], RUNNABLE
.next:  add eax, proc_size
        cmp eax, ptable + NPROC * proc_size
        jb .scan
        ret

; reap(proc): frees an exited process's kernel stack and its PCB.
reap:
        push ebx
        push edi
        mov ebx, [esp + 12]
        push dword [ebx + proc.kstack]
        call kfree
        add esp, 4
        mov edi, ebx
        mov ecx, proc_size
        xor eax, eax
        rep stosb
        pop edi
        pop ebx
        ret

; exit(status): ends the running process. Its memory is freed at once; its
; kernel stack, which this code still runs on, when it is reaped.
exit:
        mov ebx, [current]
        mov eax, [esp + 4]
        mov [ebx + proc.xstate], eax
        mov eax, kpgdir - KERNBASE
        mov cr3, eax
        push ebx
        call free_uvm
        add esp, 4
        ; Children of an exiting process are orphans: the scheduler reaps them.
        mov eax, ptable
.orphans:
        cmp [eax + proc.parent], ebx
        jne .next
        mov dword [eax + proc.parent], 0
.next:  add eax, proc_size
        cmp eax, ptable + NPROC * proc_size
        jb .orphans
        mov dword [ebx + proc.state], ZOMBIE
        push dword [ebx + proc.parent]
        call wakeup
        add esp, 4
        call sched
        ; (Never returns: a zombie is never scheduled again.)

; ---------------------------------------------------------------------------
; Traps. Each vector stub (vectors.inc) pushes an error code (the CPU's, or
; 0) and its vector, then jumps here; this entry code pushes the segment
; registers and the general registers, completing the trap frame.
; ---------------------------------------------------------------------------
alltraps:
        push ds
        push es
        push fs
        push gs
        pushad
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        push esp
        call trap
        add esp, 4
trapret:
        popad
        pop gs
        pop fs
        pop es
        pop ds
        add esp, 8
        iret

; trap(tf): dispatches on the vector.
trap:
        push ebx
        mov ebx, [esp + 8]
        mov eax, [ebx + trapframe.trapno]
        cmp eax, T_SYSCALL
        je .syscall
        cmp eax, T_TIMER
        je .timer
        cmp eax, T_KBD
        je .keyboard
        cmp eax, T_DISK
        je .disk
        cmp eax, T_PGFLT
        je .pagefault
        push ebx
        call fault
        add esp, 4
        jmp .done
.syscall:
        push ebx
        call syscall
        add esp, 4
        jmp .done
.timer: inc dword [ticks]
        call eoi
        push ticks
        call wakeup
        add esp, 4
        ; A process interrupted in ring 3 gives up the CPU: round robin.
        cmp dword [current], 0
        je .done
        test dword [ebx + trapframe.cs], 3
        jz .done
        call yield
        jmp .done
.keyboard:
        call kbd_intr
        jmp .done
.disk:  call disk_intr
        jmp .done
.pagefault:
        push ebx
        call pagefault
        add esp, 4
.done:  pop ebx
        ret

; End of interrupt, to the interrupt controller.
eoi:
        mov al, 0x20
        out PIC_CMD, al
        ret

; pagefault(tf): demand paging. A touch of the heap (below the break) or of
; the stack region gets a fresh zeroed frame and the instruction restarts;
; anything else is a segmentation fault and kills the process.
pagefault:
        push ebx
        mov ebx, [current]
        mov eax, cr2
        test ebx, ebx
        jz .panic
        cmp eax, KERNBASE
        jae .segv
        cmp eax, USER_BASE
        jb .segv
        cmp eax, [ebx + proc.brk]
        jb .map
        cmp eax, USTACK_TOP - USTACK_PAGES * PAGE
        jae .map
.segv:  mov esi, msg_segv
        call kputs
        mov eax, [ebx + proc.pid]
        call kputdec
        mov esi, msg_address
        call kputs
        mov eax, cr2
        call kputhex
        mov esi, msg_eip
        call kputs
        mov eax, [esp + 8]
        mov eax, [eax + trapframe.eip]
        call kputhex
        mov al, 10
        call kputc
        push -1
        call exit
.map:   push dword [ebx + proc.pid]
        call kalloc
        add esp, 4
        test eax, eax
        jz .segv
        sub eax, KERNBASE
        or eax, PTE_P | PTE_W | PTE_U
        push eax
        mov eax, cr2
        and eax, 0xFFFFF000
        push eax
        mov eax, [ebx + proc.pgdir]
        add eax, KERNBASE
        push eax
        call map_page
        add esp, 12
        pop ebx
        ret
.panic: push dword [esp + 8]
        call panic

; fault(tf): any other exception. In ring 3 it kills the process with a
; message; in the kernel it is a panic.
fault:
        mov eax, [esp + 4]
        test dword [eax + trapframe.cs], 3
        jz panic
        mov ecx, [eax + trapframe.trapno]
        mov esi, msg_gpf
        cmp ecx, T_GPFLT
        je .say
        mov esi, msg_divide
        cmp ecx, T_DIVIDE
        je .say
        mov esi, msg_trap
.say:   call kputs
        mov eax, [current]
        mov eax, [eax + proc.pid]
        call kputdec
        mov esi, msg_eip
        call kputs
        mov eax, [esp + 4]
        mov eax, [eax + trapframe.eip]
        call kputhex
        mov al, 10
        call kputc
        push -1
        call exit

; panic(tf): a trap the kernel cannot handle. Says so and stops.
panic:
        mov esi, msg_panic
        call kputs
        mov eax, [esp + 4]
        mov eax, [eax + trapframe.trapno]
        call kputdec
        mov esi, msg_eip
        call kputs
        mov eax, [esp + 4]
        mov eax, [eax + trapframe.eip]
        call kputhex
        mov al, 10
        call kputc
        cli
        hlt

; ---------------------------------------------------------------------------
; System calls: EAX is the number, EBX, ECX, EDX the arguments; the result
; goes back in EAX.
; ---------------------------------------------------------------------------
syscall:
        push ebx
        mov ebx, [esp + 8]
        mov eax, [ebx + trapframe.eax]
        cmp eax, NSYSCALLS
        jae .bad
        push ebx
        call [syscalls + eax*4]
        add esp, 4
        mov [ebx + trapframe.eax], eax
        pop ebx
        ret
.bad:   mov dword [ebx + trapframe.eax], -1
        pop ebx
        ret

sys_none:
        mov eax, -1
        ret

; exit(status)
sys_exit:
        mov eax, [esp + 4]
        push dword [eax + trapframe.ebx]
        call exit

; getpid() -> pid
sys_getpid:
        mov eax, [current]
        mov eax, [eax + proc.pid]
        ret

; user_range(address, length) -> EAX = 1 if the range is all below the kernel.
user_range:
        mov eax, [esp + 4]
        mov ecx, [esp + 8]
        add ecx, eax
        jc .no
        cmp ecx, KERNBASE
        ja .no
        mov eax, 1
        ret
.no:    xor eax, eax
        ret

; write(buffer, length) -> length: writes bytes to the console.
sys_write:
        push esi
        mov eax, [esp + 8]
        mov esi, [eax + trapframe.ebx]
        mov ecx, [eax + trapframe.ecx]
        push ecx
        push esi
        call user_range
        add esp, 8
        test eax, eax
        jz .bad
        mov eax, [esp + 8]
        mov ecx, [eax + trapframe.ecx]
        push ecx
.next:  test ecx, ecx
        jz .done
        ; Touching the user's buffer may fault a heap or stack page in.
        lodsb
        call kputc
        dec ecx
        jmp .next
.done:  pop eax
        pop esi
        ret
.bad:   mov eax, -1
        pop esi
        ret

; sbrk(increment) -> the old break. The pages come on first touch.
sys_sbrk:
        mov eax, [esp + 4]
        mov ecx, [eax + trapframe.ebx]
        mov edx, [current]
        mov eax, [edx + proc.brk]
        add ecx, eax
        cmp ecx, USTACK_TOP - USTACK_PAGES * PAGE
        jae .bad
        mov [edx + proc.brk], ecx
        ret
.bad:   mov eax, -1
        ret

; yield()
sys_yield:
        call yield
        xor eax, eax
        ret

; sleep(ticks): waits that many timer interrupts.
sys_sleep:
        mov eax, [esp + 4]
        mov ecx, [eax + trapframe.ebx]
        add ecx, [ticks]
        push ecx
.wait:  mov eax, [ticks]
        cmp eax, [esp]
        jae .done
        push ticks
        call sleep
        add esp, 4
        jmp .wait
.done:  add esp, 4
        xor eax, eax
        ret

; fork() -> the child's pid in the parent, 0 in the child.
sys_fork:
        push ebx
        push esi
        push edi
        push ebp
        call allocproc
        test eax, eax
        jz .fail
        mov ebx, eax                        ; the child
        call new_pgdir
        test eax, eax
        jz .fail
        mov ebp, eax
        sub eax, KERNBASE
        mov [ebx + proc.pgdir], eax
        ; Copy every user page of the parent.
        mov edx, [current]
        mov esi, [edx + proc.pgdir]
        add esi, KERNBASE
        xor ecx, ecx                        ; user virtual address
.page:  push ecx
        push dword 0
        push ecx
        push esi
        call walk
        add esp, 12
        pop ecx
        test eax, eax
        jz .skiptable
        mov eax, [eax]
        test eax, PTE_P
        jz .nextpage
        push esi
        push ecx
        push eax
        push dword [ebx + proc.pid]
        call kalloc
        add esp, 4
        pop edx                             ; the parent's page table entry
        pop ecx
        test eax, eax
        jz .failpop
        push ecx
        mov edi, eax
        mov esi, edx
        and esi, 0xFFFFF000
        add esi, KERNBASE
        push edi
        mov ecx, 1024
        rep movsd
        pop edi
        pop ecx
        sub edi, KERNBASE
        or edi, PTE_P | PTE_W | PTE_U
        push ecx
        push edi
        push ecx
        push ebp
        call map_page
        add esp, 12
        pop ecx
        pop esi
.nextpage:
        add ecx, PAGE
        cmp ecx, KERNBASE
        jb .page
        jmp .copied
.skiptable:
        ; No page table: skip its whole 4 MiB.
        add ecx, 0x400000
        and ecx, 0xFFC00000
        cmp ecx, KERNBASE
        jb .page
.copied:
        mov edx, [current]
        mov eax, [edx + proc.heap]
        mov [ebx + proc.heap], eax
        mov eax, [edx + proc.brk]
        mov [ebx + proc.brk], eax
        mov [ebx + proc.parent], edx
        lea esi, [edx + proc.name]
        lea edi, [ebx + proc.name]
        mov ecx, 16
        rep movsb
        ; The child returns from the same system call, with 0.
        mov esi, [esp + 20]
        mov edi, [ebx + proc.tf]
        mov ecx, trapframe_size / 4
        rep movsd
        mov eax, [ebx + proc.tf]
        mov dword [eax + trapframe.eax], 0
        mov dword [ebx + proc.state], RUNNABLE
        mov eax, [ebx + proc.pid]
        jmp .out
.failpop:
        pop esi
.fail:  mov eax, -1
.out:   pop ebp
        pop edi
        pop esi
        pop ebx
        ret

; wait() -> the pid of an exited child (its status in EBX), -1 if there are no children.
sys_wait:
        push ebx
        push esi
.again: mov esi, [current]
        xor edx, edx                        ; children seen
        mov ebx, ptable
.scan:  cmp [ebx + proc.parent], esi
        jne .next
        inc edx
        cmp dword [ebx + proc.state], ZOMBIE
        jne .next
        mov eax, [esp + 12]
        mov ecx, [ebx + proc.xstate]
        mov [eax + trapframe.ebx], ecx
        mov esi, [ebx + proc.pid]
        push ebx
        call reap
        add esp, 4
        mov eax, esi
        jmp .out
.next:  add ebx, proc_size
        cmp ebx, ptable + NPROC * proc_size
        jb .scan
        mov eax, -1
        test edx, edx
        jz .out
        push esi
        call sleep
        add esp, 4
        jmp .again
.out:   pop esi
        pop ebx
        ret

; read(device, buffer, n) -> bytes read. Device 0 is the keyboard (waits for
; at least one byte); device 1 is the disk (reads block n, 512 bytes, by DMA).
sys_read:
        push esi
        push edi
        mov eax, [esp + 12]
        mov edi, [eax + trapframe.ecx]
        cmp dword [eax + trapframe.ebx], 1
        je .disk
        cmp dword [eax + trapframe.ebx], 0
        jne .bad
        mov ecx, [eax + trapframe.edx]
        push ecx
        push edi
        call user_range
        add esp, 8
        test eax, eax
        jz .bad
.kwait: cmp dword [kbd_count], 0
        jne .kcopy
        push kbd_buf
        call sleep
        add esp, 4
        jmp .kwait
.kcopy: mov eax, [esp + 12]
        mov ecx, [eax + trapframe.edx]
        xor edx, edx
.kbyte: cmp edx, ecx
        jae .kdone
        cmp dword [kbd_count], 0
        je .kdone
        mov esi, [kbd_head]
        mov al, [kbd_buf + esi]
        inc esi
        and esi, KBD_SIZE - 1
        mov [kbd_head], esi
        dec dword [kbd_count]
        mov [edi + edx], al
        inc edx
        jmp .kbyte
.kdone: mov eax, edx
        jmp .out
.disk:  push dword 512
        push edi
        call user_range
        add esp, 8
        test eax, eax
        jz .bad
        ; One request at a time: wait while another process uses the disk.
.dwait: cmp dword [disk_owner], 0
        je .start
        push disk_owner
        call sleep
        add esp, 4
        jmp .dwait
.start: mov eax, [current]
        mov [disk_owner], eax
        mov dword [disk_done], 0
        mov eax, [esp + 12]
        mov eax, [eax + trapframe.edx]
        mov dx, DISK_BLOCK
        out dx, eax
        mov eax, disk_buf - KERNBASE
        mov dx, DISK_ADDR
        out dx, eax
        mov al, DISK_READ
        mov dx, DISK_CMD
        out dx, al
        ; Sleep until the disk interrupts: the scheduler runs others meanwhile.
.dsleep:
        cmp dword [disk_done], 0
        jne .dcopy
        push disk_buf
        call sleep
        add esp, 4
        jmp .dsleep
.dcopy: mov esi, disk_buf
        mov ecx, 512
        rep movsb
        mov dword [disk_owner], 0
        push disk_owner
        call wakeup
        add esp, 4
        mov eax, 512
        jmp .out
.bad:   mov eax, -1
.out:   pop edi
        pop esi
        ret

; ---------------------------------------------------------------------------
; Device interrupts.
; ---------------------------------------------------------------------------

; The keyboard: every waiting byte goes into the ring buffer.
kbd_intr:
.more:  in al, KBD_STATUS
        test al, 1
        jz .done
        in al, KBD_DATA
        cmp dword [kbd_count], KBD_SIZE
        jae .more
        mov ecx, [kbd_head]
        add ecx, [kbd_count]
        and ecx, KBD_SIZE - 1
        mov [kbd_buf + ecx], al
        inc dword [kbd_count]
        jmp .more
.done:  call eoi
        push kbd_buf
        call wakeup
        add esp, 4
        ret

; The disk finished a transfer: wake the process waiting for it.
disk_intr:
        mov dword [disk_done], 1
        call eoi
        push disk_buf
        call wakeup
        add esp, 4
        ret

; ---------------------------------------------------------------------------
; Console output.
; ---------------------------------------------------------------------------
; Writes AL to the console (its port is above 255, so through DX).
kputc:  push edx
        mov dx, CONSOLE
        out dx, al
        pop edx
        ret

; Writes the zero-terminated string at ESI.
kputs:  push eax
.next:  mov al, [esi]
        test al, al
        jz .done
        call kputc
        inc esi
        jmp .next
.done:  pop eax
        ret

; Writes EAX in hex (0x and eight digits).
kputhex:
        push ebx
        push ecx
        mov ebx, eax
        mov al, '0'
        call kputc
        mov al, 'x'
        call kputc
        mov ecx, 8
.digit: rol ebx, 4
        mov eax, ebx
        and eax, 0xF
        mov al, [hexdigits + eax]
        call kputc
        dec ecx
        jnz .digit
        pop ecx
        pop ebx
        ret

; Writes EAX in decimal (a minus sign for negative numbers).
kputdec:
        push ebx
        push ecx
        push edx
        test eax, eax
        jns .positive
        push eax
        mov al, '-'
        call kputc
        pop eax
        neg eax
.positive:
        mov ebx, 10
        xor ecx, ecx
.divide:
        xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .divide
.print: pop eax
        add al, '0'
        call kputc
        dec ecx
        jnz .print
        pop edx
        pop ecx
        pop ebx
        ret

%include "vectors.inc"

        section .data
banner:         db "osviz kernel: ", 0
banner_frames:  db " frames free", 10, 0
msg_alldone:    db "all processes have exited; ", 0
msg_segv:       db "segmentation fault: pid ", 0
msg_address:    db " touched ", 0
msg_eip:        db " at eip ", 0
msg_gpf:        db "general protection fault: pid ", 0
msg_divide:     db "divide error: pid ", 0
msg_trap:       db "unexpected trap: pid ", 0
msg_panic:      db "kernel panic: trap ", 0
hexdigits:      db "0123456789abcdef"

        align 4
syscalls:
        dd sys_none, sys_exit, sys_getpid, sys_write, sys_read
        dd sys_sbrk, sys_yield, sys_sleep, sys_fork, sys_wait
NSYSCALLS       equ ($ - syscalls) / 4

nextpid:        dd 1

        align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF               ; KCODE: ring 0 code, flat
        dq 0x00CF92000000FFFF               ; KDATA: ring 0 data, flat
        dq 0x00CFFA000000FFFF               ; UCODE: ring 3 code, flat
        dq 0x00CFF2000000FFFF               ; UDATA: ring 3 data, flat
gdt_tss:
        dw tss_end - tss - 1, 0
        db 0, 0x89, 0, 0                    ; TSS (base filled in by gdt_init)
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt
idt_desc:
        dw 256 * 8 - 1
        dd idt

        section .bss
        alignb 4096
kpgdir:         resb 4096                   ; the kernel's page directory
kpgtable:       resb 4096                   ; maps physical 0..4 MiB
idt:            resb 256 * 8
tss:            resb 104
tss_end:
        alignb 4
coremap:        resb NFRAMES                ; the owner of every physical frame
freecount:      resd 1
ptable:         resb NPROC * proc_size      ; the process table
current:        resd 1                      ; the running process's PCB, 0 in the scheduler
sched_context:  resd 1                      ; the scheduler's saved context
ticks:          resd 1
KBD_SIZE        equ 64
kbd_buf:        resb KBD_SIZE
kbd_head:       resd 1
kbd_count:      resd 1
disk_owner:     resd 1
disk_done:      resd 1
        alignb 512
disk_buf:       resb 512                    ; the DMA buffer
        alignb 4096
boot_stack:     resb 4096
boot_stack_top:
kernel_end:
