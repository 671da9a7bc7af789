//! xv6 on the PC board, against QEMU: each `tests/xv6/<name>.in` is typed
//! into `osviz pc --until '$ '` and the console output must equal the
//! transcript QEMU gave (`<name>.out`, recorded by `scripts/xv6-record`;
//! where QEMU's own output depends on the timing, it holds each one it gave,
//! and ours must be one of them).
//!
//! The kernel and fs.img are built by `scripts/xv6` from `$XV6_SRC`
//! (default `../shared/xv6-public`); without that tree these tests fail
//! and say so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The default xv6 build, made once per test process.
fn xv6() -> PathBuf {
    osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `osviz pc` with `input` typed; returns its exit success, output and
/// error output.
fn osviz_pc(input: &[u8], extra: &[&str]) -> (bool, Vec<u8>, String) {
    let dir = xv6();
    let mut child = Command::new(env!("CARGO_BIN_EXE_osviz"))
        .arg("pc")
        .arg("--kernel")
        .arg(dir.join("kernel"))
        .arg("--disk")
        .arg(dir.join("fs.img"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run osviz");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_transcript_equals_qemus() {
    let folder = root().join("tests/xv6");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".in").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    // The transcripts run side by side, a thread each.
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = names
            .iter()
            .map(|name| {
                let folder = &folder;
                s.spawn(move || {
                    let input = std::fs::read(folder.join(format!("{name}.in"))).unwrap();
                    let expected = std::fs::read(folder.join(format!("{name}.out"))).unwrap();
                    let (ok, out, err) = osviz_pc(&input, &["--until", "$ "]);
                    let outputs: Vec<&[u8]> = split(&expected, b"\n=== or ===\n");
                    if ok && outputs.contains(&out.as_slice()) {
                        None
                    } else {
                        Some(format!(
                            "{name}: exit ok {ok}, {err}\n--- osviz\n{}\n--- QEMU\n{}",
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
    let (ok, _, err) = osviz_pc(b"", &["--until", "$ ", "--max-instructions", "1000000"]);
    assert!(!ok);
    assert!(err.contains("instruction limit"), "{err}");
    // Input used up with the guest waiting at its prompt.
    let (ok, out, err) = osviz_pc(b"echo hi\n", &["--until", "no such text"]);
    assert!(!ok);
    assert!(err.contains("the guest is waiting"), "{err}");
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
