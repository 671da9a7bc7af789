//! Small built-in programs, as real IA-32 bytes beside the source they encode.

/// One built-in program: its bytes, the address it runs at, and its source.
#[derive(Clone, Copy, Debug)]
pub struct Program {
    pub name: &'static str,
    pub load_addr: u32,
    pub bytes: &'static [u8],
    /// The assembly source, one line per instruction, in the order of `bytes`.
    pub source: &'static str,
}

/// Sums 5 + 4 + 3 + 2 + 1 into EAX, writes the result as a digit pair to
/// the console port, and halts.
pub const SUM_LOOP: Program = Program {
    name: "sum-loop",
    load_addr: 0x1000,
    bytes: &[
        0xB9, 0x05, 0x00, 0x00, 0x00, // mov ecx, 5
        0xB8, 0x00, 0x00, 0x00, 0x00, // mov eax, 0
        0x01, 0xC8, //                   add eax, ecx
        0x49, //                         dec ecx
        0x75, 0xFB, //                   jnz -5 (back to add)
        0x88, 0xC2, //                   mov dl, al
        0x80, 0xEA, 0x0A, //             sub dl, 10
        0x80, 0xC2, 0x30, //             add dl, '0'
        0xB0, 0x31, //                   mov al, '1'
        0xE6, 0xE9, //                   out 0xE9, al
        0x88, 0xD0, //                   mov al, dl
        0xE6, 0xE9, //                   out 0xE9, al
        0xF4, //                         hlt
    ],
    source: "mov ecx, 5\nmov eax, 0\nadd eax, ecx\ndec ecx\njnz -5\nmov dl, al\nsub dl, 10\nadd dl, '0'\nmov al, '1'\nout 0xE9, al\nmov al, dl\nout 0xE9, al\nhlt",
};
