//! The teaching hypervisor (`guests/vmm`, built by `scripts/vmm` into
//! `target/vmm/vmm`) on the PC board, against QEMU: the VMM is the
//! multiboot kernel, xv6's kernel ELF its module 0, and xv6 runs in ring 1.
//! Its serial transcript, up to where the VMM stops (the guest turning its
//! paging on, which needs shadow page tables), must equal what QEMU 7.2
//! printed for the same binaries, from xv6's build folder:
//!
//! ```text
//! cd target/xv6
//! qemu-system-i386 -kernel ../vmm/vmm -initrd kernel \
//!     -drive file=fs.img,index=1,media=disk,format=raw -smp 1 -m 512 -nographic -no-reboot
//! ```
//!
//! (QEMU's own lines before the VMM's, SeaBIOS's and iPXE's, are left out,
//! as are its carriage returns.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The VMM, built once per test process.
fn vmm() -> PathBuf {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let dir = DIR
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(root().join("scripts/vmm"))
                .arg("--print-dir")
                .output()
                .map_err(|e| format!("cannot run scripts/vmm: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "scripts/vmm could not build the VMM:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"));
    dir.join("vmm")
}

/// What QEMU printed: the VMM's banner, the guest's memory and kernel, then
/// every exit of xv6's `entry` (entry.S) in order, each emulated on the
/// virtual CPU, up to the `mov %eax,%cr0` that sets PG.
const QEMU: &str = "\
vmm: osviz's teaching hypervisor: xv6 in ring 1 by trap-and-emulate
vmm: memory: 639 KiB below 640 KiB, 523136 KiB above 1 MiB
vmm: module 0: kernel, 200096 bytes at 0x10b000
vmm: guest-physical 0x0-0xe000000 is host-physical 0x10000000-0x1e000000
vmm: guest segment at guest-physical 0x100000: 31659 bytes, 31659 from the file
vmm: guest segment at guest-physical 0x108000: 54480 bytes, 9494 from the file
vmm: entering the guest at 0x10000c in ring 1, its paging off
vmm: exit 1: #GP, error 0x0, guest eip 0x10000c: 0f 20 e0 = mov %cr4,%eax
vmm:   %eax = guest cr4 = 0x0
vmm: exit 2: #GP, error 0x0, guest eip 0x100012: 0f 22 e0 = mov %eax,%cr4
vmm:   guest cr4 = 0x10 (the real cr4 stays the VMM's)
vmm: exit 3: #GP, error 0x0, guest eip 0x10001a: 0f 22 d8 = mov %eax,%cr3
vmm:   guest cr3 = 0x109000 (the real cr3 stays the VMM's)
vmm: exit 4: #GP, error 0x0, guest eip 0x10001d: 0f 20 c0 = mov %cr0,%eax
vmm:   %eax = guest cr0 = 0x11
vmm: exit 5: #GP, error 0x0, guest eip 0x100025: 0f 22 c0 = mov %eax,%cr0
vmm:   guest cr0 = 0x80010011 turns its paging on, with its page directory at guest-physical 0x109000 (cr3) and cr4 0x10
vmm: stopped: the guest's paging needs shadow page tables, which come next
";

/// What QEMU printed with the VMM's test guest (`guests/vmm/test/exits.S`,
/// built beside the VMM) as module 0, from `target/vmm`:
/// `qemu-system-i386 -kernel vmm -initrd exits -m 512 -nographic -no-reboot`.
/// One exit of each kind the VMM emulates: `cli` and `sti` on the virtual
/// IF; the `pushfl` between them and `mov %eax,%cr2` makes no exit, so the
/// guest sees the real IF (clear) though its virtual IF is set: 0x2 in CR2;
/// `out` and `in` passed through to COM1 (the guest's `!` and newline appear
/// among the VMM's lines); `lgdt` and `lidt` with a displacement, a base
/// register and a SIB byte; the control registers up to paging.
const QEMU_EXITS: &str = "\
vmm: osviz's teaching hypervisor: xv6 in ring 1 by trap-and-emulate
vmm: memory: 639 KiB below 640 KiB, 523136 KiB above 1 MiB
vmm: module 0: exits, 1268 bytes at 0x10b000
vmm: guest-physical 0x0-0xe000000 is host-physical 0x10000000-0x1e000000
vmm: guest segment at guest-physical 0x100000: 4208 bytes, 104 from the file
vmm: entering the guest at 0x100000 in ring 1, its paging off
vmm: exit 1: #GP, error 0x0, guest eip 0x100005: fa = cli
vmm:   guest IF = 0
vmm: exit 2: #GP, error 0x0, guest eip 0x100006: fb = sti
vmm:   guest IF = 1
vmm: exit 3: #GP, error 0x0, guest eip 0x100009: 0f 22 d0 = mov %eax,%cr2
vmm:   guest cr2 = 0x2 (the real cr2 stays the VMM's)
vmm: exit 4: #GP, error 0x0, guest eip 0x10000c: 0f 20 d3 = mov %cr2,%ebx
vmm:   %ebx = guest cr2 = 0x2
vmm: exit 5: #GP, error 0x0, guest eip 0x100015: ee = outb %dx
vmm:   port 0x3f8 written 0x21
!vmm: exit 6: #GP, error 0x0, guest eip 0x100018: ee = outb %dx
vmm:   port 0x3f8 written 0xa

vmm: exit 7: #GP, error 0x0, guest eip 0x10001d: ec = inb %dx
vmm:   port 0x3fd read 0x60
vmm: exit 8: #GP, error 0x0, guest eip 0x10001e: 0f 01 15 5c 00 10 00 = lgdt 0x10005c
vmm:   guest gdtr = base 0x101000 limit 0x17
vmm: exit 9: #GP, error 0x0, guest eip 0x10002a: 0f 01 18 = lidt 0x100062
vmm:   guest idtr = base 0x102000 limit 0x7ff
vmm: exit 10: #GP, error 0x0, guest eip 0x100036: 0f 01 1c 24 = lidt 0x10106a
vmm:   guest idtr = base 0x12345678 limit 0x7ff
vmm: exit 11: #GP, error 0x0, guest eip 0x100042: 0f 22 e0 = mov %eax,%cr4
vmm:   guest cr4 = 0x10 (the real cr4 stays the VMM's)
vmm: exit 12: #GP, error 0x0, guest eip 0x10004a: 0f 22 d8 = mov %eax,%cr3
vmm:   guest cr3 = 0x200000 (the real cr3 stays the VMM's)
vmm: exit 13: #GP, error 0x0, guest eip 0x10004d: 0f 20 c0 = mov %cr0,%eax
vmm:   %eax = guest cr0 = 0x11
vmm: exit 14: #GP, error 0x0, guest eip 0x100055: 0f 22 c0 = mov %eax,%cr0
vmm:   guest cr0 = 0x80010011 turns its paging on, with its page directory at guest-physical 0x200000 (cr3) and cr4 0x10
vmm: stopped: the guest's paging needs shadow page tables, which come next
";

/// Runs `osviz pc` on the VMM with xv6's kernel as its module, in xv6's
/// build folder (so the module's string is `kernel`, as QEMU was given it);
/// returns its exit success, output and error output.
fn osviz_vmm(extra: &[&str]) -> (bool, String, String) {
    let xv6 = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .current_dir(&xv6)
        .arg("pc")
        .arg("--kernel")
        .arg(vmm())
        .args(["--module", "kernel", "--disk", "fs.img", "--mem-mib", "512"])
        .args(["--prompt", "", "--max-instructions", "100000000"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run osviz");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_vmm_runs_xv6s_entry_in_ring_1_as_under_qemu() {
    let (ok, out, err) = osviz_vmm(&["--until", "which come next\n"]);
    assert!(ok, "{err}\n{out}");
    assert_eq!(out, QEMU);
}

#[test]
fn each_emulated_exit_does_what_it_does_under_qemu() {
    let vmm = vmm();
    let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .current_dir(vmm.parent().unwrap())
        .args([
            "pc",
            "--kernel",
            "vmm",
            "--module",
            "exits",
            "--mem-mib",
            "512",
        ])
        .args(["--prompt", "", "--max-instructions", "10000000"])
        .args(["--until", "which come next\n"])
        .stdin(Stdio::null())
        .output()
        .expect("run osviz");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text, QEMU_EXITS);
}

#[test]
fn the_vmm_boot_is_the_same_run_or_single_stepped() {
    use osviz_machine::multiboot::Module;
    use osviz_machine::{Machine, PcConfig};
    let xv6 = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let machine = || {
        Machine::pc(
            PcConfig {
                mem_mib: 512,
                modules: vec![Module {
                    bytes: std::fs::read(xv6.join("kernel")).unwrap(),
                    string: "kernel".into(),
                }],
                ..PcConfig::default()
            },
            &std::fs::read(vmm()).unwrap(),
        )
        .unwrap()
    };
    let mut run = machine();
    run.run(10_000_000);
    assert!(run.stopped().is_some(), "the VMM halts where it stops");
    assert!(String::from_utf8_lossy(run.serial_output()).ends_with("which come next\n"));
    let mut stepped = machine();
    while stepped.stopped().is_none() {
        stepped.step();
    }
    assert_eq!(
        (stepped.steps(), stepped.state_hash()),
        (run.steps(), run.state_hash())
    );
}

#[test]
fn the_vmm_is_an_elf_file_with_dwarf() {
    let bytes = std::fs::read(vmm()).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
    assert!(has(b".debug_info") && has(b".debug_line"));
}

/// What QEMU printed without a module (`-m 512`), and with too little RAM for
/// the guest at its offset (`-m 224 -initrd kernel`).
const QEMU_NO_MODULE: &str = "\
vmm: osviz's teaching hypervisor: xv6 in ring 1 by trap-and-emulate
vmm: memory: 639 KiB below 640 KiB, 523136 KiB above 1 MiB
vmm: panic: no module: give xv6's kernel ELF as module 0 (qemu -initrd, osviz pc --module)
";
const QEMU_224_MIB: &str = "\
vmm: osviz's teaching hypervisor: xv6 in ring 1 by trap-and-emulate
vmm: memory: 639 KiB below 640 KiB, 228224 KiB above 1 MiB
vmm: panic: the guest's 224 MiB at host-physical 0x10000000 need 480 MiB of RAM; the board has 223 MiB (osviz pc --mem-mib 512, qemu -m 512)
";

#[test]
fn the_vmm_says_what_it_lacks_as_under_qemu() {
    // The VMM halts with interrupts off after its panic line, which ends the
    // run (osviz says so and fails).
    let vmm = vmm();
    let xv6 = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
            .current_dir(&xv6)
            .arg("pc")
            .arg("--kernel")
            .arg(&vmm)
            .args(args)
            .args(["--prompt", "", "--max-instructions", "10000000"])
            .stdin(Stdio::null())
            .output()
            .expect("run osviz");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains("halted with interrupts off"), "{err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(&["--mem-mib", "512"]), QEMU_NO_MODULE);
    assert_eq!(run(&["--module", "kernel"]), QEMU_224_MIB);
}
