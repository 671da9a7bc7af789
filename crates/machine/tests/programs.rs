//! Data-driven tests: a program in, its console output and final state out.

use osviz_machine::{Machine, Reg, StopReason, decode, multiboot, programs};

fn run_bytes(code: &[u8]) -> Machine {
    let mut m = Machine::new(64 * 1024);
    m.load(0x1000, code).unwrap();
    m.set_eip(0x1000);
    m.set_reg(Reg::Esp, 0x8000);
    m.run(100_000);
    m
}

#[test]
fn sum_loop_prints_fifteen_and_halts() {
    let p = programs::SUM_LOOP;
    let m = run_bytes(p.bytes);
    assert_eq!(m.stopped(), Some(&StopReason::Halted));
    assert_eq!(m.cpu().reg(Reg::Eax) & 0xFFFF_FF00, 0);
    assert_eq!(String::from_utf8_lossy(m.debug_output()), "15");
    // 2 setup + 5 iterations of 3 + 8 after the loop.
    assert_eq!(m.retired(), 2 + 15 + 8);
}

#[test]
fn call_ret_push_pop_and_memory_operands() {
    // ESP starts at 0x8000 (run_bytes sets it). The call skips nothing: f
    // follows the hlt, which runs once f returns.
    let code = [
        0xC7, 0x05, 0x00, 0x20, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, // mov dword [0x2000], 41
        0xE8, 0x01, 0x00, 0x00, 0x00, // call f (one byte past the hlt)
        0xF4, // hlt
        0xBB, 0x00, 0x20, 0x00, 0x00, // f: mov ebx, 0x2000
        0x83, 0x03, 0x01, // add dword [ebx], 1
        0x8B, 0x03, // mov eax, [ebx]
        0x50, // push eax
        0x59, // pop ecx
        0xC3, // ret
    ];
    let m = run_bytes(&code);
    assert_eq!(m.stopped(), Some(&StopReason::Halted));
    assert_eq!(m.cpu().reg(Reg::Eax), 42);
    assert_eq!(m.cpu().reg(Reg::Ecx), 42);
    assert_eq!(m.cpu().reg(Reg::Esp), 0x8000);
    assert_eq!(m.mem().read(0x2000, 4), 42);
    // Halted at the hlt after the call returned.
    assert_eq!(m.cpu().eip, 0x1000 + 16);
}

#[test]
fn byte_registers_address_the_high_halves() {
    // mov eax, 0x11223344 ; mov ah, 0x99 ; mov bl, ah ; hlt
    let m = run_bytes(&[0xB8, 0x44, 0x33, 0x22, 0x11, 0xB4, 0x99, 0x88, 0xE3, 0xF4]);
    assert_eq!(m.cpu().reg(Reg::Eax), 0x1122_9944);
    assert_eq!(m.cpu().reg(Reg::Ebx), 0x99);
}

#[test]
fn unsupported_opcode_without_an_idt_ends_in_a_triple_fault_naming_it() {
    // 0F FF is no instruction. With no IDT, #UD cannot be delivered (#GP),
    // nor can that (#DF), and the machine shuts down.
    let m = run_bytes(&[0x90, 0x0F, 0xFF]);
    match m.stopped() {
        Some(StopReason::TripleFault { vector, cause }) => {
            assert_eq!(*vector, 13);
            assert!(
                cause.contains("unsupported opcode 0F FF at eip 0x00001001"),
                "{cause}"
            );
            assert!(cause.contains("#UD"), "{cause}");
        }
        other => panic!("expected a triple fault, got {other:?}"),
    }
}

