//! `osviz lesson`: lists every lesson of both kernels, and runs one
//! headless: each question answered by the machine at its moment, from the
//! lesson's start, as the page's reveal does.

use osviz_course::{Guest, Kernel, Lesson, all, lesson};
use osviz_machine::StopReason;
use osviz_xv6::Xv6Build;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

pub fn list() -> Result<(), String> {
    for l in all() {
        let kernel = if l.under_hypervisor() {
            "xv6 under the hypervisor"
        } else {
            l.kernel().name()
        };
        println!("{:<20} {:<16} {}", l.id, kernel, l.title);
    }
    Ok(())
}

/// How `lesson run` runs.
pub struct RunOptions {
    pub max: u64,
    pub events: bool,
    /// The folder with the xv6 build (`kernel`, `fs.img`), for xv6's lessons.
    pub xv6: Option<PathBuf>,
}

/// The folder `scripts/xv6` builds into, where `--xv6` is not given.
fn default_xv6_dir() -> PathBuf {
    std::env::var_os("XV6_OUT").map_or_else(|| PathBuf::from("target/xv6"), PathBuf::from)
}

fn open_xv6(dir: Option<PathBuf>) -> Result<Rc<Xv6Build>, String> {
    let dir = dir.unwrap_or_else(default_xv6_dir);
    Xv6Build::from_dir(&dir).map(Rc::new).map_err(|e| {
        format!(
            "this lesson runs on xv6, and there is no xv6 build to boot: {e}\n(build one with `bash scripts/xv6`, which writes target/xv6, or pass --xv6 DIR)"
        )
    })
}

/// The hypervisor `scripts/vmm` builds (`VMM_OUT`, else target/vmm).
fn default_vmm() -> PathBuf {
    std::env::var_os("VMM_OUT")
        .map_or_else(|| PathBuf::from("target/vmm"), PathBuf::from)
        .join("vmm")
}

/// The xv6 build with the teaching hypervisor beside it, for the lessons
/// that run xv6 as its guest.
fn open_xv6_under_hypervisor(dir: Option<PathBuf>) -> Result<Rc<Xv6Build>, String> {
    let build = open_xv6(dir)?;
    let mut build = Rc::try_unwrap(build).map_err(|_| "the xv6 build is shared".to_string())?;
    let path = default_vmm();
    let elf = std::fs::read(&path).map_err(|e| {
        format!(
            "this lesson runs xv6 under the teaching hypervisor, and there is none at {}: {e}\n(build it with `bash scripts/vmm`)",
            path.display()
        )
    })?;
    build.set_hypervisor(elf).map_err(|e| e.to_string())?;
    Ok(Rc::new(build))
}

/// Runs lesson `name`: prints each question with the machine's answer at
/// its moment (an error if a moment is not reached), then, on the teaching
/// kernel, runs the lesson to its end and prints the console; with
/// `events`, each event of that run first, one JSON object per line.
pub fn run(name: &str, o: RunOptions) -> Result<(), String> {
    let l = lesson(name).ok_or_else(|| {
        let ids: Vec<&str> = all().map(|l| l.id).collect();
        format!("no lesson `{name}`; the lessons are: {}", ids.join(", "))
    })?;
    let build = match l.kernel() {
        Kernel::Teaching => None,
        Kernel::Xv6 if l.under_hypervisor() => Some(open_xv6_under_hypervisor(o.xv6)?),
        Kernel::Xv6 => Some(open_xv6(o.xv6)?),
    };
    let mut guest = Guest::for_lesson(l, build.as_ref(), None).map_err(|e| e.to_string())?;
    let start = guest.go_to_start(l).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let w = |e: std::io::Error| e.to_string();
    writeln!(out, "{}: {} ({})", l.id, l.title, l.kernel().name()).map_err(w)?;
    if !l.typed().is_empty() {
        writeln!(out, "typed at the prompt: {:?}", l.typed()).map_err(w)?;
    }
    writeln!(out, "the lesson starts at step {start}").map_err(w)?;
    answer_questions(&mut out, l, &guest, o.max)?;
    if l.kernel() == Kernel::Teaching {
        run_to_end(&mut out, &mut guest, o.max, o.events)?;
    }
    Ok(())
}

fn answer_questions(
    out: &mut impl Write,
    l: &Lesson,
    start: &Guest,
    max: u64,
) -> Result<(), String> {
    let w = |e: std::io::Error| e.to_string();
    let mut missed = Vec::new();
    for (i, (q, reading)) in l
        .questions
        .iter()
        .zip(osviz_course::read_answers(l, start, max))
        .enumerate()
    {
        writeln!(out, "Q{}. {}", i + 1, q.prompt).map_err(w)?;
        match reading {
            Ok(r) => writeln!(out, "    at {} (step {}): {}", r.moment, r.step, r.answer),
            Err(why) => {
                missed.push(format!("Q{}: {why}", i + 1));
                writeln!(out, "    not reached: {why}")
            }
        }
        .map_err(w)?;
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of the lesson's moments were not reached: {}",
            missed.len(),
            missed.join("; ")
        ))
    }
}

/// Runs the teaching kernel's lesson from its start to the end.
fn run_to_end(
    out: &mut impl Write,
    guest: &mut Guest,
    max: u64,
    events: bool,
) -> Result<(), String> {
    let w = |e: std::io::Error| e.to_string();
    let m = guest.machine_mut();
    let stop = if events {
        m.set_recording(true);
        loop {
            let outcome = m.step();
            for e in &outcome.events {
                let line = serde_json::json!({ "step": m.steps(), "event": e });
                writeln!(out, "{line}").map_err(w)?;
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
    writeln!(out, "console:").map_err(w)?;
    out.write_all(m.console()).map_err(w)?;
    out.flush().map_err(w)?;
    match stop {
        StopReason::Halted => Ok(()),
        other => Err(format!("the lesson stopped: {other}")),
    }
}
