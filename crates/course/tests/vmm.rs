//! Every lesson of xv6 as the teaching hypervisor's guest (the vm-*
//! lessons) runs headless to each of its moments, from its own start (xv6's
//! prompt under the hypervisor with the lesson's command typed, or the
//! hypervisor's first instruction for the pure trap-and-emulate one), and
//! each question's answer is the one the sources imply (`guests/vmm` and
//! xv6's), written here. Each answer's facts are also read from the machine
//! without the kernel view where they can be: the hypervisor's variables at
//! the addresses its ELF's symbols give (`vcpu`, `exitlog`, `guest_base`,
//! `spgdir`), with the layouts `vmm.h` and `offsets.h` give; xv6's memory
//! through its own page tables; xv6's functions from its ELF's symbols.

mod common;

use object::read::elf::{ElfFile32, ProgramHeader};
use object::{Object, ObjectSymbol, SymbolKind};
use osviz_course::{Guest, Lesson, Moment, Setup, VMM_LESSONS};
use osviz_machine::{Flags, Machine, Seg};
use osviz_view::ExitReason;
use std::path::Path;

/// The most steps a moment may take from its lesson's start (ls's exit,
/// the farthest, takes 39 M).
const MAX_STEPS: u64 = 80_000_000;

/// An ELF's symbols and loadable segments, read with `object`.
struct Elf {
    /// Name, address, size, and whether it is a function.
    symbols: Vec<(String, u32, u32, bool)>,
    /// Each loadable segment: its linked address, its load (physical)
    /// address, and its bytes in the file.
    segments: Vec<(u32, u32, Vec<u8>)>,
}

impl Elf {
    fn open(path: &Path) -> Elf {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = ElfFile32::<object::Endianness>::parse(&*data)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let e = file.endian();
        let symbols = file
            .symbols()
            .filter_map(|s| {
                Some((
                    s.name().ok()?.to_string(),
                    u32::try_from(s.address()).ok()?,
                    u32::try_from(s.size()).ok()?,
                    s.kind() == SymbolKind::Text,
                ))
            })
            .collect();
        let segments = file
            .elf_program_headers()
            .iter()
            .filter(|ph| ph.p_type(e) == object::elf::PT_LOAD)
            .map(|ph| {
                let bytes = ph.data(e, &*data).unwrap_or_default().to_vec();
                (ph.p_vaddr(e), ph.p_paddr(e), bytes)
            })
            .collect();
        Elf { symbols, segments }
    }

    /// A symbol's address (the first of that name).
    fn addr(&self, name: &str) -> u32 {
        self.symbols
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .1
    }

    /// The function whose extent holds `addr`.
    fn function_at(&self, addr: u32) -> Option<&str> {
        self.symbols
            .iter()
            .find(|(_, a, size, func)| *func && addr >= *a && addr - a < *size)
            .map(|s| s.0.as_str())
    }

    /// Linked minus loaded addresses (the same for every segment).
    fn link_offset(&self) -> u32 {
        let (v, p, _) = &self.segments[0];
        for (v2, p2, _) in &self.segments {
            assert_eq!(v2.wrapping_sub(*p2), v.wrapping_sub(*p), "one link offset");
        }
        v.wrapping_sub(*p)
    }

    /// The file's byte at linked address `va`.
    fn byte(&self, va: u32) -> u8 {
        self.segments
            .iter()
            .find_map(|(v, _, bytes)| bytes.get(va.checked_sub(*v)? as usize).copied())
            .unwrap_or_else(|| panic!("{va:#x} is not in the file"))
    }

    /// The initial value of the word at symbol `name`.
    fn word(&self, name: &str) -> u32 {
        let at = self.addr(name);
        u32::from_le_bytes(std::array::from_fn(|i| self.byte(at + i as u32)))
    }
}