#[test]
fn decoding_never_panics_on_any_bytes() {
    let mut state = 0x1234_5678_9ABC_DEF0u64;
    let mut buf = [0u8; 16];
    for _ in 0..200_000 {
        for b in &mut buf {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let len = (state >> 40) as usize % 17;
        if let Ok(i) = decode(&buf[..len]) {
            assert!(usize::from(i.len) <= len);
        }
    }
}

#[test]
fn multiboot_image_is_loaded_and_entered() {
    // A header at the start of a 1 MiB-based image, then `out 0xE9, al` with
    // al = 'K' and `hlt`.
    let mut image = Vec::new();
    let flags = 1u32 << 16;
    for word in [
        multiboot::HEADER_MAGIC,
        flags,
        0u32.wrapping_sub(multiboot::HEADER_MAGIC.wrapping_add(flags)),
        0x10_0000, // header_addr
        0x10_0000, // load_addr
        0,         // load_end_addr: the whole file
        0x10_2000, // bss_end_addr
        0x10_0020, // entry_addr
    ] {
        image.extend(word.to_le_bytes());
    }
    image.extend([0xB0, b'K', 0xE6, 0xE9, 0xF4]);
    let mut m = Machine::new(4 * 1024 * 1024);
    multiboot::load(&mut m, &image).unwrap();
    assert_eq!(m.cpu().reg(Reg::Eax), multiboot::LOADER_MAGIC);
    assert_eq!(m.cpu().eip, 0x10_0020);
    assert_eq!(m.run(10), StopReason::Halted);
    assert_eq!(m.debug_output(), b"K");
}

#[test]
fn multiboot_errors_are_reported() {
    let mut m = Machine::new(1024 * 1024);
    assert_eq!(
        multiboot::load(&mut m, &[0u8; 64]),
        Err(multiboot::MultibootError::NoHeader)
    );
}

#[test]
fn inc_and_dec_keep_the_carry_flag() {
    // stc / mov eax, -1 / inc eax / adc ebx, 0 (+1 from CF) / add ecx, 0 (CF now 0)
    // / dec ecx / adc edx, 0 (+0: CF stayed 0) / hlt
    let m = run_bytes(&[
        0xF9, 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x83, 0xD3, 0x00, 0x83, 0xC1, 0x00, 0x49, 0x83,
        0xD2, 0x00, 0xF4,
    ]);
    assert_eq!(m.cpu().reg(Reg::Eax), 0);
    assert_eq!(m.cpu().reg(Reg::Ebx), 1, "INC kept CF = 1");
    assert_eq!(m.cpu().reg(Reg::Ecx), 0xFFFF_FFFF);
    assert_eq!(m.cpu().reg(Reg::Edx), 0, "DEC kept CF = 0");
}

#[test]
fn a_conditional_jump_inside_a_block_counts_each_pass_up_to_it() {
    // inc eax; cmp eax, 1000; jne -8 (back to the start, taken 999 times);
    // mov ebx, eax; inc ebx; hlt: one block, the jump in its middle.
    let code = [
        0x40, 0x3D, 0xE8, 0x03, 0x00, 0x00, 0x75, 0xF8, 0x89, 0xC3, 0x43, 0xF4,
    ];
    let run = run_bytes(&code);
    assert_eq!(run.stopped(), Some(&StopReason::Halted));
    assert_eq!(run.cpu().reg(Reg::Ebx), 1001);
    assert_eq!((run.steps(), run.retired()), (3003, 3003));
    let mut stepped = Machine::new(64 * 1024);
    stepped.load(0x1000, &code).unwrap();
    stepped.set_eip(0x1000);
    stepped.set_reg(Reg::Esp, 0x8000);
    while stepped.stopped().is_none() {
        stepped.step();
    }
    assert_eq!(stepped.state_hash(), run.state_hash());
}

/// An ELF kernel whose one segment claims 3.75 GiB in memory: checking it
/// allocates nothing for the segment (a file from anyone may claim that
/// much), and loading it into a small machine is refused as too large.
#[test]
fn a_segment_claiming_gigabytes_is_checked_without_allocating_and_refused_to_load() {
    let mut elf = Vec::new();
    elf.extend(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    for half in [2u16, 3] {
        elf.extend(half.to_le_bytes()); // e_type EXEC, e_machine i386
    }
    for word in [1u32, 0x10_0000, 52, 0, 0] {
        elf.extend(word.to_le_bytes()); // version, entry, phoff, shoff, flags
    }
    for half in [52u16, 32, 1, 40, 0, 0] {
        elf.extend(half.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    // One PT_LOAD: 12 bytes in the file (the multiboot header), 3.75 GiB in memory.
    for word in [1u32, 84, 0x10_0000, 0x10_0000, 12, 0xF000_0000, 5, 4] {
        elf.extend(word.to_le_bytes());
    }
    let flags = 0u32;
    for word in [
        multiboot::HEADER_MAGIC,
        flags,
        0u32.wrapping_sub(multiboot::HEADER_MAGIC.wrapping_add(flags)),
    ] {
        elf.extend(word.to_le_bytes());
    }
    assert_eq!(multiboot::check(&elf), Ok(()));
    let mut m = Machine::new(4 * 1024 * 1024);
    assert!(matches!(
        multiboot::load(&mut m, &elf),
        Err(multiboot::MultibootError::TooLarge(_))
    ));
}
