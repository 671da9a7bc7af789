//! test386.asm, an outside 80386 tester (see `../shared/test386/README.osviz`),
//! run as firmware from the reset vector: it must pass every test to POST
//! 0xFF, and what test 0xEE prints to the debug port must equal its
//! reference file (made with Bochs 2.7) line for line. `scripts/test386`
//! assembles it from `$TEST386_SRC` (default `../shared/test386`); without
//! that tree this test fails and says why.

use osviz_machine::{Machine, MachineConfig, StopReason};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ROM `scripts/test386` builds (target/test386/test386.bin), beside
/// the copy of the reference output it makes; built once per test process.
fn test386() -> PathBuf {
    static PATH: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test386");
        let out = Command::new("bash")
            .arg(script)
            .arg("--print-path")
            .output()
            .map_err(|e| format!("cannot run scripts/test386: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/test386 could not build test386, so this test cannot run:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Every POST code test386 writes when each of its tests passes (0xE0, the
/// undefined-behaviour tests, is skipped as configured).
const POST_CODES: [u8; 31] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0xE0, 0xEE, 0xFF,
];

#[test]
fn test386_passes_every_test_and_prints_the_reference_output() {
    let bin = test386();
    let rom = std::fs::read(&bin).unwrap();
    let reference = std::fs::read(bin.with_file_name("test386-EE-reference.txt")).unwrap();
    let config = MachineConfig {
        checkpoint_interval: 0,
        ..MachineConfig::default()
    };
    let mut m = Machine::with_rom(config, &rom).unwrap();
    let stop = m.run(500_000_000);
    let posts: Vec<String> = m.post_codes().iter().map(|c| format!("{c:02X}")).collect();
    assert_eq!(
        stop,
        StopReason::Halted,
        "POST codes {posts:?}; at {:04x}:{:08x}",
        m.cpu().sreg(osviz_machine::Seg::Cs),
        m.cpu().eip
    );
    assert_eq!(m.post_codes(), POST_CODES, "POST codes {posts:?}");
    let output = m.debug_output();
    if output != reference.as_slice() {
        let ours = String::from_utf8_lossy(output);
        let line = ours
            .lines()
            .zip(String::from_utf8_lossy(&reference).lines())
            .position(|(a, b)| a != b);
        panic!(
            "test EE's output ({} bytes) differs from the reference ({} bytes), first at line {:?}",
            output.len(),
            reference.len(),
            line.map(|l| l + 1)
        );
    }
}

/// The run loop and single steps reach the same state through test386's
/// real mode, its switch to protected mode and its rings (its segments have
/// bases, so the run takes the step path with its segment checks: the
/// state must not depend on how it was run).
#[test]
fn test386_runs_the_same_run_or_stepped() {
    let rom = std::fs::read(test386()).unwrap();
    let config = MachineConfig {
        checkpoint_interval: 0,
        ..MachineConfig::default()
    };
    let mut ran = Machine::with_rom(config.clone(), &rom).unwrap();
    let mut stepped = ran.clone();
    for _ in 0..20 {
        ran.run(100_000);
        for _ in 0..100_000 {
            stepped.step();
        }
        assert_eq!(ran.steps(), stepped.steps());
        assert_eq!(
            ran.state_hash(),
            stepped.state_hash(),
            "at step {}",
            ran.steps()
        );
    }
    assert!(ran.post_codes().len() > 10, "{:02X?}", ran.post_codes());
}

/// Time travel works on firmware: a seek back replays from a checkpoint to
/// the same state (the ROM's image goes with the machine's memory).
#[test]
fn test386_seeks_back_to_the_same_state() {
    let rom = std::fs::read(test386()).unwrap();
    let mut m = Machine::with_rom(MachineConfig::default(), &rom).unwrap();
    m.run(300_000);
    let at = m.steps();
    let hash = m.state_hash();
    let posts = m.post_codes().to_vec();
    m.run(700_000);
    m.seek(at).unwrap();
    assert_eq!(m.steps(), at);
    assert_eq!(m.state_hash(), hash);
    assert_eq!(m.post_codes(), posts);
}
