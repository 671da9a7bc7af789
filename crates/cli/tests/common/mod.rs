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
