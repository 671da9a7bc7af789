//! Bad programs get a message naming file, line and column and saying what
//! was expected; no input makes the assembler panic.

use osviz_asm::{Diagnostic, assemble, assemble_str};

fn errors(source: &str) -> Vec<Diagnostic> {
    match assemble_str("prog.asm", source) {
        Ok(_) => panic!("expected errors for:\n{source}"),
        Err(e) => e,
    }
}

fn first(source: &str) -> (usize, usize, String) {
    let e = &errors(source)[0];
    assert_eq!(e.file, "prog.asm");
    (e.line, e.column, e.message.clone())
}

#[test]
fn each_error_names_its_place_and_what_was_expected() {
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "mov eax, 1\nmov eax, [ebx+]\n",
            2,
            15,
            "expected a number, a symbol or `(`",
        ),
        ("  mvo eax, 1\n", 1, 3, "unknown instruction `mvo`"),
        (
            "mov eax, undefined_thing\n",
            1,
            10,
            "undefined symbol `undefined_thing`",
        ),
        ("mov [ebx], 5\n", 1, 5, "operation size not specified"),
        ("mov eax, bl\n", 1, 10, "operand sizes do not match"),
        ("db 'unterminated\n", 1, 4, "unterminated string"),
        ("x: nop\nx: nop\n", 2, 1, "`x` is defined more than once"),
        ("mov eax, [eax*3]\n", 1, 11, "invalid memory reference"),
        (
            "mov eax, [esp*2]\n",
            1,
            11,
            "ESP cannot be an index register",
        ),
        (
            "jmp short far\ntimes 300 nop\nfar:\n",
            1,
            5,
            "short jump is out of range",
        ),
        (
            "add eax\n",
            1,
            5,
            "invalid combination of operands for `add`",
        ),
        ("mov eax, 1 2\n", 1, 12, "expected the end of the line"),
        ("section .weird\n", 1, 1, "unknown section `.weird`"),
        ("bits 16\n", 1, 1, "only `bits 32` is supported"),
        (
            "%include \"missing.inc\"\n",
            1,
            1,
            "cannot find the included file `missing.inc`",
        ),
        (
            "%macro x 0\n",
            1,
            1,
            "unknown preprocessor directive `%macro`",
        ),
        ("in al, 300\n", 1, 8, "a port number above 255 needs dx"),
        ("mov eax, 1 / 0\n", 1, 0, "division by zero"),
        ("struc s\n.a: resd 1\n", 2, 1, "has no `endstruc`"),
        (
            "section .bss\nmov eax, 1\n",
            2,
            1,
            "instructions cannot go in .bss",
        ),
        ("mov cs, ax\n", 1, 5, "CS cannot be loaded"),
        ("equ 5\n", 1, 1, "`equ` needs a label"),
        ("loop far\ntimes 200 nop\nfar:\n", 1, 6, "out of range"),
        ("mov eax, {\n", 1, 10, "unexpected character `{`"),
    ];
    for &(source, line, column, message) in cases {
        let (l, c, m) = first(source);
        assert!(
            m.contains(message),
            "{source:?}: message {m:?} lacks {message:?}"
        );
        assert_eq!(l, line, "{source:?}: line ({m})");
        if column > 0 {
            assert_eq!(c, column, "{source:?}: column ({m})");
        }
    }
}

#[test]
fn several_errors_are_reported_together() {
    let e = errors("mov eax, 1\nbad1 eax\nmov eax, [\nok: nop\nbad2 ebx\n");
    let lines: Vec<usize> = e.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3, 5], "{e:?}");
    assert!(e[0].to_string().starts_with("prog.asm:2:1: "), "{}", e[0]);
}

