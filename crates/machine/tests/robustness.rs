//! Arbitrary bytes as code, with arbitrary registers, paging on or off: the
//! machine never panics, and a run always ends in a stop it can explain.
//! (The deeper search is the cargo-fuzz target in `fuzz/`.)

use osviz_machine::{Machine, MachineConfig, Reg, StopReason};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_code_never_panics() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    let mut stops = std::collections::BTreeMap::new();
    for round in 0..3_000 {
        let mut m = Machine::with_config(MachineConfig {
            mem_size: 1 << 20,
            checkpoint_interval: 0,
            ..MachineConfig::default()
        });
        for r in Reg::ALL {
            m.set_reg(r, rng.next() as u32);
        }
        if round % 2 == 1 {
            // Identity map with user pages, so ring-3-like accesses succeed.
            let mut pd = vec![0u8; 4096];
            pd[..4].copy_from_slice(&(0x2000u32 | 7).to_le_bytes());
            let mut pt = vec![0u8; 4096];
            for page in 0..256u32 {
                pt[page as usize * 4..page as usize * 4 + 4]
                    .copy_from_slice(&((page << 12) | 7).to_le_bytes());
            }
            m.load(0x1000, &pd).unwrap();
            m.load(0x2000, &pt).unwrap();
            m.enable_paging(0x1000);
        }
        let code: Vec<u8> = (0..64).map(|_| rng.next() as u8).collect();
        m.load(0x8000, &code).unwrap();
        m.set_eip(0x8000);
        m.set_recording(round % 3 == 0);
        let stop = m.run(5_000);
        let name = match stop {
            StopReason::TripleFault { .. } => "triple_fault",
            StopReason::Halted => "halted",
            StopReason::InstructionLimit => "limit",
            StopReason::DebugExit { .. } => "exit",
            StopReason::Idle => "idle",
            StopReason::Breakpoint { .. } | StopReason::Event { .. } | StopReason::Watch { .. } => {
                "break"
            }
        };
        *stops.entry(name).or_insert(0) += 1;
    }
    // Without an IDT most random code ends in a triple fault; some halts.
    assert!(stops["triple_fault"] > 1_000, "{stops:?}");
}
