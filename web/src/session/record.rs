//! The session's own record of the processes: who owned each page
//! directory (remembered after the process exits), who ran when the event
//! log last started empty, each sleep from the step it began to the step it
//! ended and who ended it, and the events the timeline is drawn from (kept
//! apart from the machine's bounded event log, which xv6's idle loop fills
//! in about a million steps).

use osviz_machine::{Bus, DeviceClass, Event, Machine};
use osviz_view::{ChannelKind, KernelView, Phase, TrapCause};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// A process as the record names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    pub pid: u32,
    pub name: String,
}

impl Owner {
    /// `pid 3 ls`.
    pub fn label(&self) -> String {
        format!("pid {} {}", self.pid, self.name)
    }
}

/// A process asleep on a channel, as the page saw it: from the step it
/// went to sleep to the step it woke (where the kernel view can watch its
/// state; else from look to look), and who woke it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SleepSpan {
    pub pid: u32,
    pub name: String,
    /// The channel as the kernel's data names it (`input.r`).
    pub chan: String,
    /// What the channel is for, as the kernel view says.
    pub kind: ChannelKind,
    pub from: u64,
    /// Already asleep when the record began (after the boot's fast-forward
    /// or a move in time): it went to sleep before `from`, unseen.
    pub before: bool,
    pub to: Option<u64>,
    /// Who woke it: a device's interrupt with the kernel's name for it, or
    /// a process in a system call (`None`: another process, unnamed).
    pub woken_by: Option<String>,
}

/// How many sleeps the record keeps.
const SLEEPS_KEPT: usize = 96;

/// How many of the timeline's events the record keeps.
const TIMELINE_EVENTS_KEPT: usize = 4096;

/// Whether the timeline uses an event: the record keeps these (a device
/// interrupt only when the board wires a disk to its line).
pub fn draws(event: &Event, bus: &Bus) -> bool {
    match event {
        Event::Cr3Write { .. }
        | Event::TrapEntry { cpl_before: 3, .. }
        | Event::DiskRequest { .. }
        | Event::IdeCommand { .. }
        | Event::Dma { .. } => true,
        Event::IrqRaised { irq, .. } => bus.device_on_line(*irq) == Some(DeviceClass::Disk),
        _ => false,
    }
}

/// The events the timeline is drawn from, kept apart from the event log.
#[derive(Clone, Debug, Default)]
pub struct TimelineRecord {
    events: VecDeque<(u64, Event)>,
    /// Every event of the log stamped up to this step has been looked at.
    copied: u64,
    /// Whether events were lost: the record dropped its oldest, or the log
    /// wrapped between two looks. Who ran at its start is then unknown.
    gap: bool,
}

impl TimelineRecord {
    /// Starts empty at `step` (the event log was just cleared).
    fn restart(&mut self, step: u64) {
        self.events.clear();
        self.copied = step;
        self.gap = false;
    }

    /// Copies the timeline's events the log holds past the last copy. The
    /// events of the current step are not in the log yet (the next step
    /// files them), so the copy stops before it.
    fn copy_from(&mut self, m: &Machine) {
        let log = m.event_log();
        let copied = self.copied;
        let fresh: Vec<(u64, Event)> = log
            .iter()
            .rev()
            .take_while(|s| s.step > copied)
            .filter(|s| draws(&s.event, m.bus()))
            .map(|s| (s.step, s.event.clone()))
            .collect();
        if log.is_full() && log.iter().next().is_some_and(|s| s.step > copied + 1) {
            self.gap = true;
        }
        self.events.extend(fresh.into_iter().rev());
        let extra = self.events.len().saturating_sub(TIMELINE_EVENTS_KEPT);
        if extra > 0 {
            self.events.drain(..extra);
            self.gap = true;
        }
        self.copied = self.copied.max(m.steps().saturating_sub(1));
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = (u64, &Event)> {
        self.events.iter().map(|(s, e)| (*s, e))
    }

    /// Whether the record holds every timeline event since it started.
    pub fn complete(&self) -> bool {
        !self.gap
    }
}

/// The latest device interrupt the CPU took between steps `from` and `to`
/// (the machine remembers the latest few, recorded or not).
fn last_device_interrupt(m: &Machine, from: u64, to: u64) -> Option<u8> {
    m.recent_interrupts()
        .filter(|(step, _)| *step >= from && *step <= to)
        .map(|(_, v)| v)
        .last()
}

/// Who owned what and who slept on what, as the session saw it.
#[derive(Clone, Debug, Default)]
pub struct ProcessRecord {
    /// Who each page directory belonged to, remembered after the process
    /// exits.
    dir_owners: HashMap<u32, Owner>,
    /// The process running when the event log last started empty (after
    /// the fast-forward or a move in time), for the timeline's first slice.
    log_owner: Option<(u64, Owner)>,
    /// That process's page directory.
    log_dir: Option<u32>,
    sleeps: Vec<SleepSpan>,
    /// The step the sleeps were last looked at.
    sleeps_seen: u64,
    /// Whether the sleeps were looked at since the record began: a sleeper
    /// found at the first look went to sleep before it.
    looked: bool,
    timeline: TimelineRecord,
    /// Whether, at the last look, every process waited for a person (for
    /// input, or for a child that waits for input): nothing would change
    /// until someone types.
    waiting_for_person: bool,
}

impl ProcessRecord {
    /// Notes who runs now, as the log starts empty (and the timeline's
    /// record with it).
    pub fn log_started(&mut self, m: &Machine, view: &dyn KernelView) {
        self.timeline.restart(m.steps());
        let current = view.current(m);
        self.log_dir = current.as_ref().map(|p| p.pgdir);
        self.log_owner = current.map(|p| {
            (
                m.steps(),
                Owner {
                    pid: p.pid,
                    name: p.name,
                },
            )
        });
    }

