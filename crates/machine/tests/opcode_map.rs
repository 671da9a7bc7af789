//! The whole opcode map, driven through the operation table: every encoding
//! the decoder accepts (one-byte and `0F` maps, every ModRM `reg` field, a
//! register and a memory operand, with and without the operand-size and REP
//! prefixes) is
//! - named by its row of the table and disassembled to text that NASM (the
//!   oracle) assembles back to the same instruction;
//! - executed by a single step and by `run`, which must reach the same state;
//! - checked against its class: an instruction of class `Alu` or `Straight`
//!   that does not fault leaves EIP at the next instruction.

mod common;

use osviz_machine::{Class, Instr, Machine, Op, Operand, Reg, Shift, Width, decode};
use std::collections::BTreeMap;

/// Where each instruction is placed to be executed.
const AT: u32 = 0x1000;

/// Every distinct instruction the decoder accepts in the byte space this
/// test walks, keyed by its encoding.
fn encodings() -> BTreeMap<Vec<u8>, Instr> {
    let tail = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    let mut found = BTreeMap::new();
    let prefixes: [&[u8]; 3] = [&[], &[0x66], &[0xF3]];
    for prefix in prefixes {
        for map in [None, Some(0x0F)] {
            for opcode in 0..=255u8 {
                if map.is_none()
                    && matches!(
                        opcode,
                        0x0F | 0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 | 0x66 | 0xF0 | 0xF2 | 0xF3
                    )
                {
                    continue;
                }
                for reg in 0..8u8 {
                    // A register operand (ECX) and a memory one ([EBX]).
                    for modrm in [0xC1 | reg << 3, 0x03 | reg << 3] {
                        let mut bytes = prefix.to_vec();
                        bytes.extend(map);
                        bytes.push(opcode);
                        bytes.push(modrm);
                        bytes.extend(tail);
                        if let Ok(instr) = decode(&bytes) {
                            bytes.truncate(usize::from(instr.len));
                            found.insert(bytes, instr);
                        }
                    }
                }
            }
        }
    }
    found
}

/// An instruction compared by what it means: relative jumps by target, the
/// symmetric `xchg` in either operand order, the length left out (NASM may
/// choose a shorter encoding of the same instruction).
fn meaning(i: &Instr, at: u32) -> String {
    let relative = matches!(i.op, Op::Jcc(_) | Op::Jmp | Op::Call | Op::Loop);
    let src = match (relative, i.src) {
        (true, Operand::Imm(rel)) => {
            // A 16-bit operand size keeps the target within 64 KiB.
            Operand::Imm(at.wrapping_add(u32::from(i.len)).wrapping_add(rel) & i.width.mask())
        }
        (_, s) => s,
    };
    let (mut dst, mut src) = (format!("{:?}", i.dst), format!("{src:?}"));
    if i.op == Op::Xchg && dst > src {
        std::mem::swap(&mut dst, &mut src);
    }
    // `rep` means nothing before an instruction that does not repeat.
    let rep = if matches!(i.op, Op::String(_)) {
        format!("{:?}", i.rep)
    } else {
        String::new()
    };
    // `sal` is `shl` (the SDM gives them one opcode row); the width of
    // `nop` (`66 90`) changes nothing.
    let op = match i.op {
        Op::Shift(Shift::Sal) => Op::Shift(Shift::Shl),
        op => op,
    };
    let width = if op == Op::Nop { Width::Dword } else { i.width };
    format!("{op:?} {width:?} {dst} {src} {:#x} {rep}", i.extra)
}

#[test]
fn the_map_is_large_and_every_class_is_in_it() {
    let all = encodings();
    assert!(all.len() > 2000, "{} encodings", all.len());
    for class in [
        Class::Alu,
        Class::Straight,
        Class::Branch,
        Class::String,
        Class::System,
    ] {
        assert!(all.values().any(|i| i.class() == class), "{class:?}");
    }
}

