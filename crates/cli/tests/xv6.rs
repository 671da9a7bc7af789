//! xv6 on the PC board, against QEMU: each `tests/xv6/<name>.in` is typed
//! into `osviz pc` (each line after the `$ ` prompt) and the console output must equal the
//! transcript QEMU gave (`<name>.out`, recorded by `scripts/xv6-record`;
//! where QEMU's own output depends on the timing, it holds each one it gave,
//! and ours must be one of them). Each is run twice: xv6's kernel loaded as
//! a multiboot kernel, and xv6.img booted from its boot sector in real mode
//! (QEMU gives the same transcripts both ways: `record.py --boot-disk`).
//!
//! The kernel and fs.img are built by `scripts/xv6` from `$XV6_SRC`
//! (default `../shared/xv6-public`); without that tree these tests fail
//! and say so.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::root;

/// The default xv6 build, made once per test process.
fn xv6() -> PathBuf {
    osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `osviz pc` with `input` typed; returns its exit success, output and
/// error output.
fn osviz_pc(input: &[u8], extra: &[&str]) -> (bool, Vec<u8>, String) {
    osviz_pc_in(&xv6(), input, extra)
}

/// `osviz_pc` on the build in `dir`.
fn osviz_pc_in(dir: &Path, input: &[u8], extra: &[&str]) -> (bool, Vec<u8>, String) {
    osviz_pc_booted(Boot::Multiboot, dir, input, extra)
}

/// How `osviz pc` starts xv6.
#[derive(Clone, Copy, Debug)]
enum Boot {
    /// `--kernel kernel --disk fs.img`, as `qemu -kernel` does.
    Multiboot,
    /// `--disk xv6.img --disk fs.img`: the boot sector in real mode, as a
    /// BIOS hands over and `make qemu` runs xv6.
    Disk,
}

/// `osviz pc` on the build in `dir`, started as `boot` says.
fn osviz_pc_booted(
    boot: Boot,
    dir: &Path,
    input: &[u8],
    extra: &[&str],
) -> (bool, Vec<u8>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_osviz"));
    command.arg("pc");
    match boot {
        Boot::Multiboot => command.arg("--kernel").arg(dir.join("kernel")),
        Boot::Disk => command.arg("--disk").arg(dir.join("xv6.img")),
    };
    command.arg("--disk").arg(dir.join("fs.img")).args(extra);
    common::run_typed(&mut command, input)
}

#[test]
fn every_transcript_equals_qemus() {
    let folder = root().join("tests/xv6");
    let names = common::xv6_transcripts();
    let build = xv6();
    // The transcripts run side by side, a thread each, under both boots.
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = names
            .iter()
            .flat_map(|name| [(name, Boot::Multiboot), (name, Boot::Disk)])
            .map(|(name, boot)| {
                let folder = &folder;
                let build = &build;
                s.spawn(move || {
                    let input = std::fs::read(folder.join(format!("{name}.in"))).unwrap();
                    let expected = std::fs::read(folder.join(format!("{name}.out"))).unwrap();
                    let (ok, out, err) = osviz_pc_booted(boot, build, &input, &[]);
                    let outputs: Vec<&[u8]> = split(&expected, b"\n=== or ===\n");
                    if ok && outputs.contains(&out.as_slice()) {
                        None
                    } else {
                        Some(format!(
                            "{name} ({boot:?} boot): exit ok {ok}, {err}\n--- osviz\n{}\n--- QEMU\n{}",
                            String::from_utf8_lossy(&out),
                            String::from_utf8_lossy(outputs[0])
                        ))
                    }
                })
            })
            .collect();
        runs.into_iter().filter_map(|r| r.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn split<'a>(haystack: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = haystack;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    parts
}

#[test]
fn the_command_line_says_why_a_run_did_not_reach_its_text() {
    // The instruction limit.
    let (ok, _, err) = osviz_pc(b"", &["--max-instructions", "1000000"]);
    assert!(!ok);
    assert!(err.contains("instruction limit"), "{err}");
    // Input used up with the guest waiting at its prompt.
    let (ok, out, err) = osviz_pc(b"echo hi\n", &["--until", "no such text"]);
    assert!(!ok);
    assert!(err.contains("the guest is waiting"), "{err}");
    assert!(err.contains("\"no such text\" did not appear"), "{err}");
    assert!(out.ends_with(b"$ "), "{}", String::from_utf8_lossy(&out));
    // A file that is not a kernel.
    let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .args(["pc", "--kernel"])
        .arg(xv6().join("fs.img"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("multiboot"), "{err}");
}

#[test]
fn until_stops_as_soon_as_its_text_appears_and_the_prompt_paces_the_lines() {
    // `wc README` prints README's counts; the run ends right there, before
    // the next prompt and before the second line is typed.
    let (ok, out, err) = osviz_pc(b"wc README\necho never\n", &["--until", "2286 README"]);
    assert!(ok, "{err}");
    let out = String::from_utf8_lossy(&out);
    assert!(out.trim_end().ends_with("2286 README"), "{out}");
    assert!(!out.contains("never"), "{out}");
    // Without --until, both lines are typed, each after a `$ `, and the run
    // ends at the prompt after the last answer.
    let (ok, out, err) = osviz_pc(b"echo one\necho two\n", &[]);
    assert!(ok, "{err}");
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.ends_with("$ echo one\none\n$ echo two\ntwo\n$ "),
        "{out}"
    );
    // Another prompt: none of xv6's output holds `> `, so nothing is typed
    // and the input is left over when the guest waits.
    let (ok, _, err) = osviz_pc(b"echo hi\n", &["--prompt", "> "]);
    assert!(!ok);
    assert!(err.contains("the prompt \"> \" has not appeared"), "{err}");
}

#[test]
fn an_xv6_lesson_runs_headless_and_prints_the_machines_answers() {
    let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .args(["lesson", "run", "xv6-syscall", "--xv6"])
        .arg(xv6())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("typed at the prompt: \"echo hi\\n\""),
        "{text}"
    );
    // SYS_write is 16 in xv6's syscall.h.
    assert!(
        text.contains(
            "what is eax in the trap frame (the system call number)?\n    at `sys_write` (step "
        ),
        "{text}"
    );
    assert!(text.trim_end().ends_with("): 16"), "{text}");
    // Without a build, the error says how to get one.
    let out = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .args(["lesson", "run", "xv6-idt", "--xv6", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/xv6"), "{err}");
}

/// The date homework (`tests/xv6-date`): a `date` system call that reads the
/// CMOS clock with xv6's own `cmostime()`. With the clock set on the command
/// line, the date is the one given (the guest reaches its prompt in a
/// fraction of a second of its own time), and the shell comes back.
#[test]
fn a_date_system_call_added_to_xv6_reads_the_cmos_clock_and_the_shell_returns() {
    let dir = osviz_xv6::build::variant("date").unwrap_or_else(|e| panic!("{e}"));
    let (ok, out, err) = osviz_pc_in(
        &dir,
        b"date\necho back\n",
        &["--date", "2026-12-07T12:34:56"],
    );
    let out = String::from_utf8_lossy(&out);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.ends_with("$ date\n2026-12-7 12:34:56 UTC\n$ echo back\nback\n$ "),
        "{out}"
    );
    // A date that is not one is refused before anything runs.
    let (ok, _, err) = osviz_pc_in(&dir, b"", &["--date", "2026-13-01"]);
    assert!(!ok);
    assert!(
        err.contains("--date 2026-13-01: give Unix seconds or a UTC date and time"),
        "{err}"
    );
}

/// A course's xv6 clocked by the 8254 PIT instead of the local APIC's
/// timer (`tests/xv6-pit`): channel 0 at 100 Hz, its IRQ 0 through the I/O
/// APIC's pin 2 as on QEMU's board. `sleep(10)` returns only if the clock
/// ticks; QEMU 7.2 prints the same ten ticks.
#[test]
fn an_xv6_clocked_by_the_pit_ticks_and_its_sleep_returns() {
    let dir = osviz_xv6::build::variant("pit").unwrap_or_else(|e| panic!("{e}"));
    let (ok, out, err) = osviz_pc_in(&dir, b"pitsleep\necho back\n", &[]);
    let out = String::from_utf8_lossy(&out);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.ends_with("$ pitsleep\npitsleep: 10 ticks\n$ echo back\nback\n$ "),
        "{out}"
    );
}
