//! The kernel's interrupt vectors: what each one it uses is called, and the
//! stubs that enter the kernel through them. One table, read by the
//! views, the timeline and the lessons alike.

use osviz_machine::Exception;

/// The timer's interrupt: line 0 of the lessons' board, at vector 32 + 0.
pub const TIMER: u8 = 32;
/// The keyboard's interrupt: line 1.
pub const KEYBOARD: u8 = 33;
/// The disk's interrupt: line 14.
pub const DISK: u8 = 46;
/// The system call, `int 0x40` (a trap gate with DPL 3).
pub const SYSCALL: u8 = 0x40;

/// The vectors the teaching kernel sets up, with their course names.
const NAMES: &[(u8, &str)] = &[
    (0, "divide error"),
    (6, "invalid opcode"),
    (8, "double fault"),
    (13, "general protection fault"),
    (14, "page fault"),
    (TIMER, "timer interrupt"),
    (KEYBOARD, "keyboard interrupt"),
    (DISK, "disk interrupt"),
    (SYSCALL, "system call"),
];

/// The name of a vector as the kernel uses it; `None` for the vectors it
/// leaves to the generic handler.
pub fn vector_name(vector: u8) -> Option<&'static str> {
    NAMES.iter().find(|(v, _)| *v == vector).map(|(_, n)| *n)
}

/// The vectors the kernel names, in order.
pub fn named_vectors() -> impl Iterator<Item = u8> {
    NAMES.iter().map(|(v, _)| *v)
}

/// The vector stubs: each pushes an error code (0 where the CPU pushes none)
/// and its vector, and jumps to the common entry. Generated, as the classic
/// teaching kernels generate theirs.
pub fn vectors_source() -> String {
    let mut s = String::from("; Generated: one stub per interrupt vector.\n");
    for v in 0..=255u8 {
        s.push_str(&format!("vector{v}:\n"));
        if !Exception::pushes_error_code(v) {
            s.push_str("        push 0\n");
        }
        s.push_str(&format!("        push {v}\n        jmp alltraps\n"));
    }
    s.push_str("\n        section .data\n        align 4\nvectors:\n");
    for v in 0..256 {
        s.push_str(&format!("        dd vector{v}\n"));
    }
    s.push_str("        section .text\n");
    s
}
