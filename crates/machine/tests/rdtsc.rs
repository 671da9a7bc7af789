//! `rdtsc`: the time-stamp counter is the step count, its own step included
//! (a 100 MHz counter, as the CMOS clock counts 10 ns a step), the same
//! run or single-stepped. (The teaching hypervisor times its exits with
//! it.)

use osviz_machine::{Machine, MachineConfig, StopReason};

/// `nop` ×3, `rdtsc`, `mov ebx, eax`, `nop`, `rdtsc`, `hlt` at 0x1000 (a
/// flat 32-bit machine, as `Machine::load` sets one up).
fn program() -> Vec<u8> {
    vec![
        0x90, 0x90, 0x90, 0x0F, 0x31, 0x89, 0xC3, 0x90, 0x0F, 0x31, 0xF4,
    ]
}

fn machine() -> Machine {
    let mut m = Machine::new(MachineConfig::default().mem_size);
    m.load(0x1000, &program()).unwrap();
    m.set_eip(0x1000);
    m
}

#[test]
fn rdtsc_reads_the_steps_so_far_the_same_run_or_stepped() {
    let mut run = machine();
    assert_eq!(run.run(100), StopReason::Halted);
    // The steps so far, the rdtsc's own included: the fourth and the
    // seventh.
    assert_eq!(
        (run.cpu().gpr[3], run.cpu().gpr[0], run.cpu().gpr[2]),
        (4, 7, 0)
    );
    let mut stepped = machine();
    while stepped.cpu().eip != 0x100A {
        stepped.step();
    }
    assert_eq!(stepped.cpu().gpr, run.cpu().gpr);
}
