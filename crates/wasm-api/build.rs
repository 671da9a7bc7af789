//! Points the browser tests at an xv6 build to embed: they cannot read
//! files, so `tests/xv6.rs` includes the kernel and fs.img at compile time
//! from the paths this sets, `OSVIZ_XV6_KERNEL` and `OSVIZ_XV6_DISK` (the folder in `OSVIZ_XV6_DIR`). The
//! build is the one `scripts/xv6` writes (`target/xv6` in the checkout, or
//! `$XV6_OUT`). Without one, both name an empty file, so everything still
//! compiles and the xv6 tests fail saying how to make the build.
//! `OSVIZ_VMM` names the teaching hypervisor `scripts/vmm` writes
//! (`target/vmm/vmm`, or `$VMM_OUT/vmm`), likewise.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=XV6_OUT");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dir = std::env::var_os("XV6_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../target/xv6"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    println!("cargo:rustc-env=OSVIZ_XV6_DIR={}", dir.display());
    let empty = out.join("no-xv6-build");
    std::fs::write(&empty, b"").expect("OUT_DIR is writable");
    for (var, file) in [
        ("OSVIZ_XV6_KERNEL", "kernel"),
        ("OSVIZ_XV6_DISK", "fs.img"),
        ("OSVIZ_XV6_BOOT_BLOCK", "bootblock.o"),
    ] {
        let path = dir.join(file);
        // A file that appears, or changes, later makes this run again.
        println!("cargo:rerun-if-changed={}", path.display());
        let chosen = if path.is_file() { path } else { empty.clone() };
        println!("cargo:rustc-env={var}={}", chosen.display());
    }
    // The teaching hypervisor `scripts/vmm` writes (`target/vmm/vmm`, or
    // `$VMM_OUT/vmm`), for the virtualization lessons' test.
    println!("cargo:rerun-if-env-changed=VMM_OUT");
    let vmm = std::env::var_os("VMM_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../target/vmm"))
        .join("vmm");
    println!("cargo:rerun-if-changed={}", vmm.display());
    let chosen = if vmm.is_file() { vmm } else { empty };
    println!("cargo:rustc-env=OSVIZ_VMM={}", chosen.display());
}
