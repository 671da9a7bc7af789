//! The architectural register state of the CPU.

use crate::alu;
use crate::decode::Width;
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

/// A segment register, numbered as in the ModRM `reg` field of `mov sreg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Seg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl Seg {
    pub const ALL: [Seg; 6] = [Seg::Es, Seg::Cs, Seg::Ss, Seg::Ds, Seg::Fs, Seg::Gs];

    pub fn from_index(n: u8) -> Seg {
        Seg::ALL[usize::from(n % 6)]
    }

    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds", "fs", "gs"][self as usize]
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
    /// The I/O privilege level, two bits.
    pub const IOPL: u32 = 3 << 12;
    pub const NT: u32 = 1 << 14;
    /// Bit 1 always reads as one.
    pub const RESERVED_ONE: u32 = 1 << 1;
    /// The six arithmetic status flags.
    pub const STATUS: u32 = Self::CF | Self::PF | Self::AF | Self::ZF | Self::SF | Self::OF;
    /// The bits software can change with `popfd` at ring 0.
    pub const WRITABLE: u32 = Self::STATUS | Self::TF | Self::IF | Self::DF | Self::IOPL | Self::NT;
}

/// CR0 bits.
#[derive(Debug)]
pub struct Cr0;

impl Cr0 {
    /// Protection enable.
    pub const PE: u32 = 1 << 0;
    /// Extension type: reads as 1 whatever is written, as on every CPU from
    /// the P6 on (Intel SDM vol. 3, 2.5) and on QEMU's, so a kernel that
    /// reads CR0 (`smsw` in ring 1 included) sees what it sees there.
    pub const ET: u32 = 1 << 4;
    /// Write protect: ring 0 honours read-only pages too.
    pub const WP: u32 = 1 << 16;
    /// Paging.
    pub const PG: u32 = 1 << 31;
}

/// CR4 bits.
#[derive(Debug)]
pub struct Cr4;

impl Cr4 {
    /// Time-stamp disable: `rdtsc` outside ring 0 raises #GP.
    pub const TSD: u32 = 1 << 2;
    /// Page size extension: a directory entry with PS set maps 4 MiB.
    pub const PSE: u32 = 1 << 4;
}

/// The hidden part of a segment register: what the CPU loaded from the
/// segment's descriptor (in real mode, from the selector) and uses on every
/// access through it, until the register is loaded again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegCache {
    /// Added to every offset to make the linear address.
    pub base: u32,
    /// The last valid offset (in bytes, granularity applied).
    pub limit: u32,
    /// The descriptor's D/B bit: a code segment's default operand and
    /// address size is 32 bits, a stack segment's pointer is ESP (not SP).
    pub big: bool,
    /// The descriptor's access byte: present (bit 7), DPL (bits 5-6), S
    /// (bit 4) and type (bits 0-3). Real mode's segments are present
    /// read/write data of DPL 0 (0x93).
    pub access: u8,
}

impl SegCache {
    /// A flat 32-bit segment: base 0, limit 4 GiB.
    pub const FLAT: SegCache = SegCache {
        base: 0,
        limit: 0xFFFF_FFFF,
        big: true,
        access: SegCache::REAL_ACCESS,
    };

    /// The access byte of a real-mode segment: present read/write data,
    /// DPL 0, accessed.
    pub const REAL_ACCESS: u8 = 0x93;

    /// A real-mode segment: base selector × 16, limit 64 KiB, 16-bit.
    /// The descriptor privilege level.
    #[inline]
    pub fn dpl(&self) -> u8 {
        (self.access >> 5) & 3
    }

    /// A code segment (S and the type's bit 3 set).
    #[inline]
    pub fn is_code(&self) -> bool {
        self.access & 0x18 == 0x18
    }

    /// A conforming code segment.
    #[inline]
    pub fn is_conforming(&self) -> bool {
        self.access & 0x1C == 0x1C
    }

    /// Whether `n` bytes at `offset` lie within the segment's limit: for
    /// an expand-up segment, up to the limit (a 4 GiB segment holds every
    /// offset, wrapping included, as on Bochs); for an expand-down data
    /// segment, above the limit and up to 0xFFFF or, with B set,
    /// 0xFFFFFFFF. An access that wraps past 4 GiB in a smaller segment
    /// does not fit.
    #[inline]
    pub fn holds(&self, offset: u32, n: u32) -> bool {
        let last = offset.wrapping_add(n - 1);
        if self.access & 0x1C == 0x14 {
            let upper = if self.big { u32::MAX } else { 0xFFFF };
            offset > self.limit && last >= offset && last <= upper
        } else {
            self.limit == u32::MAX || (last >= offset && last <= self.limit)
        }
    }

