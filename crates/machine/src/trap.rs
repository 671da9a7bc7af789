//! Exceptions and interrupts, delivered through the IDT as the SDM describes:
//! the gate's checks, the stack switch from the TSS on a privilege change,
//! the frame pushed, double and triple faults, and `iret` back.

use crate::cpu::{Flags, Reg, Seg, SegCache};
use crate::event::{Access, Event, EventKind, Pushed, PushedValue, StackSwitch, TrapKind};
use crate::machine::Machine;
use serde::{Deserialize, Serialize};

/// An exception the CPU raises, with its error code where the vector has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Exception {
    /// #DE, vector 0: divide error.
    DivideError,
    /// #DB, vector 1: debug (single step with TF).
    Debug,
    /// #BP, vector 3: `int3`.
    Breakpoint,
    /// #UD, vector 6: invalid opcode.
    /// `bound` found the index out of its bounds (#BR, vector 5).
    BoundRange,
    InvalidOpcode,
    /// #DF, vector 8: a fault while delivering a fault.
    DoubleFault,
    /// #TS, vector 10: invalid TSS.
    InvalidTss(u32),
    /// #NP, vector 11: segment or gate not present.
    NotPresent(u32),
    /// #SS, vector 12: stack segment fault.
    StackFault(u32),
    /// #GP, vector 13: general protection.
    GeneralProtection(u32),
    /// #PF, vector 14: page fault at a linear address, with its error code.
    PageFault {
        linear: u32,
        error_code: u32,
    },
}

/// Page-fault error code bits.
#[derive(Debug)]
pub struct PfCode;

impl PfCode {
    /// Set: a protection violation on a present page. Clear: the page was not present.
    pub const PRESENT: u32 = 1 << 0;
    /// Set: the access was a write.
    pub const WRITE: u32 = 1 << 1;
    /// Set: the access came from ring 3.
    pub const USER: u32 = 1 << 2;
}

/// How two exceptions combine (SDM Vol. 3, table 6-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Benign,
    Contributory,
    PageFault,
    DoubleFault,
}

impl Exception {
    pub fn vector(self) -> u8 {
        match self {
            Exception::DivideError => 0,
            Exception::Debug => 1,
            Exception::Breakpoint => 3,
            Exception::BoundRange => 5,
            Exception::InvalidOpcode => 6,
            Exception::DoubleFault => 8,
            Exception::InvalidTss(_) => 10,
            Exception::NotPresent(_) => 11,
            Exception::StackFault(_) => 12,
            Exception::GeneralProtection(_) => 13,
            Exception::PageFault { .. } => 14,
        }
    }

    /// Whether the architecture reserves `vector` for exceptions (0–31):
    /// a kernel's device interrupts and system calls use the others.
    pub fn is_reserved(vector: u8) -> bool {
        vector < 32
    }

    /// Whether the CPU pushes an error code when it raises `vector` as an
    /// exception: #DF, #TS, #NP, #SS, #GP, #PF and #AC do; an `int n`
    /// through the same vector, and every other vector, push none.
    pub fn pushes_error_code(vector: u8) -> bool {
        matches!(vector, 8 | 10..=14 | 17)
    }

    /// The error code the CPU pushes, for the vectors that have one.
    pub fn error_code(self) -> Option<u32> {
        match self {
            Exception::DoubleFault => Some(0),
            Exception::InvalidTss(c)
            | Exception::NotPresent(c)
            | Exception::StackFault(c)
            | Exception::GeneralProtection(c) => Some(c),
            Exception::PageFault { error_code, .. } => Some(error_code),
            _ => None,
        }
    }

