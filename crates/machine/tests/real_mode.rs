//! Real mode and the way out of it, on the PC board booted from a disk as a
//! BIOS hands over: `tests/boot/realmode.asm` is a boot sector that prints
//! what it finds to the debug console, and its output must equal what the
//! same sector printed under QEMU 7.2 (`qemu-system-i386 -drive
//! file=realmode.img,format=raw -debugcon file:out.txt`).

mod common;

use osviz_machine::{CodeSize, Machine, PcConfig, PcError, StopReason};

/// What QEMU printed, one line per check (see the program's comments):
/// segment arithmetic, [bx+si+disp] through DS, [bp+di] through SS, the
/// 64 KiB wraparound, `int 0x80` through the vector table and the flags its
/// handler saw (IF clear), `loop`, `rep movsb`, a 32-bit store through the
/// 0x66 and 0x67 prefixes, a far call, the A20 gate closed (1 MiB wraps to
/// 0) and port 0x92 read back, the gate opened as `bootasm.S` does and the
/// keyboard controller's output port read back, and a value stored in
/// 32-bit protected mode read back in real mode.
const QEMU: &str = "\
s=105A
d=A1B2
S=C3D4
w=1357
i=BEEF
f=0093
l=000F
m=7A76
o=1234
F=FA12
c=FF22
p=FF00
a=FF11
k=FFDF
P=CAFE
";

fn boot_sector() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/boot");
    common::assemble(&dir.join("realmode.asm"))
}

fn machine(disk: Vec<u8>) -> Result<Machine, PcError> {
    Machine::pc_boot_disk(PcConfig {
        master: Some(disk),
        ..PcConfig::default()
    })
}

#[test]
fn the_boot_sector_prints_what_qemu_printed() {
    let mut disk = boot_sector();
    disk.resize(1 << 20, 0);
    let mut m = machine(disk.clone()).unwrap();
    assert_eq!(m.cpu().code_size(), CodeSize::Bits16);
    let stop = m.run(1_000_000);
    assert_eq!(stop, StopReason::Halted);
    assert_eq!(String::from_utf8_lossy(m.debug_output()), QEMU);
    assert!(m.cpu().real_mode());
    // Single steps reach the same state as the run.
    let mut stepped = machine(disk).unwrap();
    while stepped.stopped().is_none() {
        stepped.step();
    }
    assert_eq!(
        (stepped.steps(), stepped.state_hash()),
        (m.steps(), m.state_hash())
    );
}

#[test]
fn a_disk_that_is_not_bootable_is_refused_naming_why() {
    let mut disk = boot_sector();
    disk[511] = 0;
    let err = machine(disk).unwrap_err();
    assert_eq!(
        err,
        PcError::NotBootable {
            signature: [0x55, 0]
        }
    );
    assert!(err.to_string().contains("55 00, not the 55 AA"), "{err}");
    assert_eq!(
        machine(vec![0; 100]).unwrap_err(),
        PcError::ShortBootDisk { len: 100 }
    );
    assert_eq!(
        Machine::pc_boot_disk(PcConfig::default()).unwrap_err(),
        PcError::NoBootDisk
    );
}
