//! Reads arbitrary bytes as an xv6 fs.img the way the page reads a disk a
//! student opened, laid out by a real kernel's DWARF (`scripts/xv6` builds
//! it into target/xv6 first): the file-system check, the root directory's
//! files, and each program's ELF line table and symbols. A disk image comes
//! from anyone; reading it must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static KERNEL: &[u8] = include_bytes!("../../target/xv6/kernel");

fn layout() -> &'static osviz_xv6::Layout {
    static LAYOUT: OnceLock<osviz_xv6::Layout> = OnceLock::new();
    // Copied to the heap: the ELF reader wants its structures aligned, as
    // the page's own buffers are, and an included file need not be.
    LAYOUT.get_or_init(|| {
        osviz_xv6::Layout::from_elf(&KERNEL.to_vec()).expect("the xv6 build's kernel")
    })
}

fuzz_target!(|data: &[u8]| {
    let layout = layout();
    let _ = osviz_xv6::fs::check_image(layout, data);
    for (_, bytes) in osviz_xv6::fs::root_files(layout, data) {
        let _ = osviz_xv6::Lines::from_elf(&bytes);
    }
});
