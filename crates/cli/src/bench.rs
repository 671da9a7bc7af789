//! `osviz bench`: runs the benchmark guest and reports MIPS for each of its
//! timed loops, with events off, on (every kind recorded), and as the page
//! records them at full speed (every kind but TLB hits).
//!
//! The guest writes the markers `@@A` to `@@F` to port 0xE9 around its three
//! loops. The runner breaks on every port write, and when a marker letter
//! arrives notes the instructions retired and the time; a loop's MIPS is the
//! instructions between its two markers divided by the time between them.

use osviz_machine::{EventKind, KindSet, Machine, MachineConfig, StopReason, TlbConfig, multiboot};
use std::time::Instant;

/// The loops: their names and the markers that open and close them.
const LOOPS: [(&str, u8, u8); 3] = [
    ("loop 1 (add/dec/jnz, paging off)", b'A', b'B'),
    ("loop 2 (paging on, a new page every iteration)", b'C', b'D'),
    ("loop 3 (paging on, 16 pages)", b'E', b'F'),
];

/// What a run records.
#[derive(Clone, Copy)]
enum Recording {
    /// Nothing.
    Off,
    /// Every kind of event.
    All,
    /// Every kind but TLB hits, as the page does at full speed (the TLB
    /// counts them; the block path then runs between recorded steps).
    LikeThePage,
}

impl Recording {
    const ALL: [Recording; 3] = [Recording::Off, Recording::All, Recording::LikeThePage];

    /// The recording a `--recording` value names.
    fn named(name: &str) -> Result<Recording, String> {
        match name {
            "off" => Ok(Recording::Off),
            "all" => Ok(Recording::All),
            "page" => Ok(Recording::LikeThePage),
            other => Err(format!("--recording {other}: expected off, all or page")),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Recording::Off => "events off",
            Recording::All => "events on",
            Recording::LikeThePage => "events on as the page records them (TLB hits left out)",
        }
    }
}

/// One marker: the letter, instructions retired, and seconds since the start.
struct Mark {
    letter: u8,
    retired: u64,
    seconds: f64,
}

fn run_once(
    image: &[u8],
    mem_mib: usize,
    tlb_entries: u8,
    recording: Recording,
) -> Result<Vec<Mark>, String> {
    let mut m = Machine::with_config(MachineConfig {
        mem_size: mem_mib * 1024 * 1024,
        tlb: TlbConfig {
            entries: tlb_entries,
            ..TlbConfig::default()
        },
        checkpoint_interval: 0,
        event_capacity: 10_000,
        ..MachineConfig::default()
    });
    multiboot::load(&mut m, image).map_err(|e| e.to_string())?;
    m.set_recording(!matches!(recording, Recording::Off));
    if let Recording::LikeThePage = recording {
        m.set_unrecorded(KindSet::of(&[EventKind::TlbHit]));
    }
    m.break_on(EventKind::PortOut, true);
    let start = Instant::now();
    let mut marks = Vec::new();
    let mut seen = 0;
    loop {
        let stop = m.run(u64::MAX);
        let out = m.debug_output();
        // A marker is the letter after "@@".
        while seen < out.len() {
            if seen >= 2 && out[seen - 2] == b'@' && out[seen - 1] == b'@' {
                marks.push(Mark {
                    letter: out[seen],
                    retired: m.retired(),
                    seconds: start.elapsed().as_secs_f64(),
                });
            }
            seen += 1;
        }
        match stop {
            StopReason::Event { .. } => continue,
            StopReason::Halted | StopReason::DebugExit { .. } => return Ok(marks),
            other => return Err(format!("the benchmark guest stopped: {other}")),
        }
    }
}

fn mips(marks: &[Mark], open: u8, close: u8) -> Option<f64> {
    let a = marks.iter().find(|m| m.letter == open)?;
    let b = marks.iter().find(|m| m.letter == close)?;
    Some((b.retired - a.retired) as f64 / (b.seconds - a.seconds) / 1e6)
}

/// Runs the benchmark `repeat` times with each [`Recording`] (or only the
/// one `only` names) and prints the median MIPS of each loop.
pub fn bench(
    image: &[u8],
    mem_mib: usize,
    tlb_entries: u8,
    repeat: usize,
    only: Option<&str>,
) -> Result<(), String> {
    let recordings = match only {
        Some(name) => vec![Recording::named(name)?],
        None => Recording::ALL.to_vec(),
    };
    println!("osviz bench: native, {mem_mib} MiB, {tlb_entries}-entry TLB, median of {repeat}");
    for recording in recordings {
        let mut runs: Vec<[f64; 3]> = Vec::new();
        for _ in 0..repeat {
            let marks = run_once(image, mem_mib, tlb_entries, recording)?;
            let mut figures = [0.0; 3];
            for (i, (_, open, close)) in LOOPS.iter().enumerate() {
                figures[i] =
                    mips(&marks, *open, *close).ok_or("the guest did not write every marker")?;
            }
            runs.push(figures);
        }
        println!("{}:", recording.label());
        for (i, (name, _, _)) in LOOPS.iter().enumerate() {
            let mut xs: Vec<f64> = runs.iter().map(|r| r[i]).collect();
            xs.sort_by(f64::total_cmp);
            println!("  {name}: {:.1} MIPS", xs[xs.len() / 2]);
        }
    }
    Ok(())
}