    /// The mnemonic, for example `"#PF"`.
    pub fn mnemonic(self) -> &'static str {
        match self {
            Exception::DivideError => "#DE",
            Exception::Debug => "#DB",
            Exception::Breakpoint => "#BP",
            Exception::BoundRange => "#BR",
            Exception::InvalidOpcode => "#UD",
            Exception::DoubleFault => "#DF",
            Exception::InvalidTss(_) => "#TS",
            Exception::NotPresent(_) => "#NP",
            Exception::StackFault(_) => "#SS",
            Exception::GeneralProtection(_) => "#GP",
            Exception::PageFault { .. } => "#PF",
        }
    }

    fn class(self) -> Class {
        match self {
            Exception::DivideError
            | Exception::InvalidTss(_)
            | Exception::NotPresent(_)
            | Exception::StackFault(_)
            | Exception::GeneralProtection(_) => Class::Contributory,
            Exception::PageFault { .. } => Class::PageFault,
            Exception::DoubleFault => Class::DoubleFault,
            _ => Class::Benign,
        }
    }

    /// Whether the frame's EIP points after the instruction (a trap) rather
    /// than at it (a fault, which restarts the instruction).
    fn is_trap(self) -> bool {
        matches!(self, Exception::Breakpoint | Exception::Debug)
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (vector {})", self.mnemonic(), self.vector())?;
        match self {
            Exception::PageFault { linear, error_code } => {
                write!(f, " at {linear:#010x}, error code {error_code:#x}")
            }
            other => match other.error_code() {
                Some(c) => write!(f, ", error code {c:#x}"),
                None => Ok(()),
            },
        }
    }
}

/// An IDT gate, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub offset: u32,
    pub selector: u16,
    /// The descriptor type: 0xE for a 32-bit interrupt gate, 0xF for a trap gate.
    pub gate_type: u8,
    pub dpl: u8,
    pub present: bool,
}

impl Gate {
    /// Decodes the two words of a gate descriptor.
    pub fn decode(low: u32, high: u32) -> Gate {
        Gate {
            offset: (low & 0xFFFF) | (high & 0xFFFF_0000),
            selector: (low >> 16) as u16,
            gate_type: ((high >> 8) & 0x1F) as u8,
            dpl: ((high >> 13) & 3) as u8,
            present: high & (1 << 15) != 0,
        }
    }

    pub fn is_interrupt_gate(self) -> bool {
        self.gate_type == 0xE
    }
}

/// A GDT segment or system descriptor, decoded: the one place its bits are
/// read (the gates have [`Gate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The type field with the S bit: bits 8-12 of the high word.
    pub kind: u8,
    pub dpl: u8,
    pub present: bool,
}

impl Descriptor {
    /// Decodes the high word of a descriptor (the low word holds base and
    /// limit, which flat segments do not use).
    pub fn decode(high: u32) -> Descriptor {
        Descriptor {
            kind: ((high >> 8) & 0x1F) as u8,
            dpl: ((high >> 13) & 3) as u8,
            present: high & (1 << 15) != 0,
        }
    }

    /// What a segment register keeps of a code or data descriptor whose
    /// two words are `low` and `high`: its base, its limit (in bytes, with
    /// 4 KiB granularity applied when G is set) and its D/B bit.
    pub fn cache(low: u32, high: u32) -> SegCache {
        let base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000);
        let raw = (low & 0xFFFF) | (high & 0x000F_0000);
        let limit = if high & (1 << 23) != 0 {
            (raw << 12) | 0xFFF
        } else {
            raw
        };
        SegCache {
            base,
            limit,
            big: high & (1 << 22) != 0,
            access: (high >> 8) as u8,
        }
    }

    /// A code or data segment (S set), not a system descriptor.
    pub fn is_segment(self) -> bool {
        self.kind & 0x10 != 0
    }

    /// A code segment.
    pub fn is_code(self) -> bool {
        self.is_segment() && self.kind & 0x08 != 0
    }

    /// Readable (code) or writable (data).
    pub fn readable_or_writable(self) -> bool {
        self.kind & 0x02 != 0
    }

    /// An available 32-bit TSS.
    pub fn is_available_tss(self) -> bool {
        self.kind == 0x09
    }

    /// The segment limit (its last valid offset) of the descriptor words
    /// `low` and `high`, in bytes (granularity bit 23 counts 4 KiB units).
    pub fn limit(low: u32, high: u32) -> u32 {
        let raw = (low & 0xFFFF) | (high & 0xF_0000);
        if high & (1 << 23) != 0 {
            (raw << 12) | 0xFFF
        } else {
            raw
        }
    }
}

/// The EFLAGS bits that `popfd` and `iret` may change at `cpl` with the
/// current flags `old`: ring 0 every writable bit; a higher ring not IOPL,
/// nor IF unless IOPL allows it.
pub(crate) fn changeable_flags(cpl: u8, old: u32) -> u32 {
    let mut writable = Flags::WRITABLE;
    if cpl > 0 {
        writable &= !Flags::IOPL;
        if u32::from(cpl) > (old & Flags::IOPL) >> 12 {
            writable &= !Flags::IF;
        }
    }
    writable
}

