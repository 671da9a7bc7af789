//! Assembles arbitrary text: the assembler must answer with output or
//! errors, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = osviz_asm::assemble_str("fuzz.asm", text);
    }
});
