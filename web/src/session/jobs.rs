//! Long work in pieces: a replay to a step (a link's moment, a step back,
//! the boot, back to where the student was, a reveal's start) and "who
//! last changed this?". In the page the worker's host advances the job a
//! slice at a time between frames ([`Session::work`]), so the page shows
//! how far it is and the student can cancel it (the machine then goes back
//! to where it was). Natively (tests, the headless API) an action finishes
//! its job before it returns.

use super::Session;
use super::links::LinkOpening;
use osviz_machine::{Change, ChangeSearch, Replay};
use serde::{Deserialize, Serialize};

/// Steps a job advances between looks at the clock (idle periods skipped
/// count as run).
const PIECE_STEPS: u64 = 2_000_000;

/// The work under way and what follows it.
#[derive(Clone, Debug)]
pub(super) struct Job {
    work: Work,
    then: Then,
    /// Where the machine was when the job began: Cancel goes back there.
    from: u64,
}

#[derive(Clone, Debug)]
enum Work {
    Replay(Replay),
    Search(ChangeSearch),
}

/// What to do when a replay is over.
#[derive(Clone, Debug)]
pub(super) enum Then {
    /// Nothing more: the machine is at the step.
    Nothing,
    /// A step back: the step overs not undone stay undoable.
    SteppedBack { overs: Vec<(u64, u64)> },
    /// A query moved time: remember where the student was, say what.
    MovedTime { here: u64, what: String },
    /// Back where the student was before a query moved time.
    Returned { step: u64 },
    /// A share link's moment reached: say so.
    LinkOpened(Box<LinkOpening>),
    /// A reveal's lesson start reached: run to the question's moment.
    Reveal { question: usize, here: u64 },
    /// Just before the change "who last changed this?" found.
    Changed { pa: u32, change: Change },
}

/// What the page shows of a job: what it does and how far it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub what: String,
    /// From 0 to 1; `None` while how far cannot be told (xv6 loading).
    pub done: Option<f64>,
}

impl Session {
    /// Goes to a step: the machine's history replays to it, now or (in the
    /// page) in slices; `then` follows.
    pub(super) fn seek_then(&mut self, step: u64, then: Then) {
        self.mark();
        self.run.pause();
        self.time.clear_step_overs();
        self.breaks.forget_switch();
        let from = self.system.machine().steps();
        match self.system.machine_mut().replay(step) {
            Ok(replay) => {
                self.stop = None;
                self.job = Some(Job {
                    work: Work::Replay(replay),
                    then,
                    from,
                });
            }
            Err(e) => {
                self.notice = Some(format!("cannot go to step {step}: {e}"));
                self.after_move();
            }
        }
    }

