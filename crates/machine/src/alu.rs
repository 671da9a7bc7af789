//! Arithmetic with the exact EFLAGS results the SDM gives for each operation.
//!
//! Every function takes operands already truncated to the operation's width and
//! returns the truncated result with the new status flags (only the six status
//! bits of [`Flags::STATUS`] are meaningful in the returned flags).

use crate::cpu::{Cpu, Flags, LazyOp};
use crate::decode::{Op, Shift, Width};
use crate::optable::Class;

/// The ALU instructions with two operands: what [`Cpu::binary`] computes
/// (the operations of class [`Class::Alu`] in the operation table).
pub(crate) fn is_binary(op: Op) -> bool {
    matches!(op.info().class, Class::Alu)
}

/// Whether a two-operand ALU instruction stores its result (`cmp` and
/// `test` only set the flags).
#[inline(always)]
pub(crate) fn stores(op: Op) -> bool {
    !matches!(op, Op::Cmp | Op::Test)
}

impl Cpu {
    /// `dst op= src` for the two-operand ALU instructions (`add`, `or`,
    /// `adc`, `sbb`, `and`, `sub`, `xor`, `cmp`, `test`): records the
    /// flags lazily and returns the result, which `cmp` and `test` do not
    /// store ([`stores`]). This is the one definition of these
    /// instructions: the step path (`execute.rs`) and the block path
    /// (`block.rs`) both call it, the block path on register operands.
    #[inline(always)]
    pub(crate) fn binary(&mut self, op: Op, w: Width, a: u32, b: u32) -> u32 {
        debug_assert!(is_binary(op), "{op:?} is not a two-operand ALU instruction");
        let (lazy, r, carry) = match op {
            Op::Add => (LazyOp::Add, a.wrapping_add(b), false),
            Op::Sub | Op::Cmp => (LazyOp::Sub, a.wrapping_sub(b), false),
            Op::And | Op::Test => (LazyOp::Logic, a & b, false),
            Op::Or => (LazyOp::Logic, a | b, false),
            Op::Xor => (LazyOp::Logic, a ^ b, false),
            Op::Adc => {
                let c = self.flag(Flags::CF);
                (LazyOp::Adc, a.wrapping_add(b).wrapping_add(u32::from(c)), c)
            }
            // Sbb, the last of the nine.
            _ => {
                let c = self.flag(Flags::CF);
                (LazyOp::Sbb, a.wrapping_sub(b).wrapping_sub(u32::from(c)), c)
            }
        };
        let r = r & w.mask();
        self.set_lazy(lazy, w, a, b, r, carry);
        r
    }

    /// `inc` (`up`) or `dec`: the result, with the flags recorded lazily
    /// (CF kept). Shared by the step and the block paths.
    #[inline(always)]
    pub(crate) fn inc_dec(&mut self, up: bool, w: Width, a: u32) -> u32 {
        let (op, r) = if up {
            (LazyOp::Inc, a.wrapping_add(1) & w.mask())
        } else {
            (LazyOp::Dec, a.wrapping_sub(1) & w.mask())
        };
        self.set_lazy(op, w, a, 1, r, false);
        r
    }
}

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

/// A shift or rotate of `a` by `count` (1 to 31). Returns the result, the
/// new status flags and the mask of the flags the operation defines.
///
/// OF is defined only for one-bit shifts; for longer ones this returns what
/// current Intel processors do (OF as if the last one-bit step were the only one).
pub fn shift(kind: Shift, a: u32, count: u32, carry_in: bool, width: Width) -> (u32, u32, u32) {
    let bits = width.bits();
    let mask = width.mask();
    let msb = |v: u32| v & width.sign_bit() != 0;
    let flag = |on: bool, f: u32| if on { f } else { 0 };
    match kind {
        Shift::Shl | Shift::Sal => {
            let wide = u64::from(a) << count;
            let r = wide as u32 & mask;
            let cf = (wide >> bits) & 1 != 0;
            let status = zsp(r, width) | flag(cf, Flags::CF) | flag(msb(r) != cf, Flags::OF);
            (r, status, Flags::STATUS)
        }
        Shift::Shr => {
            let r = if count >= 32 { 0 } else { (a >> count) & mask };
            let cf = count <= 32 && (u64::from(a) >> (count - 1)) & 1 != 0;
            let of = if count == 1 { msb(a) } else { false };
            let status = zsp(r, width) | flag(cf, Flags::CF) | flag(of, Flags::OF);
            (r, status, Flags::STATUS)
        }
        Shift::Sar => {
            let s = width.sign_extend(a) as i32;
            let r = (s >> count.min(31)) as u32 & mask;
            let cf = (s >> (count - 1).min(31)) & 1 != 0;
            let status = zsp(r, width) | flag(cf, Flags::CF);
            (r, status, Flags::STATUS)
        }
        Shift::Rol | Shift::Ror => {
            let n = count % bits;
            let r = if kind == Shift::Rol {
                ((a << n) | (a >> ((bits - n) % bits))) & mask
            } else {
                ((a >> n) | (a << ((bits - n) % bits))) & mask
            };
            let (cf, of) = if kind == Shift::Rol {
                let cf = r & 1 != 0;
                (cf, msb(r) != cf)
            } else {
                (msb(r), msb(r) != (r & (width.sign_bit() >> 1) != 0))
            };
            (
                r,
                flag(cf, Flags::CF) | flag(of, Flags::OF),
                Flags::CF | Flags::OF,
            )
        }
        Shift::Rcl | Shift::Rcr => {
            let n = count % (bits + 1);
            let mut r = a;
            let mut cf = carry_in;
            for _ in 0..n {
                if kind == Shift::Rcl {
                    let out = msb(r);
                    r = ((r << 1) | u32::from(cf)) & mask;
                    cf = out;
                } else {
                    let out = r & 1 != 0;
                    r = (r >> 1) | if cf { width.sign_bit() } else { 0 };
                    cf = out;
                }
            }
            let of = if kind == Shift::Rcl {
                msb(r) != cf
            } else {
                msb(r) != (r & (width.sign_bit() >> 1) != 0)
            };
            (
                r,
                flag(cf, Flags::CF) | flag(of, Flags::OF),
                Flags::CF | Flags::OF,
            )
        }
    }
}
