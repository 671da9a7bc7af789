//! `osviz lesson`: lists the built-in lessons and runs one headless.

use osviz_kernel::lessons::{LESSONS, lesson};
use osviz_machine::StopReason;
use std::io::Write;

pub fn list() -> Result<(), String> {
    for l in LESSONS {
        println!("{:<18} {}", l.id, l.title);
    }
    Ok(())
}

/// Runs lesson `name` to its end (or `max` steps), printing the console
/// output; with `events`, first one JSON object per event, as it happens.
pub fn run(name: &str, max: u64, events: bool) -> Result<(), String> {
    let l = lesson(name).ok_or_else(|| {
        let ids: Vec<&str> = LESSONS.iter().map(|l| l.id).collect();
        format!("no lesson `{name}`; the lessons are: {}", ids.join(", "))
    })?;
    let mut system = l.boot().map_err(|e| e.to_string())?;
    let m = &mut system.machine;
    let mut out = std::io::stdout().lock();
    let stop = if events {
        m.set_recording(true);
        loop {
            let outcome = m.step();
            for e in &outcome.events {
                let line = serde_json::json!({ "step": m.steps(), "event": e });
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
            }
            if let Some(stop) = outcome.stop {
                break stop;
            }
            if m.steps() >= max {
                break StopReason::InstructionLimit;
            }
        }
    } else {
        m.run(max)
    };
    out.write_all(m.console()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    match stop {
        StopReason::Halted => Ok(()),
        other => Err(format!("the lesson stopped: {other}")),
    }
}
