//! The fast path of `run`: straight-line blocks of decoded instructions.
//!
//! A block is the run of instructions from some address up to the first one
//! that may change the flow of control or the conditions under which an
//! interrupt is taken (a jump, `out`, `sti`, `iret`, ...), all in one page.
//! Executing a block does exactly what executing its instructions one step
//! at a time does, step counts and TLB model included; it only skips the
//! checks that cannot come out differently inside the block (device
//! deadlines, pending interrupts, checkpoints), which are made once before
//! it. Whenever any of them might matter, `run` takes single steps instead.

use crate::decode::{DecodeError, Instr, MemRef, Op, Operand, Width, decode};
use crate::machine::{Finish, Machine, StopReason};
use crate::memory::PAGE_SIZE;
use crate::mmu::Rights;
use crate::optable::Class;

/// The most instructions in one block.
pub(crate) const MAX_BLOCK: usize = 32;

/// The most blocks a block cache holds (a machine of 4 MiB or more).
const BLOCK_CACHE_MAX: usize = 8192;

/// The fewest blocks a block cache holds, however small the machine.
const BLOCK_CACHE_MIN: usize = 256;

/// A decoded block, tagged with the physical address of its first
/// instruction and its frame's code generation when it was decoded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Block {
    pa: u32,
    generation: u32,
    /// Each instruction with its shortcut form and its offset in the block.
    entries: Vec<Entry>,
}

/// One instruction of a block.
#[derive(Clone, Debug)]
struct Entry {
    fast: Fast,
    /// The instruction's place in the block (0 for the first).
    index: u8,
    /// The instruction's offset from the block's first byte, and the
    /// offset of the byte after it.
    at: u16,
    end: u16,
    instr: Instr,
}

/// The shapes of the commonest instructions, which the block loop carries
/// out directly, each with the shared definition of what it does (the ALU
/// in `alu.rs`, `push` and `pop` in `execute.rs`). The register forms touch
/// only registers and flags (or jump), so they cannot fault, produce events
/// or write code; the forms that reach memory go through the TLB and are
/// checked after each access, as the general interpreter's instructions are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Fast {
    /// No shortcut: the general interpreter executes it.
    #[default]
    None,
    /// 32-bit ALU operations between registers (`dst op= src`) and of a
    /// register and an immediate, one variant per common operation so that
    /// the block loop dispatches once: each calls the one definition
    /// (`Cpu::binary`) with a constant operation, which the compiler folds.
    /// Folding them into the generic `AluRR`/`AluRI` forms costs a second
    /// dispatch per instruction, measured at 8% on the benchmark's third
    /// loop. ADC and SBB share the generic form.
    AddRR {
        dst: u8,
        src: u8,
    },
    AddRI {
        dst: u8,
        imm: u32,
    },
    SubRR {
        dst: u8,
        src: u8,
    },
    SubRI {
        dst: u8,
        imm: u32,
    },
    CmpRR {
        dst: u8,
        src: u8,
    },
    CmpRI {
        dst: u8,
        imm: u32,
    },
    AndRR {
        dst: u8,
        src: u8,
    },
    AndRI {
        dst: u8,
        imm: u32,
    },
    OrRR {
        dst: u8,
        src: u8,
    },
    OrRI {
        dst: u8,
        imm: u32,
    },
    XorRR {
        dst: u8,
        src: u8,
    },
    XorRI {
        dst: u8,
        imm: u32,
    },
    TestRR {
        dst: u8,
        src: u8,
    },
    TestRI {
        dst: u8,
        imm: u32,
    },
    AluRR {
        op: Op,
        dst: u8,
        src: u8,
    },
    AluRI {
        op: Op,
        dst: u8,
        imm: u32,
    },
    Inc(u8),
    Dec(u8),
    /// A byte ALU operation between registers or of a register and an
    /// immediate (`test ah, 2`), through the shared `Cpu::binary`.
    AluByteRR {
        op: Op,
        dst: u8,
        src: u8,
    },
    AluByteRI {
        op: Op,
        dst: u8,
        imm: u32,
    },
    /// A shift or rotate of a 32-bit register by an immediate count (1 to
    /// 31; a count of 0 changes nothing and takes the general path), and
    /// the two- and three-operand `imul` of registers: the shared
    /// `Machine::shift` and `Machine::imul`.
    ShiftRI {
        kind: crate::decode::Shift,
        dst: u8,
        count: u32,
    },
    ImulRR {
        dst: u8,
        src: u8,
    },
    ImulRRI {
        dst: u8,
        src: u8,
        imm: u32,
    },
    MovRR {
        dst: u8,
        src: u8,
    },
    MovRI {
        dst: u8,
        imm: u32,
    },
    /// `mov r32, [mem]` and `mov [mem], r32`: these go through the TLB and
    /// may fault, so the block loop checks after them as after any other.
    Load {
        dst: u8,
        mem: Ea,
    },
    Store {
        src: u8,
        mem: Ea,
    },
    /// `mov dword [mem], imm`.
    StoreImm {
        mem: Ea,
        imm: u32,
    },
    /// `jz` (`negate` false) or `jnz` (`negate` true): the commonest loop
    /// ends, tested on ZF alone. Each jump holds its target as an offset
    /// from the block's start (wrapping), worked out when the block is
    /// decoded: 0 is a loop back to the block's first instruction.
    Jz {
        taken: u32,
        negate: bool,
    },
    /// `inc` or `dec` of a register (`up`) and the `jz`/`jnz` after it that
    /// ends the block, as one shortcut (the commonest loop end: two
    /// dispatches and a lazy ZF read become one dispatch and a compare).
    /// `next` is the offset of the instruction after the jump. It stands in
    /// the `inc`/`dec`'s entry; the jump's entry is never reached.
    IncDecJz {
        up: bool,
        reg: u8,
        negate: bool,
        taken: u32,
        next: u32,
    },
    /// A conditional jump.
    Jcc {
        cc: u8,
        taken: u32,
    },
    Jmp {
        taken: u32,
    },
    /// `lea r32, [mem]`: the address arithmetic, no memory access.
    Lea {
        dst: u8,
        mem: Ea,
    },
    /// `push r32` and `pop r32`, through the shared `push` and `pop` (which
    /// go through the TLB and may fault, so they are checked as loads).
    Push(u8),
    Pop(u8),
    /// `pushfd` (EFLAGS through the shared `push`) and `leave` (the shared
    /// `Machine::leave_frame`): one stack access each, checked as `push` is.
    Pushf,
    Leave,
    /// A 32-bit ALU operation with a memory source (`dst op= [mem]`), and
    /// `cmp`/`test` of memory with a register or an immediate (which only
    /// read it): one read through the TLB, then the shared ALU.
    AluRM {
        op: Op,
        dst: u8,
        mem: Ea,
    },
    CompareM {
        op: Op,
        mem: Ea,
        with: Operand,
    },
    /// `movzx r32, byte [mem]`.
    MovzxByte {
        dst: u8,
        mem: Ea,
    },
    /// `call rel32` and `ret`: the shared `push` and `pop`, then on to the
    /// target as a jump does.
    Call {
        rel: u32,
    },
    Ret,
}

