//! Determinism, snapshots, reverse stepping and breakpoints.

mod common;

use common::guest_machine;
use osviz_machine::{EventKind, Machine, MachineConfig, Snapshot, StopReason};

fn config() -> MachineConfig {
    MachineConfig {
        checkpoint_interval: 1_000,
        max_checkpoints: 8,
        ..MachineConfig::default()
    }
}

#[test]
fn the_same_program_run_twice_ends_in_the_same_state() {
    let mut a = guest_machine("timer_and_disk.asm", config());
    let mut b = guest_machine("timer_and_disk.asm", config());
    assert_eq!(a.run(1_000_000), StopReason::Halted);
    assert_eq!(b.run(1_000_000), StopReason::Halted);
    assert_eq!(a.state_hash(), b.state_hash());
    assert!(
        a.steps() > 2_000,
        "the run should be long enough to checkpoint"
    );
}

#[test]
fn seeking_back_and_forward_reproduces_every_state() {
    // Few checkpoints, so that thinning them happens during the run.
    let mut m = guest_machine(
        "timer_and_disk.asm",
        MachineConfig {
            max_checkpoints: 3,
            ..config()
        },
    );
    let points = [4_000u64, 17, 2_500, 0, 999, 1_000, 1_001, 3_333];
    let mut hashes = std::collections::HashMap::new();
    while m.stopped().is_none() && m.steps() < 5_000 {
        if points.contains(&m.steps()) {
            hashes.insert(m.steps(), m.state_hash());
        }
        m.step();
    }
    let end = (m.steps(), m.state_hash());
    // Back to many earlier points, in no particular order.
    for step in points {
        let hash = hashes[&step];
        assert_eq!(m.seek(step).unwrap(), step);
        assert_eq!(m.state_hash(), hash, "state after seeking to step {step}");
    }
    // And forward again to the end.
    m.seek(end.0).unwrap();
    assert_eq!((m.steps(), m.state_hash()), end);
    // Checkpoints stay bounded.
    let kept = m.checkpoint_steps();
    assert!(kept.len() <= 3, "{kept:?}");
    assert_eq!(kept[0], 0);
}

#[test]
fn step_back_undoes_single_steps() {
    let mut m = guest_machine("arith.asm", config());
    m.run(200);
    let before = m.state_hash();
    let eip = m.cpu().eip;
    m.step();
    m.step();
    assert_ne!(m.state_hash(), before);
    m.step_back(2).unwrap();
    assert_eq!(m.state_hash(), before);
    assert_eq!(m.cpu().eip, eip);
}

#[test]
fn keyboard_input_is_replayed_at_the_same_step() {
    let mut m = guest_machine("keyboard_echo.asm", config());
    assert_eq!(m.run(100_000), StopReason::Idle);
    m.press_key(b'o');
    assert_eq!(m.run(100_000), StopReason::Idle);
    let between = m.steps();
    m.press_key(b'k');
    assert_eq!(m.run(100_000), StopReason::Idle);
    m.press_key(b'.');
    assert_eq!(m.run(100_000), StopReason::Halted);
    assert_eq!(m.debug_output(), b"ok.");
    let end = (m.steps(), m.state_hash());

    // Back to before the second key, then forward: the keys come again.
    m.seek(between - 1).unwrap();
    assert_eq!(m.debug_output(), b"o");
    m.seek(end.0).unwrap();
    assert_eq!(m.debug_output(), b"ok.");
    assert_eq!((m.steps(), m.state_hash()), end);

    // Typing something else at an earlier point rewrites the future.
    m.seek(between).unwrap();
    m.press_key(b'!');
    m.press_key(b'.');
    m.run(100_000);
    assert_eq!(m.debug_output(), b"o!.");
}

