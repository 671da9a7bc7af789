//! xv6 on the PC board, inside the machine: the boot to the shell's prompt
//! is deterministic, `run` and single steps reach the same state, and
//! reverse stepping brings back any earlier point exactly.

mod common;

use osviz_machine::StopReason;

/// Steps to the shell's first prompt (measured: 14.0 M; a margin above).
const TO_PROMPT: u64 = 16_000_000;

fn boot_to_prompt(m: &mut osviz_machine::Machine) -> u64 {
    while !m.serial_output().ends_with(b"$ ") {
        assert!(
            m.steps() < TO_PROMPT,
            "no prompt after {} steps: {}",
            m.steps(),
            String::from_utf8_lossy(m.serial_output())
        );
        let stop = m.run(100_000);
        assert!(matches!(stop, StopReason::InstructionLimit), "{stop:?}");
    }
    m.steps()
}

#[test]
fn the_boot_is_deterministic_and_run_equals_single_steps() {
    let mut a = common::xv6_machine(0);
    let at = boot_to_prompt(&mut a);
    assert!(a.serial_output().starts_with(b"xv6...\ncpu0: starting 0\n"));
    let mut b = common::xv6_machine(0);
    b.run(at);
    assert_eq!(a.state_hash(), b.state_hash(), "two boots");
    let mut c = common::xv6_machine(0);
    while c.steps() < at {
        c.step();
    }
    assert_eq!(
        (c.steps(), c.state_hash()),
        (at, a.state_hash()),
        "single steps"
    );
    // The boot used what the PC board added: 4 MiB pages, the local APIC,
    // the IDE disk and the serial port.
    assert!(a.cpu().cr4 & osviz_machine::Cr4::PSE != 0);
    assert_eq!(a.ide_image(1).map(<[u8]>::len), Some(512_000));
    // The board names who raises each vector as xv6 routed the lines: the
    // local APIC's timer, the PS/2 keyboard, the IDE disk; nothing raises
    // the system call's vector.
    use osviz_machine::DeviceClass;
    let source = |v| a.bus().source_of_vector(v).map(|s| (s.device, s.line));
    assert_eq!(source(32), Some((DeviceClass::Timer, None)));
    assert_eq!(source(33), Some((DeviceClass::Keyboard, Some(1))));
    assert_eq!(source(46), Some((DeviceClass::Disk, Some(14))));
    assert_eq!(source(64), None);
    assert_eq!(a.bus().device_on_line(14), Some(DeviceClass::Disk));
}

/// xv6.img booted from its boot sector as a BIOS hands over: real mode at
/// 0000:7C00, `bootasm.S` switches to protected mode, `bootmain` reads the
/// kernel over the IDE disk, `entry.S` turns on paging; the boot is
/// deterministic, reaches the prompt, and `run` equals single steps there.
#[test]
fn xv6_img_boots_from_real_mode_and_run_equals_single_steps() {
    use osviz_machine::{CodeSize, Cr0, Seg};
    let mut a = common::xv6_disk_machine();
    assert!(a.cpu().real_mode());
    assert_eq!(a.cpu().code_size(), CodeSize::Bits16);
    assert_eq!((a.cpu().sreg(Seg::Cs), a.cpu().eip), (0, 0x7C00));
    assert_eq!(a.cpu().reg(osviz_machine::Reg::Edx) & 0xFF, 0x80);
    // Up to the far jump into 32-bit code: every instruction before it
    // runs in real mode, with 16-bit operands.
    let mut steps_in_real_mode = 0;
    while a.cpu().code_size() == CodeSize::Bits16 {
        a.step();
        steps_in_real_mode += 1;
        assert!(
            steps_in_real_mode < 100,
            "still 16-bit at {:#x}",
            a.cpu().eip
        );
    }
    assert!(!a.cpu().real_mode());
    assert_eq!(a.cpu().sreg(Seg::Cs), 0x08);
    assert!(a.cpu().cr0 & Cr0::PG == 0);
    assert!(a.cpu().gdtr.base >= 0x7C00 && a.cpu().gdtr.base < 0x7E00);
    let at = boot_to_prompt(&mut a);
    assert!(a.serial_output().starts_with(b"xv6...\ncpu0: starting 0\n"));
    assert!(a.cpu().paging());
    // bootasm.S leaves FS and GS null, and xv6 never loads them: the
    // machine is flat all the same (the block path runs it), and only an
    // access through FS or GS is checked.
    assert_eq!(a.cpu().sreg(Seg::Fs), 0);
    assert!(a.cpu().is_flat());
    let mut b = common::xv6_disk_machine();
    b.run(at);
    assert_eq!(a.state_hash(), b.state_hash(), "two boots");
    let mut c = common::xv6_disk_machine();
    while c.steps() < at {
        c.step();
    }
    assert_eq!(
        (c.steps(), c.state_hash()),
        (at, a.state_hash()),
        "single steps"
    );
}