impl Fast {
    /// The shortcut for `instr`, which ends `end` bytes into its block.
    fn of(instr: &Instr, end: u32) -> Fast {
        use crate::decode::Width::Dword;
        // The shortcuts compute 32-bit addresses and branch targets (the
        // block path runs only with flat 32-bit segments): an instruction
        // with a 16-bit address size goes to the general interpreter.
        if instr.rep != crate::decode::Rep::None || instr.addr16 {
            return Fast::None;
        }
        // An operand through FS or GS goes to the general interpreter,
        // which checks it when the segment holds a null selector.
        let through_fs_gs = |o: &Operand| matches!(o, Operand::Mem(m) if matches!(m.seg, crate::cpu::Seg::Fs | crate::cpu::Seg::Gs));
        if through_fs_gs(&instr.dst) || through_fs_gs(&instr.src) {
            return Fast::None;
        }
        // Which operations have a register shortcut is the operation
        // table's class; whether this instruction may end a block is too.
        let alu = crate::alu::is_binary(instr.op);
        match (instr.op, instr.width, instr.dst, instr.src) {
            (op, Dword, Operand::Reg(dst), Operand::Reg(src)) if alu => match op {
                Op::Add => Fast::AddRR { dst, src },
                Op::Sub => Fast::SubRR { dst, src },
                Op::Cmp => Fast::CmpRR { dst, src },
                Op::And => Fast::AndRR { dst, src },
                Op::Or => Fast::OrRR { dst, src },
                Op::Xor => Fast::XorRR { dst, src },
                Op::Test => Fast::TestRR { dst, src },
                _ => Fast::AluRR { op, dst, src },
            },
            (op, Dword, Operand::Reg(dst), Operand::Imm(imm)) if alu => match op {
                Op::Add => Fast::AddRI { dst, imm },
                Op::Sub => Fast::SubRI { dst, imm },
                Op::Cmp => Fast::CmpRI { dst, imm },
                Op::And => Fast::AndRI { dst, imm },
                Op::Or => Fast::OrRI { dst, imm },
                Op::Xor => Fast::XorRI { dst, imm },
                Op::Test => Fast::TestRI { dst, imm },
                _ => Fast::AluRI { op, dst, imm },
            },
            (op, Width::Byte, Operand::Reg(dst), Operand::Reg(src)) if alu => {
                Fast::AluByteRR { op, dst, src }
            }
            (op, Width::Byte, Operand::Reg(dst), Operand::Imm(imm)) if alu => {
                Fast::AluByteRI { op, dst, imm }
            }
            (Op::Shift(kind), Dword, Operand::Reg(dst), Operand::Imm(c)) if c & 0x1F != 0 => {
                Fast::ShiftRI {
                    kind,
                    dst,
                    count: c & 0x1F,
                }
            }
            (Op::Imul2, Dword, Operand::Reg(dst), Operand::Reg(src)) => Fast::ImulRR { dst, src },
            (Op::Imul3, Dword, Operand::Reg(dst), Operand::Reg(src)) => Fast::ImulRRI {
                dst,
                src,
                imm: instr.extra,
            },
            (Op::Inc, Dword, Operand::Reg(r), _) => Fast::Inc(r),
            (Op::Dec, Dword, Operand::Reg(r), _) => Fast::Dec(r),
            (Op::Mov, Dword, Operand::Reg(dst), Operand::Reg(src)) => Fast::MovRR { dst, src },
            (Op::Mov, Dword, Operand::Reg(dst), Operand::Imm(imm)) => Fast::MovRI { dst, imm },
            (Op::Mov, Dword, Operand::Reg(dst), Operand::Mem(mem)) => Fast::Load {
                dst,
                mem: Ea::of(&mem),
            },
            (Op::Mov, Dword, Operand::Mem(mem), Operand::Reg(src)) => Fast::Store {
                src,
                mem: Ea::of(&mem),
            },
            (Op::Mov, Dword, Operand::Mem(mem), Operand::Imm(imm)) => Fast::StoreImm {
                mem: Ea::of(&mem),
                imm,
            },
            (Op::Jcc(cc), Dword, _, Operand::Imm(rel)) if cc >> 1 == 2 => Fast::Jz {
                taken: end.wrapping_add(rel),
                negate: cc & 1 == 1,
            },
            (Op::Jcc(cc), Dword, _, Operand::Imm(rel)) => Fast::Jcc {
                cc,
                taken: end.wrapping_add(rel),
            },
            (Op::Jmp, Dword, _, Operand::Imm(rel)) => Fast::Jmp {
                taken: end.wrapping_add(rel),
            },
            (Op::Lea, Dword, Operand::Reg(dst), Operand::Mem(mem)) => Fast::Lea {
                dst,
                mem: Ea::of(&mem),
            },
            (op, Dword, Operand::Reg(dst), Operand::Mem(mem)) if alu => Fast::AluRM {
                op,
                dst,
                mem: Ea::of(&mem),
            },
            (
                op @ (Op::Cmp | Op::Test),
                Dword,
                Operand::Mem(mem),
                with @ (Operand::Reg(_) | Operand::Imm(_)),
            ) => Fast::CompareM {
                op,
                mem: Ea::of(&mem),
                with,
            },
            (Op::Movzx, Width::Byte, Operand::Reg(dst), Operand::Mem(mem)) if instr.extra == 0 => {
                Fast::MovzxByte {
                    dst,
                    mem: Ea::of(&mem),
                }
            }
            (Op::Push, Dword, _, Operand::Reg(r)) => Fast::Push(r),
            (Op::Pop, Dword, Operand::Reg(r), _) => Fast::Pop(r),
            (Op::Pushfd, Dword, _, _) => Fast::Pushf,
            (Op::Leave, Dword, _, _) => Fast::Leave,
            (Op::Call, Dword, _, Operand::Imm(rel)) => Fast::Call { rel },
            (Op::Ret, Dword, _, _) if instr.extra == 0 => Fast::Ret,
            _ => Fast::None,
        }
    }
}

