//! The architectural register state of the CPU.

use serde::{Deserialize, Serialize};

/// A 32-bit general register, numbered as in the ModRM `reg` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reg {
    Eax = 0,
    Ecx = 1,
    Edx = 2,
    Ebx = 3,
    Esp = 4,
    Ebp = 5,
    Esi = 6,
    Edi = 7,
}

impl Reg {
    /// All eight general registers in encoding order.
    pub const ALL: [Reg; 8] = [
        Reg::Eax,
        Reg::Ecx,
        Reg::Edx,
        Reg::Ebx,
        Reg::Esp,
        Reg::Ebp,
        Reg::Esi,
        Reg::Edi,
    ];

    /// The register with encoding `n` (only the low three bits are used).
    pub fn from_index(n: u8) -> Reg {
        Reg::ALL[usize::from(n & 7)]
    }

    /// The assembler's name for the register, for example `"eax"`.
    pub fn name(self) -> &'static str {
        ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"][self as usize]
    }
}

/// EFLAGS bit masks, as the SDM defines them.
#[derive(Debug)]
pub struct Flags;

impl Flags {
    pub const CF: u32 = 1 << 0;
    pub const PF: u32 = 1 << 2;
    pub const AF: u32 = 1 << 4;
    pub const ZF: u32 = 1 << 6;
    pub const SF: u32 = 1 << 7;
    pub const TF: u32 = 1 << 8;
    pub const IF: u32 = 1 << 9;
    pub const DF: u32 = 1 << 10;
    pub const OF: u32 = 1 << 11;
    /// Bit 1 always reads as one.
    pub const RESERVED_ONE: u32 = 1 << 1;
    /// The six arithmetic status flags.
    pub const STATUS: u32 = Self::CF | Self::PF | Self::AF | Self::ZF | Self::SF | Self::OF;
}

/// The CPU's registers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI in encoding order.
    pub gpr: [u32; 8],
    pub eip: u32,
    pub eflags: u32,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    /// Segment selectors CS, SS, DS, ES, FS, GS. Segments are flat, so only
    /// the selectors (and CPL, the low two bits of CS) matter.
    pub cs: u16,
    pub ss: u16,
    pub ds: u16,
    pub es: u16,
    pub fs: u16,
    pub gs: u16,
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu {
            gpr: [0; 8],
            eip: 0,
            eflags: Flags::RESERVED_ONE,
            cr0: 1,
            cr2: 0,
            cr3: 0,
            cs: 0x08,
            ss: 0x10,
            ds: 0x10,
            es: 0x10,
            fs: 0x10,
            gs: 0x10,
        }
    }
}

impl Cpu {
    /// The value of a general register.
    #[inline]
    pub fn reg(&self, r: Reg) -> u32 {
        self.gpr[r as usize]
    }

    /// Sets a general register.
    #[inline]
    pub fn set_reg(&mut self, r: Reg, value: u32) {
        self.gpr[r as usize] = value;
    }

    /// The current privilege level: the low two bits of CS.
    pub fn cpl(&self) -> u8 {
        (self.cs & 3) as u8
    }

    /// Whether the given EFLAGS bit (one of the [`Flags`] masks) is set.
    #[inline]
    pub fn flag(&self, mask: u32) -> bool {
        self.eflags & mask != 0
    }

    /// Sets or clears one EFLAGS bit.
    #[inline]
    pub fn set_flag(&mut self, mask: u32, on: bool) {
        if on {
            self.eflags |= mask;
        } else {
            self.eflags &= !mask;
        }
    }
}
