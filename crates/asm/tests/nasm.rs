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

/// Every combination of a set of operand forms, generated, assembled by both.
#[test]
fn generated_operand_combinations_match_nasm() {
    let r32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    let r16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
    let r8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
    let mems = [
        "[eax]",
        "[ecx+1]",
        "[edx-128]",
        "[ebx+127]",
        "[ebx+128]",
        "[esp]",
        "[esp+8]",
        "[ebp]",
        "[ebp-4]",
        "[esi+edi*2]",
        "[eax+ebx*4+0x100]",
        "[ecx*8]",
        "[ecx*8+4]",
        "[0x1000]",
        "[edi+esp]",
        "[esi*2]",
        "[label]",
        "[label+eax*4]",
        "[ebx+label-0x1000]",
    ];
    let imms = [
        "0",
        "1",
        "-1",
        "127",
        "128",
        "-128",
        "-129",
        "0x7FFFFFFF",
        "0xFFFFFFFF",
        "label",
        "0x80",
    ];
    let mut src = String::from("bits 32\norg 0x2000\nlabel:\n");
    let mut line = |s: String| {
        src.push_str(&s);
        src.push('\n');
    };
    for op in [
        "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "mov", "test", "xchg",
    ] {
        for a in r32 {
            for b in r32 {
                line(format!("{op} {a}, {b}"));
            }
        }
        for (a, b) in r8.iter().zip(r8.iter().rev()) {
            line(format!("{op} {a}, {b}"));
        }
        for (a, b) in r16.iter().zip(r16.iter().rev()) {
            line(format!("{op} {a}, {b}"));
        }
        for m in mems {
            line(format!("{op} {m}, eax"));
            line(format!("{op} {m}, bl"));
            line(format!("{op} {m}, cx"));
            if op != "xchg" {
                line(format!("{op} esi, {m}"));
                line(format!("{op} al, {m}"));
            }
        }
        if op != "xchg" {
            for i in imms {
                for r in ["eax", "ebx", "ax", "si"] {
                    line(format!("{op} {r}, {i}"));
                }
                for m in ["[ebx]", "[label]", "[esp+4]"] {
                    line(format!("{op} dword {m}, {i}"));
                }
            }
            for i in ["0", "1", "-1", "127", "0x80", "0xFF"] {
                line(format!("{op} al, {i}"));
                line(format!("{op} dh, {i}"));
                line(format!("{op} byte [ebx], {i}"));
                line(format!("{op} word [ebx], {i}"));
            }
        }
    }
    for op in [
        "inc", "dec", "not", "neg", "mul", "imul", "div", "idiv", "push", "pop",
    ] {
        for r in r32.iter().chain(r16.iter()) {
            line(format!("{op} {r}"));
        }
        for m in mems {
            line(format!("{op} dword {m}"));
            if !matches!(op, "push" | "pop") {
                line(format!("{op} byte {m}"));
            }
            line(format!("{op} word {m}"));
        }
    }
    for op in ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"] {
        for c in ["1", "cl", "2", "31", "0"] {
            for d in [
                "eax",
                "bl",
                "si",
                "dword [ebx]",
                "byte [label]",
                "word [esp]",
            ] {
                line(format!("{op} {d}, {c}"));
            }
        }
    }
    for i in imms {
        line(format!("push {i}"));
        line(format!("push dword {i}"));
        line(format!("imul ecx, edx, {i}"));
        line(format!("imul eax, {i}"));
        line(format!("mov dword [eax], {i}"));
    }
    for m in mems {
        line(format!("lea eax, {m}"));
        line(format!("movzx ecx, byte {m}"));
        line(format!("movzx ecx, word {m}"));
        line(format!("movsx edx, byte {m}"));
        line(format!("movsx dx, byte {m}"));
        line(format!("imul esi, {m}"));
        line(format!("imul esi, {m}, 300"));
        line(format!("call {m}"));
        line(format!("jmp {m}"));
        line(format!("invlpg {m}"));
        line(format!("mov ds, {m}"));
        line(format!("mov {m}, es"));
        line(format!("sete {m}"));
        line(format!("cmovne eax, {m}"));
    }
    for cc in [
        "o", "no", "b", "c", "nae", "ae", "nb", "nc", "e", "z", "ne", "nz", "be", "na", "a", "nbe",
        "s", "ns", "p", "pe", "np", "po", "l", "nge", "ge", "nl", "le", "ng", "g", "nle",
    ] {
        line(format!("j{cc} label"));
        line(format!("j{cc} far_away"));
        line(format!("set{cc} al"));
        line(format!("cmov{cc} ebx, ecx"));
    }
    line("times 200 nop".into());
    line("far_away: jmp label".into());
    line("jmp far_away".into());
    line("call far_away".into());
    let path = std::env::temp_dir().join(format!("osviz-asm-generated-{}.asm", std::process::id()));
    std::fs::write(&path, &src).unwrap();
    let theirs = nasm(&path);
    let mine = ours(&path);
    let _ = std::fs::remove_file(&path);
    if mine != theirs {
        // Find the first differing line by assembling prefixes line by line.
        let lines: Vec<&str> = src.lines().collect();
        let header = "bits 32\norg 0x2000\nlabel:\n";
        for l in &lines[3..] {
            let one = format!("{header}{l}\ntimes 200 nop\nfar_away:\n");
            let p = std::env::temp_dir().join(format!("osviz-asm-one-{}.asm", std::process::id()));
            std::fs::write(&p, &one).unwrap();
            let (a, b) = (ours(&p), nasm(&p));
            assert_eq!(a, b, "`{l}` assembles differently");
        }
        panic!("the generated program differs, but no single line does");
    }
    assert!(mine.len() > 15_000, "{}", mine.len());
}
