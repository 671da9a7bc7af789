//! The machine's side of the page, as plain Rust: the session, run in
//! slices, and the frames the page paints. The worker (`worker.rs`) feeds
//! it the page's messages and its own clock and posts what it returns; the
//! native tests drive it the same way, so the whole exchange is tested
//! without a browser.
//!
//! Pacing: the machine runs in slices of about `run_control`'s target (a
//! dozen milliseconds at full speed), one after another, with the page's
//! messages taken between them; a frame is built only when the page has
//! painted the one before (it says so with `Ready`), so a slow page gets
//! fewer frames, never a queue of them, and the machine never waits for
//! the page.

use crate::action::Action;
use crate::channel::{FromWorker, Start, ToWorker};
use crate::session::{Effect, Opening, Session};
use crate::views::frame::FrameBuilder;

/// Milliseconds between slices at a set speed (the rate's steps are spread
/// over real time).
const SLICE_MS: f64 = 16.0;
/// Milliseconds between slices while every process waits for a person: a
/// few slices a second keep the guest's clock going and leave the host
/// idle (a key typed makes the next slice come at once).
const IDLE_SLICE_MS: f64 = 250.0;
/// The longest real time one slice makes up for (a worker the browser
/// slowed down does not come back to a burst of steps).
const MAX_SLICE_MS: f64 = 100.0;
/// How often, while running, the frame brings the share link of the moment
/// up to date (and after every action that is not pointing or typing), so
/// that a reload reopens it.
const KEEP_MOMENT_MS: f64 = 500.0;
/// Milliseconds of long work (a replay) a slice does before the page gets
/// a frame with its progress.
const JOB_SLICE_MS: f64 = 30.0;

/// What the worker is to do for the host.
#[derive(Debug, PartialEq)]
pub enum Task {
    /// Post this to the page.
    Post(FromWorker),
    /// Fetch the xv6 the page serves, then hand the host the action
    /// (`Action::Xv6Loaded` or `Action::Xv6Failed`).
    LoadXv6,
}

/// The session and what it owes the page.
#[derive(Debug)]
pub struct SessionHost {
    session: Session,
    builder: FrameBuilder,
    /// The page painted the last frame sent and can take the next.
    ready: bool,
    /// Something changed since the last frame was sent.
    dirty: bool,
    /// The page's number of the last action applied.
    applied: u64,
    /// The number the frames report: the last action whose effect they
    /// show (a job's action shows only when the job is over).
    shown: u64,
    /// When the moment's link was last brought up to date, and whether an
    /// action asks for it in the next frame.
    moment_at: f64,
    moment_due: bool,
    /// When the last slice ran (this thread's clock).
    last_slice: Option<f64>,
}

/// The session a page opened with: a share link in its address (the moment
/// the page kept there, after a reload); then what the last visit left in
/// local storage; then, for a newcomer, the first lesson.
fn initial_session(start: &Start) -> Session {
    let saved = start.saved.clone();
    if !start.fragment.is_empty() {
        // The link's moment, with the student's own drafts and settings.
        let speed = saved.as_ref().map(|s| s.speed);
        let prefs = saved.map(|s| s.prefs).unwrap_or_default();
        if !start.kept_entry {
            return Session::open_in_slices(&start.fragment, prefs, Opening::Shared);
        }
        let mut s = Session::open_in_slices(&start.fragment, prefs, Opening::Reload);
        if let Some(speed) = speed {
            s.apply(Action::SetSpeed(speed));
        }
        return s;
    }
    match saved {
        Some(settings) => settings.restore(),
        None => {
            let mut s = Session::new(osviz_course::first().id);
            s.apply(Action::Welcome);
            s
        }
    }
}

