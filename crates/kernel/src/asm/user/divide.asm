; Divides by zero: #DE, and the kernel kills it.
%include "user.inc"

start:  mov eax, 1
        xor edx, edx
        xor ecx, ecx
        div ecx
        xor ebx, ebx
        jmp exit
%include "ulib.inc"
