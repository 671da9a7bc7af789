//! Architecture invariant: the page renders views; it does not recompute
//! machine or kernel state. No file of the page decodes instructions, reads
//! guest memory, or does the kernel's address arithmetic: the machine crate
//! (decoding, walks, the debugger queries) and the kernel crate
//! (introspection) own those, so the CLI and the wasm API see the same.

#[test]
fn the_page_reads_no_raw_machine_state() {
    let forbidden = [
        "osviz_machine::decode",
        "osviz_machine::{decode",
        ".mem().read",
        ".mem.read",
        "read_u8(",
        "peek_virtual",
        "KERNBASE",
        "trapframe.",
        "vector_name(v: u8)",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.ends_with("invariants.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for f in forbidden {
            assert!(!text.contains(f), "{} uses `{f}`", path.display());
        }
        checked += 1;
    }
    assert!(checked > 20, "only {checked} files read");
}