/// Fuses a block's closing `inc`/`dec` of a register and `jz`/`jnz` into
/// one shortcut ([`Fast::IncDecJz`]). A jump ends its block, so the pair can
/// only be the last two entries.
fn fuse_loop_end(entries: &mut [Entry]) {
    let [.., counter, jump] = entries else {
        return;
    };
    let (up, reg) = match counter.fast {
        Fast::Inc(reg) => (true, reg),
        Fast::Dec(reg) => (false, reg),
        _ => return,
    };
    if let Fast::Jz { taken, negate } = jump.fast {
        counter.fast = Fast::IncDecJz {
            up,
            reg,
            negate,
            taken,
            next: u32::from(jump.end),
        };
    }
}

/// A memory operand's address as the block loop works it out: each
/// register with a mask that keeps it (all ones) or drops it (zero) in
/// place of an option, so the sum is the same few instructions for every
/// form of `[base + index*scale + disp]`, with no branch (the options cost
/// about 20 host instructions an access).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ea {
    base: u8,
    index: u8,
    shift: u8,
    base_mask: u32,
    index_mask: u32,
    disp: u32,
}

impl Ea {
    fn of(m: &MemRef) -> Ea {
        let (base, base_mask) = m.base.map_or((0, 0), |r| (r as u8, u32::MAX));
        let (index, index_mask) = m.index.map_or((0, 0), |r| (r as u8, u32::MAX));
        Ea {
            base,
            index,
            shift: m.scale.max(1).trailing_zeros() as u8,
            base_mask,
            index_mask,
            disp: m.disp,
        }
    }

    /// The address, as [`Machine::effective_address`] computes it.
    #[inline(always)]
    fn eval(&self, gpr: &[u32; 8]) -> u32 {
        let base = gpr[usize::from(self.base & 7)] & self.base_mask;
        // Most operands have no index (`[reg + disp]`, `[disp]`): one
        // well-predicted branch skips half the sum.
        if self.index_mask == 0 {
            return base.wrapping_add(self.disp);
        }
        let index = (gpr[usize::from(self.index & 7)] & self.index_mask) << (self.shift & 3);
        base.wrapping_add(index).wrapping_add(self.disp)
    }
}

/// The block cache: direct mapped by physical address.
#[derive(Clone, Debug)]
pub(crate) struct BlockCache {
    blocks: Vec<Block>,
    /// The slots the cache has once ready: a power of two, so that a
    /// block's slot is its hash masked.
    slots: usize,
}

impl BlockCache {
    /// An empty cache for a machine of `mem_size` bytes: one slot for
    /// every 512 bytes of RAM, from 256 to 8,192 (a machine of 4 MiB or
    /// more has them all), so that a small machine, such as the fuzzer's,
    /// does not allocate, clear and drop thousands of slots its code
    /// cannot use. It takes no memory until the block path first runs, so
    /// that a machine that has not run yet clones cheaply (the fuzzer
    /// clones one per input).
    pub(crate) fn for_memory(mem_size: usize) -> Self {
        BlockCache {
            blocks: Vec::new(),
            slots: (mem_size / 512)
                .clamp(BLOCK_CACHE_MIN, BLOCK_CACHE_MAX)
                .next_power_of_two(),
        }
    }

    /// The same cache with every slot empty (and no memory taken).
    pub(crate) fn emptied(&self) -> Self {
        BlockCache {
            blocks: Vec::new(),
            slots: self.slots,
        }
    }

    /// Allocates the slots, every one empty, if that has not been done.
    #[inline(always)]
    fn ready(&mut self) {
        if self.blocks.is_empty() {
            self.blocks = vec![
                Block {
                    pa: u32::MAX,
                    ..Block::default()
                };
                self.slots
            ];
        }
    }

    /// The slot of the block at physical address `pa` (the cache is ready).
    #[inline(always)]
    fn slot(&self, pa: u32) -> usize {
        ((pa ^ (pa >> 12)) as usize) & (self.slots - 1)
    }
}

