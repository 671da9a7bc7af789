//! The assembler's encodings equal NASM's: the same sources assembled by
//! both, byte for byte.

use std::path::Path;
use std::process::Command;

fn nasm(source: &Path) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!(
        "osviz-asm-nasm-{}-{}.bin",
        std::process::id(),
        source.file_stem().unwrap().to_string_lossy()
    ));
    let result = Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&out)
        .arg(source)
        .output()
        .expect("nasm runs (scripts/bootstrap installs it)");
    assert!(
        result.status.success(),
        "nasm rejects {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(out);
    bytes
}

fn ours(source: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(source).unwrap();
    match osviz_asm::assemble_str(&source.display().to_string(), &text) {
        Ok(out) => out.image().1,
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("our assembler rejects it:\n{}", list.join("\n"));
        }
    }
}

fn compare(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sources")
        .join(name);
    let theirs = nasm(&path);
    let mine = ours(&path);
    if mine != theirs {
        let at = mine
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(mine.len().min(theirs.len()));
        let show = |b: &[u8]| {
            b[at.saturating_sub(4)..(at + 12).min(b.len())]
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        panic!(
            "{name}: differs at offset {at:#x} (lengths {} and {}):\n ours: {}\n nasm: {}",
            mine.len(),
            theirs.len(),
            show(&mine),
            show(&theirs)
        );
    }
}

#[test]
fn instruction_forms_match_nasm() {
    compare("forms.asm");
}

#[test]
fn sections_structures_and_expressions_match_nasm() {
    compare("sections.asm");
}
