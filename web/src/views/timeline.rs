//! The Timeline panel's view: which process ran when and why it stopped,
//! and each disk request with its DMA transfer, interrupt and wake-up, built
//! from the event log.

use crate::session::{Owner, Session, SleepSpan};
use osviz_kernel::introspect::ProcessView;
use osviz_machine::{DeviceClass, Event, IdeOp};
use osviz_view::ChannelKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoStory {
    pub requested: u64,
    pub dma: Option<u64>,
    pub interrupt: Option<u64>,
    /// The step the requesting process next ran after the interrupt.
    pub wake: Option<u64>,
    /// The process that asked (the one running at the request).
    pub who: Option<Owner>,
    pub text: String,
    /// Programmed I/O: the CPU moves the data (`insl`), no DMA stage.
    pub programmed: bool,
}

impl IoStory {
    /// A request made at `step` by `who`, nothing after it yet.
    fn asked(step: u64, who: Option<Owner>, text: String) -> IoStory {
        IoStory {
            requested: step,
            dma: None,
            interrupt: None,
            wake: None,
            who,
            text,
            programmed: false,
        }
    }

    /// The story in words: request, the DMA transfer (not for programmed
    /// I/O, where the handler copies the data), interrupt and wake-up.
    pub fn line(&self) -> String {
        let at = |s: Option<u64>| s.map_or("…".to_string(), |s| s.to_string());
        let dma = if self.programmed {
            String::new()
        } else {
            format!(" → DMA @{}", at(self.dma))
        };
        format!(
            "I/O {}{}: request @{}{dma} → interrupt @{} → wake-up @{}",
            self.text,
            self.who
                .as_ref()
                .map(|w| format!(" for {}", w.label()))
                .unwrap_or_default(),
            self.requested,
            at(self.interrupt),
            at(self.wake)
        )
    }
}

impl SleepSpan {
    /// The channel with what it is for.
    fn what(&self) -> String {
        match self.kind.words() {
            Some(kind) => format!("{} ({kind})", self.chan),
            None => self.chan.clone(),
        }
    }

    /// When it went to sleep: the step, or "before" the step the record
    /// began at, when it was asleep already.
    fn since(&self) -> String {
        if self.before {
            format!("before step {}", self.from)
        } else {
            format!("step {}", self.from)
        }
    }

    fn waker(&self) -> &str {
        self.woken_by.as_deref().unwrap_or("another process")
    }

    /// The span in words.
    pub fn text(&self) -> String {
        let what = self.what();
        match self.to {
            None => format!(
                "pid {} {} asleep on {what} since {}",
                self.pid,
                self.name,
                self.since()
            ),
            Some(to) => format!(
                "pid {} {} slept on {what} from {} to {to}, woken by {}",
                self.pid,
                self.name,
                self.since(),
                self.waker()
            ),
        }
    }

    /// Whether `next` repeats this sleep: the same process, asleep on the
    /// same kind of channel, woken the same way (a process reading a file
    /// sleeps on one disk buffer after another).
    fn repeated_by(&self, next: &SleepSpan) -> bool {
        self.to.is_some()
            && next.to.is_some()
            && (self.pid, &self.name, &self.woken_by) == (next.pid, &next.name, &next.woken_by)
            && (self.chan == next.chan || self.kind != ChannelKind::Other && self.kind == next.kind)
    }
}

/// One line of the sleeps list: a sleep, or a run of repeated sleeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SleepLine {
    pub pid: u32,
    pub asleep: bool,
    pub text: String,
}