// `enum reason` (vmm.h), in its order: the index of each exit's count in
// `vcpu.count[]` and its record's `reason` in the log.
const X_PRIVILEGED: u32 = 0;
const X_PORT_IO: u32 = 1;
const X_INTERRUPT: u32 = 5;
const X_PATCHED: u32 = 7;
const NREASONS: u32 = 9;
// `enum kind` (insn.h): what a privileged exit's record holds for sti.
const I_CLI: u32 = 3;
const I_STI: u32 = 4;

/// The hypervisor's state and xv6's memory read from the machine with the
/// two ELFs' symbols, not through the kernel view.
struct Raw<'a> {
    m: &'a Machine,
    vmm: &'a Elf,
    xv6: &'a Elf,
}

impl Raw<'_> {
    /// The hypervisor's variable at its linked address `va` (its image is
    /// loaded at `va` less its link offset).
    fn vmm_word(&self, va: u32) -> u32 {
        self.m.mem().read(va - self.vmm.link_offset(), 4)
    }

    /// A word of `struct vcpu` (vmm.h): cr0 0, cr2 4, cr3 8, cr4 12, vif 16
    /// (offsets.h's VCPU_VIF), gdt_base 20, idt_base 24, exits 40
    /// (VCPU_EXITS), count[] from 48 (VCPU_PRIVILEGED).
    fn vcpu(&self, offset: u32) -> u32 {
        self.vmm_word(self.vmm.addr("vcpu") + offset)
    }

    fn count(&self, reason: u32) -> u32 {
        self.vcpu(48 + 4 * reason)
    }

    fn counts(&self) -> Vec<u32> {
        (0..NREASONS).map(|r| self.count(r)).collect()
    }

    /// The newest record of `struct exitlog` (vmm.h: next, then 64 records
    /// of reason, eip, info, number): (reason, eip, info).
    fn latest_exit(&self) -> (u32, u32, u32) {
        let log = self.vmm.addr("exitlog");
        let next = self.vmm_word(log);
        // struct exitrec: reason, eip, info, number, steps (vmm.h).
        let rec = log + 4 + (next.wrapping_sub(1) % 64) * 20;
        (
            self.vmm_word(rec),
            self.vmm_word(rec + 4),
            self.vmm_word(rec + 8),
        )
    }

    fn guest_base(&self) -> u32 {
        self.vmm_word(self.vmm.addr("guest_base"))
    }

    /// Where guest-virtual `va` lies in the machine's memory: through the
    /// guest's own tables from its virtual CR3 (4 MiB pages with its
    /// CR4.PSE), then the hypervisor's guest base.
    fn host(&self, va: u32) -> Option<u32> {
        let base = self.guest_base();
        let read = |gpa: u32| self.m.mem().read(base + gpa, 4);
        let pde = read((self.vcpu(8) & !0xFFF) + (va >> 22) * 4);
        if pde & 1 == 0 {
            return None;
        }
        let gpa = if pde & 0x80 != 0 && self.vcpu(12) & 0x10 != 0 {
            (pde & 0xFFC0_0000) | (va & 0x3F_FFFF)
        } else {
            let pte = read((pde & !0xFFF) + ((va >> 12) & 0x3FF) * 4);
            if pte & 1 == 0 {
                return None;
            }
            (pte & !0xFFF) | (va & 0xFFF)
        };
        Some(base + gpa)
    }

    fn guest_byte(&self, va: u32) -> u8 {
        let host = self
            .host(va)
            .unwrap_or_else(|| panic!("{va:#x} is not mapped"));
        self.m.mem().read(host, 1) as u8
    }

    fn guest_word(&self, va: u32) -> u32 {
        u32::from_le_bytes(std::array::from_fn(|i| self.guest_byte(va + i as u32)))
    }

    /// xv6's function at `addr`, by its ELF.
    fn function(&self, addr: u32) -> String {
        self.xv6
            .function_at(addr)
            .map_or_else(|| format!("{addr:#x}"), str::to_string)
    }
}

