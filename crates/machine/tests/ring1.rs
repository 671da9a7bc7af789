//! Ring 1, as a VMM runs a guest's kernel there: `tests/boot/ring1.asm` is a
//! multiboot kernel that goes from ring 0 to ring 1 and ring 3 and back,
//! printing what the CPU did (the program's comments name each line), and
//! its output must equal what the same kernel printed under QEMU 7.2:
//!
//! ```text
//! nasm -f bin -o ring1.bin ring1.asm
//! qemu-system-i386 -kernel ring1.bin -m 224 -debugcon file:out.txt -display none
//! ```

mod common;

use osviz_machine::{Machine, PcConfig, StopReason};

/// What QEMU printed. Of note for a VMM (Intel SDM vol. 2 and 3): in ring 1
/// with IOPL 0, `popf` keeps IF and IOPL without a fault (p); with IOPL 1,
/// `cli` and `in` do not fault and `popf` still keeps IOPL (o, O); with IOPL
/// 0 again, `cli`, `in`, `mov` from CR0, `hlt` and `lgdt` fault with #GP(0);
/// `sgdt` and `smsw` do not fault and show the real GDT and CR0 (G, w);
/// `int 0x41` through a DPL 0 gate faults with the error code 0x41 * 8 + 2;
/// loading SS or DS with a DPL 0 selector, or jumping to ring 0 code, faults
/// with the selector as the error code; ring 1 is a supervisor ring to the
/// MMU: it reads a supervisor page and writes a read-only one while CR0.WP is
/// clear (R, W), and with WP set the write faults with error code 3 (P, W; U
/// clear); iret from ring 1 to ring 3 keeps IF and IOPL (F) and nulls DS
/// and ES, which held ring 1 segments (N, M); and an interrupt from ring 3
/// into ring 1 code takes its stack from TSS.esp1 (J, D).
const QEMU: &str = "\
r=00000011
d=00000000
E=00000021
c=00000019
s=00000021
k=00000014
C=00000019
S=00000021
f=00000046
p=00000002
o=00001002
O=00001002
t=0000000D,00000000,00000019
t=0000000D,00000000,00000019
t=0000000D,00000000,00000019
t=0000000D,00000000,00000019
t=0000000D,00000000,00000019
t=0000000D,0000020A,00000019
t=0000000D,00000010,00000019
t=0000000D,00000010,00000019
t=0000000D,00000008,00000019
G=001005E0
w=00000011
x=00000033
R=5A5A5A5A
W=11111111
t=0000000E,00000003,00000019,00103000
V=11111111
t=0000000D,00000202,0000002B
t=0000000E,00000005,0000002B,00104000
j=00000019
J=00000021
K=0000002B
L=00000033
D=00000014
F=00000046
N=00000000
M=00000000
e
";

fn machine() -> Machine {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/boot");
    let kernel = common::assemble(&dir.join("ring1.asm"));
    Machine::pc(PcConfig::default(), &kernel).unwrap()
}

#[test]
fn ring_1_behaves_as_under_qemu() {
    let mut m = machine();
    let stop = m.run(1_000_000);
    assert_eq!(String::from_utf8_lossy(m.debug_output()), QEMU);
    assert_eq!(stop, StopReason::Halted);
    // Single steps reach the same state as the run.
    let mut stepped = machine();
    while stepped.stopped().is_none() {
        stepped.step();
    }
    assert_eq!(
        (stepped.steps(), stepped.state_hash()),
        (m.steps(), m.state_hash())
    );
}
