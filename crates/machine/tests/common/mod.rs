//! Helpers shared by the integration tests.
#![allow(dead_code)]

use osviz_machine::{Machine, MachineConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where guest programs are loaded and entered.
pub const LOAD_ADDR: u32 = 0x10000;

/// The folder of the guest programs.
pub fn guests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests")
}

/// Assembles a NASM source file into a flat binary with Debian's `nasm`.
pub fn assemble(source: &Path) -> Vec<u8> {
    // Tests run in parallel threads: each assembly gets its own output file.
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let out = std::env::temp_dir().join(format!(
        "osviz-guest-{}-{}-{}.bin",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        source.file_stem().unwrap().to_string_lossy()
    ));
    let dir = source.parent().unwrap();
    let result = Command::new("nasm")
        .arg("-f")
        .arg("bin")
        .arg(format!("-I{}/", dir.display()))
        .arg("-o")
        .arg(&out)
        .arg(source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run nasm ({e}); scripts/bootstrap installs it"));
    assert!(
        result.status.success(),
        "nasm failed on {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// A machine with the guest program `name` (in `tests/guests`) loaded and EIP at its start.
pub fn guest_machine(name: &str, config: MachineConfig) -> Machine {
    let image = assemble(&guests_dir().join(name));
    let mut m = Machine::with_config(config);
    m.load(LOAD_ADDR, &image).unwrap();
    m.set_eip(LOAD_ADDR);
    m
}

/// The folder with xv6's kernel and fs.img, built by `scripts/xv6` from
/// `$XV6_SRC` (default `../shared/xv6-public`) once per test process.
/// Without an xv6 tree the calling test fails and says why.
pub fn xv6_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xv6");
        let out = Command::new("bash")
            .arg(script)
            .arg("--print-dir")
            .output()
            .map_err(|e| format!("cannot run scripts/xv6: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/xv6 could not build xv6, so this test cannot run:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A PC with xv6 loaded, fs.img as the IDE slave, about to boot.
pub fn xv6_machine(checkpoint_interval: u64) -> Machine {
    let dir = xv6_dir();
    let kernel = std::fs::read(dir.join("kernel")).unwrap();
    let disk = std::fs::read(dir.join("fs.img")).unwrap();
    Machine::pc(
        osviz_machine::PcConfig {
            slave: Some(disk),
            checkpoint_interval,
            ..osviz_machine::PcConfig::default()
        },
        &kernel,
    )
    .unwrap()
}

/// A PC that boots xv6.img (the boot sector, then the kernel `bootmain`
/// reads) from the IDE master, fs.img the slave: in real mode at 0000:7C00.
pub fn xv6_disk_machine() -> Machine {
    let dir = xv6_dir();
    Machine::pc_boot_disk(osviz_machine::PcConfig {
        master: Some(std::fs::read(dir.join("xv6.img")).unwrap()),
        slave: Some(std::fs::read(dir.join("fs.img")).unwrap()),
        ..osviz_machine::PcConfig::default()
    })
    .unwrap()
}

/// Records events as the page does at full speed: every kind but TLB hits.
/// The block path then runs between the steps that record something.
pub fn record_like_the_page(m: &mut Machine) {
    m.set_recording(true);
    m.set_unrecorded(osviz_machine::KindSet::of(&[
        osviz_machine::EventKind::TlbHit,
    ]));
}

/// The retained events with their steps, the latest step's included (a
/// run that ends waiting in `hlt` has filed them in the log, a single step
/// holds them back: both list them here alike).
pub fn recorded(m: &Machine) -> Vec<(u64, osviz_machine::Event)> {
    m.events().map(|s| (s.step, s.event)).collect()
}
