//! The Timeline panel's view: which process ran when and why it stopped,
//! and each disk request with its DMA transfer, interrupt and wake-up, built
//! from the event log.

use crate::session::Session;
use osviz_kernel::introspect::ProcessView;
use osviz_machine::Event;

#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub from: u64,
    pub to: u64,
    pub who: String,
    /// The process's pid, when the directory belonged to one.
    pub pid: Option<u32>,
    pub why: String,
    /// The vector of the trap that ended the slice.
    pub vector: Option<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IoStory {
    pub requested: u64,
    pub dma: Option<u64>,
    pub interrupt: Option<u64>,
    /// The step the requesting process next ran after the interrupt.
    pub wake: Option<u64>,
    /// The process that asked (the one running at the request).
    pub who: Option<String>,
    pub text: String,
}

impl IoStory {
    /// A request made at `step` by `who`, nothing after it yet.
    fn asked(step: u64, who: Option<String>, text: String) -> IoStory {
        IoStory {
            requested: step,
            dma: None,
            interrupt: None,
            wake: None,
            who,
            text,
        }
    }
}

/// A process asleep on a channel, as the page saw it: from the first frame
/// it was seen asleep to the first it was seen awake, and the device
/// interrupt taken in between (the one whose handler woke it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SleepSpan {
    pub pid: u32,
    pub name: String,
    /// The channel as the kernel's data names it (`input.r`).
    pub chan: String,
    pub from: u64,
    pub to: Option<u64>,
    /// The interrupt taken while it slept, with the kernel's name for it.
    pub woken_by: Option<String>,
}

impl SleepSpan {
    /// The span in words.
    pub fn text(&self) -> String {
        let what = match self.chan.as_str() {
            c if c.starts_with("input") => format!("{c} (console input)"),
            c if c.starts_with("bcache") => format!("{c} (a disk buffer)"),
            c if c.starts_with("ptable.proc") => format!("{c} (its child's exit, in wait)"),
            "ticks" => "ticks (the timer, in sleep)".to_string(),
            c => c.to_string(),
        };
        match (self.to, &self.woken_by) {
            (None, _) => format!(
                "pid {} {} asleep on {what} since step {}",
                self.pid, self.name, self.from
            ),
            (Some(to), Some(by)) => format!(
                "pid {} {} slept on {what} from step {} to {to}, woken by {by}",
                self.pid, self.name, self.from
            ),
            (Some(to), None) => format!(
                "pid {} {} slept on {what} from step {} to {to}, woken by another process",
                self.pid, self.name, self.from
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct TimelineView {
    pub slices: Vec<Slice>,
    /// The latest sleeps, newest last.
    pub sleeps: Vec<SleepSpan>,
    pub io: Vec<IoStory>,
}

/// How many of the latest I/Os the chart draws.
pub const IOS_DRAWN: usize = 6;

fn reason(vector: u8, names: crate::views::events::Names) -> &'static str {
    names(vector).unwrap_or("trap")
}

/// Builds the timeline from the event log: a CR3 write to a process's page
/// directory starts its slice; the trap that took it into the kernel before
/// the scheduler's next CR3 write is why the slice ended.
pub fn timeline<'a>(
    events: impl Iterator<Item = (u64, &'a Event)>,
    owner: impl Fn(u32) -> Option<(String, Option<u32>)>,
    kernel_dir: u32,
    running_at_start: Option<(u64, String, Option<u32>)>,
    names: crate::views::events::Names,
) -> TimelineView {
    let mut view = TimelineView::default();
    // Who ran when the log begins (its CR3 write was before the log).
    let mut open: Option<(u64, String, Option<u32>)> = running_at_start;
    let mut last_who: Option<String> = None;
    let mut last_trap: Option<u8> = None;
    for (step, event) in events {
        match event {
            Event::Cr3Write { new, .. } if *new == kernel_dir => {
                if let Some((from, who, pid)) = open.take() {
                    let why = last_trap
                        .map_or("switched out", |v| reason(v, names))
                        .to_string();
                    view.slices.push(Slice {
                        from,
                        to: step,
                        who,
                        pid,
                        why,
                        vector: last_trap,
                    });
                }
            }
            Event::Cr3Write { new, .. } => {
                let (who, pid) =
                    owner(*new).unwrap_or_else(|| (format!("directory {new:#x}"), None));
                // The first slice of a process after its I/O completed is
                // its wake-up.
                for io in view.io.iter_mut() {
                    if io.interrupt.is_some() && io.wake.is_none() && io.who.as_ref() == Some(&who)
                    {
                        io.wake = Some(step);
                    }
                }
                last_who = Some(who.clone());
                open = Some((step, who, pid));
                last_trap = None;
            }
            Event::TrapEntry {
                vector,
                cpl_before: 3,
                ..
            } => last_trap = Some(*vector),
            Event::DiskRequest { block, addr, .. } => view.io.push(IoStory::asked(
                step,
                open.as_ref()
                    .map(|o| o.1.clone())
                    .or_else(|| last_who.clone()),
                format!("block {block} into {addr:#x}"),
            )),
            Event::IdeCommand {
                command, sector, ..
            } => {
                let what = if *command == 0x30 || *command == 0xC5 {
                    "write"
                } else {
                    "read"
                };
                view.io.push(IoStory::asked(
                    step,
                    open.as_ref()
                        .map(|o| o.1.clone())
                        .or_else(|| last_who.clone()),
                    format!("IDE {what} sector {sector} (programmed I/O)"),
                ))
            }
            Event::Dma { .. } => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.dma.is_none()) {
                    io.dma = Some(step);
                }
            }
            Event::IrqRaised { irq: 14, .. } => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.interrupt.is_none()) {
                    io.interrupt = Some(step);
                }
            }
            _ => {}
        }
    }
    if let Some((from, who, pid)) = open {
        view.slices.push(Slice {
            from,
            to: u64::MAX,
            who,
            pid,
            why: "running now".into(),
            vector: None,
        });
    }
    // Keep the latest slices: at least 12, and every one since the oldest of
    // the I/Os the chart draws (so each I/O is drawn with who ran around
    // it), at most 40.
    let io_start = view
        .io
        .iter()
        .rev()
        .take(IOS_DRAWN)
        .map(|io| io.requested)
        .min();
    let since_io = io_start.map_or(0, |start| {
        view.slices.iter().filter(|s| s.to >= start).count()
    });
    let keep = since_io.clamp(12, 40);
    let drop = view.slices.len().saturating_sub(keep);
    view.slices.drain(..drop);
    view
}