    /// Whether the segment may be read: data, or readable code.
    #[inline]
    pub fn readable(&self) -> bool {
        !self.is_code() || self.access & 0x02 != 0
    }

    /// What loading `selector` into this segment register in real mode
    /// leaves: the base becomes selector × 16; the limit, size and access
    /// stay as they were (so "unreal mode" keeps a 4 GiB limit).
    #[inline]
    pub fn with_real_base(self, selector: u16) -> SegCache {
        SegCache {
            base: u32::from(selector) << 4,
            ..self
        }
    }

    /// Whether the segment may be written: writable data.
    #[inline]
    pub fn writable(&self) -> bool {
        self.access & 0x1A == 0x12
    }

    pub fn real(selector: u16) -> SegCache {
        SegCache {
            base: u32::from(selector) << 4,
            limit: 0xFFFF,
            big: false,
            access: SegCache::REAL_ACCESS,
        }
    }
}

/// The default operand and address size of the code being executed (the
/// D bit of CS's descriptor; 16 bits in real mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodeSize {
    Bits16,
    Bits32,
}

/// A descriptor-table register (GDTR or IDTR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableReg {
    pub base: u32,
    pub limit: u16,
}

/// The operation that last set the status flags, kept so that the flags are
/// computed only when something reads them (most results are overwritten
/// before any instruction looks at their flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum LazyOp {
    /// The status bits in `eflags_base` are current.
    None,
    Add,
    Adc,
    Sub,
    Sbb,
    Logic,
    /// INC and DEC keep CF, which then lives in `eflags_base`.
    Inc,
    Dec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct LazyFlags {
    pub op: LazyOp,
    pub width: Width,
    pub a: u32,
    pub b: u32,
    pub r: u32,
    /// The carry into ADC and SBB (their flags depend on it).
    pub carry: bool,
    /// CF as the operation left it, worked out when it is recorded: INC
    /// and DEC keep CF, and finding it then from the operation before would
    /// cost a dispatch on that operation (an `add`, `dec`, `jnz` loop made
    /// one each iteration).
    pub cf: bool,
}

