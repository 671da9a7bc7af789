//! Arithmetic with the exact EFLAGS results the SDM gives for each operation.
//!
//! Every function takes operands already truncated to the operation's width and
//! returns the truncated result with the new status flags (only the six status
//! bits of [`Flags::STATUS`] are meaningful in the returned flags).

use crate::cpu::Flags;
use crate::decode::Width;

/// Parity flag: set when the low byte of the result has an even number of ones.
#[inline]
fn parity(result: u32) -> u32 {
    if (result as u8).count_ones() % 2 == 0 {
        Flags::PF
    } else {
        0
    }
}

/// ZF, SF and PF, which every arithmetic and logic result sets the same way.
#[inline]
fn zsp(result: u32, width: Width) -> u32 {
    let mut f = parity(result);
    if result == 0 {
        f |= Flags::ZF;
    }
    if result & width.sign_bit() != 0 {
        f |= Flags::SF;
    }
    f
}

/// `a + b + carry` as ADD and ADC compute it.
#[inline]
pub fn add(a: u32, b: u32, carry: bool, width: Width) -> (u32, u32) {
    let wide = u64::from(a) + u64::from(b) + u64::from(carry);
    let r = (wide as u32) & width.mask();
    let mut f = zsp(r, width);
    if wide > u64::from(width.mask()) {
        f |= Flags::CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= Flags::AF;
    }
    if (a ^ r) & (b ^ r) & width.sign_bit() != 0 {
        f |= Flags::OF;
    }
    (r, f)
}

/// `a - b - borrow` as SUB, SBB and CMP compute it.
#[inline]
pub fn sub(a: u32, b: u32, borrow: bool, width: Width) -> (u32, u32) {
    let r = a.wrapping_sub(b).wrapping_sub(u32::from(borrow)) & width.mask();
    let mut f = zsp(r, width);
    if u64::from(a) < u64::from(b) + u64::from(borrow) {
        f |= Flags::CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= Flags::AF;
    }
    if (a ^ b) & (a ^ r) & width.sign_bit() != 0 {
        f |= Flags::OF;
    }
    (r, f)
}

/// The flags of AND, OR, XOR and TEST: CF and OF cleared, AF left undefined
/// (cleared here, as current Intel and AMD processors do).
#[inline]
pub fn logic(result: u32, width: Width) -> u32 {
    zsp(result, width)
}
