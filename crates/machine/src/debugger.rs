//! Debugger queries over a machine: the instruction at an address, the
//! disassembly from there, stepping over a call or a trap, and who last
//! changed some bytes. They live here, not in a front end, so that the page,
//! the wasm API and the command line all ask the same questions the same way.

use crate::SeekError;
use crate::decode::decode_in;
use crate::event::KindSet;
use crate::{DecodeError, Instr, MAX_INSTR_LEN, Machine, Op, StopReason};
use std::collections::BTreeSet;

/// One line of disassembly: the address and the instruction's text, or why
/// the bytes there do not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisasmLine {
    pub addr: u32,
    /// The instruction's encoding.
    pub bytes: Vec<u8>,
    pub text: Result<String, String>,
}

/// The breakpoints and break-on kinds of a machine, set aside while a
/// debugger query runs the machine for its own purpose.
#[derive(Debug)]
pub(crate) struct SetAside {
    breakpoints: BTreeSet<u32>,
    kinds: KindSet,
    watches: Vec<crate::machine::Watch>,
    recording: bool,
}

impl Machine {
    /// Takes the breakpoints, break kinds and watches out (and turns recording off
    /// when `quiet`), for a run that must not stop at them.
    pub(crate) fn set_aside(&mut self, quiet: bool) -> SetAside {
        let aside = SetAside {
            breakpoints: std::mem::take(&mut self.breakpoints),
            kinds: self.replace_break_kinds(KindSet::EMPTY),
            watches: std::mem::take(&mut self.watches),
            recording: self.recording,
        };
        if quiet {
            self.set_recording(false);
        }
        aside
    }

    /// Puts back what [`Machine::set_aside`] took out.
    pub(crate) fn put_back(&mut self, aside: SetAside) {
        self.breakpoints = aside.breakpoints;
        self.replace_break_kinds(aside.kinds);
        self.watches = aside.watches;
        self.set_recording(aside.recording);
    }

    /// Runs `f` with the breakpoints and break-on kinds set aside (so a
    /// query that runs the machine to a moment of its own is not stopped by
    /// the student's), and puts them back afterwards, dropping whatever `f`
    /// set for itself.
    pub fn with_breaks_set_aside<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R {
        let aside = self.set_aside(false);
        let result = f(self);
        let recording = self.recording;
        self.put_back(aside);
        self.set_recording(recording);
        result
    }

    /// The bytes at a virtual address as the CPU would fetch them now
    /// (unmapped bytes read as zero), and how many of them are mapped.
    fn fetch_window(&self, linear: u32) -> (Vec<u8>, usize) {
        let bytes = self.peek_virtual(linear, MAX_INSTR_LEN);
        let mapped = bytes.iter().take_while(|b| b.is_some()).count();
        (bytes.into_iter().map(|b| b.unwrap_or(0)).collect(), mapped)
    }

    /// The instruction at a virtual address of the current address space.
    pub fn instruction_at(&self, linear: u32) -> Result<Instr, DecodeError> {
        let (bytes, mapped) = self.fetch_window(linear);
        let instr = decode_in(&bytes[..mapped], self.cpu.code_size())?;
        Ok(instr)
    }

    /// `count` instructions from `linear` on, disassembled in the
    /// assembler's syntax; the list ends at the first that does not decode.
    pub fn disassemble(&self, linear: u32, count: usize) -> Vec<DisasmLine> {
        let mut out = Vec::new();
        let mut at = linear;
        for _ in 0..count {
            let (bytes, mapped) = self.fetch_window(at);
            match decode_in(&bytes[..mapped], self.cpu.code_size()) {
                Ok(i) => {
                    let len = usize::from(i.len);
                    out.push(DisasmLine {
                        addr: at,
                        bytes: bytes[..len].to_vec(),
                        text: Ok(i.disassemble_in(at, self.cpu.code_size())),
                    });
                    at = at.wrapping_add(u32::from(i.len));
                }
                Err(e) => {
                    let why = if mapped == 0 {
                        "not mapped".to_string()
                    } else {
                        e.to_string()
                    };
                    out.push(DisasmLine {
                        addr: at,
                        bytes: bytes[..mapped.min(1)].to_vec(),
                        text: Err(why),
                    });
                    break;
                }
            }
        }
        out
    }