impl SessionHost {
    /// The host of the page `start` describes, and what to do first (fetch
    /// xv6 when its lesson or link waits for it).
    pub fn new(start: &Start) -> (SessionHost, Vec<Task>) {
        let mut session = initial_session(start);
        session.work_in_slices();
        let tasks = if session.waiting_for_xv6().is_some() {
            vec![Task::LoadXv6]
        } else {
            Vec::new()
        };
        let host = SessionHost {
            session,
            builder: FrameBuilder::default(),
            ready: true,
            dirty: true,
            applied: 0,
            shown: 0,
            moment_at: f64::NEG_INFINITY,
            // What is in the address already is not written again.
            moment_due: false,
            last_slice: None,
        };
        (host, tasks)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Takes a message from the page (not `Start`, which makes the host).
    pub fn receive(&mut self, message: ToWorker) -> Vec<Task> {
        match message {
            ToWorker::Start(_) => Vec::new(),
            ToWorker::Action { seq, action } => {
                self.applied = self.applied.max(seq);
                self.apply(action)
            }
            // The page renders on its own thread: its time takes nothing
            // from the machine's slices.
            ToWorker::Ready { .. } => {
                self.ready = true;
                Vec::new()
            }
        }
    }

    /// Applies an action, from the page or from the worker itself (a
    /// fetched build).
    pub fn apply(&mut self, action: Action) -> Vec<Task> {
        let quiet = matches!(
            action,
            Action::Hover(_)
                | Action::ScrollEvents(_)
                | Action::PanelsInView(_)
                | Action::Edit(_)
                | Action::Guess(..)
        );
        let effect = self.session.apply(action);
        if self.session.busy() {
            // A short job (a step back, a reveal's replay) is over before
            // the next frame: no progress flashes by.
            self.session.work_a_piece();
        }
        self.dirty = true;
        self.moment_due |= !quiet;
        match effect {
            None => Vec::new(),
            Some(Effect::LoadXv6) => vec![Task::LoadXv6],
            Some(Effect::PushHistory { left, fragment }) => {
                self.builder.moment_kept(fragment.clone());
                vec![Task::Post(FromWorker::Effect(Effect::PushHistory {
                    left,
                    fragment,
                }))]
            }
            Some(effect) => vec![Task::Post(FromWorker::Effect(effect))],
        }
    }

    /// Milliseconds until the next slice of running is due (`None`: the
    /// machine does not run).
    pub fn next_slice(&self, now_ms: f64) -> Option<f64> {
        if self.session.busy() {
            return Some(0.0);
        }
        if !self.session.running() {
            return None;
        }
        let every = if self.session.idle() {
            IDLE_SLICE_MS
        } else if self.session.run_control().full_speed() {
            0.0
        } else {
            SLICE_MS
        };
        let since = self.last_slice.map_or(f64::INFINITY, |t| now_ms - t);
        Some((every - since).max(0.0))
    }

    /// Runs one slice, if one is due. `clock` reads this thread's clock
    /// (the slice's own time adapts the full-speed budget).
    pub fn run_slice(&mut self, clock: &dyn Fn() -> f64) {
        let t0 = clock();
        if self.next_slice(t0).is_none_or(|wait| wait > 0.0) {
            return;
        }
        if self.session.busy() {
            self.session.work(clock, t0 + JOB_SLICE_MS);
            self.dirty = true;
            if !self.session.busy() {
                // Over: the moment it reached is the one to keep.
                self.moment_due = true;
            }
            return;
        }
        let elapsed = self.last_slice.replace(t0).map_or(SLICE_MS, |t| t0 - t);
        self.session.apply(Action::Tick {
            seconds: elapsed.clamp(0.0, MAX_SLICE_MS) / 1000.0,
        });
        self.session.apply(Action::FrameTimed {
            run_ms: clock() - t0,
            since_last_ms: elapsed,
        });
        self.dirty = true;
        if !self.session.running() {
            self.last_slice = None;
        }
    }

    /// The next frame for the page, if it can take one and there is news.
    pub fn frame(&mut self, now_ms: f64) -> Option<FromWorker> {
        if !(self.ready && self.dirty) {
            return None;
        }
        // Halfway through a replay is no moment to keep: the one asked for
        // is kept when it is reached.
        let moment = !self.session.busy()
            && (self.moment_due
                || (self.session.running() && now_ms - self.moment_at >= KEEP_MOMENT_MS));
        if moment {
            self.moment_at = now_ms;
            self.moment_due = false;
        }
        let frame = self.builder.frame(&self.session, now_ms, moment);
        self.ready = false;
        self.dirty = false;
        if !self.session.busy() {
            self.shown = self.applied;
        }
        Some(FromWorker::Frame {
            frame: Box::new(frame),
            applied: self.shown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::frame::Frame;

    fn start() -> (SessionHost, Vec<Task>) {
        SessionHost::new(&Start {
            fragment: String::new(),
            kept_entry: false,
            saved: None,
        })
    }

    fn frame_of(message: Option<FromWorker>) -> (Frame, u64) {
        match message {
            Some(FromWorker::Frame { frame, applied }) => (*frame, applied),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn a_frame_waits_for_the_page_to_paint_the_one_before() {
        let (mut host, tasks) = start();
        assert!(tasks.is_empty(), "the first lesson needs no fetch");
        let (first, applied) = frame_of(host.frame(0.0));
        assert_eq!(applied, 0);
        assert!(first.lesson.is_some(), "the first frame has everything");
        host.receive(ToWorker::Action {
            seq: 1,
            action: Action::Step,
        });
        assert!(host.frame(1.0).is_none(), "the page has not painted yet");
        host.receive(ToWorker::Ready { render_ms: 2.0 });
        let (stepped, applied) = frame_of(host.frame(2.0));
        assert_eq!(applied, 1, "the frame says which actions it shows");
        assert!(stepped.controls.steps > first.controls.steps);
        assert!(stepped.keep.moment.is_some(), "a step is a new moment");
        host.receive(ToWorker::Ready { render_ms: 2.0 });
        assert!(host.frame(3.0).is_none(), "nothing new: no frame");
    }

    #[test]
    fn running_goes_on_in_slices_without_the_page_and_frames_follow_its_pace() {
        let (mut host, _) = start();
        host.frame(0.0);
        host.receive(ToWorker::Action {
            seq: 1,
            action: Action::SetSpeed(5),
        });
        host.receive(ToWorker::Action {
            seq: 2,
            action: Action::ToggleRun,
        });
        assert_eq!(host.next_slice(0.0), Some(0.0), "full speed: at once");
        let t = std::cell::Cell::new(0.0);
        let clock = || {
            t.set(t.get() + 1.0);
            t.get()
        };
        let before = host.session().guest().machine().steps();
        // The page paints nothing: the machine runs on regardless.
        for _ in 0..5 {
            host.run_slice(&clock);
        }
        let after = host.session().guest().machine().steps();
        assert!(after > before, "{before} → {after}");
        assert!(host.frame(t.get()).is_none(), "the page is still painting");
        host.receive(ToWorker::Ready { render_ms: 1.0 });
        let (frame, _) = frame_of(host.frame(t.get()));
        assert_eq!(
            frame.controls.steps, after,
            "the frame shows the machine now"
        );
    }

    /// A link far into an xv6 run: the host opens it in slices, each frame
    /// showing how far the replay is, and the page's other messages are
    /// answered in between; then "who last changed this?" is started and
    /// cancelled, and the machine is back at the link's step.
    #[test]
    fn a_long_replay_shows_its_progress_and_a_cancelled_search_leaves_the_machine_at_its_step() {
        let target = 240_000_000u64;
        let (mut host, tasks) = SessionHost::new(&Start {
            fragment: format!(
                "lesson=xv6-idt&step={target}&k=14100000.6563686f2068690a&clock=1796646896"
            ),
            kept_entry: false,
            saved: None,
        });
        assert_eq!(tasks, [Task::LoadXv6], "the link waits for xv6");
        let (frame, _) = frame_of(host.frame(0.0));
        assert_eq!(
            frame.controls.job.map(|j| (j.what, j.done)),
            Some(("loading xv6 to open the link".to_string(), None)),
            "loading xv6 is the opening's first part"
        );
        host.receive(ToWorker::Ready { render_ms: 1.0 });
        host.apply(Action::Xv6Loaded(crate::session::tests::xv6_build()));
        let t = std::cell::Cell::new(0.0);
        // Each look at the clock is 10 ms later: a slice does a few pieces.
        let clock = || {
            t.set(t.get() + 10.0);
            t.get()
        };
        let mut shown = Vec::new();
        let mut slices = 0;
        let mut last = None;
        while host.session().busy() {
            assert_eq!(host.next_slice(t.get()), Some(0.0), "a job runs at once");
            host.run_slice(&clock);
            slices += 1;
            if let Some(message) = host.frame(t.get()) {
                let (frame, _) = frame_of(Some(message));
                match frame.controls.job {
                    Some(job) => {
                        assert_eq!(job.what, "replaying to step 240,000,000");
                        assert_eq!(frame.keep.moment, None, "no moment is kept halfway");
                        shown.push(job.done.expect("a replay says how far it is"));
                    }
                    None => last = Some(frame),
                }
                host.receive(ToWorker::Ready { render_ms: 1.0 });
            }
        }
        assert!(slices > 2, "the replay took {slices} slices");
        assert!(
            shown.len() >= 2 && shown.windows(2).all(|w| w[0] <= w[1]) && shown[0] < 1.0,
            "progress shown: {shown:?}"
        );
        let m = host.session().guest().machine();
        assert_eq!(m.steps(), target);
        let out = String::from_utf8_lossy(m.serial_output()).into_owned();
        assert!(out.ends_with("$ echo hi\nhi\n$ "), "{out}");
        let frame = last.expect("a frame after the replay");
        assert!(
            frame
                .keep
                .moment
                .as_deref()
                .is_some_and(|f| f.contains("step=240000000")),
            "the moment reached is kept: {:?}",
            frame.keep.moment
        );
        let notice = frame.controls.notice.unwrap();
        assert!(notice.starts_with("opened a shared link"), "{notice}");

        // "Who last changed this?" replays from the earliest checkpoint.
        let hash = host.session().guest().machine().state_hash();
        host.apply(Action::WhoChangedText("ticks".into()));
        host.run_slice(&clock);
        assert!(host.session().busy(), "one slice does not finish it");
        let (frame, _) = frame_of(host.frame(t.get()));
        let job = frame.controls.job.expect("the search shows its progress");
        assert!(job.what.contains("who last changed"), "{}", job.what);
        host.receive(ToWorker::Ready { render_ms: 1.0 });
        // Typed and pressed while it runs: the keys wait, Step is refused.
        host.apply(Action::TypeKeys("ls".into()));
        host.apply(Action::Step);
        assert!(host.session().busy());
        host.apply(Action::Cancel);
        assert!(!host.session().busy());
        let steps = host.session().guest().machine().steps();
        assert_eq!(steps, target, "back at the step it was asked at");
        let (frame, _) = frame_of(host.frame(t.get()));
        let notice = frame.controls.notice.unwrap();
        assert!(
            notice.starts_with("cancelled who last changed it at ")
                && notice.ends_with("back at step 240000000, where it began"),
            "{notice}"
        );
        // The keys typed meanwhile were typed when it ended.
        let m = host.session().guest().machine();
        assert_ne!(m.state_hash(), hash, "the keys are in the keyboard");
        let typed: Vec<u8> = m.inputs().iter().rev().take(2).map(|i| i.byte).collect();
        assert_eq!(typed, b"sl");
    }

    #[test]
    fn a_lesson_chosen_tells_the_page_to_add_a_history_entry() {
        let (mut host, _) = start();
        let tasks = host.receive(ToWorker::Action {
            seq: 1,
            action: Action::ChooseLesson("two-level".into()),
        });
        assert!(
            matches!(
                tasks.as_slice(),
                [Task::Post(FromWorker::Effect(Effect::PushHistory { .. }))]
            ),
            "{tasks:?}"
        );
        let tasks = host.receive(ToWorker::Action {
            seq: 2,
            action: Action::Share,
        });
        assert!(matches!(
            tasks.as_slice(),
            [Task::Post(FromWorker::Effect(Effect::CopyLink { .. }))]
        ));
        let (frame, applied) = frame_of(host.frame(0.0));
        assert_eq!(applied, 2);
        assert_eq!(frame.controls.lesson_id, "two-level");
    }

    #[test]
    fn every_message_crosses_as_json() {
        let (mut host, _) = start();
        let message = host.frame(0.0).expect("a frame");
        let text = message.encode();
        assert_eq!(FromWorker::decode(&text).expect("decodes"), message);
        let action = ToWorker::Action {
            seq: 7,
            action: Action::TypeKeys("ls\n".into()),
        };
        assert_eq!(ToWorker::decode(&action.encode()).expect("decodes"), action);
    }
}