/// Recording as the page does at full speed, the boot's record from the
/// block path between recorded steps is the single steps' record.
#[test]
fn the_boot_records_the_same_events_run_and_single_stepped() {
    let mut a = common::xv6_machine(0);
    let at = boot_to_prompt(&mut a);
    let mut ran = common::xv6_machine(0);
    let mut stepped = common::xv6_machine(0);
    common::record_like_the_page(&mut ran);
    common::record_like_the_page(&mut stepped);
    // Uneven chunks, compared at each end (the log keeps the latest).
    // (The state hash reads all 224 MiB: it is compared at the end.)
    let mut chunk = 1u64;
    while ran.steps() < at {
        ran.run(chunk.min(at - ran.steps()));
        while stepped.steps() < ran.steps() {
            stepped.step();
        }
        assert_eq!(
            common::recorded(&stepped),
            common::recorded(&ran),
            "events after {} steps",
            ran.steps()
        );
        chunk = (chunk * 13 + 7) % 1_500_007;
    }
    assert_eq!(stepped.state_hash(), ran.state_hash(), "single steps");
    assert_eq!(
        ran.state_hash(),
        a.state_hash(),
        "recording changes nothing"
    );
}

#[test]
fn a_snapshot_read_back_from_bytes_goes_on_as_the_machine_it_was_taken_from() {
    let mut a = common::xv6_machine(0);
    boot_to_prompt(&mut a);
    let bytes = a.snapshot().to_bytes();
    let mut b = common::xv6_machine(0);
    b.restore(&osviz_machine::Snapshot::from_bytes(&bytes).unwrap());
    assert_eq!(b.state_hash(), a.state_hash());
    // The TLB holds pages now: a restored one must find them (its lookup
    // hint is not saved), or its counters and entries differ.
    assert!(a.tlb().entries().iter().any(Option::is_some));
    for _ in 0..20 {
        a.run(100_000);
        b.run(100_000);
    }
    assert_eq!(b.state_hash(), a.state_hash());
}

#[test]
fn reverse_stepping_on_the_pc_returns_to_the_same_state() {
    let mut m = common::xv6_machine(1_000_000);
    let end = boot_to_prompt(&mut m);
    let end_hash = m.state_hash();
    let mut fresh = common::xv6_machine(0);
    for target in [end / 3, end / 2 + 12_345] {
        fresh.run(target - fresh.steps());
        m.seek(target).unwrap();
        assert_eq!(m.steps(), target);
        assert_eq!(m.state_hash(), fresh.state_hash(), "at step {target}");
    }
    m.seek(end).unwrap();
    assert_eq!(m.state_hash(), end_hash);
    // Typing after a seek back rewrites the future: the shell answers.
    m.send_serial(b'\n');
    m.run(5_000_000);
    assert!(
        m.serial_output().ends_with(b"$ \n$ "),
        "{:?}",
        String::from_utf8_lossy(m.serial_output())
    );
}

/// The text on the CGA screen, row by row (trailing spaces trimmed).
fn screen(m: &osviz_machine::Machine) -> Vec<String> {
    use osviz_machine::devices::{COLUMNS, ROWS, TEXT_BASE};
    (0..ROWS)
        .map(|r| {
            let row: String = (0..COLUMNS)
                .map(|c| char::from(m.mem().read_u8(TEXT_BASE + 2 * (r * COLUMNS + c))))
                .collect();
            row.trim_end().to_string()
        })
        .collect()
}