/// The timeline of the session's retained log; a page directory is named by
/// the process that has it, or had it (the session remembers exited ones).
pub fn of_session(session: &Session, procs: &[ProcessView]) -> TimelineView {
    let m = &session.system.machine;
    let events = m
        .event_log()
        .iter()
        .map(|s| (s.step, &s.event))
        .chain(m.last_events().iter().map(|e| (m.steps(), e)));
    let mut view = timeline(
        events,
        |dir| {
            procs
                .iter()
                .find(|p| p.pgdir == dir)
                .map(|p| (format!("pid {} {}", p.pid, p.name), Some(p.pid)))
                .or_else(|| session.dir_names.get(&dir).cloned())
        },
        session.kernel_dir(),
        session
            .log_owner
            .clone()
            .filter(|_| !m.event_log().is_full()),
        &|v| session.system.view().vector_name(v),
    );
    view.sleeps = session.sleeps.clone();
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    #[test]
    fn two_processes_take_turns_and_keep_their_names() {
        let mut s = Session::new("context-switch");
        s.apply(Action::SetBreak(Some(crate::session::BREAK_SWITCH)));
        for _ in 0..3 {
            s.apply(Action::ToggleRun);
            while s.running {
                s.tick(0.016);
            }
        }
        let procs = s.system.view().processes(&s.system.machine);
        let v = of_session(&s, &procs);
        let who: Vec<_> = v.slices.iter().map(|x| x.who.clone()).collect();
        assert!(who.len() >= 2, "{who:?}");
        assert!(who.iter().all(|w| w.starts_with("pid ")), "{who:?}");
        assert!(
            v.slices.iter().any(|x| x.why == "timer interrupt"),
            "{:?}",
            v.slices
        );
    }
}
