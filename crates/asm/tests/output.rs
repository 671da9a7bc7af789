//! What an assembly produces: sections, symbols, the line table, and code
//! that runs on the osviz machine.

use osviz_asm::assemble_str;
use osviz_machine::{Machine, Reg, StopReason};

const PROGRAM: &str = "\
; Sums 1..10 and prints the total as two digits to port 0xE9.
        org 0x1000
        section .text
start:  xor eax, eax
        mov ecx, 10
.add:   add eax, ecx
        loop .add
        mov [total], eax
        mov ebx, 10
        xor edx, edx
        div ebx
        add al, '0'
        out 0xE9, al
        mov al, dl
        add al, '0'
        out 0xE9, al
        hlt

        section .data
greeting: db \"hi\", 0
        align 4
total:  dd 0

        section .bss
scratch: resd 4
";

#[test]
fn sections_symbols_and_lines() {
    let out = assemble_str("sum.asm", PROGRAM).unwrap();
    let names: Vec<&str> = out.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [".text", ".data", ".bss"]);
    let text = &out.sections[0];
    assert_eq!(text.start, 0x1000);
    assert_eq!(out.symbol("start"), Some(0x1000));
    assert_eq!(out.symbol("start.add"), Some(0x1000 + 2 + 5));
    let data = &out.sections[1];
    assert_eq!(data.start, (0x1000 + text.size + 3) & !3);
    assert_eq!(out.symbol("greeting"), Some(data.start));
    assert_eq!(out.symbol("total"), Some(data.start + 4));
    assert_eq!(out.sections[2].bytes.len(), 0);
    assert_eq!(out.sections[2].size, 16);
    assert_eq!(out.symbol("scratch"), Some(out.sections[2].start));

    // `add eax, ecx` is on line 6 of the file.
    let add = out.symbol("start.add").unwrap();
    let line = out.line_at(add).unwrap();
    assert_eq!((line.file, line.line, line.len), (0, 6, 2));
    assert_eq!(out.line_at(add + 1).unwrap().line, 6);
    assert_eq!(out.files, ["sum.asm"]);
    assert_eq!(out.symbolize(add + 2), Some(("start.add".to_string(), 2)));
    assert_eq!(out.symbolize(0x0FFF), None);
}

#[test]
fn the_assembled_program_runs_on_the_machine() {
    let out = assemble_str("sum.asm", PROGRAM).unwrap();
    let (start, image) = out.image();
    let mut m = Machine::new(64 * 1024);
    m.load(start, &image).unwrap();
    m.cpu.eip = out.symbol("start").unwrap();
    assert_eq!(m.run(10_000), StopReason::Halted);
    assert_eq!(m.debug_output(), b"55");
    assert_eq!(m.mem.read(out.symbol("total").unwrap(), 4), 55);
    assert_eq!(m.cpu.reg(Reg::Ecx), 0);
}

#[test]
fn includes_and_defines() {
    let files = |name: &str| match name {
        "main.asm" => {
            Some("%include \"consts.inc\"\nmov eax, ANSWER\nmov ebx, LIMIT\n".to_string())
        }
        "consts.inc" => Some("%define ANSWER 42\nLIMIT equ ANSWER * 2\n".to_string()),
        _ => None,
    };
    let out = osviz_asm::assemble("main.asm", &files).unwrap();
    assert_eq!(out.image().1, [0xB8, 42, 0, 0, 0, 0xBB, 84, 0, 0, 0]);
    assert_eq!(out.files, ["main.asm", "consts.inc"]);
    assert_eq!(out.symbol("LIMIT"), Some(84));
    // The line table names the main file for its instructions.
    assert_eq!(out.line_at(5).map(|l| (l.file, l.line)), Some((0, 3)));
}

#[test]
fn structures_define_offsets_and_size() {
    let out = assemble_str(
        "s.asm",
        "struc pcb\n.pid: resd 1\n.state: resd 1\n.name: resb 16\nendstruc\nmov eax, [ebx + pcb.name]\n",
    )
    .unwrap();
    assert_eq!(out.symbol("pcb.pid"), Some(0));
    assert_eq!(out.symbol("pcb.state"), Some(4));
    assert_eq!(out.symbol("pcb.name"), Some(8));
    assert_eq!(out.symbol("pcb_size"), Some(24));
    assert_eq!(out.image().1, [0x8B, 0x43, 0x08]);
}

#[test]
fn forward_jumps_settle_to_short_forms() {
    let out = assemble_str("j.asm", "jmp a\njmp b\na: nop\ntimes 130 nop\nb: jmp a\n").unwrap();
    let bytes = out.image().1;
    assert_eq!(&bytes[..2], [0xEB, 0x05]); // jmp a: short, over the near jmp b
    assert_eq!(bytes[2], 0xE9); // jmp b: too far for short
}