/// The sleeps as lines, newest first, a run of repeated sleeps in one line
/// ("slept 7 times on disk buffers ..."), so that a file read does not push
/// the shell's wait for input out of sight.
pub fn sleep_lines(sleeps: &[SleepSpan]) -> Vec<SleepLine> {
    let mut runs: Vec<&[SleepSpan]> = Vec::new();
    let mut start = 0;
    for i in 1..=sleeps.len() {
        if i == sleeps.len() || !sleeps[i - 1].repeated_by(&sleeps[i]) {
            runs.push(&sleeps[start..i]);
            start = i;
        }
    }
    runs.iter()
        .rev()
        .map(|run| {
            let (first, last) = (&run[0], &run[run.len() - 1]);
            let text = if run.len() == 1 {
                first.text()
            } else {
                let what = if run.iter().all(|s| s.chan == first.chan) {
                    first.what()
                } else {
                    let plural = first.kind.plural().unwrap_or("channels");
                    format!("{plural} ({} … {})", first.chan, last.chan)
                };
                format!(
                    "pid {} {} slept {} times on {what} from {} to {}, each woken by {}",
                    first.pid,
                    first.name,
                    run.len(),
                    first.since(),
                    last.to.unwrap_or(last.from),
                    first.waker()
                )
            };
            SleepLine {
                pid: first.pid,
                asleep: last.to.is_none(),
                text,
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct TimelineView {
    pub slices: Vec<Slice>,
    /// The latest sleeps, newest last.
    pub sleeps: Vec<SleepSpan>,
    pub io: Vec<IoStory>,
    /// The kernel's disk queue in words, the request the disk serves first.
    pub disk_queue: Vec<String>,
    /// The kernel's clock in words (`None` when the kernel view has none).
    pub ticks: Option<String>,
}

/// The disk queue's requests in words, naming who waits for each.
pub fn disk_queue_lines(
    queue: &[osviz_view::DiskRequestView],
    procs: &[ProcessView],
) -> Vec<String> {
    queue
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let buf = r
                .buf_name
                .clone()
                .unwrap_or_else(|| format!("{:#010x}", r.buf));
            let what = match r.block {
                Some(b) => format!("{} block {b}", if r.write { "write" } else { "read" }),
                None => (if r.write { "write" } else { "read" }).to_string(),
            };
            let waiters: Vec<String> = r
                .waiters
                .iter()
                .map(|&pid| match procs.iter().find(|p| p.pid == pid) {
                    Some(p) => format!("pid {pid} {}", p.name),
                    None => format!("pid {pid}"),
                })
                .collect();
            let who = if waiters.is_empty() {
                String::new()
            } else {
                format!(", {} asleep on it", waiters.join(" and "))
            };
            let serving = if i == 0 {
                " (the disk serves it now)"
            } else {
                ""
            };
            format!("{buf}: {what}{who}{serving}")
        })
        .collect()
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
    owner: impl Fn(u32) -> Option<Owner>,
    kernel_dir: u32,
    running_at_start: Option<(u64, Owner)>,
    names: crate::views::events::Names,
    disk_line: impl Fn(u8) -> bool,
) -> TimelineView {
    let mut view = TimelineView::default();
    // Who ran when the log begins (its CR3 write was before the log).
    let mut open: Option<(u64, Result<Owner, u32>)> =
        running_at_start.map(|(step, o)| (step, Ok(o)));
    let mut last_who: Option<Owner> = None;
    // A slice's owner in words: the process, or the directory nobody owns.
    let who_of = |o: &Result<Owner, u32>| match o {
        Ok(owner) => (owner.label(), Some(owner.pid)),
        Err(dir) => (format!("directory {dir:#x}"), None),
    };
    let mut last_trap: Option<u8> = None;
    for (step, event) in events {
        match event {
            Event::Cr3Write { new, .. } if *new == kernel_dir => {
                if let Some((from, o)) = open.take() {
                    let (who, pid) = who_of(&o);
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
                let o = owner(*new).ok_or(*new);
                // The first slice of a process after its I/O completed is
                // its wake-up.
                if let Ok(who) = &o {
                    for io in view.io.iter_mut() {
                        if io.interrupt.is_some()
                            && io.wake.is_none()
                            && io.who.as_ref() == Some(who)
                        {
                            io.wake = Some(step);
                        }
                    }
                    last_who = Some(who.clone());
                }
                open = Some((step, o));
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
                    .and_then(|o| o.1.clone().ok())
                    .or_else(|| last_who.clone()),
                format!("block {block} into {addr:#x}"),
            )),
            Event::IdeCommand {
                command, sector, ..
            } => {
                let what = IdeOp::of(*command).verb();
                view.io.push(IoStory {
                    programmed: true,
                    ..IoStory::asked(
                        step,
                        open.as_ref()
                            .and_then(|o| o.1.clone().ok())
                            .or_else(|| last_who.clone()),
                        format!("IDE {what} sector {sector} (programmed I/O)"),
                    )
                })
            }
            Event::Dma { .. } => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.dma.is_none()) {
                    io.dma = Some(step);
                }
            }
            Event::IrqRaised { irq, .. } if disk_line(*irq) => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.interrupt.is_none()) {
                    io.interrupt = Some(step);
                }
            }
            _ => {}
        }
    }
    if let Some((from, o)) = open {
        let (who, pid) = who_of(&o);
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

/// The timeline of `events`, a page directory named by the process that
/// has it or had it, the first slice's owner known when `from_start` (the
/// events go back to where the session last started its log).
fn of_events<'a>(
    session: &Session,
    procs: &[ProcessView],
    events: impl Iterator<Item = (u64, &'a Event)>,
    from_start: bool,
) -> TimelineView {
    timeline(
        events,
        |dir| {
            procs
                .iter()
                .find(|p| p.pgdir == dir)
                .map(|p| Owner {
                    pid: p.pid,
                    name: p.name.clone(),
                })
                .or_else(|| session.record().dir_owner(dir).cloned())
        },
        session.kernel_dir(),
        session.record().log_owner().cloned().filter(|_| from_start),
        &|v| session.guest().view().vector_name(v),
        |irq| session.guest().machine().bus().device_on_line(irq) == Some(DeviceClass::Disk),
    )
}

/// The timeline of the session's record of the timeline's events (and the
/// latest step's); a page directory is named by the process that has it,
/// or had it (the session remembers exited ones).
pub fn of_session(session: &Session, procs: &[ProcessView]) -> TimelineView {
    let m = session.guest().machine();
    let events = session
        .record()
        .timeline()
        .events()
        .chain(m.last_events().iter().map(|e| (m.steps(), e)));
    let mut view = of_events(
        session,
        procs,
        events,
        session.record().timeline().complete(),
    );
    view.sleeps = session.record().sleeps().to_vec();
    let kernel = session.guest().view();
    view.disk_queue = disk_queue_lines(&kernel.disk_queue(m), procs);
    view.ticks = kernel
        .ticks(m)
        .map(|t| format!("ticks = {t}: timer interrupts the kernel has counted since the boot"));
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn span(
        pid: u32,
        name: &str,
        chan: &str,
        from: u64,
        to: Option<u64>,
        by: Option<&str>,
    ) -> SleepSpan {
        // As xv6's view names these channels.
        let kind = match chan {
            c if c.starts_with("input") => ChannelKind::ConsoleInput,
            c if c.starts_with("bcache") => ChannelKind::DiskBuffer,
            c if c.starts_with("ptable.proc") => ChannelKind::ChildExit,
            "ticks" => ChannelKind::Timer,
            _ => ChannelKind::Other,
        };
        SleepSpan {
            pid,
            name: name.to_string(),
            chan: chan.to_string(),
            kind,
            from,
            before: false,
            to,
            woken_by: by.map(str::to_string),
        }
    }

    #[test]
    fn repeated_sleeps_of_a_file_read_are_one_line_and_the_shells_wait_stays_in_sight() {
        const IDE: Option<&str> = Some("interrupt 46 (IDE disk (IRQ 14))");
        let sleeps = [
            span(
                2,
                "sh",
                "input.r",
                10,
                Some(20),
                Some("interrupt 33 (keyboard (IRQ 1))"),
            ),
            span(3, "ls", "bcache.buf[0]", 30, Some(40), IDE),
            span(3, "ls", "bcache.buf[5]", 50, Some(60), IDE),
            span(3, "ls", "bcache.buf[4]", 70, Some(80), IDE),
            span(
                2,
                "sh",
                "ptable.proc[1]",
                25,
                Some(90),
                Some("pid 3 ls in a system call"),
            ),
            span(2, "sh", "input.r", 95, None, None),
        ];
        let lines: Vec<String> = sleep_lines(&sleeps).into_iter().map(|l| l.text).collect();
        assert_eq!(
            lines,
            [
                "pid 2 sh asleep on input.r (console input) since step 95",
                "pid 2 sh slept on ptable.proc[1] (its child's exit, in wait) from step 25 to 90, woken by pid 3 ls in a system call",
                "pid 3 ls slept 3 times on disk buffers (bcache.buf[0] … bcache.buf[4]) from step 30 to 80, each woken by interrupt 46 (IDE disk (IRQ 14))",
                "pid 2 sh slept on input.r (console input) from step 10 to 20, woken by interrupt 33 (keyboard (IRQ 1))",
            ]
        );
        // A sleeper found asleep when the record began went to sleep
        // before it: its start is not known, and not claimed.
        let early = SleepSpan {
            before: true,
            ..span(1, "init", "ptable.proc[0]", 14_100_000, None, None)
        };
        assert_eq!(
            early.text(),
            "pid 1 init asleep on ptable.proc[0] (its child's exit, in wait) since before step 14100000"
        );
        // The same channel again and again reads as that channel; an unnamed
        // waker is another process; a different waker breaks the run.
        let ticks = [
            span(4, "sleeper", "ticks", 1, Some(2), None),
            span(4, "sleeper", "ticks", 3, Some(4), None),
            span(
                4,
                "sleeper",
                "ticks",
                5,
                Some(6),
                Some("interrupt 32 (timer (IRQ 0))"),
            ),
        ];
        let lines: Vec<String> = sleep_lines(&ticks).into_iter().map(|l| l.text).collect();
        assert_eq!(
            lines,
            [
                "pid 4 sleeper slept on ticks (the timer, in sleep) from step 5 to 6, woken by interrupt 32 (timer (IRQ 0))",
                "pid 4 sleeper slept 2 times on ticks (the timer, in sleep) from step 1 to 4, each woken by another process",
            ]
        );
    }

    #[test]
    fn two_processes_take_turns_and_keep_their_names() {
        let mut s = Session::new("context-switch");
        s.apply(Action::SetBreak(Some(
            crate::session::BreakChoice::ContextSwitch,
        )));
        for _ in 0..3 {
            s.apply(Action::ToggleRun);
            while s.running() {
                s.tick_for_test(0.016);
            }
        }
        let procs = s.guest().view().processes(s.guest().machine());
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

    /// The timeline drawn straight from the machine's whole event log.
    fn of_whole_log(s: &Session) -> TimelineView {
        let m = s.guest().machine();
        let procs = s.guest().view().processes(m);
        let events = m
            .event_log()
            .iter()
            .map(|e| (e.step, &e.event))
            .chain(m.last_events().iter().map(|e| (m.steps(), e)));
        of_events(s, &procs, events, true)
    }

    #[test]
    fn the_record_draws_what_the_whole_log_draws_while_the_log_holds_it() {
        let mut s = Session::new("blocking-io");
        s.apply(Action::SetSpeed(crate::session::SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        let mut looks = 0;
        while s.running() {
            s.tick_for_test(0.016);
            looks += 1;
            let procs = s.guest().view().processes(s.guest().machine());
            let (a, b) = (of_session(&s, &procs), of_whole_log(&s));
            assert_eq!((a.slices, a.io), (b.slices, b.io), "look {looks}");
        }
        assert!(!s.guest().machine().event_log().is_full());
        let procs = s.guest().view().processes(s.guest().machine());
        let v = of_session(&s, &procs);
        let io =
            v.io.iter()
                .find(|io| io.wake.is_some())
                .expect("an I/O that woke");
        // The teaching kernel's disk copies by DMA: the story has the stage.
        let line = io.line();
        assert!(
            line.contains(" → DMA @") && !line.contains("DMA @…"),
            "{line}"
        );
    }

    #[test]
    fn xv6_keeps_ls_in_the_timeline_while_the_idle_scheduler_fills_the_event_log() {
        let mut s = Session::with_xv6("xv6-idt", Some(crate::session::tests::xv6_read()));
        s.apply(Action::TypeKeys("ls\n".into()));
        // The student lists memory-mapped accesses (the page counts them
        // otherwise): then the log fills with them.
        s.apply(Action::Filter(Some(osviz_machine::EventKind::Mmio)));
        s.apply(Action::SetSpeed(crate::session::SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        // ls answers within about 15 M steps; then xv6 idles for 10 M more,
        // reading the LAPIC's ID (a memory-mapped access, an event) over and
        // over, which pushes every switch out of the bounded event log.
        while s.guest().machine().steps() < 40_000_000 {
            s.tick_for_test(0.016);
        }
        assert!(String::from_utf8_lossy(s.guest().machine().serial_output()).contains("README"));
        assert!(s.guest().machine().event_log().is_full());
        assert!(
            of_whole_log(&s)
                .slices
                .iter()
                .all(|x| !x.who.contains("ls"))
        );
        let procs = s.guest().view().processes(s.guest().machine());
        let v = of_session(&s, &procs);
        let who: Vec<&str> = v.slices.iter().map(|x| x.who.as_str()).collect();
        assert!(who.contains(&"pid 3 ls"), "{who:?}");
        assert!(who.contains(&"pid 2 sh"), "{who:?}");
        let ide =
            v.io.iter()
                .find(|io| io.text.contains("IDE read") && io.wake.is_some())
                .unwrap_or_else(|| panic!("an IDE read that woke its process: {:?}", v.io));
        // xv6's disk is programmed I/O: no DMA stage in its story.
        let line = ide.line();
        assert!(!line.contains("DMA"), "{line}");
        assert!(line.contains(": request @"), "{line}");
        assert!(line.contains(" → interrupt @"), "{line}");
    }

    /// Runs the session's machine to the next event of `kind` and returns
    /// it (the session's watches stop the run on the way; it runs on).
    fn run_to_event(s: &mut Session, kind: osviz_machine::EventKind) -> Event {
        let m = s.machine_for_test();
        m.break_on(kind, true);
        for _ in 0..1_000 {
            if let osviz_machine::StopReason::Event { .. } = m.run(50_000_000) {
                break;
            }
        }
        m.break_on(kind, false);
        let e = m.last_events().iter().find(|e| e.kind() == kind).cloned();
        e.expect("the event happened")
    }

    /// Steps until the disk queue's first request has a process asleep on it.
    fn until_a_waiter(s: &mut Session) -> TimelineView {
        for _ in 0..100_000 {
            s.machine_for_test().step();
            let procs = s.guest().view().processes(s.guest().machine());
            let v = of_session(s, &procs);
            if v.disk_queue.first().is_some_and(|l| l.contains("asleep")) {
                return v;
            }
        }
        panic!("no process went to sleep on the disk request")
    }

    #[test]
    fn xv6s_disk_queue_names_the_buffer_the_block_the_ide_was_told_and_the_sleeper() {
        let mut s = Session::with_xv6("xv6-idt", Some(crate::session::tests::xv6_read()));
        s.apply(Action::TypeKeys("cat README\n".into()));
        let Event::IdeCommand { sector, .. } =
            run_to_event(&mut s, osviz_machine::EventKind::IdeCommand)
        else {
            unreachable!()
        };
        let v = until_a_waiter(&mut s);
        // xv6's blocks are one sector each (BSIZE 512).
        let line = &v.disk_queue[0];
        assert!(line.starts_with("bcache.buf["), "{line}");
        assert!(
            line.contains(&format!(": read block {sector}, pid ")),
            "{line}"
        );
        assert!(
            line.ends_with(" asleep on it (the disk serves it now)"),
            "{line}"
        );
        let ticks = v.ticks.expect("xv6 counts ticks");
        assert!(ticks.starts_with("ticks = "), "{ticks}");
        assert_ne!(
            ticks,
            "ticks = 0: timer interrupts the kernel has counted since the boot"
        );
    }

    #[test]
    fn the_teaching_kernels_disk_queue_has_the_read_the_disk_was_asked_for() {
        let mut s = Session::new("blocking-io");
        let Event::DiskRequest { block, .. } =
            run_to_event(&mut s, osviz_machine::EventKind::DiskRequest)
        else {
            unreachable!()
        };
        let v = until_a_waiter(&mut s);
        assert_eq!(
            v.disk_queue,
            [format!(
                "disk_buf: read block {block}, pid 1 diskread asleep on it (the disk serves it now)"
            )]
        );
        // Once the read is done and copied, the queue is empty.
        run_until_stopped_here(&mut s);
        let procs = s.guest().view().processes(s.guest().machine());
        assert!(of_session(&s, &procs).disk_queue.is_empty());
    }

    fn run_until_stopped_here(s: &mut Session) {
        s.apply(Action::SetSpeed(crate::session::SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        while s.running() {
            s.tick_for_test(0.016);
        }
    }
}
