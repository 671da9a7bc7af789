//! What the xv6 and hypervisor tests share.

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The names of `tests/xv6`'s transcripts (each `<name>.in` with its
/// `<name>.out`), sorted; there are at least twelve.
pub fn xv6_transcripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("tests/xv6"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".in").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    names
}

/// Runs `command` (an `osviz` command line) with `input` on its standard
/// input; returns its exit success, output and error output.
pub fn run_typed(command: &mut std::process::Command, input: &[u8]) -> (bool, Vec<u8>, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
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
