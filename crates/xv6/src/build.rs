//! Building xv6 for the tests: `scripts/xv6` (the project's one way to build
//! it) run from Rust, once per source and output folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds xv6 from `src` (default `$XV6_SRC`, else `../shared/xv6-public`)
/// into `out` (default `target/xv6`) and returns the folder with `kernel`
/// and `fs.img`. The error says why xv6 could not be built (no source
/// tree, a failed build), for a test to fail with.
pub fn build(src: Option<&Path>, out: Option<&Path>) -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xv6");
    let mut cmd = Command::new("bash");
    cmd.arg(script).arg("--print-dir");
    if let Some(src) = src {
        cmd.env("XV6_SRC", src);
    }
    if let Some(out) = out {
        cmd.env("XV6_OUT", out);
    }
    let o = cmd
        .output()
        .map_err(|e| format!("cannot run scripts/xv6: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "scripts/xv6 could not build xv6, so the xv6 tests cannot run:\n{}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// The default build (`target/xv6`), made once per process.
pub fn default_build() -> Result<PathBuf, String> {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| build(None, None)).clone()
}

/// A course's variant of xv6 (`tests/xv6-NAME`: a patch and programs, such
/// as the lazy-allocation or the date homework), built by
/// `scripts/xv6-variant` into `target/xv6-NAME` once per process.
pub fn variant(name: &str) -> Result<PathBuf, String> {
    type Built = std::collections::HashMap<String, Result<PathBuf, String>>;
    static BUILT: std::sync::Mutex<Option<Built>> = std::sync::Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(Default::default);
    if let Some(done) = built.get(name) {
        return done.clone();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/xv6-variant");
    let result = Command::new("bash")
        .arg(script)
        .arg(name)
        .arg("--print-dir")
        .output()
        .map_err(|e| format!("cannot run scripts/xv6-variant: {e}"))
        .and_then(|o| {
            if o.status.success() {
                Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            } else {
                Err(format!(
                    "scripts/xv6-variant could not build the {name} variant of xv6:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                ))
            }
        });
    built.insert(name.to_string(), result.clone());
    result
}
