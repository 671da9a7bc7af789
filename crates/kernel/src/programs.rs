//! The user programs the lessons run.

use crate::Program;

/// The include file every user program starts with.
pub const USER_INC: &str = include_str!("asm/user/user.inc");

/// Says hello with its pid and exits.
pub const HELLO: Program = Program {
    name: "hello",
    source: include_str!("asm/user/hello.asm"),
};