    /// Who owned page directory `dir`, if a process the record saw did.
    pub fn dir_owner(&self, dir: u32) -> Option<&Owner> {
        self.dir_owners.get(&dir)
    }

    /// Who ran when the log last started empty, and from which step.
    pub fn log_owner(&self) -> Option<&(u64, Owner)> {
        self.log_owner.as_ref()
    }

    /// The page directory of the process running when the log last started
    /// empty: the process a first switch in the log switches away from.
    pub fn log_dir(&self) -> Option<u32> {
        self.log_dir
    }

    /// The sleeps seen, oldest first.
    pub fn sleeps(&self) -> &[SleepSpan] {
        &self.sleeps
    }

    /// Whether every process waited for a person at the last look (see
    /// [`ProcessRecord::look`]).
    pub fn waiting_for_person(&self) -> bool {
        self.waiting_for_person
    }

    /// The timeline's events.
    pub fn timeline(&self) -> &TimelineRecord {
        &self.timeline
    }

    /// Looks at the processes now: notes every live process's page
    /// directory and who sleeps on what, and returns the state fields to
    /// watch, so that running stops at each change of state (`at_change`
    /// says this look is at one): a sleep is then seen from the step it
    /// began to the step it ended, and the trap the kernel is in at that
    /// moment says who woke the sleeper (a device's interrupt handler, or a
    /// process in a system call). Where the kernel view cannot watch,
    /// sleeps are seen at each look and the latest device interrupt since
    /// the last look is named as the likely waker.
    pub fn look(&mut self, m: &Machine, i: &dyn KernelView, at_change: bool) -> Vec<(u32, u32)> {
        self.timeline.copy_from(m);
        let now = m.steps();
        let procs = i.processes(m);
        for p in &procs {
            self.dir_owners.insert(
                p.pgdir,
                Owner {
                    pid: p.pid,
                    name: p.name.clone(),
                },
            );
        }
        // After a move back in time the later sleeps never happened.
        self.sleeps.retain(|s| s.from <= now);
        for s in self
            .sleeps
            .iter_mut()
            .filter(|s| s.to.is_some_and(|t| t > now))
        {
            s.to = None;
            s.woken_by = None;
        }
        let asleep = |pid: u32, chan: &str| {
            procs.iter().any(|p| {
                p.pid == pid && p.phase == Phase::Sleeping && p.chan_name.as_deref() == Some(chan)
            })
        };
        let seen = self.sleeps_seen;
        let interrupt = |v: u8| match i.vector_name(v) {
            Some(n) => format!("interrupt {v} ({n})"),
            None => format!("interrupt {v}"),
        };
        // Asked only when a sleep ends at this very change of state.
        let mut waker: Option<Option<String>> = None;
        let mut waker_now = || {
            waker
                .get_or_insert_with(|| {
                    Some(match i.trap_cause(m)? {
                        TrapCause::DeviceInterrupt { vector, .. } => interrupt(vector),
                        _ => match i.current(m) {
                            Some(p) => format!("pid {} {} in a system call", p.pid, p.name),
                            None => "a system call".to_string(),
                        },
                    })
                })
                .clone()
        };
        for s in self.sleeps.iter_mut().filter(|s| s.to.is_none()) {
            if !asleep(s.pid, &s.chan) {
                s.to = Some(now);
                s.woken_by = match at_change.then(&mut waker_now).flatten() {
                    Some(w) => Some(w),
                    None => last_device_interrupt(m, seen.max(s.from), now).map(interrupt),
                };
            }
        }
        for p in procs.iter().filter(|p| p.phase == Phase::Sleeping) {
            let Some(chan) = &p.chan_name else { continue };
            let open = self
                .sleeps
                .iter()
                .any(|s| s.to.is_none() && s.pid == p.pid && &s.chan == chan);
            if !open {
                self.sleeps.push(SleepSpan {
                    pid: p.pid,
                    name: p.name.clone(),
                    chan: chan.clone(),
                    kind: p.chan_kind,
                    from: now,
                    before: !self.looked,
                    to: None,
                    woken_by: None,
                });
            }
        }
        // Waiting for a person: some processes, and each asleep on console
        // input or on a child's exit (a shell waiting for its command to
        // end, which itself waits for input). A disk or a timer sleep, or
        // a runnable process, is work the machine must do at its speed.
        self.waiting_for_person = !procs.is_empty()
            && procs.iter().all(|p| {
                p.phase == Phase::Sleeping
                    && matches!(
                        p.chan_kind,
                        ChannelKind::ConsoleInput | ChannelKind::ChildExit
                    )
            });
        let extra = self.sleeps.len().saturating_sub(SLEEPS_KEPT);
        self.sleeps.drain(..extra);
        self.sleeps_seen = now;
        self.looked = true;
        procs.iter().filter_map(|p| i.state_field(p)).collect()
    }
}