/// Step and retirement counts not yet written back, relative to the start
/// of the current pass through a block: at instruction `i` of the pass,
/// `steps + i` steps and `steps - unretired + i` retirements are pending (the first
/// instruction's step was counted by `begin_step`). Each pass adds the
/// block's length; writing the counts back at index `i` rebases the lag on
/// `i`, so the fields wrap below zero (modular arithmetic keeps the sums
/// right). `at` is the index the last write-back or memory access was at:
/// an access that reaches a memory-mapped device writes the counts back up
/// to it first (see [`Machine::settle_for_device`]), so a device reads the
/// clock a single step gives it, while an access to RAM costs nothing more.
/// Outside the block path the lag is zero.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Lag {
    steps: u64,
    /// The pending steps less the pending retirements: kept as this
    /// difference, which a pass leaves as it is, so a loop back adds to
    /// one count, not two.
    unretired: u64,
    at: usize,
}

/// How the block path ended.
pub(crate) enum BlockExit {
    /// The block ran (entirely or up to an instruction that redirected or
    /// faulted); `run` goes on.
    Ran,
    /// The run must stop for this reason.
    Stop(StopReason),
    /// The fast path does not apply now: take a single step instead.
    Declined,
}

impl Machine {
    /// Whether nothing that single steps check could happen within the next
    /// `MAX_BLOCK` steps, so a block may run without those checks.
    fn block_may_run(&self, steps_left: u64) -> bool {
        let margin = MAX_BLOCK as u64;
        self.stopped.is_none()
            && self.cpu.is_flat()
            && self.bus.a20()
            && !self.halted
            && !self.irq_inhibit
            && self.records_nothing_per_step()
            && steps_left > margin
            && self.clock() + margin < self.next_deadline
            && !(self.cpu.flag(crate::cpu::Flags::IF) && self.bus.controller().requesting())
            && self.history_horizon() > self.steps + margin
            && self.no_breakpoint_near(self.cpu.eip)
    }

    /// Whether a block may run while events are recorded: when TLB hits,
    /// which nearly every instruction makes, are left out of the record.
    /// Every other event a block's instruction makes (a TLB miss and its
    /// walk, a memory-mapped access, a fault) is filed under the step that
    /// made them, as single steps file them: the block settles its counts
    /// at that instruction and files them there (see
    /// [`Machine::must_leave_block`]), or, where it leaves (a fault, a
    /// device, a break), the next block or step files them.
    #[inline(always)]
    fn records_nothing_per_step(&self) -> bool {
        !self.recording() || self.unrecorded.contains(crate::event::EventKind::TlbHit)
    }

    #[inline(always)]
    fn no_breakpoint_near(&self, eip: u32) -> bool {
        if !self.has_breakpoints() {
            return true;
        }
        let page = eip & !(PAGE_SIZE - 1);
        self.breakpoints_in(page, page.wrapping_add(PAGE_SIZE))
    }

    /// Runs the block at EIP if the fast path applies. `steps_left` is the
    /// run's remaining budget.
    pub(crate) fn run_block(&mut self, steps_left: u64, cache: &mut BlockCache) -> BlockExit {
        if !self.block_may_run(steps_left) {
            return BlockExit::Declined;
        }
        // The events of the step before (the one a block left at, having
        // recorded them) are filed as the next single step would file them,
        // so a recorded TLB miss costs the block path one exit, not a step.
        self.file_step_events();
        let exit = self.run_blocks(steps_left, cache);
        self.lag = Lag::default();
        exit
    }

