//! Reads arbitrary bytes as an xv6 kernel the way the page reads a kernel a
//! student opened: the ELF and multiboot checks, the symbols, the DWARF
//! layout and line table. A kernel file comes from anyone; reading it must
//! answer with a build or an error, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // No disk: reading stops at the disk check, after the kernel is read.
    let _ = osviz_xv6::Xv6Build::new("fuzz", data.to_vec(), Vec::new(), Default::default());
});