/// What is being delivered.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    Exception(Exception),
    /// `int n` or `int3`.
    Software(u8),
    /// Device line `irq`, vector `vector`.
    External {
        vector: u8,
    },
}

impl Source {
    fn vector(self) -> u8 {
        match self {
            Source::Exception(e) => e.vector(),
            Source::Software(v) => v,
            Source::External { vector } => vector,
        }
    }

    /// What kind of trap this is, as the trap-entry event says it.
    fn kind(self) -> TrapKind {
        match self {
            Source::Exception(_) => TrapKind::Exception,
            Source::Software(_) => TrapKind::Software,
            Source::External { .. } => TrapKind::External,
        }
    }

    /// The EXT bit of error codes raised while delivering this.
    fn ext(self) -> u32 {
        u32::from(matches!(self, Source::External { .. }))
    }
}

/// The outcome of delivering an exception when the delivery itself faults
/// twice: the machine can go no further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TripleFault {
    pub vector: u8,
}

impl Machine {
    /// Reads the two words of the descriptor `selector` names, in the GDT
    /// or (TI set) the LDT, or faults with #GP(selector) when it lies past
    /// its table's limit (or names the LDT while there is none).
    pub(crate) fn descriptor(&mut self, selector: u16) -> Result<(u32, u32), Exception> {
        match self.descriptor_address(selector) {
            Some(addr) => Ok((
                self.sys_read(addr, 4)?,
                self.sys_read(addr.wrapping_add(4), 4)?,
            )),
            None => Err(Exception::GeneralProtection(u32::from(selector & !3))),
        }
    }

    /// The linear address of the descriptor `selector` names, if it lies
    /// within its table.
    pub(crate) fn descriptor_address(&self, selector: u16) -> Option<u32> {
        let index = u32::from(selector & !7);
        let (base, limit) = if selector & 4 != 0 {
            if self.cpu.ldtr & !3 == 0 {
                return None;
            }
            (self.cpu.ldt_base, self.cpu.ldt_limit)
        } else {
            (self.cpu.gdtr.base, u32::from(self.cpu.gdtr.limit))
        };
        (index + 7 <= limit).then(|| base.wrapping_add(index))
    }

