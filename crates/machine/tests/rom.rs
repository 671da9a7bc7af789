//! Firmware run from the reset vector (`Machine::with_rom`): the ROM's copy
//! at the top of physical memory answers the first fetch and reads through
//! CS's reset base, drops writes, and the copy below 1 MiB runs after the
//! first far jump; POST codes reach the POST port.

use osviz_machine::{Machine, MachineConfig, ROM_SIZE, RomError, StopReason};

/// A ROM that reads its first byte through CS's reset base (the high copy),
/// tries to write it, jumps far to F000:0100 (the low copy) and writes what
/// it read there and from its low copy to the POST port.
fn rom() -> Vec<u8> {
    let mut rom = vec![0x90; ROM_SIZE];
    rom[0] = 0xA5;
    // At FFF0 (CS base FFFF0000, so linear 0xFFFFFFF0):
    //   mov al, [cs:0x0000]    ; the high copy's first byte
    //   mov byte [cs:0x0000], 0x5A  ; dropped: the ROM is read-only
    //   jmp far f000:0100
    let reset = [
        0x2E, 0xA0, 0x00, 0x00, // mov al, [cs:0]
        0x2E, 0xC6, 0x06, 0x00, 0x00, 0x5A, // mov byte [cs:0], 0x5a
        0xEA, 0x00, 0x01, 0x00, 0xF0, // jmp 0xf000:0x100
        0x90,
    ];
    rom[0xFFF0..].copy_from_slice(&reset);
    // At F000:0100 (linear 0xF0100, the low copy in RAM):
    //   mov dx, 0x190 / out dx, al        ; the byte read at reset: A5
    //   mov al, [cs:0] / out dx, al        ; the low copy's first byte: A5
    //   mov al, 0xff / out dx, al / hlt
    let main = [
        0xBA, 0x90, 0x01, 0xEE, // mov dx, 0x190 / out dx, al
        0x2E, 0xA0, 0x00, 0x00, 0xEE, // mov al, [cs:0] / out dx, al
        0xB0, 0xFF, 0xEE, 0xF4, // mov al, 0xff / out dx, al / hlt
    ];
    rom[0x100..0x100 + main.len()].copy_from_slice(&main);
    rom
}

#[test]
fn firmware_starts_at_the_reset_vector_and_runs_from_both_copies() {
    let rom = rom();
    let mut m = Machine::with_rom(MachineConfig::default(), &rom).unwrap();
    assert_eq!(m.cpu().eip, 0xFFF0);
    assert_eq!(m.run(100), StopReason::Halted);
    assert_eq!(m.post_codes(), [0xA5, 0xA5, 0xFF]);
    // The write through the reset base reached no ROM byte.
    assert_eq!(m.mem().rom()[0], 0xA5);
    assert_eq!(m.mem().read_u8(0xFFFF_0000), 0xA5);
    assert_eq!(m.mem().read_u8(0xFFFF_FFF0), 0x2E);
    assert_eq!(m.mem().read_u8(0xF0000), 0xA5);
}

#[test]
fn a_rom_must_be_64_kib_and_fit_below_1_mib() {
    let err = Machine::with_rom(MachineConfig::default(), &[0; 100]).unwrap_err();
    assert_eq!(err, RomError::Size { len: 100 });
    let small = MachineConfig {
        mem_size: 512 * 1024,
        ..MachineConfig::default()
    };
    let err = Machine::with_rom(small, &rom()).unwrap_err();
    assert!(matches!(err, RomError::TooLittleMemory { .. }));
}

/// A near jump past CS's limit faults (#GP, vector 13 through the real-mode
/// vector table) at the jump, before EIP changes: a 32-bit jump in real
/// mode to 0x12345, past the 64 KiB limit.
#[test]
fn a_jump_past_the_code_segment_limit_faults_at_the_jump() {
    let mut rom = vec![0x90; ROM_SIZE];
    rom[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x01, 0x00, 0xF0]);
    let main = [
        0x31, 0xC0, // xor ax, ax
        0x8E, 0xD8, // mov ds, ax
        0xC7, 0x06, 0x34, 0x00, 0x00, 0x02, // mov word [0x34], 0x200
        0xC7, 0x06, 0x36, 0x00, 0x00, 0xF0, // mov word [0x36], 0xf000
        0x66, 0xE9, 0x2F, 0x22, 0x01, 0x00, // (at 0x110) jmp dword 0x12345
    ];
    rom[0x100..0x100 + main.len()].copy_from_slice(&main);
    // The #GP handler: the IP the fault pushed, to the POST port.
    let handler = [0x58, 0xBA, 0x90, 0x01, 0xEE, 0xF4]; // pop ax / mov dx, 0x190 / out dx, al / hlt
    rom[0x200..0x200 + handler.len()].copy_from_slice(&handler);
    let mut m = Machine::with_rom(MachineConfig::default(), &rom).unwrap();
    assert_eq!(m.run(100), StopReason::Halted);
    assert_eq!(m.post_codes(), [0x10]);
}
