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
    m.set_eip(out.symbol("start").unwrap());
    assert_eq!(m.run(10_000), StopReason::Halted);
    assert_eq!(m.debug_output(), b"55");
    assert_eq!(m.mem().read(out.symbol("total").unwrap(), 4), 55);
    assert_eq!(m.cpu().reg(Reg::Ecx), 0);
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

/// The machine's disassembly of every instruction of the sample source
/// assembles back to the same instruction.
#[test]
fn disassembly_assembles_back_to_the_same_instruction() {
    use osviz_machine::{Op, Operand, decode};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sources/forms.asm");
    let source = std::fs::read_to_string(path).unwrap();
    let out = assemble_str("forms.asm", &source).unwrap();
    let (start, image) = out.image();
    let text_end = start + out.sections[0].size;
    let mut checked = 0;
    // Jumps are compared by target, the rest field by field.
    let normalize = |i: osviz_machine::Instr, at: u32| {
        let relative = matches!(i.op, Op::Jcc(_) | Op::Jmp | Op::Call | Op::Loop);
        let src = match (relative, i.src) {
            (true, Operand::Imm(rel)) => {
                Operand::Imm(at.wrapping_add(u32::from(i.len)).wrapping_add(rel))
            }
            (_, s) => s,
        };
        // XCHG is symmetric: either operand order is the same instruction.
        let (dst, src) = if i.op == Op::Xchg && format!("{:?}", i.dst) > format!("{src:?}") {
            (src, i.dst)
        } else {
            (i.dst, src)
        };
        (i.op, i.width, dst, src, i.extra, i.rep)
    };
    for line in out.lines.iter().filter(|l| l.addr < text_end) {
        let offset = (line.addr - start) as usize;
        let Ok(instr) = decode(&image[offset..]) else {
            continue;
        };
        if usize::from(instr.len) != line.len as usize {
            continue; // data, not an instruction
        }
        let text = instr.disassemble(line.addr);
        let again = assemble_str("again.asm", &format!("org {:#x}\n{text}\n", line.addr))
            .unwrap_or_else(|e| panic!("line {}: `{text}` does not assemble: {e:?}", line.line));
        let bytes = again.image().1;
        let back = decode(&bytes).unwrap();
        assert_eq!(
            normalize(back, line.addr),
            normalize(instr, line.addr),
            "line {}: `{text}`",
            line.line
        );
        checked += 1;
    }
    assert!(checked >= 180, "{checked}");
}