    /// Delivers `source` through the IDT. `return_eip` is the EIP the frame
    /// records. Faults during delivery come back as the error.
    fn deliver(&mut self, source: Source, return_eip: u32) -> Result<(), Exception> {
        if self.cpu.real_mode() {
            return self.deliver_real(source, return_eip);
        }
        let vector = source.vector();
        let ext = source.ext();
        let idt_code = u32::from(vector) * 8 + 2 + ext;
        if u32::from(vector) * 8 + 7 > u32::from(self.cpu.idtr.limit) {
            return Err(Exception::GeneralProtection(idt_code));
        }
        let gate_addr = self.cpu.idtr.base.wrapping_add(u32::from(vector) * 8);
        let low = self.sys_read(gate_addr, 4)?;
        let high = self.sys_read(gate_addr.wrapping_add(4), 4)?;
        let gate = Gate::decode(low, high);
        if !matches!(gate.gate_type, 0xE | 0xF) {
            return Err(Exception::GeneralProtection(idt_code));
        }
        let cpl = self.cpu.cpl();
        if matches!(source, Source::Software(_)) && gate.dpl < cpl {
            return Err(Exception::GeneralProtection(idt_code));
        }
        if !gate.present {
            return Err(Exception::NotPresent(idt_code));
        }
        let (cs_low, cs_high) = self.descriptor(gate.selector)?;
        let cs = Descriptor::decode(cs_high);
        let target_dpl = cs.dpl;
        if !cs.is_code() || target_dpl > cpl || gate.selector & !3 == 0 {
            return Err(Exception::GeneralProtection(
                u32::from(gate.selector & !3) + ext,
            ));
        }
        if !cs.present {
            return Err(Exception::NotPresent(u32::from(gate.selector & !3) + ext));
        }
        let new_cpl = target_dpl;

        // The values to push, in push order.
        let old_ss = self.cpu.sreg(Seg::Ss);
        let mut new_ss_cache = self.cpu.segment(Seg::Ss);
        let old_esp = self.cpu.reg(Reg::Esp);
        let eflags = self.cpu.eflags();
        // At most six slots (SS, ESP, EFLAGS, CS, EIP, an error code), kept
        // in place: a hypervisor's guest takes an exception on every exit.
        let mut frame = Frame::default();
        let (new_ss, mut esp, switch) = if new_cpl < cpl {
            // The stack of the ring the handler runs in: SSn:ESPn of the
            // TSS for ring n (ESP0 at offset 4, SS0 at 8, ESP1 at 12, ...),
            // so an interrupt from ring 3 into ring 1 code (as a VMM gives
            // its deprivileged guest kernel) takes SS1:ESP1 (Intel SDM vol.
            // 3, 6.12.1). The selector must name a present, writable data
            // segment of that ring.
            let tss = self.cpu.tss_base;
            let slot = 8 * u32::from(new_cpl);
            let new_esp = self.sys_read(tss.wrapping_add(4 + slot), 4)?;
            let ss = self.sys_read(tss.wrapping_add(8 + slot), 2)? as u16;
            let ts = Exception::InvalidTss(u32::from(ss & !3) + ext);
            if ss & !3 == 0 || ss & 3 != u16::from(new_cpl) {
                return Err(ts);
            }
            let (ss_low, ss_high) = self.descriptor(ss)?;
            let d = Descriptor::decode(ss_high);
            if !d.is_segment() || d.is_code() || !d.readable_or_writable() || d.dpl != new_cpl {
                return Err(ts);
            }
            if !d.present {
                return Err(Exception::StackFault(u32::from(ss & !3) + ext));
            }
            new_ss_cache = Descriptor::cache(ss_low, ss_high);
            frame.push(Pushed::Ss, u32::from(old_ss));
            frame.push(Pushed::Esp, old_esp);
            let switch = StackSwitch {
                old_ss,
                old_esp,
                new_ss: ss,
                new_esp,
            };
            (ss, new_esp, Some(switch))
        } else {
            (old_ss, old_esp, None)
        };
        frame.push(Pushed::Eflags, eflags);
        frame.push(Pushed::Cs, u32::from(self.cpu.sreg(Seg::Cs)));
        frame.push(Pushed::Eip, return_eip);
        let error_code = match source {
            Source::Exception(e) => e.error_code(),
            _ => None,
        };
        if let Some(code) = error_code {
            frame.push(Pushed::ErrorCode, code);
        }

        // Translate every slot before writing any, so a fault leaves memory
        // and registers as they were. The frame goes through the stack
        // segment's base; a 16-bit stack segment moves only SP.
        let mut targets = [None; 6];
        let mut addrs = [0u32; 6];
        let stack16 = !new_ss_cache.big;
        let start = esp;
        for (k, &(_, value)) in frame.slots().iter().enumerate() {
            esp = esp.wrapping_sub(4);
            let offset = if stack16 { esp & 0xFFFF } else { esp };
            let linear = new_ss_cache.base.wrapping_add(offset);
            targets[k] = Some((self.locate_sys(linear, Access::Write)?, value));
            addrs[k] = linear;
        }
        if stack16 {
            esp = (start & 0xFFFF_0000) | (esp & 0xFFFF);
        }
        for (span, value) in targets.into_iter().flatten() {
            self.store_span(span, 4, value);
        }

        self.load_cs(
            (gate.selector & !3) | u16::from(new_cpl),
            Descriptor::cache(cs_low, cs_high),
        );
        self.cpu.load_seg(Seg::Ss, new_ss, new_ss_cache);
        self.cpu.set_reg(Reg::Esp, esp);
        self.cpu.eip = gate.offset;
        let mut flags = eflags & !(Flags::TF | Flags::NT);
        if gate.is_interrupt_gate() {
            flags &= !Flags::IF;
        }
        self.cpu.set_eflags(flags);
        self.halted = false;
        let kind = source.kind();
        self.emit(EventKind::TrapEntry, || Event::TrapEntry {
            vector,
            source: kind,
            error_code,
            cpl_before: cpl,
            cpl_after: new_cpl,
            gate_dpl: gate.dpl,
            interrupt_gate: gate.is_interrupt_gate(),
            stack_switch: switch,
            pushed: frame
                .slots()
                .iter()
                .zip(addrs)
                .map(|(&(what, value), addr)| PushedValue { what, addr, value })
                .collect(),
            handler: gate.offset,
            return_eip,
        });
        Ok(())
    }