/// The CPU's registers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cpu {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI in encoding order.
    pub gpr: [u32; 8],
    pub eip: u32,
    /// EFLAGS, except the status bits while `lazy.op` is not `None`.
    eflags_base: u32,
    lazy: LazyFlags,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    /// Segment selectors ES, CS, SS, DS, FS, GS (CPL is the low two bits of
    /// CS in protected mode). Loaded only with [`Cpu::load_seg`], which
    /// keeps the caches and `flat` with them.
    seg: [u16; 6],
    /// What each segment register holds of its descriptor.
    seg_cache: [SegCache; 6],
    /// The current privilege level: CS's RPL when it was loaded in
    /// protected mode, 0 when it was loaded in real mode.
    cpl: u8,
    /// Every segment's base is 0 and its limit 4 GiB, the data segments
    /// are writable, and CS and SS are 32-bit: the segments add nothing to
    /// an address and refuse no access, so no segment check is made (not
    /// even for a null data selector, which would fault) and the block path
    /// may run (it assumes so). FS and GS may hold a null selector on a
    /// flat machine (xv6's boot sector leaves them so, and xv6 never loads
    /// them again): nothing addresses through them by default, and an
    /// access that names them is checked all the same (see `null_fs_gs`).
    flat: bool,
    /// FS and GS (bits 4 and 5, by `Seg` number) hold a null selector
    /// loaded in protected mode: any access through them faults.
    null_fs_gs: u8,
    pub gdtr: TableReg,
    pub idtr: TableReg,
    /// The task register's selector, and the TSS base read from its descriptor.
    pub tr: u16,
    pub tss_base: u32,
    /// The limit of the task state segment `ltr` loaded (where its I/O
    /// permission bitmap must end).
    pub tss_limit: u32,
    /// The LDT register's selector (0: no LDT), and the base and limit
    /// read from its descriptor by `lldt`.
    pub ldtr: u16,
    pub ldt_base: u32,
    pub ldt_limit: u32,
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu {
            gpr: [0; 8],
            eip: 0,
            eflags_base: Flags::RESERVED_ONE,
            lazy: LazyFlags {
                op: LazyOp::None,
                width: Width::Dword,
                a: 0,
                b: 0,
                r: 0,
                carry: false,
                cf: false,
            },
            cr0: Cr0::PE | Cr0::ET,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            seg: [0x10, 0x08, 0x10, 0x10, 0x10, 0x10],
            seg_cache: [SegCache::FLAT; 6],
            cpl: 0,
            flat: true,
            null_fs_gs: 0,
            gdtr: TableReg::default(),
            idtr: TableReg::default(),
            tr: 0,
            tss_base: 0,
            tss_limit: 0,
            ldtr: 0,
            ldt_base: 0,
            ldt_limit: 0,
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

    /// A segment selector.
    #[inline]
    pub fn sreg(&self, s: Seg) -> u16 {
        self.seg[s as usize]
    }

    /// What segment register `s` holds of its descriptor.
    #[inline]
    pub fn segment(&self, s: Seg) -> SegCache {
        self.seg_cache[s as usize]
    }

    /// The base of segment register `s` (0 on a flat machine).
    #[inline(always)]
    pub fn seg_base(&self, s: Seg) -> u32 {
        self.seg_cache[s as usize].base
    }

    /// Loads segment register `s` with `selector` and what the CPU read of
    /// its descriptor.
    pub(crate) fn load_seg(&mut self, s: Seg, selector: u16, cache: SegCache) {
        self.seg[s as usize] = selector;
        self.seg_cache[s as usize] = cache;
        self.null_fs_gs &= !(1 << s as u8);
        if s == Seg::Cs {
            self.cpl = if self.real_mode() {
                0
            } else {
                (selector & 3) as u8
            };
        }
        self.update_flat();
    }

    /// Works out `flat` again: no segment adds a base or can refuse an
    /// access (FS and GS may instead hold a null selector, checked on every
    /// access that names them), so the step path skips the segment checks
    /// and the block path may run.
    fn update_flat(&mut self) {
        let null = self.null_fs_gs;
        self.flat = self.seg_cache.iter().enumerate().all(|(i, c)| {
            null & (1 << i) != 0 || (c.base == 0 && c.limit == u32::MAX && (i == 1 || c.writable()))
        }) && self.seg_cache[Seg::Cs as usize].big
            && self.seg_cache[Seg::Ss as usize].big;
    }

    /// Whether an access through `s` must be checked on a flat machine: FS
    /// or GS holding a null selector (any access through it faults).
    #[inline(always)]
    pub fn checked_when_flat(&self, s: Seg) -> bool {
        self.null_fs_gs & (1 << s as u8) != 0
    }

    /// Loads only the selector of `s` (a null selector into a data segment
    /// register in protected mode: the cache is kept, and any access
    /// through it would fault on a real CPU; flat segments do not check).
    pub(crate) fn load_selector(&mut self, s: Seg, selector: u16) {
        self.seg[s as usize] = selector;
        if matches!(s, Seg::Fs | Seg::Gs) && selector & !3 == 0 && !self.real_mode() {
            self.null_fs_gs |= 1 << s as u8;
            self.update_flat();
        }
    }

    /// Whether segments add nothing to addresses and code and stack are
    /// 32-bit (see the field).
    #[inline(always)]
    pub fn is_flat(&self) -> bool {
        self.flat
    }

    /// The default operand and address size of the code at CS:EIP.
    #[inline(always)]
    pub fn code_size(&self) -> CodeSize {
        if self.seg_cache[Seg::Cs as usize].big {
            CodeSize::Bits32
        } else {
            CodeSize::Bits16
        }
    }

    /// Whether the stack pointer is SP (a 16-bit stack segment).
    #[inline(always)]
    pub fn stack16(&self) -> bool {
        !self.seg_cache[Seg::Ss as usize].big
    }

    /// Whether the CPU is in real-address mode (CR0.PE clear).
    #[inline(always)]
    pub fn real_mode(&self) -> bool {
        self.cr0 & Cr0::PE == 0
    }

    /// The state after power-on or reset (the SDM's table 9-1): real mode,
    /// CS selector F000 with base FFFF0000, so the first instruction is
    /// fetched at FFFFFFF0; the other segments at 0 with 64 KiB limits;
    /// CR0 60000010 (caching off, an FPU present); EFLAGS 2; the IDT at 0
    /// with the real-mode vector table's limit.
    pub fn power_on() -> Cpu {
        let mut cpu = Cpu {
            eip: 0xFFF0,
            cr0: 0x6000_0010,
            gdtr: TableReg {
                base: 0,
                limit: 0xFFFF,
            },
            idtr: TableReg {
                base: 0,
                limit: 0x3FF,
            },
            ..Cpu::default()
        };
        for s in Seg::ALL {
            cpu.load_seg(s, 0, SegCache::real(0));
        }
        cpu.load_seg(
            Seg::Cs,
            0xF000,
            SegCache {
                base: 0xFFFF_0000,
                ..SegCache::real(0xF000)
            },
        );
        cpu
    }

    /// The current privilege level: the low two bits of CS as loaded in
    /// protected mode, 0 in real mode.
    #[inline]
    pub fn cpl(&self) -> u8 {
        self.cpl
    }

    /// Whether paging is on.
    #[inline]
    pub fn paging(&self) -> bool {
        self.cr0 & Cr0::PG != 0
    }

    /// EFLAGS with every bit current.
    pub fn eflags(&self) -> u32 {
        if self.lazy.op == LazyOp::None {
            return self.eflags_base;
        }
        (self.eflags_base & !Flags::STATUS) | self.lazy_status()
    }

    /// Replaces EFLAGS (bit 1 always reads as one).
    pub fn set_eflags(&mut self, value: u32) {
        self.lazy.op = LazyOp::None;
        self.eflags_base = value | Flags::RESERVED_ONE;
        self.sync_cf();
    }

    /// Keeps `lazy.cf` equal to CF while the status bits are in
    /// `eflags_base`, so that INC and DEC read CF from one place whatever
    /// came before them.
    #[inline(always)]
    fn sync_cf(&mut self) {
        self.lazy.cf = self.eflags_base & Flags::CF != 0;
    }

    fn lazy_status(&self) -> u32 {
        let l = &self.lazy;
        let w = l.width;
        match l.op {
            LazyOp::None => self.eflags_base & Flags::STATUS,
            LazyOp::Add => alu::add(l.a, l.b, false, w).1,
            LazyOp::Adc => alu::add(l.a, l.b, l.carry, w).1,
            LazyOp::Sub => alu::sub(l.a, l.b, false, w).1,
            LazyOp::Sbb => alu::sub(l.a, l.b, l.carry, w).1,
            LazyOp::Logic => alu::logic(l.r, w),
            LazyOp::Inc => (alu::add(l.a, 1, false, w).1 & !Flags::CF) | u32::from(l.cf),
            LazyOp::Dec => (alu::sub(l.a, 1, false, w).1 & !Flags::CF) | u32::from(l.cf),
        }
    }

    /// Whether the given EFLAGS bit (one of the [`Flags`] masks) is set.
    #[inline(always)]
    pub fn flag(&self, mask: u32) -> bool {
        if mask & Flags::STATUS == 0 || self.lazy.op == LazyOp::None {
            return self.eflags_base & mask != 0;
        }
        match mask {
            Flags::ZF => self.lazy.r == 0,
            Flags::SF => self.lazy.r & self.lazy.width.sign_bit() != 0,
            Flags::CF => self.lazy.cf,
            _ => self.eflags() & mask != 0,
        }
    }

    /// Sets or clears one EFLAGS bit.
    #[inline]
    pub fn set_flag(&mut self, mask: u32, on: bool) {
        if mask & Flags::STATUS != 0 {
            self.materialize();
        }
        if on {
            self.eflags_base |= mask;
        } else {
            self.eflags_base &= !mask;
        }
        self.sync_cf();
    }

    /// Makes `eflags_base` hold every status bit.
    #[inline]
    pub(crate) fn materialize(&mut self) {
        if self.lazy.op != LazyOp::None {
            self.eflags_base = self.eflags();
            self.lazy.op = LazyOp::None;
            self.sync_cf();
        }
    }

    /// Records the operation whose flags are now current, without computing them.
    #[inline(always)]
    pub(crate) fn set_lazy(
        &mut self,
        op: LazyOp,
        width: Width,
        a: u32,
        b: u32,
        r: u32,
        carry: bool,
    ) {
        // CF now, as the flags' other bits are computed later from the
        // operands; INC and DEC keep the CF they found.
        let cf = match op {
            LazyOp::Add => r < a,
            LazyOp::Adc => r < a || (carry && r == a),
            LazyOp::Sub => a < b,
            LazyOp::Sbb => a < b || (carry && a == b),
            LazyOp::Logic => false,
            // Current whether or not an operation is pending (`sync_cf`).
            LazyOp::Inc | LazyOp::Dec | LazyOp::None => self.lazy.cf,
        };
        // Only the operands the flags are later computed from are written
        // (a logic result's flags come from the result alone, INC's and
        // DEC's from their one operand, and only ADC's and SBB's from the
        // carry in): each store skipped is one fewer on every such
        // instruction. The fields left hold what an earlier operation
        // wrote, the same on every path to this state, so the step and
        // block paths still reach equal states.
        let l = &mut self.lazy;
        l.op = op;
        l.width = width;
        l.r = r;
        l.cf = cf;
        match op {
            LazyOp::Logic | LazyOp::None => {}
            LazyOp::Inc | LazyOp::Dec => l.a = a,
            LazyOp::Add | LazyOp::Sub => {
                l.a = a;
                l.b = b;
            }
            LazyOp::Adc | LazyOp::Sbb => {
                l.a = a;
                l.b = b;
                l.carry = carry;
            }
        }
    }

    /// Sets the status bits to `status` (only the bits in `mask` change).
    #[inline]
    pub(crate) fn set_status(&mut self, status: u32, mask: u32) {
        self.materialize();
        self.eflags_base = (self.eflags_base & !mask) | (status & mask);
        self.sync_cf();
    }
}