    /// "Who last changed this?": replays from the earliest checkpoint with a
    /// watch on the bytes, then goes to just before the change.
    pub(super) fn search_change(&mut self, pa: u32, len: u32) {
        self.mark();
        self.run.pause();
        let from = self.system.machine().steps();
        match self.system.machine_mut().change_search(pa, len) {
            Ok(search) => {
                self.job = Some(Job {
                    work: Work::Search(search),
                    then: Then::Nothing,
                    from,
                })
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
        // The break-on choice describes running; a query moves time.
        self.stop = None;
    }

    /// The job under way, as the page shows it.
    pub fn job(&self) -> Option<JobView> {
        let Some(job) = self.job.as_ref() else {
            // A link waits for xv6: loading it is the opening's first part.
            return self.xv6.waiting_link().then(|| JobView {
                what: "loading xv6 to open the link".into(),
                done: None,
            });
        };
        let m = self.system.machine();
        Some(match &job.work {
            Work::Replay(r) => JobView {
                what: format!("replaying to step {}", thousands(r.target())),
                done: Some(r.done(m)),
            },
            Work::Search(s) => JobView {
                what: format!(
                    "replaying to step {} to find who last changed it",
                    thousands(s.until())
                ),
                done: Some(s.done(m)),
            },
        })
    }

    /// Advances the job until it is over or `clock` passes `until_ms`.
    pub fn work(&mut self, clock: &dyn Fn() -> f64, until_ms: f64) {
        while self.job.is_some() {
            self.work_piece(PIECE_STEPS);
            if clock() >= until_ms {
                break;
            }
        }
    }

    /// Advances the job by one piece (a short one is then over).
    pub fn work_a_piece(&mut self) {
        self.work_piece(PIECE_STEPS);
    }

    /// Finishes the job (and any that follows from it) now.
    pub(super) fn finish_jobs(&mut self) {
        while self.job.is_some() {
            self.work_piece(u64::MAX);
        }
    }

    fn work_piece(&mut self, steps: u64) {
        let Some(mut job) = self.job.take() else {
            return;
        };
        let m = self.system.machine_mut();
        match &mut job.work {
            Work::Replay(r) => {
                if !r.advance(m, steps) {
                    self.job = Some(job);
                    return;
                }
                self.after_move();
                self.after_replay(job.then);
            }
            Work::Search(s) => match s.advance(m, steps) {
                None => self.job = Some(job),
                Some(found) => {
                    let (pa, asked_at) = (s.pa(), s.until());
                    self.after_move();
                    self.after_search(pa, asked_at, found);
                }
            },
        }
    }

    /// Cancels the job: the machine goes back to where it was. A link
    /// waiting for xv6 is not opened (the lesson shown stays).
    pub(super) fn cancel_job(&mut self) {
        let Some(job) = self.job.take() else {
            if self.xv6.forget_link() {
                self.notice = Some(format!(
                    "cancelled opening the link: here is “{}”",
                    self.course.lesson().title
                ));
            }
            return;
        };
        let what = self.job_view_of(&job);
        let m = self.system.machine_mut();
        if let Then::LinkOpened(_) = job.then {
            // The link's keys are not typed when its opening is cancelled.
            let _ = m.seek(job.from).and_then(|_| m.press_keys_at(&[]));
        } else {
            let _ = m.seek(job.from);
        }
        self.after_move();
        self.notice = Some(format!(
            "cancelled {what}: back at step {}, where it began",
            self.system.machine().steps()
        ));
    }

    fn job_view_of(&mut self, job: &Job) -> String {
        let done = |d: f64| format!("{:.0}%", d * 100.0);
        let m = self.system.machine();
        match &job.work {
            Work::Replay(r) => format!(
                "replaying to step {} at {}",
                thousands(r.target()),
                done(r.done(m))
            ),
            Work::Search(s) => format!("who last changed it at {}", done(s.done(m))),
        }
    }

    /// What every move in time ends with: the views' memory of the run.
    fn after_move(&mut self) {
        self.note_log_owner();
        self.remember_directories();
        if !self.job_keys.is_empty() && self.job.is_none() {
            let keys = std::mem::take(&mut self.job_keys);
            self.type_keys(&keys);
        }
    }

    fn after_replay(&mut self, then: Then) {
        let reached = self.system.machine().steps();
        match then {
            Then::Nothing => {}
            Then::SteppedBack { overs } => self.time.put_back_step_overs(overs),
            Then::MovedTime { here, what } => {
                if here != reached {
                    self.time.remember_return(here);
                }
                self.notice = Some(format!("step {reached}: {what}"));
            }
            Then::Returned { step } => {
                self.notice = Some(format!("back at step {step}, where you were"))
            }
            Then::LinkOpened(opening) => {
                // Keys typed at the link's step were in the keyboard when
                // the link was made.
                self.system.machine_mut().deliver_due_inputs();
                self.link_opened(*opening)
            }
            Then::Reveal { question, here } => self.reveal_from_start(question, here),
            Then::Changed { pa, change } => {
                let step = change.step;
                self.notice = Some(if change.by_walk() {
                    format!(
                        "{pa:#010x} last changed at step {step}, and only its accessed or dirty bit was set ({:#010x} → {:#010x}): if it is a page table entry, no store wrote it; the CPU set the bit while walking the page tables for this instruction's access",
                        change.before, change.after
                    )
                } else {
                    format!(
                        "{pa:#010x} last changed at step {step} ({:#010x} → {:#010x}): this instruction wrote it",
                        change.before, change.after
                    )
                });
            }
        }
    }

    fn after_search(&mut self, pa: u32, asked_at: u64, found: Option<Change>) {
        match found {
            Some(change) => {
                self.time.remember_return(asked_at);
                self.seek_then(change.step - 1, Then::Changed { pa, change });
            }
            None => {
                self.notice = Some(format!(
                    "{pa:#010x} has not changed since step {}",
                    self.system.machine().earliest_step().unwrap_or(0)
                ));
            }
        }
    }
}

/// A number with thousands separators, as the status line writes steps.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