    /// Delivers an exception raised by the instruction at `fault_eip` (whose
    /// length is `len`), combining faults during delivery into #DF and a
    /// triple fault as the SDM's table does.
    pub(crate) fn raise(
        &mut self,
        exception: Exception,
        fault_eip: u32,
        len: u32,
    ) -> Result<(), TripleFault> {
        let return_eip = if exception.is_trap() {
            fault_eip.wrapping_add(len)
        } else {
            fault_eip
        };
        self.deliver_with_nesting(Source::Exception(exception), return_eip)
    }

    /// Delivers `source`; if that faults, applies the double-fault rules.
    pub(crate) fn deliver_with_nesting(
        &mut self,
        source: Source,
        return_eip: u32,
    ) -> Result<(), TripleFault> {
        if let Source::Exception(e) = source {
            self.note_exception(e, return_eip);
        }
        let second = match self.deliver(source, return_eip) {
            Ok(()) => return Ok(()),
            Err(second) => second,
        };
        self.note_exception(second, return_eip);
        let first_class = match source {
            Source::Exception(e) => e.class(),
            _ => Class::Benign,
        };
        let double = match (first_class, second.class()) {
            (Class::DoubleFault, _) => return Err(TripleFault { vector: 8 }),
            (Class::Contributory, Class::Contributory) => true,
            (Class::PageFault, Class::Contributory | Class::PageFault) => true,
            _ => false,
        };
        if !double {
            // The first event is dropped and the second handled in its place.
            return self.deliver_with_nesting(Source::Exception(second), return_eip);
        }
        let first = source.vector();
        self.emit(EventKind::DoubleFault, || Event::DoubleFault {
            first,
            second: second.vector(),
        });
        match self.deliver(Source::Exception(Exception::DoubleFault), return_eip) {
            Ok(()) => Ok(()),
            Err(third) => {
                self.note_exception(third, return_eip);
                self.emit(EventKind::TripleFault, || Event::TripleFault {
                    vector: third.vector(),
                });
                Err(TripleFault {
                    vector: third.vector(),
                })
            }
        }
    }

    /// Sets CR2 for a page fault and records it.
    fn note_exception(&mut self, e: Exception, eip: u32) {
        if let Exception::PageFault { linear, error_code } = e {
            self.cpu.cr2 = linear;
            self.emit(EventKind::PageFault, || Event::PageFault {
                linear,
                error_code,
                eip,
            });
        }
        if self.fault_chain.len() < 8 {
            self.fault_chain
                .push(FaultLink::Exception { exception: e, eip });
        }
    }

    /// Delivers a software interrupt (`int n`, `int3`) whose instruction
    /// ends at `next_eip`. Returns whether it was delivered (true) or turned
    /// into a fault of the `int` instruction itself (false), as a user
    /// `int` through a DPL 0 gate becomes a #GP.
    pub(crate) fn software_interrupt(
        &mut self,
        vector: u8,
        next_eip: u32,
        instr_eip: u32,
    ) -> Result<bool, TripleFault> {
        match self.deliver(Source::Software(vector), next_eip) {
            Ok(()) => Ok(true),
            Err(e) => {
                self.cpu.eip = instr_eip;
                self.deliver_with_nesting(Source::Exception(e), instr_eip)
                    .map(|()| false)
            }
        }
    }