    /// Steps over the instruction at EIP. A `call` or an `int n` runs until
    /// the instruction after it is reached again in the same address space
    /// with the stack back where it was (so a recursive call, or the same
    /// program running in another process, does not stop it); any other
    /// instruction is one step. Address breakpoints still stop it (as in a
    /// debugger); break-on kinds and watches do not. At most `max_steps` steps.
    pub fn step_over(&mut self, max_steps: u64) -> Option<StopReason> {
        let eip = self.cpu.eip;
        let over = match self.instruction_at(eip) {
            Ok(i) if matches!(i.op, Op::Call | Op::CallIndirect | Op::Int) => Some(i),
            _ => None,
        };
        let Some(instr) = over else {
            return self.step().stop;
        };
        let next = eip.wrapping_add(u32::from(instr.len));
        let (cr3, esp) = (self.cpu.cr3, self.cpu.gpr[4]);
        let kinds = self.replace_break_kinds(KindSet::EMPTY);
        let watches = std::mem::take(&mut self.watches);
        let had = self.breakpoints.contains(&next);
        self.breakpoints.insert(next);
        let end = self.steps + max_steps;
        let stop = loop {
            let stop = self.run(end - self.steps);
            match stop {
                StopReason::Breakpoint { eip: at }
                    if at == next && (self.cpu.cr3 != cr3 || self.cpu.gpr[4] < esp) =>
                {
                    // The same address in another process, or deeper in a
                    // recursion: not the return. Run on.
                    if self.steps >= end {
                        break Some(StopReason::InstructionLimit);
                    }
                }
                StopReason::Breakpoint { eip: at } if at == next => break None,
                other => break Some(other),
            }
        };
        if !had {
            self.breakpoints.remove(&next);
        }
        self.replace_break_kinds(kinds);
        self.watches = watches;
        stop
    }

    /// Who last changed the `len` bytes at physical address `pa` before the
    /// current step: replays the run from its earliest checkpoint and returns
    /// the step that last changed them (`None` when none did since then),
    /// leaving the machine where it was.
    pub fn last_change(&mut self, pa: u32, len: u32) -> Result<Option<u64>, SeekError> {
        Ok(self.last_change_of(pa, len)?.map(|c| c.step))
    }

    /// Like [`Machine::last_change`], with the value before and after.
    pub fn last_change_of(&mut self, pa: u32, len: u32) -> Result<Option<Change>, SeekError> {
        let mut search = self.change_search(pa, len)?;
        loop {
            if let Some(found) = search.advance(self, u64::MAX) {
                return Ok(found);
            }
        }
    }

    /// Begins looking for who last changed the `len` bytes at physical
    /// address `pa` before the current step, in pieces
    /// ([`ChangeSearch::advance`]): goes back to the earliest checkpoint now.
    pub fn change_search(&mut self, pa: u32, len: u32) -> Result<ChangeSearch, SeekError> {
        let until = self.steps;
        let earliest = self.earliest_step().ok_or(SeekError::NoHistory)?;
        self.seek(earliest)?;
        Ok(ChangeSearch {
            pa,
            len,
            from: self.steps,
            until,
            value: self.mem.read(pa, len),
            last: None,
        })
    }
}

/// "Who last changed these bytes?" under way (see
/// [`Machine::change_search`]): the run replayed from the earliest
/// checkpoint to where the question was asked, with a watch on the bytes.
#[derive(Clone, Debug)]
pub struct ChangeSearch {
    pa: u32,
    len: u32,
    from: u64,
    /// Where the question was asked: the search ends there.
    until: u64,
    value: u32,
    last: Option<Change>,
}

impl ChangeSearch {
    /// The physical address of the bytes watched.
    pub fn pa(&self) -> u32 {
        self.pa
    }

    /// The step the question was asked at, where the machine is when the
    /// search is over.
    pub fn until(&self) -> u64 {
        self.until
    }

    /// How far the search is, from 0 to 1.
    pub fn done(&self, m: &Machine) -> f64 {
        crate::history::fraction_done(self.from, self.until, m.steps())
    }

    /// Replays at most `steps` more steps, with a data watch on the bytes
    /// (the block path: each change stops the run at the step that made
    /// it). When it is over, the latest change (`None` inside when none
    /// since the earliest checkpoint); the machine is then back where the
    /// question was asked, unless it stopped on the way.
    pub fn advance(&mut self, m: &mut Machine, steps: u64) -> Option<Option<Change>> {
        let aside = m.set_aside(true);
        m.set_watches(&[(self.pa, self.len)]);
        let end = self.until.min(m.steps.saturating_add(steps));
        let mut stopped = false;
        while m.steps < end {
            match m.run(end - m.steps) {
                StopReason::InstructionLimit => {}
                StopReason::Watch { .. } => {
                    let v = m.mem.read(self.pa, self.len);
                    if v != self.value {
                        self.last = Some(Change {
                            step: m.steps,
                            before: self.value,
                            after: v,
                        });
                        self.value = v;
                    }
                }
                _ => {
                    stopped = true;
                    break;
                }
            }
        }
        m.set_watches(&[]);
        m.put_back(aside);
        m.mark_watches();
        m.clear_events();
        (stopped || m.steps >= self.until).then_some(self.last)
    }
}