#[test]
fn keys_typed_on_the_ps2_keyboard_reach_the_shell_and_every_device_reports_events() {
    use osviz_machine::EventKind;
    let mut m = common::xv6_machine(0);
    boot_to_prompt(&mut m);
    m.set_recording(true);
    let mut kinds = std::collections::BTreeSet::new();
    // Shifted characters go through kbd.c's shift map: "Hi|" needs Shift.
    for b in b"echo Hi|\n" {
        m.press_key(*b);
        // What typing did (before the next step) is the machine's last events.
        for e in m.last_events() {
            kinds.insert(e.kind().name());
        }
        for _ in 0..200_000 {
            for e in m.step().events {
                kinds.insert(e.kind().name());
            }
        }
    }
    // `echo Hi|` is a pipeline with nothing after the bar: sh says so.
    let out = String::from_utf8_lossy(m.serial_output()).into_owned();
    assert!(out.ends_with("$ echo Hi|\n"), "{out:?}");
    for _ in 0..20_000_000 {
        for e in m.step().events {
            kinds.insert(e.kind().name());
        }
        if m.serial_output().ends_with(b"$ ") {
            break;
        }
    }
    let out = String::from_utf8_lossy(m.serial_output()).into_owned();
    assert!(out.contains("$ echo Hi|\n"), "{out:?}");
    assert!(out.ends_with("$ "), "{out:?}");
    for kind in [
        EventKind::Scancode,
        EventKind::IoApicDelivery,
        EventKind::LapicTimer,
        EventKind::Mmio,
        EventKind::UartByte,
    ] {
        assert!(
            kinds.contains(kind.name()),
            "no {} event in {kinds:?}",
            kind.name()
        );
    }
    // The console writes to the CGA screen too, and keeps its cursor there.
    let rows = screen(&m);
    assert!(rows.iter().any(|r| r == "$ echo Hi|"), "{rows:#?}");
    let cga = m
        .bus()
        .device(|c| match c {
            osviz_machine::devices::Component::Cga(c) => Some(c),
            _ => None,
        })
        .unwrap();
    assert!(cga.cursor() > 0);
}

#[test]
fn a_file_read_from_disk_shows_the_ide_command_sector_and_interrupt() {
    use osviz_machine::Event;
    let mut m = common::xv6_machine(0);
    boot_to_prompt(&mut m);
    m.set_recording(true);
    let mut events = Vec::new();
    for b in b"cat README\n" {
        m.send_serial(*b);
    }
    for _ in 0..5_000_000 {
        events.extend(m.step().events);
        if m.serial_output().ends_with(b"make qemu\".\n$ ") {
            break;
        }
    }
    let command = events
        .iter()
        .position(|e| {
            matches!(
                e,
                Event::IdeCommand {
                    drive: 1,
                    command: 0x20,
                    ..
                }
            )
        })
        .expect("a read command to the slave");
    let after = &events[command..];
    assert!(after.iter().any(|e| matches!(
        e,
        Event::IdeSector {
            drive: 1,
            write: false,
            ..
        }
    )));
    assert!(after.iter().any(|e| matches!(
        e,
        Event::IrqRaised {
            irq: 14,
            vector: 46
        }
    )));
    assert!(
        after
            .iter()
            .any(|e| matches!(e, Event::TrapEntry { vector: 46, .. }))
    );
}

#[test]
fn kinds_left_out_of_the_record_change_nothing_else() {
    use osviz_machine::{Event, EventKind, KindSet};
    let mut a = common::xv6_machine(0);
    boot_to_prompt(&mut a);
    let mut b = a.clone();
    for m in [&mut a, &mut b] {
        m.set_recording(true);
        m.press_key(b'l');
    }
    b.set_unrecorded(KindSet::of(&[EventKind::TlbHit]));
    let (mut hits, mut b_hits, mut misses) = (0, 0, 0);
    for _ in 0..20_000 {
        a.step();
        b.step();
        hits += a
            .last_events()
            .iter()
            .filter(|e| matches!(e, Event::TlbHit { .. }))
            .count();
        b_hits += b
            .last_events()
            .iter()
            .filter(|e| matches!(e, Event::TlbHit { .. }))
            .count();
        misses += b
            .last_events()
            .iter()
            .filter(|e| matches!(e, Event::TlbMiss { .. }))
            .count();
    }
    assert!(hits > 1000, "{hits} TLB hits recorded");
    assert_eq!(b_hits, 0, "left out");
    assert!(misses > 0, "other kinds still recorded");
    assert_eq!(a.state_hash(), b.state_hash(), "the machine is the same");
    assert_eq!(
        a.tlb().hits,
        b.tlb().hits,
        "the TLB counts its hits either way"
    );
}