    /// `iret`: returns from a handler, to ring 3 when the popped CS says so.
    pub(crate) fn iret(&mut self, width: crate::decode::Width) -> Result<(), Exception> {
        if self.cpu.real_mode() {
            return self.iret_real(width);
        }
        let cpl = self.cpu.cpl();
        let esp = self.cpu.reg(Reg::Esp);
        // EIP, CS and EFLAGS (then ESP and SS on a return to an outer
        // ring), each of the operand size, through the stack segment.
        let n = width.bytes();
        let slot = |m: &Self, k: u32| m.stack_linear(m.stack_pointer_plus(esp, k * n));
        let eip = self.lin_read(slot(self, 0), n)?;
        let cs = self.lin_read(slot(self, 1), n)? as u16;
        let eflags = self.lin_read(slot(self, 2), n)?;
        let rpl = (cs & 3) as u8;
        let cs_code = u32::from(cs & !3);
        if cs & !3 == 0 || rpl < cpl {
            return Err(Exception::GeneralProtection(cs_code));
        }
        let (cs_low, cs_high) = self.descriptor(cs)?;
        let code = Descriptor::decode(cs_high);
        let conforming = code.kind & 0x04 != 0;
        if !code.is_code() || (conforming && code.dpl > rpl) || (!conforming && code.dpl != rpl) {
            return Err(Exception::GeneralProtection(cs_code));
        }
        if !code.present {
            return Err(Exception::NotPresent(cs_code));
        }
        let (new_esp, new_ss, new_ss_cache) = if rpl > cpl {
            let outer_esp = self.lin_read(slot(self, 3), n)?;
            let ss = self.lin_read(slot(self, 4), n)? as u16;
            let ss_code = u32::from(ss & !3);
            if ss & !3 == 0 || ss & 3 != u16::from(rpl) {
                return Err(Exception::GeneralProtection(ss_code));
            }
            let (ss_low, ss_high) = self.descriptor(ss)?;
            let d = Descriptor::decode(ss_high);
            if !d.is_segment() || d.is_code() || !d.readable_or_writable() || d.dpl != rpl {
                return Err(Exception::GeneralProtection(ss_code));
            }
            if !d.present {
                return Err(Exception::StackFault(ss_code));
            }
            let cache = Descriptor::cache(ss_low, ss_high);
            // A 16-bit stack segment takes only SP.
            let esp = if cache.big {
                outer_esp
            } else {
                (self.cpu.reg(Reg::Esp) & 0xFFFF_0000) | (outer_esp & 0xFFFF)
            };
            (esp, ss, cache)
        } else {
            (
                self.stack_pointer_plus(esp, 3 * n),
                self.cpu.sreg(Seg::Ss),
                self.cpu.segment(Seg::Ss),
            )
        };
        let old = self.cpu.eflags();
        let writable = changeable_flags(cpl, old) & width.mask();
        self.cpu.set_eflags((old & !writable) | (eflags & writable));
        self.load_cs(cs, Descriptor::cache(cs_low, cs_high));
        self.cpu.load_seg(Seg::Ss, new_ss, new_ss_cache);
        self.cpu.set_reg(Reg::Esp, new_esp);
        if rpl > cpl {
            self.null_outer_data_segments();
        }
        self.cpu.eip = eip;
        if rpl == 3 {
            self.user_entries += 1;
        }
        self.emit(EventKind::Iret, || Event::Iret {
            cpl_before: cpl,
            cpl_after: rpl,
            eip,
            esp: new_esp,
        });
        Ok(())
    }

    /// After a return to an outer ring, each of ES, DS, FS and GS that
    /// holds a segment the new ring may not use (data or non-conforming
    /// code with DPL below the new CPL) is loaded with the null selector,
    /// as the SDM's `iret` and `ret` (far) do.
    pub(crate) fn null_outer_data_segments(&mut self) {
        let cpl = self.cpu.cpl();
        for seg in [Seg::Es, Seg::Ds, Seg::Fs, Seg::Gs] {
            let cache = self.cpu.segment(seg);
            if cache.dpl() < cpl && !cache.is_conforming() {
                self.cpu.load_selector(seg, 0);
            }
        }
    }

    /// Loads CS; code decoded for the other code size is forgotten when the
    /// size changes (the decode caches are keyed by physical address only).
    pub(crate) fn load_cs(&mut self, selector: u16, cache: SegCache) {
        let before = self.cpu.code_size();
        self.cpu.load_seg(Seg::Cs, selector, cache);
        if self.cpu.code_size() != before {
            self.forget_decoded();
        }
    }

