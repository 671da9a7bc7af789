//! Decodes and executes arbitrary bytes: the machine must never panic,
//! whatever the code, the registers, the paging state or the board (the
//! lessons', one with a memory-mapped timer, or the PC's). The machine is
//! small (64 KiB, a disk of 8 blocks, string instructions in steps of 64)
//! so that each input costs little: building it, running, stepping back
//! and a snapshot's round trip take well under a millisecond.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osviz_machine::devices::{Component, Timer};
use osviz_machine::{Board, InterruptController, Machine, MachineConfig, Part, Reg};

/// Where the fuzzed code runs.
const CODE: u32 = 0x8000;

fn config() -> MachineConfig {
    MachineConfig {
        mem_size: 64 << 10,
        checkpoint_interval: 64,
        max_checkpoints: 4,
        // A `rep insb` step makes 64 port reads, not 4,096: a thousand steps
        // of one stay well under a millisecond, and resuming a string
        // instruction across steps is still reached.
        rep_chunk: 64,
        // A disk of 8 blocks, not 64: each input copies the machine, and
        // block numbers past the end reach the disk's error path as well.
        disk_blocks: 8,
        ..MachineConfig::default()
    }
}

// Each input starts from a copy of a machine built once: a clone is a few
// memory copies, where building one initializes its caches entry by entry.
thread_local! {
    static LESSONS: Machine = Machine::with_config(config());
    static MMIO: Machine = Machine::with_board(
        config(),
        Board {
            name: "fuzz",
            controller: InterruptController::Pic(Default::default()),
            controller_ports: vec![(0x20, 0x21)],
            controller_mmio: vec![],
            parts: vec![Part {
                device: Component::Timer(Timer::default()),
                ports: vec![(0x40, 0x40)],
                mmio: Some((0x1_0000, 0x1_0003)),
            }],
        },
    );
    // The PC board's devices (APIC, I/O APIC, IDE, UART, PS/2, CGA) on a
    // small RAM: ports and the APICs' registers are reached by random code.
    static PC: Machine = Machine::with_board(
        MachineConfig {
            board: osviz_machine::BoardKind::Pc,
            ..config()
        },
        Board::pc(Some(vec![0x5A; 4 * 512]), Some(vec![0xA5; 8 * 512])),
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 33 {
        return;
    }
    let (head, code) = data.split_at(33);
    let flags = head[32];
    // Bit 3: a board with a memory-mapped timer just past RAM, so that
    // random loads and stores reach the bus's memory-mapped path.
    // Bit 4: the PC board.
    let mut m = if flags & 16 != 0 {
        PC.with(Machine::clone)
    } else if flags & 8 != 0 {
        MMIO.with(Machine::clone)
    } else {
        LESSONS.with(Machine::clone)
    };
    for (i, r) in Reg::ALL.iter().enumerate() {
        let v = u32::from_le_bytes([
            head[4 * i],
            head[4 * i + 1],
            head[4 * i + 2],
            head[4 * i + 3],
        ]);
        m.set_reg(*r, v);
    }
    if flags & 1 != 0 {
        // Identity-map the first 4 MiB through tables at 0x1000 and 0x2000,
        // with user pages when bit 1 is set, and turn paging on.
        let user = if flags & 2 != 0 { 4 } else { 0 };
        let mut pd = vec![0u8; 4096];
        pd[..4].copy_from_slice(&(0x2000u32 | 3 | user).to_le_bytes());
        let mut pt = vec![0u8; 4096];
        for page in 0..256u32 {
            pt[page as usize * 4..page as usize * 4 + 4]
                .copy_from_slice(&((page << 12) | 3 | user).to_le_bytes());
        }
        let _ = m.load(0x1000, &pd);
        let _ = m.load(0x2000, &pt);
        m.enable_paging(0x1000);
    }
    let _ = m.load(CODE, &code[..code.len().min(0x4000)]);
    m.set_eip(CODE);
    m.set_recording(flags & 4 != 0);
    m.run(1_000);
    // Reverse stepping and snapshots must hold up too.
    let _ = m.step_back(7);
    let snapshot = m.snapshot();
    m.restore(&snapshot);
    m.run(100);
});
