//! The user programs the lessons run.

use crate::Program;

/// The include file every user program starts with.
pub const USER_INC: &str = include_str!("asm/user/user.inc");

/// Helpers a user program includes at its end (print, print_dec, exit).
pub const ULIB_INC: &str = include_str!("asm/user/ulib.inc");

/// Says hello with its pid and exits.
pub const HELLO: Program = Program {
    name: "hello",
    source: include_str!("asm/user/hello.asm"),
};

/// Prints its pid five times with busy loops between: the timer interleaves two of them.
pub const SPIN: Program = Program {
    name: "spin",
    source: include_str!("asm/user/spin.asm"),
};

/// Grows the heap with sbrk and the stack by calls; pages arrive by demand paging.
pub const HEAP: Program = Program {
    name: "heap",
    source: include_str!("asm/user/heap.asm"),
};

/// Touches memory it does not own and is killed.
pub const SEGV: Program = Program {
    name: "segv",
    source: include_str!("asm/user/segv.asm"),
};

/// Runs `cli` in user mode and is killed.
pub const PRIVILEGED: Program = Program {
    name: "privileged",
    source: include_str!("asm/user/privileged.asm"),
};

/// Divides by zero and is killed.
pub const DIVIDE: Program = Program {
    name: "divide",
    source: include_str!("asm/user/divide.asm"),
};

/// Forks a child that exits with 7, and waits for it.
pub const FORKER: Program = Program {
    name: "forker",
    source: include_str!("asm/user/forker.asm"),
};

/// Sleeps three timer ticks.
pub const SLEEPER: Program = Program {
    name: "sleeper",
    source: include_str!("asm/user/sleeper.asm"),
};

/// Reads a disk block by DMA, sleeping until the interrupt.
pub const DISKREAD: Program = Program {
    name: "diskread",
    source: include_str!("asm/user/diskread.asm"),
};

/// Reads a line from the keyboard and echoes it.
pub const ECHO: Program = Program {
    name: "echo",
    source: include_str!("asm/user/echo.asm"),
};

/// Shows a memory image: code and data, a heap page, a stack page.
pub const IMAGE: Program = Program {
    name: "image",
    source: include_str!("asm/user/image.asm"),
};

/// Stores into eight pages four times: TLB misses, then hits.
pub const TLB: Program = Program {
    name: "tlb",
    source: include_str!("asm/user/tlb.asm"),
};

/// Touches three regions far apart: three page tables.
pub const TWOLEVEL: Program = Program {
    name: "twolevel",
    source: include_str!("asm/user/twolevel.asm"),
};
