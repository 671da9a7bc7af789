//! A repeated string instruction makes at most `MachineConfig::rep_chunk`
//! iterations a step and resumes in the next: a small chunk takes more
//! steps to the same memory and registers.

use osviz_machine::{Machine, MachineConfig, Reg};

/// `rep stosb` of 1,000 bytes of 0xAB at 0x9000, then `hlt`.
fn run_rep_stosb(rep_chunk: u32) -> (Machine, Vec<u32>) {
    let mut m = Machine::with_config(MachineConfig {
        mem_size: 64 << 10,
        checkpoint_interval: 0,
        rep_chunk,
        ..MachineConfig::default()
    });
    m.load(0x8000, &[0xF3, 0xAA, 0xF4]).unwrap();
    m.set_eip(0x8000);
    m.set_reg(Reg::Eax, 0xAB);
    m.set_reg(Reg::Ecx, 1000);
    m.set_reg(Reg::Edi, 0x9000);
    let mut ecx_after_each_step = Vec::new();
    while m.cpu().eip == 0x8000 {
        m.step();
        ecx_after_each_step.push(m.cpu().reg(Reg::Ecx));
    }
    (m, ecx_after_each_step)
}

#[test]
fn a_small_chunk_takes_more_steps_to_the_same_state() {
    let (whole, whole_steps) = run_rep_stosb(4096);
    let (chunked, chunked_steps) = run_rep_stosb(64);
    assert_eq!(whole_steps, vec![0]);
    // 15 steps of 64 and one of the 40 left.
    assert_eq!(chunked_steps.len(), 16);
    assert_eq!(chunked_steps[0], 1000 - 64);
    assert_eq!(*chunked_steps.last().unwrap(), 0);
    assert_eq!(chunked.cpu().reg(Reg::Edi), whole.cpu().reg(Reg::Edi));
    assert_eq!(
        chunked.peek_virtual(0x9000, 1001),
        whole.peek_virtual(0x9000, 1001)
    );
    assert_eq!(chunked.peek_virtual(0x9000 + 999, 1)[0], Some(0xAB));
    assert_eq!(chunked.peek_virtual(0x9000 + 1000, 1)[0], Some(0));
}