#[test]
fn snapshots_round_trip_through_bytes() {
    let mut m = guest_machine("timer_and_disk.asm", config());
    m.run(1_500);
    let snapshot = m.snapshot();
    let bytes = snapshot.to_bytes();
    let restored = Snapshot::from_bytes(&bytes).unwrap();
    assert_eq!(restored, snapshot);

    let mut other = Machine::with_config(config());
    other.restore(&restored);
    assert_eq!(other.state_hash(), m.state_hash());
    // Both continue identically.
    m.run(5_000);
    other.run(5_000);
    assert_eq!(other.state_hash(), m.state_hash());
    assert!(Snapshot::from_bytes(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn run_stops_at_address_breakpoints_and_event_kinds() {
    let mut m = guest_machine("pf_error_codes.asm", config());
    m.break_on(EventKind::PageFault, true);
    match m.run(1_000_000) {
        StopReason::Event { kind } => assert_eq!(kind, EventKind::PageFault),
        other => panic!("expected a page-fault break, got {other:?}"),
    }
    assert_eq!(m.cpu().cr2, 0x201000);
    // The handler runs next: EIP is at the page-fault stub.
    let handler = m.cpu().eip;
    m.break_on(EventKind::PageFault, false);
    m.break_on(EventKind::Cr3Write, true);
    m.add_breakpoint(handler);
    assert_eq!(m.run(1_000_000), StopReason::Breakpoint { eip: handler });
    assert_eq!(m.cpu().cr2, 0x200000, "the second page fault's handler");
}

#[test]
fn recording_events_is_bounded() {
    let mut m = guest_machine(
        "timer_and_disk.asm",
        MachineConfig {
            event_capacity: 100,
            ..config()
        },
    );
    m.set_recording(true);
    m.run(1_000_000);
    assert_eq!(m.events().count(), 100 + m.last_events().len());
}

#[test]
fn restoring_a_snapshot_forgets_code_decoded_before() {
    // Two programs at the same address: `mov eax, 1; hlt` and `mov eax, 2; hlt`.
    let program = |value: u8| {
        let mut m = Machine::new(64 * 1024);
        m.load(0x1000, &[0xB8, value, 0, 0, 0, 0xF4]).unwrap();
        m.set_eip(0x1000);
        m
    };
    let two = program(2).snapshot();
    let mut m = program(1);
    m.run(10);
    assert_eq!(m.cpu().gpr[0], 1);
    m.restore(&two);
    m.run(10);
    assert_eq!(m.cpu().gpr[0], 2);
}

/// A loop that counts in ECX and stores the count at 0x8000 every eighth
/// iteration: `inc ecx / test cl, 7 / jnz back / mov [0x8000], ecx / jmp back`.
fn counting_store_machine() -> Machine {
    let program = [
        0x41, // 1000 inc ecx
        0xF6, 0xC1, 0x07, // 1001 test cl, 7
        0x75, 0xFA, // 1004 jnz 1000
        0x89, 0x0D, 0x00, 0x80, 0x00, 0x00, // 1006 mov [0x8000], ecx
        0xEB, 0xF2, // 100c jmp 1000
    ];
    let mut m = Machine::with_config(config());
    m.load(0x1000, &program).unwrap();
    m.set_eip(0x1000);
    m
}

#[test]
fn a_watch_stops_the_run_after_the_step_that_changed_its_bytes_and_nowhere_else() {
    let mut m = counting_store_machine();
    m.set_watches(&[(0x8000, 4)]);
    // Eight iterations of three steps, then the store (step 25); each later
    // pass also takes the jmp back (26 steps a pass).
    for pass in 1..=3u32 {
        assert_eq!(m.run(1_000), StopReason::Watch { pa: 0x8000 });
        assert_eq!(m.mem().read(0x8000, 4), 8 * pass);
        assert_eq!(m.steps(), u64::from(pass) * 26 - 1);
        assert_eq!(m.cpu().eip, 0x100c, "stopped just after the store");
    }
    // A watch on bytes the store leaves alone never stops the run.
    m.set_watches(&[(0x8004, 4)]);
    assert_eq!(m.run(1_000), StopReason::InstructionLimit);
    // Seeking back replays without stopping at watches, and the next run
    // stops at the first change after where time now is.
    m.set_watches(&[(0x8000, 1)]);
    assert_eq!(m.seek(30).unwrap(), 30);
    assert_eq!(m.run(1_000), StopReason::Watch { pa: 0x8000 });
    assert_eq!(m.steps(), 51);
    // A run without watches takes the block path to the same state as the
    // watched, single-stepped run.
    let mut plain = counting_store_machine();
    assert_eq!(plain.run(51), StopReason::InstructionLimit);
    assert_eq!(plain.state_hash(), m.state_hash());
    // Watches hold across a restore (memory comes back whole), and across a
    // watch moved to another frame and back: only writes to watched frames
    // are compared, so the bookkeeping that says which those are must follow.
    let snap = m.snapshot();
    m.run(100);
    m.restore(&snap);
    assert_eq!(m.run(1_000), StopReason::Watch { pa: 0x8000 });
    m.set_watches(&[(0x9000, 4)]);
    assert_eq!(m.run(100), StopReason::InstructionLimit);
    m.set_watches(&[(0x7FFE, 4)]);
    assert_eq!(
        m.run(1_000),
        StopReason::Watch { pa: 0x7FFE },
        "a watch across two frames sees a write to the second"
    );
}

/// `call` and `push` write the stack: a watch on the stack stops there, in
/// the block path as in single steps. `mov esp, 0x9000 / l: call f / jmp l
/// / f: push eax / inc eax / pop ecx / ret`.
#[test]
fn a_watch_on_the_stack_stops_after_the_call_or_push_that_wrote_it() {
    let program = [
        0xBC, 0x00, 0x90, 0x00, 0x00, // 1000 mov esp, 0x9000
        0xE8, 0x02, 0x00, 0x00, 0x00, // 1005 call 100c
        0xEB, 0xF9, // 100a jmp 1005
        0x50, // 100c push eax
        0x40, // 100d inc eax
        0x59, // 100e pop ecx
        0xC3, // 100f ret
    ];
    let machine = || {
        let mut m = Machine::with_config(config());
        m.load(0x1000, &program).unwrap();
        m.set_eip(0x1000);
        m
    };
    let mut m = machine();
    // The return address at 0x8FFC is written once with the same value
    // each time after the first; the pushed EAX at 0x8FF8 changes each time.
    m.set_watches(&[(0x8FF8, 4)]);
    let mut stops = Vec::new();
    for _ in 0..3 {
        assert_eq!(m.run(1_000), StopReason::Watch { pa: 0x8FF8 });
        stops.push((m.steps(), m.cpu().eip));
    }
    // The first push writes 0 over 0 (no change); each later one a new
    // count: it stops just after the push, six steps a pass.
    assert_eq!(stops, [(9, 0x100d), (15, 0x100d), (21, 0x100d)]);
    let mut stepped = machine();
    stepped.set_watches(&[(0x8FF8, 4)]);
    let mut stepped_stops = Vec::new();
    // One step at a time (`run(1)` stops at a watch as `run` does).
    while stepped_stops.len() < 3 && stepped.steps() < 100 {
        if let StopReason::Watch { .. } = stepped.run(1) {
            stepped_stops.push((stepped.steps(), stepped.cpu().eip));
        }
    }
    assert_eq!(stepped_stops, stops);
}
