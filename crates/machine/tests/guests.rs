//! Data-driven guest tests: each `guests/*.asm` is a program in NASM syntax,
//! assembled here with Debian's `nasm`, run on the machine, and checked
//! against the expectations written in its own comments:
//!
//! - `; out: TEXT`: one expected line of debug output (port 0xE9), in order
//!   (`?` matches any one character, for addresses that depend on layout);
//! - `; stop: REASON`: how the run ends (default `halted`);
//! - `; events: KIND KIND ...`: the exact sequence of the events of these
//!   kinds that the run produces.

mod common;

use common::{LOAD_ADDR, assemble, guests_dir};
use osviz_machine::{EventKind, Machine, MachineConfig, StopReason};
use std::path::{Path, PathBuf};

struct Expectations {
    out: String,
    stop: String,
    events: Option<Vec<EventKind>>,
}

fn expectations(source: &str) -> Expectations {
    let mut out = String::new();
    let mut stop = "halted".to_string();
    let mut events = None;
    for line in source.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("; out:") {
            out.push_str(text.strip_prefix(' ').unwrap_or(text));
            out.push('\n');
        } else if let Some(text) = line.strip_prefix("; stop:") {
            stop = text.trim().to_string();
        } else if let Some(text) = line.strip_prefix("; events:") {
            let kinds = text
                .split_whitespace()
                .map(|k| {
                    EventKind::from_name(k).unwrap_or_else(|| panic!("unknown event kind {k}"))
                })
                .collect();
            events = Some(kinds);
        }
    }
    Expectations { out, stop, events }
}

fn stop_name(stop: &StopReason) -> &'static str {
    match stop {
        StopReason::Halted => "halted",
        StopReason::Idle => "idle",
        StopReason::InstructionLimit => "instruction_limit",
        StopReason::DebugExit { .. } => "debug_exit",
        StopReason::TripleFault { .. } => "triple_fault",
        StopReason::Breakpoint { .. } => "breakpoint",
        StopReason::Event { .. } => "event",
        StopReason::Watch { .. } => "watch",
    }
}

fn run_guest(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).unwrap();
    let expect = expectations(&source);
    let image = assemble(path);
    let mut m = Machine::with_config(MachineConfig {
        checkpoint_interval: 0,
        ..MachineConfig::default()
    });
    m.set_recording(expect.events.is_some());
    m.load(LOAD_ADDR, &image).unwrap();
    m.set_eip(LOAD_ADDR);
    let mut kinds = Vec::new();
    let stop = loop {
        let outcome = m.step();
        if let Some(filter) = &expect.events {
            kinds.extend(
                outcome
                    .events
                    .iter()
                    .map(|e| e.kind())
                    .filter(|k| filter.contains(k)),
            );
        }
        if let Some(stop) = outcome.stop {
            break stop;
        }
        if m.steps() > 2_000_000 {
            break StopReason::InstructionLimit;
        }
    };
    let out = String::from_utf8_lossy(m.debug_output()).into_owned();
    let mut problems = Vec::new();
    if !matches_pattern(&out, &expect.out) {
        problems.push(format!(
            "output:\n--- expected\n{}--- got\n{}",
            expect.out, out
        ));
    }
    if stop_name(&stop) != expect.stop {
        problems.push(format!("stop: expected {}, got {stop:?}", expect.stop));
    }
    if let Some(filter) = &expect.events
        && &kinds != filter
    {
        let names: Vec<_> = kinds.iter().map(|k| k.name()).collect();
        problems.push(format!("events: got {}", names.join(" ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n{}", path.display(), problems.join("\n")))
    }
}

/// Whether `text` equals `pattern`, where `?` in the pattern matches any one character.
fn matches_pattern(text: &str, pattern: &str) -> bool {
    text.chars().count() == pattern.chars().count()
        && text
            .chars()
            .zip(pattern.chars())
            .all(|(t, p)| p == '?' || t == p)
}

fn guest_files() -> Vec<PathBuf> {
    let dir = guests_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "asm"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_guest_program_meets_its_expectations() {
    let files = guest_files();
    assert!(
        files.len() >= 8,
        "expected the guest programs, found {}",
        files.len()
    );
    let failures: Vec<String> = files.iter().filter_map(|f| run_guest(f).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} guest programs failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// `run` takes a fast path through straight-line code; single steps do not.
/// Both must reach exactly the same states, TLB counters and all.
#[test]
fn running_and_single_stepping_reach_the_same_states() {
    run_and_step_every_guest(false);
}

/// Recording as the page does at full speed, the block path runs between
/// the steps that record something: the record must be the single steps'
/// record, event for event and step for step.
#[test]
fn running_and_single_stepping_record_the_same_events() {
    run_and_step_every_guest(true);
}

fn run_and_step_every_guest(record: bool) {
    for path in guest_files() {
        let image = assemble(&path);
        let fresh = || {
            let mut m = Machine::with_config(MachineConfig {
                checkpoint_interval: 0,
                ..MachineConfig::default()
            });
            m.load(LOAD_ADDR, &image).unwrap();
            m.set_eip(LOAD_ADDR);
            if record {
                common::record_like_the_page(&mut m);
            }
            m
        };
        let mut ran = fresh();
        let mut stepped = fresh();
        // Run in uneven chunks, comparing with single steps after each.
        for chunk in [1u64, 7, 100, 33, 1000, 5000, 100_000, 2_000_000] {
            ran.run(chunk);
            while stepped.steps() < ran.steps() && stepped.stopped().is_none() {
                if stepped.step().stop == Some(StopReason::Idle) {
                    break;
                }
            }
            assert_eq!(
                (stepped.steps(), stepped.state_hash()),
                (ran.steps(), ran.state_hash()),
                "{}: state after {} steps",
                path.display(),
                ran.steps()
            );
            assert_eq!(
                common::recorded(&stepped),
                common::recorded(&ran),
                "{}: events after {} steps",
                path.display(),
                ran.steps()
            );
            if ran.stopped().is_some() {
                break;
            }
        }
    }
}

/// Leaving TLB hits out of the record (as the page does at full speed)
/// changes nothing else: the same states, TLB counters and every other
/// event, step for step, as recording every kind (string instructions then
/// move a page's elements at once, counting the hits they leave out).
#[test]
fn leaving_tlb_hits_out_of_the_record_changes_nothing_else() {
    use osviz_machine::{Event, KindSet};
    for path in guest_files() {
        let image = assemble(&path);
        let run = |page: bool| {
            let mut m = Machine::with_config(MachineConfig {
                checkpoint_interval: 0,
                event_capacity: 1 << 20,
                ..MachineConfig::default()
            });
            m.load(LOAD_ADDR, &image).unwrap();
            m.set_eip(LOAD_ADDR);
            m.set_recording(true);
            if page {
                m.set_unrecorded(KindSet::of(&[EventKind::TlbHit]));
            }
            m.run(2_000_000);
            assert!(
                !m.event_log().is_full(),
                "{}: the log holds the run",
                path.display()
            );
            let events: Vec<_> = common::recorded(&m)
                .into_iter()
                .filter(|(_, e)| !matches!(e, Event::TlbHit { .. }))
                .collect();
            let tlb = m.tlb();
            (m.steps(), m.state_hash(), tlb.hits, tlb.misses, events)
        };
        let (all, page) = (run(false), run(true));
        assert_eq!(all, page, "{}", path.display());
    }
}