/// A change of some bytes of memory: the step that made it, and their
/// value before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub step: u64,
    pub before: u32,
    pub after: u32,
}

impl Change {
    /// Whether only a page table entry's accessed and dirty bits were set:
    /// what the MMU writes while it walks for an access, not a store.
    pub fn by_walk(&self) -> bool {
        let walk_bits = crate::mmu::Pte::ACCESSED | crate::mmu::Pte::DIRTY;
        let changed = self.before ^ self.after;
        changed != 0 && changed & !walk_bits == 0 && self.after & changed == changed
    }
}

#[cfg(test)]
mod tests {
    use crate::{Machine, StopReason};

    /// mov ecx, 2 / call f / hlt / f: dec ecx / jz .out / call f / .out: ret
    const RECURSIVE: [u8; 18] = [
        0xB9, 2, 0, 0, 0, // 1000 mov ecx, 2
        0xE8, 1, 0, 0, 0,    // 1005 call 100b
        0xF4, // 100a hlt
        0x49, // 100b dec ecx
        0x74, 0x05, // 100c jz 1013
        0xE8, 0xF8, 0xFF, 0xFF, // 100e call 100b (4 bytes + 1 below)
    ];

    fn machine() -> Machine {
        let mut program = RECURSIVE.to_vec();
        program.extend([0xFF, 0xC3]); // rel32 high byte, then 1013: ret
        let mut m = Machine::new(64 * 1024);
        m.load(0x1000, &program).unwrap();
        m.cpu.eip = 0x1000;
        m.cpu.gpr[4] = 0x8000;
        m
    }

    #[test]
    fn step_over_a_recursive_call_stops_after_it_at_the_same_depth() {
        let mut m = machine();
        m.step();
        assert_eq!(m.cpu.eip, 0x1005);
        assert_eq!(m.step_over(1000), None);
        assert_eq!(m.cpu.eip, 0x100A, "after the outer call returns");
        assert_eq!(m.cpu.gpr[4], 0x8000);
        assert_eq!(m.breakpoints().count(), 0, "its breakpoint is gone");
    }

    #[test]
    fn step_over_the_inner_call_runs_past_its_return_address_reached_deeper() {
        let mut m = machine();
        // mov, call, dec, jz: now at the inner call, one level deep.
        for _ in 0..4 {
            m.step();
        }
        assert_eq!(m.cpu.eip, 0x100E);
        let esp = m.cpu.gpr[4];
        // Inside, the jz lands on 0x1013 one level deeper: that is not the return.
        assert_eq!(m.step_over(1000), None);
        assert_eq!((m.cpu.eip, m.cpu.gpr[4]), (0x1013, esp));
        assert_eq!(m.steps, 4 + 4, "call, dec, jz, ret");
    }

    #[test]
    fn step_over_something_else_is_one_step() {
        let mut m = machine();
        assert_eq!(m.step_over(1000), None);
        assert_eq!((m.steps, m.cpu.eip), (1, 0x1005));
    }

    #[test]
    fn step_over_keeps_a_breakpoint_the_student_set_there() {
        let mut m = machine();
        m.step();
        m.add_breakpoint(0x100A);
        m.add_breakpoint(0x1013);
        assert_eq!(
            m.step_over(1000),
            Some(StopReason::Breakpoint { eip: 0x1013 }),
            "a breakpoint inside the call stops it"
        );
        assert_eq!(m.breakpoints().collect::<Vec<_>>(), [0x100A, 0x1013]);
    }

    #[test]
    fn disassembly_lists_instructions_and_says_where_it_cannot() {
        let m = machine();
        let lines = m.disassemble(0x1000, 3);
        let texts: Vec<_> = lines.iter().map(|l| l.text.clone().unwrap()).collect();
        assert_eq!(texts, ["mov ecx, 0x2", "call 0x100b", "hlt"]);
        assert_eq!(lines[0].bytes, [0xB9, 2, 0, 0, 0]);
        let far = m.disassemble(0x20_0000, 2);
        assert_eq!(far.len(), 1);
        assert_eq!(far[0].text, Err("not mapped".to_string()));
    }

    #[test]
    fn a_change_of_only_the_accessed_and_dirty_bits_is_the_walks() {
        use super::Change;
        let c = |before, after| Change {
            step: 1,
            before,
            after,
        };
        assert!(c(0x0010_4027 & !0x20, 0x0010_4027).by_walk(), "A set");
        assert!(c(0x0010_4007, 0x0010_4067).by_walk(), "A and D set");
        assert!(!c(0x0010_4067, 0x0010_4007).by_walk(), "cleared: a store");
        assert!(!c(0x0010_4007, 0x0020_4027).by_walk(), "another frame");
        assert!(!c(7, 7).by_walk());
    }
}