/// The facts of `checks` that do not hold, said.
fn failed(lesson: &str, checks: &[(bool, String)]) -> Vec<String> {
    checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| format!("{lesson}: not so: {what}"))
        .collect()
}

/// What must hold at a lesson's `moment` besides its answers' text, read
/// from the machine as [`Raw`] reads it. `at_start` is the hypervisor's
/// count of each exit reason at the lesson's start.
fn facts(id: &str, moment: Moment, g: &Guest, raw: &Raw, at_start: &[u32]) -> Vec<(bool, String)> {
    let m = g.machine();
    let view = g.view();
    let grew_by_one = |reason: u32| raw.count(reason) == at_start[reason as usize] + 1;
    let (reason, eip, info) = raw.latest_exit();
    let port_io = matches!(
        moment,
        Moment::Exit {
            reason: ExitReason::PortIo,
            ..
        }
    );
    match id {
        "vm-guest" => {
            // xv6's kernel in ring 1 (guest.c enters it with SEL(SEG_G1CODE,
            // 1); gdt.c compresses its own descriptors to DPL 1).
            let cs = m.cpu().sreg(Seg::Cs);
            // The guest's CR3 is the running process's page directory, a
            // page kalloc gave (above the kernel's end, below PHYSTOP, the
            // 224 MiB the hypervisor gives); the real one the shadow page
            // directory (shadow.c's spgdir), physical.
            let cr3 = raw.vcpu(8);
            let current = view.current(m);
            let kalloc_from = raw.xv6.addr("end") - raw.xv6.link_offset();
            let spgdir = raw.vmm.addr("spgdir") - raw.vmm.link_offset();
            vec![
                (
                    cs & 3 == 1 && m.cpu().cpl() == 1,
                    format!("CS {cs:#x} is ring 1"),
                ),
                (
                    raw.xv6.function_at(m.cpu().eip) == Some("sys_write"),
                    "EIP is at sys_write".into(),
                ),
                (
                    raw.vmm.word("guest_base") == 0x1000_0000
                        && raw.guest_base() == 0x1000_0000
                        && raw.vmm.word("guest_size") == 224 << 20,
                    "guest_base is 0x10000000 (GUEST_BASE) and guest_size 224 MiB".into(),
                ),
                (
                    current.as_ref().map(|p| (p.name.as_str(), p.pgdir)) == Some(("ls", cr3)),
                    format!("the guest's CR3 {cr3:#x} is ls's page directory"),
                ),
                (
                    cr3 % 4096 == 0 && cr3 >= kalloc_from && cr3 < 0xE00_0000,
                    format!("{cr3:#x} is a page kalloc gave ({kalloc_from:#x} to PHYSTOP)"),
                ),
                (
                    raw.vmm.link_offset() == 0xC000_0000 && m.cpu().cr3 == spgdir,
                    format!(
                        "the real CR3 {:#x} is spgdir's physical address {spgdir:#x}",
                        m.cpu().cr3
                    ),
                ),
            ]
        }
        "vm-trap-emulate" if !port_io => vec![
            (
                reason == X_PRIVILEGED && grew_by_one(X_PRIVILEGED),
                "the first privileged exit since the start".into(),
            ),
            // Which comes first, popcli's sti or pushcli's cli, depends on
            // where the timer finds sh's write: either is the first.
            (
                (raw.guest_byte(eip), info, raw.function(eip).as_str()) == (0xFB, I_STI, "popcli")
                    || (raw.guest_byte(eip), info, raw.function(eip).as_str())
                        == (0xFA, I_CLI, "pushcli"),
                format!("the exit's instruction at {eip:#x} is popcli's sti or pushcli's cli"),
            ),
        ],
        "vm-trap-emulate" => vec![
            (
                reason == X_PORT_IO && grew_by_one(X_PORT_IO),
                "the first port I/O exit since the start".into(),
            ),
            // kbdgetc's first inb(KBSTATP): `in al, dx` (0xEC) with DX 0x64.
            (
                info == 0x64 && raw.guest_byte(eip) == 0xEC,
                format!("the exit's instruction at {eip:#x} is `in al, dx` on port 0x64"),
            ),
            (
                raw.function(eip) == "kbdgetc",
                format!("{eip:#x} is in kbdgetc"),
            ),
        ],
        "vm-popek-goldberg" => {
            // At panic's first instruction: its argument above the return
            // address, the callers by the frame pointers.
            let esp = m.cpu().gpr[4];
            let message: String = (raw.guest_word(esp + 4)..)
                .map(|va| raw.guest_byte(va))
                .take_while(|&b| b != 0)
                .map(char::from)
                .collect();
            let mut callers = vec![raw.function(raw.guest_word(esp) - 1)];
            let mut ebp = m.cpu().gpr[5];
            while callers.last().is_some_and(|f| f != "main") && callers.len() < 8 {
                callers.push(raw.function(raw.guest_word(ebp + 4) - 1));
                ebp = raw.guest_word(ebp);
            }
            vec![
                (
                    message == "mycpu called with interrupts enabled\n",
                    format!("panic's message is mycpu's ({message:?})"),
                ),
                (
                    callers == ["mycpu", "cpuid", "seginit", "main"],
                    format!("panic's callers are mycpu, cpuid, seginit, main ({callers:?})"),
                ),
                // pure: nothing patched, so the pushfl ran without an exit.
                (
                    raw.count(X_PATCHED) == 0,
                    "no patched exit under pure".into(),
                ),
                (
                    m.cpu().flag(Flags::IF) && raw.vcpu(16) == 0,
                    "the real IF is 1 and the virtual IF 0".into(),
                ),
            ]
        }
        "vm-patching" => vec![
            (
                reason == X_PATCHED && info == 0x9C && grew_by_one(X_PATCHED),
                "the first patched exit since the start, of a pushfl".into(),
            ),
            (
                raw.xv6.byte(eip) == 0x9C && raw.guest_byte(eip) == 0xCC,
                format!("xv6's file holds pushfl at {eip:#x}, the guest's memory int3"),
            ),
            // mycpu's own readeflags(), or pushcli's (popcli's check is
            // mycpu's): which comes first depends on where the lesson
            // starts in sh's write.
            (
                ["mycpu", "pushcli"].contains(&raw.function(eip).as_str()),
                format!("{eip:#x} is in mycpu or pushcli"),
            ),
        ],
        "vm-rings" => {
            // xv6's GDT entry SEG_KCODE (1) in its memory, and the real one
            // (the hypervisor's gdt, at its linked address less the offset).
            let cs = m.cpu().sreg(Seg::Cs);
            let gdt = raw.vcpu(20);
            let (lo, hi) = (raw.guest_word(gdt + 8), raw.guest_word(gdt + 12));
            let real = m.cpu().gdtr.base - raw.vmm.link_offset() + 8;
            let (real_lo, real_hi) = (m.mem().read(real, 4), m.mem().read(real + 4, 4));
            vec![
                (cs == 0x9, format!("CS {cs:#x} is SEG_KCODE (1) with RPL 1")),
                (
                    (hi >> 13) & 3 == 0 && hi & 0x1800 == 0x1800,
                    format!("xv6's GDT entry 1 ({hi:#010x}) is code of DPL 0"),
                ),
                (
                    real_lo == lo && real_hi == hi | 1 << 13,
                    format!("the real GDT's entry 1 ({real_hi:#010x}) is xv6's with DPL 1"),
                ),
            ]
        }
        "vm-interrupts" if matches!(moment, Moment::Symbol { .. }) => vec![
            // At vector32: delivered by the hypervisor at xv6's sti (or,
            // through its cli's exit, with the tick already pending).
            (
                reason == X_PRIVILEGED && (info == I_STI || info == I_CLI),
                format!("the latest exit is a cli or sti ({info})"),
            ),
            (
                m.cpu().eip == raw.xv6.addr("vector32"),
                "xv6's vector32 runs".into(),
            ),
        ],
        "vm-interrupts" => {
            // xv6's IDT gate 32 (T_IRQ0 + IRQ_TIMER) goes to vector32.
            let gate = raw.vcpu(24) + 32 * 8;
            let handler =
                (raw.guest_word(gate) & 0xFFFF) | (raw.guest_word(gate + 4) & 0xFFFF_0000);
            vec![
                (
                    reason == X_INTERRUPT && info == 32 && grew_by_one(X_INTERRUPT),
                    format!("the first interrupt exit since the start is vector 32 ({info})"),
                ),
                (
                    handler == raw.xv6.addr("vector32"),
                    format!("xv6's gate 32 goes to vector32 ({handler:#x})"),
                ),
            ]
        }
        "vm-shadow" => {
            // The shell's child, before exec: xv6 maps every page below its
            // sz, and the shadow (the real CR3's tables) maps each page
            // present there to the guest's frame at the guest base, and has
            // used each since it filled it (the MMU set its A bit).
            let Some(p) = view.current(m) else {
                return vec![(false, "a process runs".into())];
            };
            let guest: Vec<(u32, u32)> = view
                .page_tables(m, &p)
                .into_iter()
                .flat_map(|t| {
                    t.entries
                        .into_iter()
                        .map(move |(i, pte)| (t.covers | i << 12, pte))
                })
                .collect();
            let real = m.cpu().cr3;
            let shadow = |va: u32| {
                let pde = m.mem().read(real + (va >> 22) * 4, 4);
                (pde & 1 != 0)
                    .then(|| m.mem().read((pde & !0xFFF) + ((va >> 12) & 0x3FF) * 4, 4))
                    .filter(|pte| pte & 1 != 0)
            };
            let filled: Vec<(u32, u32, u32)> = guest
                .iter()
                .filter_map(|&(va, pte)| Some((va, pte, shadow(va)?)))
                .collect();
            vec![
                (
                    (p.pid, p.name.as_str()) == (3, "sh") && raw.vcpu(8) == p.pgdir,
                    format!("pid 3 (sh) runs on its directory ({} {})", p.pid, p.name),
                ),
                (
                    guest.len() == 12 && guest.len() as u32 == p.brk / 4096,
                    format!("its table maps 12 pages, all of sz {:#x}", p.brk),
                ),
                (
                    guest.iter().filter(|(_, pte)| pte & 4 != 0).count() == 11,
                    "11 of them user pages: exec's guard page (clearpteu) is not".into(),
                ),
                (
                    filled.len() == 5,
                    format!("the shadow holds 5 of them ({})", filled.len()),
                ),
                (
                    filled.iter().all(|&(_, g, s)| {
                        s & !0xFFF == raw.guest_base() + (g & !0xFFF) && s & 0x24 == 0x24
                    }),
                    format!(
                        "each shadow entry maps the guest's frame, user, accessed ({filled:x?})"
                    ),
                ),
            ]
        }
        "vm-io" => {
            // ideintr from trap(tf): the trap frame's vector is the disk's
            // (T_IRQ0 + IRQ_IDE), and the buffer done is a read.
            let tf = raw.guest_word(m.cpu().gpr[5] + 8);
            let trapno = raw.guest_word(tf + 48);
            let queue = view.disk_queue(m);
            vec![
                (
                    trapno == 46,
                    format!("trap's frame is vector 46 ({trapno})"),
                ),
                (
                    queue.first().is_some_and(|r| !r.write),
                    format!("the disk's first request is a read ({queue:?})"),
                ),
                (
                    raw.count(X_INTERRUPT) > at_start[X_INTERRUPT as usize],
                    "the hypervisor took an interrupt since the start".into(),
                ),
            ]
        }
        "vm-cost" => {
            let counts = raw.counts();
            let exits = raw.vcpu(40);
            vec![
                (
                    counts.iter().sum::<u32>() == exits,
                    format!("the counts by reason add up to the exits ({counts:?}, {exits})"),
                ),
                (
                    counts.iter().max() == Some(&counts[X_PATCHED as usize]),
                    "the patched pushfl/popfl are counted most".into(),
                ),
                (
                    g.answer(&osviz_course::lesson("vm-cost").unwrap().questions[0], &[])
                        .starts_with(&format!(
                            "patched pushfl/popfl: {} of {exits} exits, ",
                            counts[X_PATCHED as usize],
                        )),
                    format!(
                        "the answer's counts are the hypervisor's, per 1,000 of {} steps",
                        m.steps()
                    ),
                ),
            ]
        }
        other => vec![(false, format!("no facts for {other}"))],
    }
}

