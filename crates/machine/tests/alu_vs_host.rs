//! Differential tests: the machine's ALU results and flags against the host CPU's.
//!
//! The host is x86-64, whose 8-, 16- and 32-bit operand forms compute exactly
//! what IA-32 does, so each operation runs once on the host (with inline
//! assembly) and once on the machine, over many random operands.
#![cfg(target_arch = "x86_64")]
#![allow(unsafe_code)]

use osviz_machine::{Flags, Machine, MachineConfig, Reg, StopReason};

/// The status flags, which are all these operations define (AF is undefined
/// after logic operations, so it is compared only where defined).
const STATUS: u64 = Flags::STATUS as u64;

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // Bias toward the edges, where flags change.
        match self.0 % 8 {
            0 => 0,
            1 => 0xFFFF_FFFF,
            2 => 0x8000_0000 >> ((self.0 >> 8) % 32),
            3 => (0x7FFF_FFFFu32).rotate_right(((self.0 >> 8) % 32) as u32),
            _ => (self.0 >> 16) as u32,
        }
    }
}

macro_rules! host_binary {
    ($name:ident, $mnemonic:literal, $reg_a:literal, $reg_b:literal) => {
        /// Runs the instruction on the host with the given incoming flags;
        /// returns the result and the outgoing flags.
        pub fn $name(a: u32, b: u32, flags_in: u64) -> (u32, u64) {
            let mut a = a;
            let flags: u64;
            unsafe {
                std::arch::asm!(
                    "push {fin}",
                    "popfq",
                    concat!($mnemonic, " {a", $reg_a, "}, {b", $reg_b, "}"),
                    "pushfq",
                    "pop {fout}",
                    fin = in(reg) flags_in,
                    a = inout(reg) a,
                    b = in(reg) b,
                    fout = out(reg) flags,
                );
            }
            (a, flags)
        }
    };
}

macro_rules! host_all_widths {
    ($m8:ident, $m16:ident, $m32:ident, $mnemonic:literal) => {
        mod $m8 {
            host_binary!(run, $mnemonic, ":l", ":l");
        }
        mod $m16 {
            host_binary!(run, $mnemonic, ":x", ":x");
        }
        mod $m32 {
            host_binary!(run, $mnemonic, ":e", ":e");
        }
    };
}

host_all_widths!(add8, add16, add32, "add");
host_all_widths!(adc8, adc16, adc32, "adc");
host_all_widths!(sub8, sub16, sub32, "sub");
host_all_widths!(sbb8, sbb16, sbb32, "sbb");
host_all_widths!(and8, and16, and32, "and");
host_all_widths!(or8, or16, or32, "or");
host_all_widths!(xor8, xor16, xor32, "xor");
host_all_widths!(cmp8, cmp16, cmp32, "cmp");

type HostFn = fn(u32, u32, u64) -> (u32, u64);

/// Runs `op eax, ebx` (or its 8- or 16-bit form) on the machine, encoded as
/// the given prefix, the opcode's r/m-reg form and ModRM 0xD8.
fn machine_binary(prefix: &[u8], opcode: u8, a: u32, b: u32, flags_in: u32) -> (u32, u32) {
    let mut code = prefix.to_vec();
    // ModRM 0xD8: mod 11, reg = ebx (3), r/m = eax (0): `op eax, ebx`.
    code.extend([opcode, 0xD8, 0xF4]);
    let mut m = Machine::with_config(MachineConfig {
        mem_size: 4096,
        checkpoint_interval: 0,
        ..MachineConfig::default()
    });
    m.load(0x100, &code).unwrap();
    m.set_eip(0x100);
    m.set_reg(Reg::Eax, a);
    m.set_reg(Reg::Ebx, b);
    m.set_eflags(flags_in | Flags::RESERVED_ONE);
    assert_eq!(m.run(10), StopReason::Halted);
    (m.cpu().reg(Reg::Eax), m.cpu().eflags())
}

fn check(name: &str, opcode_rm_r: u8, hosts: [HostFn; 3], define_af: bool) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ u64::from(opcode_rm_r));
    let widths: [(&[u8], u8, u32); 3] = [
        (&[], opcode_rm_r - 1, 0xFF),
        (&[0x66], opcode_rm_r, 0xFFFF),
        (&[], opcode_rm_r, 0xFFFF_FFFF),
    ];
    for _ in 0..4000 {
        let a = rng.next();
        let b = rng.next();
        let carry_in = rng.next() & 1;
        for (i, &(prefix, opcode, mask)) in widths.iter().enumerate() {
            let (host_r, host_f) = hosts[i](a, b, u64::from(carry_in) | 2);
            let (mach_r, mach_f) = machine_binary(prefix, opcode, a, b, carry_in);
            let compare = if define_af {
                STATUS
            } else {
                STATUS & !(Flags::AF as u64)
            };
            let expect_r = if name == "cmp" {
                a
            } else {
                (a & !mask) | (host_r & mask)
            };
            assert_eq!(
                (mach_r, u64::from(mach_f) & compare),
                (expect_r, host_f & compare),
                "{name} width#{i} a={a:#x} b={b:#x} cf_in={carry_in}"
            );
        }
    }
}

#[test]
fn add_matches_host() {
    check("add", 0x01, [add8::run, add16::run, add32::run], true);
}