    /// Runs blocks from EIP on, chaining them (see [`Machine::run_block`]).
    #[inline(always)]
    fn run_blocks(&mut self, steps_left: u64, cache: &mut BlockCache) -> BlockExit {
        cache.ready();
        // Blocks chain one to the next, without coming back to `run`, while
        // a whole block more still fits before anything needs checking.
        let margin = MAX_BLOCK as u64;
        let chain_limit = self
            .steps
            .saturating_add(steps_left)
            .min(self.steps.saturating_add(self.next_deadline - self.clock()))
            .min(self.history_horizon())
            - margin;
        'chain: loop {
            self.begin_step();
            // Nothing is pending at a block's start (its step was counted).
            self.lag = Lag::default();
            let eip = self.cpu.eip;
            let pa = match self.fetch_address(eip) {
                Ok(pa) => pa,
                Err(e) => return self.block_fault(e, eip, 0),
            };
            // The fetch missed the TLB and recorded it: this step's events
            // must not be joined by later ones, so it is a single step.
            if !self.step_events.is_empty() {
                return match self.execute_at(eip, pa) {
                    Some(stop) => BlockExit::Stop(stop),
                    None => self.leave(),
                };
            }
            let frame = pa >> 12;
            let index = cache.slot(pa);
            let generation = self.mem.code_gen(frame);
            let cached = &cache.blocks[index];
            // The empty block is the cache's "nothing here" (its address may
            // equal a real one at the top of the address space).
            if cached.pa != pa || cached.generation != generation || cached.entries.is_empty() {
                let instrs = self.decode_block(pa);
                if instrs.is_empty() {
                    // An instruction that is invalid or crosses into the next
                    // page: this step goes on the single-step way.
                    return match self.execute_at(eip, pa) {
                        Some(stop) => BlockExit::Stop(stop),
                        None => self.leave(),
                    };
                }
                let generation = self.mem.mark_code(frame);
                let mut at = 0u16;
                let mut entries: Vec<Entry> = instrs
                    .into_iter()
                    .enumerate()
                    .map(|(index, instr)| {
                        let end = at + u16::from(instr.len);
                        let e = Entry {
                            fast: Fast::of(&instr, u32::from(end)),
                            index: index as u8,
                            at,
                            end,
                            instr,
                        };
                        at = end;
                        e
                    })
                    .collect();
                fuse_loop_end(&mut entries);
                cache.blocks[index] = Block {
                    pa,
                    generation,
                    entries,
                };
            }
            let block = &cache.blocks[index];
            self.mem.code_written = false;
            self.mmio_touched = false;
            self.recheck = false;
            // No shortcut changes the privilege or CR0, so their accesses'
            // rights hold for the block (an instruction that does is
            // executed in full, and they are worked out again after it).
            let mut rights = self.cpl_rights();
            let mut quick = self.quick_rights(rights);
            // The shortcuts leave their step, tick and retirement counts (and
            // EIP) to be written once, before anything that could look at
            // them; the counts follow from the instruction's index in the
            // block and the passes made (see `Lag`).
            let start = eip;
            let n = block.entries.len() as u64;
            // How many steps more this block may run before the chain's
            // limit: `steps` plus the pending lag stays the same while the
            // lag is settled, and grows by `n` with each pass.
            let mut room = chain_limit.saturating_sub(self.steps);
            'again: loop {
                // A jump at index `at` of the block to `offset` bytes from its
                // start (written once for the four jump shortcuts, which each
                // dispatch on their own).
                macro_rules! jump {
                    ($at:expr, $offset:expr) => {{
                        let (at, offset): (usize, u32) = ($at, $offset);
                        // A loop that jumps back to this block's start runs it
                        // again at once: same page, same decoded code, the counts
                        // still left to settle. Nothing the block path checks
                        // before a block can have changed: an instruction that
                        // wrote code, reached a device or lost the fetch page
                        // has left the block already, and one that made an
                        // event has filed it.
                        if offset == 0 && room > n {
                            room -= n;
                            self.lag.steps = self.lag.steps.wrapping_add(n);
                            continue 'again;
                        }
                        let target = start.wrapping_add(offset);
                        self.settle(at, 1);
                        self.cpu.eip = target;
                        if self.steps < chain_limit && self.no_breakpoint_near(target) {
                            continue 'chain;
                        }
                        return BlockExit::Ran;
                    }};
                }
                for e in block.entries.iter() {
                    // The entry's index is read only where it is used: read
                    // once for every entry, it is one more load on each
                    // dispatch of the commonest shortcuts, which need none.
                    let i = || usize::from(e.index);
                    let gpr = |m: &Machine, r: u8| m.cpu.gpr[usize::from(r & 7)];
                    // The register shortcuts: registers and flags only, so no
                    // fault, event or code write can follow, and nothing is
                    // left to check or to count.
                    match e.fast {
                        Fast::AddRR { dst, src } => self.alu32(Op::Add, dst, gpr(self, src)),
                        Fast::AddRI { dst, imm } => self.alu32(Op::Add, dst, imm),
                        Fast::SubRR { dst, src } => self.alu32(Op::Sub, dst, gpr(self, src)),
                        Fast::SubRI { dst, imm } => self.alu32(Op::Sub, dst, imm),
                        Fast::CmpRR { dst, src } => self.alu32(Op::Cmp, dst, gpr(self, src)),
                        Fast::CmpRI { dst, imm } => self.alu32(Op::Cmp, dst, imm),
                        Fast::AndRR { dst, src } => self.alu32(Op::And, dst, gpr(self, src)),
                        Fast::AndRI { dst, imm } => self.alu32(Op::And, dst, imm),
                        Fast::OrRR { dst, src } => self.alu32(Op::Or, dst, gpr(self, src)),
                        Fast::OrRI { dst, imm } => self.alu32(Op::Or, dst, imm),
                        Fast::XorRR { dst, src } => self.alu32(Op::Xor, dst, gpr(self, src)),
                        Fast::XorRI { dst, imm } => self.alu32(Op::Xor, dst, imm),
                        Fast::TestRR { dst, src } => self.alu32(Op::Test, dst, gpr(self, src)),
                        Fast::TestRI { dst, imm } => self.alu32(Op::Test, dst, imm),
                        Fast::AluRR { op, dst, src } => self.alu32(op, dst, gpr(self, src)),
                        Fast::AluRI { op, dst, imm } => self.alu32(op, dst, imm),
                        Fast::AluByteRR { op, dst, src } => {
                            let b = self.read_reg(src, Width::Byte);
                            self.alu8(op, dst, b);
                        }
                        Fast::AluByteRI { op, dst, imm } => self.alu8(op, dst, imm & 0xFF),
                        Fast::ShiftRI { kind, dst, count } => {
                            let r = usize::from(dst & 7);
                            self.cpu.gpr[r] =
                                self.shift(kind, Width::Dword, self.cpu.gpr[r], count);
                        }
                        Fast::ImulRR { dst, src } => {
                            let (a, b) = (gpr(self, dst), gpr(self, src));
                            self.cpu.gpr[usize::from(dst & 7)] = self.imul(Width::Dword, a, b);
                        }
                        Fast::ImulRRI { dst, src, imm } => {
                            let a = gpr(self, src);
                            self.cpu.gpr[usize::from(dst & 7)] = self.imul(Width::Dword, a, imm);
                        }
                        Fast::Inc(r) => self.inc_dec32(true, r),
                        Fast::Dec(r) => self.inc_dec32(false, r),
                        Fast::MovRR { dst, src } => {
                            self.cpu.gpr[usize::from(dst & 7)] = gpr(self, src);
                        }
                        Fast::MovRI { dst, imm } => self.cpu.gpr[usize::from(dst & 7)] = imm,
                        // Loads and stores cannot redirect control; their
                        // counts stay pending unless they fault or must
                        // leave the block.
                        // Loads and stores cannot redirect control. The
                        // commonest access (its page the TLB's latest, in
                        // RAM that holds no code) is made inline and leaves
                        // nothing to check (a load changes no byte a watch
                        // looks at; a watched run's stores go the full way);
                        // any other goes the full way, out of line.
                        Fast::Load { dst, mem } => {
                            let lin = mem.eval(&self.cpu.gpr);
                            match self.quick_read32(lin, quick) {
                                Some(v) => self.cpu.gpr[usize::from(dst & 7)] = v,
                                None => {
                                    // A device may read the clock: the
                                    // counts are settled up to here first
                                    // if the access reaches one.
                                    self.lag.at = i();
                                    match self.load_in_full(lin, rights) {
                                        Ok(v) => self.cpu.gpr[usize::from(dst & 7)] = v,
                                        Err(err) => {
                                            return self.shortcut_fault(i(), start, e, err);
                                        }
                                    }
                                    if let Some(exit) = self.after_memory_op(i(), start, e, false) {
                                        return exit;
                                    }
                                }
                            }
                        }
                        Fast::Store { .. } | Fast::StoreImm { .. } => {
                            let (lin, v) = match e.fast {
                                Fast::Store { src, mem } => {
                                    (mem.eval(&self.cpu.gpr), gpr(self, src))
                                }
                                Fast::StoreImm { mem, imm } => (mem.eval(&self.cpu.gpr), imm),
                                _ => (0, 0),
                            };
                            // A store to a watched frame is never quick: it
                            // goes the full way and sets `watch_written`.
                            if self.recheck || !self.quick_write32(lin, v, quick) {
                                self.lag.at = i();
                                if let Err(err) = self.store_in_full(lin, v, rights) {
                                    return self.shortcut_fault(i(), start, e, err);
                                }
                                if let Some(exit) = self.after_memory_op(i(), start, e, true) {
                                    return exit;
                                }
                            }
                        }
                        Fast::Lea { dst, mem } => {
                            self.cpu.gpr[usize::from(dst & 7)] = mem.eval(&self.cpu.gpr);
                        }
                        Fast::AluRM { .. } | Fast::CompareM { .. } | Fast::MovzxByte { .. } => {
                            self.lag.at = i();
                            let result = match e.fast {
                                Fast::AluRM { op, dst, mem } => {
                                    let lin = mem.eval(&self.cpu.gpr);
                                    self.lin_read32(lin, rights).map(|v| self.alu32(op, dst, v))
                                }
                                Fast::CompareM { op, mem, with } => {
                                    let b = match with {
                                        Operand::Reg(r) => gpr(self, r),
                                        Operand::Imm(v) => v,
                                        _ => 0,
                                    };
                                    let lin = mem.eval(&self.cpu.gpr);
                                    self.lin_read32(lin, rights).map(|a| {
                                        self.cpu.binary(op, Width::Dword, a, b);
                                    })
                                }
                                Fast::MovzxByte { dst, mem } => {
                                    let lin = mem.eval(&self.cpu.gpr);
                                    self.lin_read(lin, 1)
                                        .map(|v| self.cpu.gpr[usize::from(dst & 7)] = v)
                                }
                                _ => Ok(()),
                            };
                            if let Err(err) = result {
                                return self.shortcut_fault(i(), start, e, err);
                            }
                            if let Some(exit) = self.after_memory_op(i(), start, e, false) {
                                return exit;
                            }
                        }
                        Fast::Push(_) | Fast::Pop(_) | Fast::Pushf | Fast::Leave => {
                            self.lag.at = i();
                            let result = match e.fast {
                                Fast::Push(r) => self.push(Width::Dword, gpr(self, r)),
                                Fast::Pop(r) => self
                                    .pop(Width::Dword)
                                    .map(|v| self.cpu.gpr[usize::from(r & 7)] = v),
                                Fast::Pushf => self.push(Width::Dword, self.cpu.eflags()),
                                _ => self.leave_frame(),
                            };
                            if let Err(err) = result {
                                return self.shortcut_fault(i(), start, e, err);
                            }
                            if let Some(exit) = self.after_memory_op(i(), start, e, true) {
                                return exit;
                            }
                        }
                        Fast::Call { .. } | Fast::Ret => {
                            self.lag.at = i();
                            let next = start.wrapping_add(u32::from(e.end));
                            let target = match e.fast {
                                Fast::Call { rel } => self
                                    .push(Width::Dword, next)
                                    .map(|()| next.wrapping_add(rel)),
                                _ => self.pop(Width::Dword),
                            };
                            let target = match target {
                                Ok(t) => t,
                                Err(err) => return self.shortcut_fault(i(), start, e, err),
                            };
                            self.settle(i(), 1);
                            self.cpu.eip = target;
                            if let Some(stop) = self.event_break().or_else(|| self.watch_hit()) {
                                return BlockExit::Stop(stop);
                            }
                            if self.must_leave_block() {
                                return BlockExit::Ran;
                            }
                            if self.steps < chain_limit && self.no_breakpoint_near(target) {
                                continue 'chain;
                            }
                            return BlockExit::Ran;
                        }
                        Fast::IncDecJz {
                            up,
                            reg,
                            negate,
                            taken,
                            next,
                        } => {
                            // Each direction with a constant, so that the
                            // shared definition folds.
                            if up {
                                self.inc_dec32(true, reg);
                            } else {
                                self.inc_dec32(false, reg);
                            }
                            // ZF of a dword `inc`/`dec`: its result is zero.
                            // The jump is the entry after the `inc`/`dec`.
                            let jumps = (gpr(self, reg) == 0) != negate;
                            jump!(i() + 1, if jumps { taken } else { next });
                        }
                        Fast::Jz { taken, negate } => {
                            let jumps = self.cpu.flag(crate::cpu::Flags::ZF) != negate;
                            jump!(i(), if jumps { taken } else { u32::from(e.end) });
                        }
                        Fast::Jcc { cc, taken } => {
                            let jumps = self.condition(cc);
                            jump!(i(), if jumps { taken } else { u32::from(e.end) });
                        }
                        Fast::Jmp { taken } => jump!(i(), taken),
                        Fast::None => {
                            let here = start.wrapping_add(u32::from(e.at));
                            let next = here.wrapping_add(u32::from(e.instr.len));
                            self.settle(i(), 0);
                            self.cpu.eip = next;
                            if i() > 0 {
                                self.seen = crate::event::KindSet::EMPTY;
                                self.fault_chain.clear();
                            }
                            let result = self.execute(&e.instr, here);
                            rights = self.cpl_rights();
                            quick = self.quick_rights(rights);
                            match self.finish(result, here, e.instr.len) {
                                Finish::Next => {
                                    self.lag.unretired = self.lag.unretired.wrapping_add(1)
                                }
                                Finish::Left(Some(stop)) => return BlockExit::Stop(stop),
                                Finish::Left(None) => return self.leave(),
                            }
                            if let Some(stop) = self.event_break().or_else(|| self.watch_hit()) {
                                return BlockExit::Stop(stop);
                            }
                            if self.must_leave_block() {
                                return BlockExit::Ran;
                            }
                            if self.cpu.eip != next {
                                // A call, return or indirect jump (the
                                // table's branches) changes nothing the
                                // block path checked before the block: go
                                // on with the block at the target, as a
                                // shortcut jump does.
                                if e.instr.class() == Class::Branch
                                    && self.steps < chain_limit
                                    && self.no_breakpoint_near(self.cpu.eip)
                                {
                                    continue 'chain;
                                }
                                return BlockExit::Ran;
                            }
                        }
                    }
                }
                // The block ended without a jump (at its size limit or the end
                // of the page): EIP is the instruction after its last.
                let last = block.entries.len() - 1;
                let e = &block.entries[last];
                self.settle(last, 1);
                self.cpu.eip = start.wrapping_add(u32::from(e.end));
                return BlockExit::Ran;
            }
        }
    }

    /// The dword at `lin` for a shortcut load that the quick path did not
    /// make: through the TLB (a miss walks) and the bus. Out of line, and
    /// with no more arguments than the access needs, so that the block
    /// loop's frame stays the quick path's; the caller makes the checks
    /// after an access (`lag.at` set first: a device reads the clock).
    #[inline(never)]
    fn load_in_full(&mut self, lin: u32, rights: Rights) -> Result<u32, crate::trap::Exception> {
        self.lin_read32_as::<true>(lin, rights)
    }

    /// [`Machine::load_in_full`] for a shortcut store of `v` at `lin`.
    #[inline(never)]
    fn store_in_full(
        &mut self,
        lin: u32,
        v: u32,
        rights: Rights,
    ) -> Result<(), crate::trap::Exception> {
        self.lin_write32_as::<true>(lin, v, rights)
    }

    /// A shortcut load or store at index `i` faulted: the counts up to it
    /// are written and the fault delivered with EIP at the instruction.
    #[cold]
    fn shortcut_fault(
        &mut self,
        i: usize,
        start: u32,
        e: &Entry,
        err: crate::trap::Exception,
    ) -> BlockExit {
        let here = start.wrapping_add(u32::from(e.at));
        self.settle(i, 0);
        self.cpu.eip = here;
        self.block_fault(err, here, u32::from(e.instr.len))
    }

    /// After the shortcut access at index `i` (`wrote`: it stored): leave
    /// the block if it wrote code, reached a device, pushed the fetch page
    /// out of the TLB, or produced an event (settling the counts first).
    /// Nothing of that can have happened unless `recheck` is set (or, for a
    /// store, code was written), which is all the common case tests.
    #[inline(always)]
    fn after_memory_op(
        &mut self,
        i: usize,
        start: u32,
        e: &Entry,
        wrote: bool,
    ) -> Option<BlockExit> {
        if !(self.recheck || wrote && (self.mem.code_written | self.mem.watch_written)) {
            return None;
        }
        self.after_memory_op_checked(i, start, e)
    }

    /// [`Machine::after_memory_op`] when something may have happened: the
    /// checks a single step's `run` makes.
    #[cold]
    #[inline(never)]
    fn after_memory_op_checked(&mut self, i: usize, start: u32, e: &Entry) -> Option<BlockExit> {
        let stop = self.event_break().or_else(|| self.watch_hit());
        // The counts are settled up to this instruction whether the block
        // leaves or files its events and goes on.
        self.settle(i, 1);
        if stop.is_none() && !self.must_leave_block() {
            return None;
        }
        self.cpu.eip = start.wrapping_add(u32::from(e.end));
        Some(match stop {
            Some(stop) => BlockExit::Stop(stop),
            None => BlockExit::Ran,
        })
    }

    /// Whether the block path must leave its block after the instruction
    /// just run, its counts settled and no break due: it wrote code,
    /// reached a device, or lost the fetch page (the next fetch then
    /// consults the TLB, as a single step would). Events it made (a
    /// recorded TLB miss and its walk, say) do not end the block: they are
    /// filed here under the instruction's step, as the next single step
    /// would file them, and the next instruction starts with none seen, as
    /// a step starts (measured on the benchmark's second loop as the page
    /// records: leaving the block on each miss and coming back cost about
    /// 400 host instructions an iteration).
    #[inline(always)]
    fn must_leave_block(&mut self) -> bool {
        if self.mem.code_written
            || self.mmio_touched
            || (self.tlb.fetch.is_none() && self.cpu.paging())
        {
            return true;
        }
        // Only reads when the instruction made no event (the common case
        // after a shortcut `call` or `ret`, which asks every time).
        if self.seen != crate::event::KindSet::EMPTY || !self.step_events.is_empty() {
            self.file_step_events();
            self.seen = crate::event::KindSet::EMPTY;
            self.recheck = false;
        }
        false
    }

    /// Writes the counts the shortcuts left behind, up to the instruction
    /// at index `i` of the current pass (its step included; its retirement
    /// if `retired` is 1), and rebases the lag on that point.
    #[inline(always)]
    fn settle(&mut self, i: usize, retired: u64) {
        let lag = &mut self.lag;
        let steps = lag.steps.wrapping_add(i as u64);
        let done = steps.wrapping_sub(lag.unretired).wrapping_add(retired);
        lag.steps = 0u64.wrapping_sub(i as u64);
        lag.unretired = retired;
        lag.at = i;
        self.steps += steps;
        self.retired += done;
    }

    /// Before an access reaches a memory-mapped device: writes back the
    /// counts up to the instruction making it (`lag.at`, not yet retired),
    /// so the device reads the clock a single step gives it. Nothing is
    /// pending outside the block path, so there this does nothing.
    #[inline]
    pub(crate) fn settle_for_device(&mut self) {
        self.settle(self.lag.at, 0);
    }

    /// A 32-bit ALU operation on register `dst` with operand `b`: the
    /// shared definition ([`crate::cpu::Cpu::binary`]) on a register.
    #[inline(always)]
    fn alu32(&mut self, op: Op, dst: u8, b: u32) {
        let r = usize::from(dst & 7);
        let v = self.cpu.binary(op, Width::Dword, self.cpu.gpr[r], b);
        if crate::alu::stores(op) {
            self.cpu.gpr[r] = v;
        }
    }

    /// A byte ALU operation on register `dst` (AL to BH) with operand `b`:
    /// the shared definition on a byte register.
    #[inline(always)]
    fn alu8(&mut self, op: Op, dst: u8, b: u32) {
        let a = self.read_reg(dst, Width::Byte);
        let v = self.cpu.binary(op, Width::Byte, a, b);
        if crate::alu::stores(op) {
            self.write_reg(dst, Width::Byte, v);
        }
    }

    /// `inc` or `dec` of a 32-bit register: the shared definition.
    #[inline(always)]
    fn inc_dec32(&mut self, up: bool, reg: u8) {
        let r = usize::from(reg & 7);
        self.cpu.gpr[r] = self.cpu.inc_dec(up, Width::Dword, self.cpu.gpr[r]);
    }

    /// Leaves the block path after a step that faulted or halted, stopping
    /// if that step produced an event `run` breaks on, as `run` does after
    /// a single step.
    fn leave(&mut self) -> BlockExit {
        match self.event_break().or_else(|| self.watch_hit()) {
            Some(stop) => BlockExit::Stop(stop),
            None => BlockExit::Ran,
        }
    }

    /// Delivers a fault from inside a block, the way a single step does.
    fn block_fault(&mut self, e: crate::trap::Exception, eip: u32, len: u32) -> BlockExit {
        match self.fault(e, eip, len) {
            Some(stop) => BlockExit::Stop(stop),
            None => self.leave(),
        }
    }

    /// Decodes the block starting at physical address `pa`: instructions up
    /// to and including the first that ends a block, all within the frame.
    /// Out of line: it runs only when the cache misses, and inlined into
    /// the block loop it changed how that loop compiled (measured in wasm
    /// under `--no-liftoff`: the benchmark's second loop at half speed).
    #[inline(never)]
    fn decode_block(&self, pa: u32) -> Vec<Instr> {
        // Room for a whole block at once: growing by doubling reallocated
        // up to four times a block (measured on the fuzzer's random code).
        let mut instrs = Vec::with_capacity(MAX_BLOCK);
        let mut at = pa;
        while instrs.len() < MAX_BLOCK {
            let window = self.mem.window(at);
            match decode(window) {
                Ok(instr) => {
                    instrs.push(instr);
                    at += u32::from(instr.len);
                    if instr.ends_block() || at & (PAGE_SIZE - 1) == 0 {
                        break;
                    }
                }
                Err(DecodeError::Truncated | DecodeError::Unsupported { .. }) => break,
            }
        }
        instrs
    }
}

#[cfg(test)]
mod tests {
    use super::Ea;
    use crate::cpu::Reg;
    use crate::decode::MemRef;
    use crate::machine::Machine;

    #[test]
    fn the_block_address_is_the_step_address_for_every_form() {
        // The block loop's masked sum and the step path's options agree on
        // every base, index and scale, with values that wrap.
        let mut m = Machine::new(4096);
        for (i, r) in Reg::ALL.iter().enumerate() {
            m.set_reg(*r, 0x9E37_79B9u32.wrapping_mul(i as u32 + 1));
        }
        let regs = [None].into_iter().chain(Reg::ALL.map(Some));
        for base in regs.clone() {
            for index in regs.clone() {
                for scale in [1, 2, 4, 8] {
                    for disp in [0, 4, 0x1000_0000, 0xFFFF_FFFC] {
                        let mem = MemRef::flat(base, index, scale, disp);
                        assert_eq!(
                            Ea::of(&mem).eval(&m.cpu().gpr),
                            m.effective_address(&mem),
                            "{mem:?}"
                        );
                    }
                }
            }
        }
    }
}