#[test]
fn every_encoding_disassembles_to_text_nasm_assembles_back() {
    // One slot of 32 bytes per instruction, so that each one's address (and
    // so its jump target) is known whatever length NASM gives it.
    const SLOT: u32 = 32;
    // `movzx`/`movsx` of a word into a word register (66 0F B7, 66 0F BF)
    // is a legal encoding NASM has no syntax for.
    let nasm_has_no_syntax =
        |i: &Instr| matches!(i.op, Op::Movzx | Op::Movsx) && i.extra == 1 && i.width.bytes() == 2;
    let all: Vec<(Vec<u8>, Instr)> = encodings()
        .into_iter()
        .filter(|(_, i)| !nasm_has_no_syntax(i))
        .collect();
    let mut source = format!("bits 32\norg {AT:#x}\n");
    for (n, (_, instr)) in all.iter().enumerate() {
        let at = AT + SLOT * n as u32;
        let text = instr.disassemble(at);
        let name = instr.op.info().mnemonic;
        assert!(
            text.trim_start_matches("rep ")
                .trim_start_matches("repne ")
                .trim_start_matches("o16 ")
                .starts_with(name)
                // `loop` names four instructions; six have 16-bit names of their own.
                || instr.op == Op::Loop
                || (instr.width == Width::Word
                    && matches!(
                        instr.op,
                        Op::Cdq | Op::Cwde | Op::Pushad | Op::Popad | Op::Pushfd | Op::Popfd
                    )),
            "`{text}` is not named by its row `{name}`"
        );
        source.push_str(&format!(
            "times {} - ($ - $$) db 0xCC\n{text}\n",
            SLOT * n as u32
        ));
    }
    let dir = std::env::temp_dir().join(format!("osviz-opcode-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("map.asm");
    std::fs::write(&path, &source).unwrap();
    let image = common::assemble(&path);
    let _ = std::fs::remove_dir_all(&dir);
    let mut wrong = Vec::new();
    for (n, (bytes, instr)) in all.iter().enumerate() {
        let at = AT + SLOT * n as u32;
        let offset = (SLOT * n as u32) as usize;
        let back = decode(&image[offset..]).map(|b| meaning(&b, at));
        if back.as_ref() != Ok(&meaning(instr, at)) {
            wrong.push(format!(
                "{bytes:02X?} `{}` -> {back:?}",
                instr.disassemble(at)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}

/// A small machine with the instruction at [`AT`] and `hlt` after it, and
/// registers that point into memory (so most memory forms do not fault).
fn machine_with(bytes: &[u8]) -> Machine {
    let mut m = Machine::new(64 * 1024);
    let mut program = bytes.to_vec();
    program.push(0xF4);
    m.load(AT, &program).unwrap();
    m.set_eip(AT);
    for (r, v) in [
        (Reg::Eax, 0x8765_4321),
        (Reg::Ecx, 3),
        (Reg::Edx, 0x2000),
        (Reg::Ebx, 0x3000),
        (Reg::Esp, 0x8000),
        (Reg::Ebp, 0x7000),
        (Reg::Esi, 0x4000),
        (Reg::Edi, 0x5000),
    ] {
        m.set_reg(r, v);
    }
    m
}

#[test]
fn step_and_run_agree_on_every_encoding_and_straight_code_falls_through() {
    let mut wrong = Vec::new();
    for (bytes, instr) in encodings() {
        let mut stepped = machine_with(&bytes);
        let mut ran = stepped.clone();
        stepped.step();
        // A rep string instruction repeats ECX (3) times before the hlt.
        let steps = if matches!(instr.op, Op::String(_)) {
            4
        } else {
            2
        };
        for _ in 1..steps {
            if stepped.stopped().is_some() {
                break;
            }
            stepped.step();
        }
        ran.run(steps);
        if stepped.state_hash() != ran.state_hash() || stepped.steps() != ran.steps() {
            wrong.push(format!(
                "{bytes:02X?} `{}`: step and run differ",
                instr.disassemble(AT)
            ));
        }
        // The same step with events recorded says whether it trapped.
        let mut again = machine_with(&bytes);
        again.set_recording(true);
        let outcome = again.step();
        let faulted = outcome.stop.is_some()
            || outcome.events.iter().any(|e| {
                let d = format!("{e:?}");
                d.starts_with("TrapEntry") || d.starts_with("TripleFault")
            });
        let next = AT + u32::from(instr.len);
        if matches!(instr.class(), Class::Alu | Class::Straight)
            && !faulted
            && again.cpu().eip != next
        {
            wrong.push(format!(
                "{bytes:02X?} `{}` is {:?} but went to {:#x}, not {next:#x}",
                instr.disassemble(AT),
                instr.class(),
                again.cpu().eip
            ));
        }
    }
    assert!(wrong.is_empty(), "{}:\n{}", wrong.len(), wrong.join("\n"));
}