#[test]
fn errors_in_included_files_name_them() {
    let files = |name: &str| match name {
        "main.asm" => Some("%include \"lib.inc\"\nmov eax, 1\n".to_string()),
        "lib.inc" => Some("nop\nmov eax, [\n".to_string()),
        _ => None,
    };
    let e = assemble("main.asm", &files).unwrap_err();
    assert_eq!((e[0].file.as_str(), e[0].line), ("lib.inc", 2));
    let recursive =
        |name: &str| (name == "self.asm").then(|| "%include \"self.asm\"\n".to_string());
    let e = assemble("self.asm", &recursive).unwrap_err();
    assert!(e[0].message.contains("too many nested"), "{e:?}");
}

/// A deterministic generator of awkward inputs: random characters, random
/// tokens glued together, and valid lines cut short.
#[test]
fn no_input_makes_it_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces = [
        "mov", "eax", ",", "[", "]", "+", "*", "4", "label", ":", ".local", "db", "'x'", "\"",
        "times", "equ", "struc", "endstruc", "section", ".bss", "resd", "%include", "%define", "(",
        ")", "-", "0x", "~", "byte", "dword", "jmp", "short", "$", "$$", "align", "3", "0", "cr0",
        "es", "\n", "int", "loop", "rep", "movsb", "org", "-1", "<<", ">>", "/", "%", "push",
        "ltr", "far",
    ];
    for _ in 0..3_000 {
        let n = (next() % 40) as usize;
        let mut src = String::new();
        for _ in 0..n {
            match next() % 10 {
                0 => src.push(char::from_u32((next() % 0x250) as u32).unwrap_or('?')),
                _ => {
                    src.push_str(pieces[(next() % pieces.len() as u64) as usize]);
                    src.push(' ');
                }
            }
        }
        let _ = assemble_str("fuzz.asm", &src);
    }
}

/// Every error comes in one list: a line that does not parse does not hide
/// an undefined symbol on a later line, and a symbol the broken line would
/// have defined is not reported as undefined.
#[test]
fn errors_come_in_one_list_not_in_waves() {
    let e = errors("start: mov eax, [\n  jmp nowhere\nfine: bogus eax\n  jmp fine\n");
    let found: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, 1);
    assert_eq!(found[1], (2, "undefined symbol `nowhere`"));
    assert_eq!(found[2].0, 3);
    assert!(
        !found.iter().any(|(_, m)| m.contains("`fine`")),
        "{found:?}"
    );
}

/// Parsing, evaluating and dropping an expression recurse on its tree: a
/// line nested thousands deep (as the fuzzer wrote one) is an error with
/// its place, not a stack overflow; what real programs write still works.
#[test]
fn expressions_nested_too_deep_or_too_long_are_errors_not_crashes() {
    let deep = format!("mov eax, {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    let (line, column, message) = first(&deep);
    assert_eq!((line, column), (1, 42));
    assert!(
        message.starts_with("an expression may nest at most 32 levels deep"),
        "{message}"
    );
    let negations = format!("dd {}1\n", "-".repeat(5000));
    assert!(first(&negations).2.contains("32 levels deep"));
    let long = format!("dd 1{}\n", "+1".repeat(5000));
    assert!(first(&long).2.contains("at most 64 operators"));
    // 32 levels, and 60 operators, are fine.
    let ok = format!(
        "dd {}7{}\ndd 1{}\n",
        "(".repeat(31),
        ")".repeat(31),
        "+1".repeat(60)
    );
    let out = assemble_str("prog.asm", &ok).expect("nesting within the bounds");
    let bytes = &out.sections[0].bytes;
    assert_eq!(&bytes[..8], &[7, 0, 0, 0, 61, 0, 0, 0]);
}

/// One statement makes 64 MiB at most, and so does the whole program:
/// many large statements are an error, not gigabytes of the page's memory.
#[test]
fn a_program_larger_than_64_mib_is_an_error_at_the_line_that_passes_it() {
    let (line, column, message) = first("resb 40000000\nnop\nresb 40000000\n");
    assert_eq!(
        (line, column, message.as_str()),
        (3, 1, "the program would be larger than 64 MiB")
    );
    assert!(assemble_str("prog.asm", "resb 40000000\nnop\n").is_ok());
}