#[test]
fn adc_matches_host() {
    check("adc", 0x11, [adc8::run, adc16::run, adc32::run], true);
}

#[test]
fn sub_matches_host() {
    check("sub", 0x29, [sub8::run, sub16::run, sub32::run], true);
}

#[test]
fn sbb_matches_host() {
    check("sbb", 0x19, [sbb8::run, sbb16::run, sbb32::run], true);
}

#[test]
fn cmp_matches_host() {
    check("cmp", 0x39, [cmp8::run, cmp16::run, cmp32::run], true);
}

#[test]
fn logic_matches_host() {
    check("and", 0x21, [and8::run, and16::run, and32::run], false);
    check("or", 0x09, [or8::run, or16::run, or32::run], false);
    check("xor", 0x31, [xor8::run, xor16::run, xor32::run], false);
}

macro_rules! host_shift {
    ($name:ident, $mnemonic:literal, $reg:literal) => {
        /// Runs `op reg, cl` on the host; returns the result and flags.
        pub fn $name(a: u32, count: u8, flags_in: u64) -> (u32, u64) {
            let mut a = a;
            let flags: u64;
            unsafe {
                std::arch::asm!(
                    "push {fin}",
                    "popfq",
                    concat!($mnemonic, " {a", $reg, "}, cl"),
                    "pushfq",
                    "pop {fout}",
                    fin = in(reg) flags_in,
                    a = inout(reg) a,
                    in("cl") count,
                    fout = out(reg) flags,
                );
            }
            (a, flags)
        }
    };
}

macro_rules! host_shift_widths {
    ($m:ident, $mnemonic:literal) => {
        mod $m {
            host_shift!(b, $mnemonic, ":l");
            host_shift!(w, $mnemonic, ":x");
            host_shift!(d, $mnemonic, ":e");
        }
    };
}

host_shift_widths!(shl, "shl");
host_shift_widths!(shr, "shr");
host_shift_widths!(sar, "sar");
host_shift_widths!(rol, "rol");
host_shift_widths!(ror, "ror");
host_shift_widths!(rcl, "rcl");
host_shift_widths!(rcr, "rcr");

type HostShift = fn(u32, u8, u64) -> (u32, u64);

/// Compares `op eax, cl` (group 2, ModRM reg field `ext`) with the host over
/// random operands and every count, on the flags the SDM defines.
fn check_shift(name: &str, ext: u8, hosts: [HostShift; 3], rotate: bool) {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03 ^ u64::from(ext));
    let widths: [(&[u8], u8, u32, u32); 3] = [
        (&[], 0xD2, 0xFF, 8),
        (&[0x66], 0xD3, 0xFFFF, 16),
        (&[], 0xD3, 0xFFFF_FFFF, 32),
    ];
    let mut m = Machine::with_config(MachineConfig {
        mem_size: 4096,
        checkpoint_interval: 0,
        ..MachineConfig::default()
    });
    for _ in 0..300 {
        let a = rng.next();
        let carry_in = rng.next() & 1;
        for count in 1..32u8 {
            for (i, &(prefix, opcode, mask, bits)) in widths.iter().enumerate() {
                let (host_r, host_f) = hosts[i](a, count, u64::from(carry_in) | 2);
                let mut code = prefix.to_vec();
                code.extend([opcode, 0xC0 | (ext << 3), 0xF4]);
                m.restore(&Machine::new(4096).snapshot());
                m.load(0x100, &code).unwrap();
                m.set_eip(0x100);
                m.set_reg(Reg::Eax, a);
                m.set_reg(Reg::Ecx, u32::from(count));
                m.set_eflags(carry_in | Flags::RESERVED_ONE);
                assert_eq!(m.run(10), StopReason::Halted);
                let (mach_r, mach_f) = (m.cpu().reg(Reg::Eax), u64::from(m.cpu().eflags()));
                // Defined flags: CF while the count stays within the operand
                // (always for rotates), OF for one-bit counts, and for shifts
                // SF, ZF and PF.
                let mut defined = 0u64;
                let effective = if rotate { 1 } else { u32::from(count) };
                if effective <= bits {
                    defined |= Flags::CF as u64;
                }
                if count == 1 {
                    defined |= Flags::OF as u64;
                }
                if !rotate {
                    defined |= (Flags::SF | Flags::ZF | Flags::PF) as u64;
                }
                // Through-carry rotates of 8 and 16 bits rotate by count mod
                // (bits + 1) on the host too; compare them all the same.
                assert_eq!(
                    (mach_r & mask, mach_f & defined),
                    (host_r & mask, host_f & defined),
                    "{name} width#{i} a={a:#x} count={count} cf_in={carry_in}"
                );
            }
        }
    }
}

#[test]
fn shifts_and_rotates_match_host() {
    check_shift("rol", 0, [rol::b, rol::w, rol::d], true);
    check_shift("ror", 1, [ror::b, ror::w, ror::d], true);
    check_shift("rcl", 2, [rcl::b, rcl::w, rcl::d], true);
    check_shift("rcr", 3, [rcr::b, rcr::w, rcr::d], true);
    check_shift("shl", 4, [shl::b, shl::w, shl::d], false);
    check_shift("shr", 5, [shr::b, shr::w, shr::d], false);
    check_shift("sar", 7, [sar::b, sar::w, sar::d], false);
}