    /// Delivers `source` in real mode, through the interrupt vector table
    /// at IDTR's base: FLAGS, CS and IP are pushed (16 bits each, no error
    /// code), IF and TF are cleared, and CS:IP is loaded from the vector's
    /// four bytes (offset, then segment).
    fn deliver_real(&mut self, source: Source, return_eip: u32) -> Result<(), Exception> {
        let vector = source.vector();
        let entry = u32::from(vector) * 4;
        if entry + 3 > u32::from(self.cpu.idtr.limit) {
            return Err(Exception::GeneralProtection(0));
        }
        let addr = self.cpu.idtr.base.wrapping_add(entry);
        let offset = self.lin_read(addr, 2)?;
        let segment = self.lin_read(addr.wrapping_add(2), 2)? as u16;
        let flags = self.cpu.eflags();
        let cs = self.cpu.sreg(Seg::Cs);
        let ss_base = self.cpu.seg_base(Seg::Ss);
        let sp = self.cpu.reg(Reg::Esp);
        // Every slot is translated before any is written, so a fault leaves
        // memory and registers as they were.
        let mut pushed = Vec::with_capacity(3);
        let mut targets = Vec::with_capacity(3);
        let mut at = sp;
        for (what, value) in [
            (Pushed::Eflags, flags & 0xFFFF),
            (Pushed::Cs, u32::from(cs)),
            (Pushed::Eip, return_eip & 0xFFFF),
        ] {
            at = self.stack_pointer_minus(at, 2);
            let linear = ss_base.wrapping_add(self.stack_offset(at));
            targets.push((self.locate(linear, 2, Access::Write)?, value));
            pushed.push(PushedValue {
                what,
                addr: linear,
                value,
            });
        }
        for (span, value) in targets {
            self.store_span(span, 2, value);
        }
        self.cpu.set_reg(Reg::Esp, at);
        self.load_cs(segment, self.cpu.segment(Seg::Cs).with_real_base(segment));
        self.cpu.eip = offset;
        self.cpu.set_eflags(flags & !(Flags::IF | Flags::TF));
        self.halted = false;
        let kind = source.kind();
        self.emit(EventKind::TrapEntry, || Event::TrapEntry {
            vector,
            source: kind,
            error_code: None,
            cpl_before: 0,
            cpl_after: 0,
            gate_dpl: 0,
            interrupt_gate: true,
            stack_switch: None,
            pushed,
            handler: offset,
            return_eip,
        });
        Ok(())
    }

    /// `iret` in real mode: pops IP, CS and FLAGS (words, or dwords with
    /// the operand-size prefix).
    fn iret_real(&mut self, width: crate::decode::Width) -> Result<(), Exception> {
        let n = width.bytes();
        let sp = self.cpu.reg(Reg::Esp);
        let ss_base = self.cpu.seg_base(Seg::Ss);
        let mut values = [0u32; 3];
        let mut at = sp;
        for v in &mut values {
            *v = self.lin_read(ss_base.wrapping_add(self.stack_offset(at)), n)?;
            at = self.stack_pointer_plus(at, n);
        }
        let [ip, cs, flags] = values;
        let cs = cs as u16;
        self.cpu.set_reg(Reg::Esp, at);
        self.load_cs(cs, self.cpu.segment(Seg::Cs).with_real_base(cs));
        self.cpu.eip = ip;
        let old = self.cpu.eflags();
        let writable = Flags::WRITABLE & width.mask();
        self.cpu.set_eflags((old & !writable) | (flags & writable));
        self.emit(EventKind::Iret, || Event::Iret {
            cpl_before: 0,
            cpl_after: 0,
            eip: ip,
            esp: at,
        });
        Ok(())
    }
}

/// One fault on the way to a triple fault, named only if it comes to that:
/// a hypervisor's guest takes a #GP or a #PF on every exit, so nothing is
/// formatted while they are delivered.
#[derive(Clone, Debug)]
pub(crate) enum FaultLink {
    Exception { exception: Exception, eip: u32 },
    InvalidOpcode { message: String, eip: u32 },
}

impl std::fmt::Display for FaultLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultLink::Exception { exception, eip } => write!(f, "{exception} at eip {eip:#010x}"),
            FaultLink::InvalidOpcode { message, eip } => write!(f, "{message} at eip {eip:#010x}"),
        }
    }
}

/// The slots a trap pushes, in push order (at most six).
#[derive(Clone, Copy)]
struct Frame {
    slots: [(Pushed, u32); 6],
    len: usize,
}

impl Default for Frame {
    fn default() -> Frame {
        Frame {
            slots: [(Pushed::Eip, 0); 6],
            len: 0,
        }
    }
}

impl Frame {
    fn push(&mut self, what: Pushed, value: u32) {
        self.slots[self.len] = (what, value);
        self.len += 1;
    }

    fn slots(&self) -> &[(Pushed, u32)] {
        &self.slots[..self.len]
    }
}