#[test]
fn every_vmm_lesson_reaches_its_moments_and_answers_as_the_source_implies() {
    let build = common::xv6_under_hypervisor();
    let vmm = Elf::open(&common::vmm_dir().join("vmm"));
    let xv6_dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let xv6 = Elf::open(&xv6_dir.join("kernel"));
    // Booted once to the prompt under the hypervisor; each lesson types its
    // command on a copy.
    let first = VMM_LESSONS
        .iter()
        .find(|l| matches!(l.setup, Setup::Vmm { pure: false, .. }))
        .unwrap();
    let mut at_prompt = Guest::for_lesson(first, Some(&build), None).unwrap();
    let blank = Lesson {
        setup: Setup::Vmm {
            typed: "",
            pure: false,
        },
        ..*first
    };
    at_prompt.go_to_start(&blank).unwrap();
    let expected: &[(&str, &[&str])] = &[
        // guest.c enters xv6's kernel in ring 1; it believes ring 0. Its
        // memory is GUEST_BASE 0x10000000, GUEST_SIZE 224 MiB (memlayout.h).
        // At ls's sys_write, xv6's CR3 holds ls's directory (a page kalloc
        // gave), the real one the shadow's (spgdir, linked 0xC0115000).
        (
            "vm-guest",
            &[
                "ring 1, ring 0: the hypervisor runs xv6's kernel deprivileged, and the virtual CPU it shows xv6 says ring 0",
                "0x10000000 (256 MiB): the hypervisor gave the guest 224 MiB of guest-physical memory from there",
                "0xdf23000, 0x115000: xv6's own (guest-physical) and the hypervisor's shadow (host-physical)",
            ],
        ),
        // The keys are pressed at the prompt while sh is still in the
        // kernel writing it: consolewrite's release ends in popcli's sti,
        // the first privileged exit (and where the pending keyboard
        // interrupt goes in). kbdintr's kbdgetc reads KBSTATP (0x64) first.
        (
            "vm-trap-emulate",
            &[
                "sti, popcli: it faulted in ring 1 and the hypervisor emulated it on the virtual CPU|cli, pushcli: it faulted in ring 1 and the hypervisor emulated it on the virtual CPU",
                "0x64, keyboard: in al, dx in kbdgetc exits, and the hypervisor passes it to the board's device",
            ],
        ),
        // main → seginit → cpuid → mycpu, whose readeflags() check is the
        // first pushfl of xv6's boot (patch.c, README.md).
        (
            "vm-popek-goldberg",
            &[
                "mycpu ← cpuid ← seginit ← main: its readeflags() (pushfl) saw interrupts enabled",
                "1 (enabled), 0 (disabled): pushfl in ring 1 reads the real flag without trapping; only the virtual one was cleared",
            ],
        ),
        // In consolewrite's release, popcli calls mycpu(), whose pushfl
        // the hypervisor rewrote to int3 (0xCC); the answer names the
        // original in NASM's syntax, as osviz's decoder does (pushfd).
        (
            "vm-patching",
            &[
                "pushfl (pushfd), mycpu, int3: the hypervisor rewrote it before xv6 ran, and emulates it with the virtual IF|pushfl (pushfd), pushcli, int3: the hypervisor rewrote it before xv6 ran, and emulates it with the virtual IF",
            ],
        ),
        // CS = SEG_KCODE << 3 with RPL 1; xv6's seginit makes SEG_KCODE DPL 0.
        (
            "vm-rings",
            &[
                "1, 0: CS is 0x9, a selector of the hypervisor's GDT whose descriptor it copied from xv6's with ring 0 made ring 1",
            ],
        ),
        // lapicinit: the timer at T_IRQ0 + IRQ_TIMER; tvinit's gate 32 is
        // vectors[32].
        (
            "vm-interrupts",
            &[
                "32, timer: the hypervisor takes it first; it delivers it through xv6's IDT to vector32 once xv6's virtual IF is on",
                "sti, popcli: the hypervisor held the tick while xv6's virtual IF was off, and delivered it at this exit|cli, pushcli: the hypervisor held the tick while xv6's virtual IF was off, and delivered it at this exit",
            ],
        ),
        // sh's child before exec: text and data (2 pages), exec's guard
        // page and stack page, and malloc's 8 pages from sbrk (sz 0xc000);
        // growproc's switchuvm emptied the shadow, which since holds the 5
        // pages the child touched.
        (
            "vm-shadow",
            &[
                "11, 5: the shadow was emptied at the last CR3 write and holds only the pages touched since",
            ],
        ),
        // ideinit: ioapicenable(IRQ_IDE): vector T_IRQ0 + 14.
        (
            "vm-io",
            &[
                "46 (IRQ 14), disk: the disk's interrupt entered the hypervisor, which delivered it into xv6's handler",
            ],
        ),
        // Each pushcli/popcli pair makes several patched exits (its own
        // pushfl and its mycpu() calls'): the most by far.
        ("vm-cost", &["patched pushfl/popfl: *"]),
    ];

    let mut wrong = Vec::new();
    for l in VMM_LESSONS {
        let started = std::time::Instant::now();
        let mut start = match l.setup {
            // The pure lesson starts at the hypervisor's first instruction.
            Setup::Vmm { pure: true, .. } => {
                let mut g = Guest::for_lesson(l, Some(&build), None).unwrap();
                g.go_to_start(l).unwrap();
                g
            }
            _ => at_prompt.fork(),
        };
        for b in l.typed().bytes() {
            start.machine_mut().press_key(b);
        }
        let at_start = Raw {
            m: start.machine(),
            vmm: &vmm,
            xv6: &xv6,
        }
        .counts();
        let want = common::expected_for(expected, l);
        // Each moment (every breakpoint, every question's) run to once, on
        // its own copy of the start; each question answered there.
        let mut moments: Vec<Moment> = l.breakpoints.to_vec();
        for q in l.questions {
            if !moments.contains(&q.moment) {
                moments.push(q.moment);
            }
        }
        for moment in moments {
            let mut g = start.fork();
            let events = g
                .run_to(moment, MAX_STEPS)
                .unwrap_or_else(|e| panic!("{}: {moment}: {e}", l.id));
            let raw = Raw {
                m: g.machine(),
                vmm: &vmm,
                xv6: &xv6,
            };
            for (q, want) in l.questions.iter().zip(want) {
                if q.moment != moment {
                    continue;
                }
                let got = g.answer(q, &events);
                println!(
                    "{} at {moment} (step {}): {} -> {got}",
                    l.id,
                    g.machine().steps(),
                    q.prompt
                );
                // Alternatives are split by `|`; a trailing `*` takes any
                // rest (what the facts below check).
                let matches = want.split('|').any(|w| match w.strip_suffix('*') {
                    Some(prefix) => got.starts_with(prefix),
                    None => got == w,
                });
                if !matches {
                    wrong.push(format!("{}: {}: {got} (expected {want})", l.id, q.prompt));
                }
            }
            wrong.extend(failed(l.id, &facts(l.id, moment, &g, &raw, &at_start)));
        }
        println!("{}: {:?}", l.id, started.elapsed());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
