//! Multiboot modules and the information structure, as QEMU's loader gives
//! them: `tests/boot/modules.asm` is a multiboot kernel that prints what it
//! was told (the magic, the flags for memory sizes and modules, mem_lower
//! and mem_upper, each module's page alignment, length, bytes and string) to
//! the debug console, and its output must equal what the same kernel printed
//! under QEMU 7.2 with the same two modules:
//!
//! ```text
//! printf 'hello, module\nsecond line\n' > one.txt; printf xyz > two.txt
//! nasm -f bin -o k.bin modules.asm
//! qemu-system-i386 -kernel k.bin -initrd one.txt,two.txt -m 224 \
//!     -debugcon file:out.txt -display none
//! ```

mod common;

use osviz_machine::multiboot::{self, Module};
use osviz_machine::{Machine, PcConfig, PcError, Reg, StopReason};

/// What QEMU printed with `-m 224` (mem_upper is 228,224 KiB: the RAM above
/// 1 MiB less the 128 KiB QEMU's firmware keeps at the top).
const QEMU_224: &str = "\
m=2BADB002
f=00000009
l=0000027F
u=00037B80
n=00000002
a=00000000
s=0000001A
b=hello, module|second line|
t=one.txt
a=00000000
s=00000003
b=xyz
t=two.txt
e
";

/// What QEMU printed with `-m 512` and no module.
const QEMU_512_NONE: &str = "\
m=2BADB002
f=00000009
l=0000027F
u=0007FB80
n=00000000
e
";

fn kernel() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/boot");
    common::assemble(&dir.join("modules.asm"))
}

fn modules() -> Vec<Module> {
    vec![
        Module {
            bytes: b"hello, module\nsecond line\n".to_vec(),
            string: "one.txt".into(),
        },
        Module {
            bytes: b"xyz".to_vec(),
            string: "two.txt".into(),
        },
    ]
}

fn run(m: &mut Machine) -> String {
    assert_eq!(m.run(100_000), StopReason::Halted);
    String::from_utf8_lossy(m.debug_output()).into_owned()
}

#[test]
fn the_kernel_prints_its_modules_as_under_qemu() {
    let mut m = Machine::pc(
        PcConfig {
            modules: modules(),
            ..PcConfig::default()
        },
        &kernel(),
    )
    .unwrap();
    assert_eq!(m.cpu().reg(Reg::Eax), multiboot::LOADER_MAGIC);
    assert_eq!(m.cpu().reg(Reg::Ebx), multiboot::INFO_ADDR);
    assert_eq!(run(&mut m), QEMU_224);
    // The modules lie where QEMU put them: the kernel ends below 0x101000,
    // the list and strings take the page there, the first module the next
    // page and the second the page after its 26 bytes.
    let list = m.mem().read(multiboot::INFO_ADDR + 24, 4);
    assert_eq!(list, 0x10_1000);
    assert_eq!(m.mem().read(list, 4), 0x10_2000);
    assert_eq!(m.mem().read(list + 16, 4), 0x10_3000);
}

#[test]
fn with_no_module_the_count_is_zero_as_under_qemu() {
    let mut m = Machine::pc(
        PcConfig {
            mem_mib: 512,
            ..PcConfig::default()
        },
        &kernel(),
    )
    .unwrap();
    assert_eq!(run(&mut m), QEMU_512_NONE);
}

#[test]
fn a_module_too_large_for_memory_is_refused_naming_it() {
    let err = Machine::pc(
        PcConfig {
            modules: vec![Module {
                bytes: vec![0; 224 << 20],
                string: "big".into(),
            }],
            ..PcConfig::default()
        },
        &kernel(),
    )
    .unwrap_err();
    let PcError::Kernel(multiboot::MultibootError::TooLarge(why)) = err else {
        panic!("{err:?}");
    };
    assert!(why.contains("module 0 (big"), "{why}");
}
