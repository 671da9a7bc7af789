//! What the page is showing: a booted system for a lesson (or the
//! student's program), and the state of the controls. Plain Rust; the
//! components read views of it and send it [`Action`]s.

use crate::action::Action;
use crate::focus::{Focus, Linked};
use crate::share::Link;
use crate::views::registers::RegisterView;
use osviz_asm::Diagnostic;
use osviz_course::run::run_to;
use osviz_course::{Guest, GuestError, Kernel, Lesson, XV6_LESSONS};
use osviz_kernel::{BootError, source_file};
use osviz_machine::{Event, EventKind, StopReason};
use osviz_xv6::Xv6Build;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// Steps per second for each position of the speed control; `None` is as
/// fast as the page can go.
pub const SPEEDS: [(&str, Option<f64>); 6] = [
    ("1 / s", Some(1.0)),
    ("10 / s", Some(10.0)),
    ("100 / s", Some(100.0)),
    ("10 k / s", Some(10_000.0)),
    ("1 M / s", Some(1_000_000.0)),
    ("full speed", None),
];

/// The speed a lesson of the teaching kernel starts at (10 k / s).
const DEFAULT_SPEED: usize = 3;

/// The steps one animation frame starts with at full speed; the page then
/// adapts it (see `Session::adapt`) so that running takes a set share of
/// each frame and the page stays responsive whatever the program does.
pub const FRAME_BUDGET: u64 = 60_000;

/// The most steps a query that runs the machine (a reveal, a step over)
/// may take before it gives up.
const QUERY_STEPS: u64 = FRAME_BUDGET * 500;

/// The bounds of the adaptive budget, and the milliseconds of running per
/// frame it aims at. Running takes what rendering leaves of a 60 fps frame
/// (`FRAME_MS` less the render) on a host where the page renders quickly.
/// Where the page's own work (rendering, style, layout and paint) fills the
/// frame anyway, running takes as long as that work (`RUN_SHARE`), so a
/// slow host still gives the machine about half the main thread at full
/// speed, not a 3 ms sliver of a late frame; frames then come at 25 to 30
/// per second, never slower than one in `MAX_FRAME_MS` (measured with
/// `bench/page-fps.mjs`, which prints the split, and `bench/xv6-page.mjs`).
const MIN_BUDGET: u64 = 5_000;
const MAX_BUDGET: u64 = 2_000_000;
const FRAME_MS: f64 = 12.0;
const RUN_SHARE: f64 = 1.0;
const MAX_FRAME_MS: f64 = 40.0;
const MIN_RUN_MS: f64 = 3.0;
const MAX_RUN_MS: f64 = 16.0;

/// How long running should take in the next frame at full speed, given
/// that this one ran `ms` of the `since_last` ms since the frame before and
/// the page rendered in `render_ms`: what a 60 fps frame leaves, or as long
/// as the page's own work where that is more, but never so long that frames
/// come slower than one in `MAX_FRAME_MS`. Lateness from elsewhere (another
/// tab, a busy host) counts as the page's work: it lowers the run towards
/// its floor, and never below it.
fn run_target(ms: f64, since_last: f64, render_ms: f64) -> f64 {
    let page_ms = (since_last - ms).max(0.0);
    (FRAME_MS - render_ms)
        .max(page_ms * RUN_SHARE)
        .min(MAX_FRAME_MS - page_ms)
        .clamp(MIN_RUN_MS, MAX_RUN_MS)
}

/// What narrows a break-on choice beyond its event kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Narrow {
    /// Every event of the kind.
    Any,
    /// Only traps through this vector.
    Vector(u8),
    /// Only a CR3 write that switches from one process's address space to
    /// another's (not the kernel's own directory, not the same process again).
    ProcessSwitch,
}

/// One choice of the break-on control.
#[derive(Debug, PartialEq, Eq)]
pub struct BreakOn {
    pub name: &'static str,
    pub kind: EventKind,
    pub narrow: Narrow,
}

const fn on(name: &'static str, kind: EventKind, narrow: Narrow) -> BreakOn {
    BreakOn { name, kind, narrow }
}

/// What the break-on control offers.
pub const BREAK_KINDS: [BreakOn; 8] = [
    on("page fault", EventKind::PageFault, Narrow::Any),
    on("TLB miss", EventKind::TlbMiss, Narrow::Any),
    on("trap or interrupt", EventKind::TrapEntry, Narrow::Any),
    on(
        "system call (int 0x40)",
        EventKind::TrapEntry,
        Narrow::Vector(0x40),
    ),
    on("context switch", EventKind::Cr3Write, Narrow::ProcessSwitch),
    on("I/O request", EventKind::DiskRequest, Narrow::Any),
    on("DMA transfer", EventKind::Dma, Narrow::Any),
    on("return from trap (iret)", EventKind::Iret, Narrow::Any),
];

/// The index of the context-switch choice in `BREAK_KINDS`.
#[cfg(test)]
pub const BREAK_SWITCH: usize = 4;

/// A breakpoint as the student set it: on a source line. It is bound to an
/// address on every boot, so it survives Reset and "Run my program".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceLine {
    pub file: String,
    pub line: usize,
}

/// A breakpoint, and the address it is bound to now (none when the line
/// has no code in the program as it is now).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakpoint {
    pub file: String,
    pub line: usize,
    pub addr: Option<u32>,
}

/// The machine's answer to a question, and the step it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub step: Option<u64>,
}

/// What an action asks of the browser, which the session cannot do itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Copy this link (the page's address with the fragment) to the clipboard.
    CopyLink(String),
    /// Fetch the xv6 build the page serves, then send `Action::Xv6Loaded`.
    LoadXv6,
}

#[derive(Debug)]
pub struct Session {
    pub system: Guest,
    pub lesson: &'static Lesson,
    /// The first program's source as the machine runs it now.
    program: String,
    /// The editor's text for each lesson the student edited: what they
    /// typed is theirs until they revert it, run or not.
    pub drafts: BTreeMap<String, String>,
    /// The program last run in each lesson where it is not the lesson's
    /// own: coming back to the lesson runs it again.
    pub ran: BTreeMap<String, String>,
    pub errors: Vec<Diagnostic>,
    /// Things worth saying about a program that assembled.
    pub warnings: Vec<String>,
    /// The registers before the latest action, to mark what changed.
    pub before: RegisterView,
    pub stop: Option<StopReason>,
    pub running: bool,
    pub speed: usize,
    /// Fractional steps carried between animation frames at slow speeds.
    carry: f64,
    /// The process the kernel-stack and memory-image panels show (the
    /// running one when none is chosen).
    pub selected_pid: Option<u32>,
    /// The frame, process, vector or page pointed at or clicked: every
    /// panel that shows it marks it.
    pub linked: Linked,
    pub answers: Vec<Option<Answer>>,
    /// The predictions the student typed, per lesson (question by
    /// question): kept across lessons and reloads like drafts.
    pub predictions: BTreeMap<String, Vec<String>>,
    /// The event kind the log shows (`None`: all but TLB hits).
    pub event_filter: Option<EventKind>,
    /// Steps per frame at full speed.
    pub budget: u64,
    /// Milliseconds the latest frame's render took.
    render_ms: f64,
    /// Who each page directory belonged to, remembered after the process
    /// exits (for the timeline).
    pub dir_names: HashMap<u32, (String, Option<u32>)>,
    /// A virtual address the student typed for the Page walk panel (it
    /// shows the latest access when there is none).
    pub walk_addr: Option<u32>,
    /// The index (newest first) of the first event row in view.
    pub events_first: usize,
    /// The panels out of the window's view: while running, the page does
    /// not build their views (see [`Session::renders_panel`]).
    out_of_view: BTreeSet<String>,
    /// What `run` breaks on, if anything: an entry of `BREAK_KINDS`.
    pub break_on: Option<&'static BreakOn>,
    pub dark: bool,
    pub projector: bool,
    pub help: bool,
    /// The panels projector mode shows, per lesson, where the instructor
    /// chose them (else the lesson's own list).
    pub panel_choice: BTreeMap<String, Vec<String>>,
    /// A message about what the latest action did.
    pub notice: Option<String>,
    breakpoints: Vec<SourceLine>,
    /// The step where the lesson starts: the user program's first instruction.
    pub start_step: u64,
    /// Where the student was before a reveal or "show the boot" moved time.
    pub return_to: Option<u64>,
    /// For each step over not yet undone: the step it ended at and the one
    /// it started from, so Step back undoes it as one step.
    step_overs: Vec<(u64, u64)>,
    /// The page directory of the process last switched to, for breaking on
    /// a context switch; with the step it was known at.
    last_switch: Option<(u64, u32)>,
    /// The process running when the event log last started empty (after
    /// the fast-forward or a move in time), for the timeline's first slice.
    pub log_owner: Option<(u64, String, Option<u32>)>,
    /// The xv6 build, once the page has fetched it (or the student opened
    /// one): kept across lessons.
    pub xv6: Option<Rc<Xv6Build>>,
    /// An xv6 lesson asked for before xv6 was loaded: opened when it is.
    pub pending_lesson: Option<String>,
    /// A share link to an xv6 lesson, opened once xv6 is loaded.
    pending_link: Option<String>,
    /// Processes seen asleep on a channel, and when they woke (for the
    /// timeline).
    pub sleeps: Vec<crate::views::timeline::SleepSpan>,
    /// The step the sleeps were last looked at.
    sleeps_seen: u64,
    /// The timeline's events (switches, traps from user mode, I/O), copied
    /// from the machine's bounded event log at each look: on xv6 its
    /// memory-mapped LAPIC reads alone fill that log in about a million
    /// steps, and the chart must keep the switches longer than that.
    pub timeline: TimelineRecord,
}

/// The events the timeline is drawn from, kept apart from the event log.
#[derive(Clone, Debug, Default)]
pub struct TimelineRecord {
    events: std::collections::VecDeque<(u64, Event)>,
    /// Every event of the log stamped up to this step has been looked at.
    copied: u64,
    /// Whether events were lost: the record dropped its oldest, or the log
    /// wrapped between two looks. Who ran at its start is then unknown.
    gap: bool,
}

/// How many of the timeline's events the record keeps.
const TIMELINE_EVENTS_KEPT: usize = 4096;

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
    fn copy_from(&mut self, m: &osviz_machine::Machine) {
        let log = m.event_log();
        let copied = self.copied;
        let fresh: Vec<(u64, Event)> = log
            .iter()
            .rev()
            .take_while(|s| s.step > copied)
            .filter(|s| crate::views::timeline::draws(&s.event))
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

/// How many sleeps the timeline keeps.
const SLEEPS_KEPT: usize = 96;

/// Every panel the page has, by the name its section carries.
pub const PANELS: [&str; 13] = [
    "Registers",
    "Code",
    "Processes",
    "Kernel stack",
    "Memory image",
    "Page walk",
    "Page tables",
    "TLB",
    "IDT",
    "Physical frames",
    "Timeline",
    "Events",
    "Console",
];

/// Boots a lesson's guest (the first program replaced by `source`), with
/// events recorded, as the page watches it.
fn boot(
    lesson: &'static Lesson,
    xv6: Option<&Rc<Xv6Build>>,
    source: Option<&str>,
) -> Result<Guest, GuestError> {
    let mut guest = Guest::for_lesson(lesson, xv6, source)?;
    guest.machine_mut().set_recording(true);
    Ok(guest)
}

/// The latest device interrupt the CPU took between steps `from` and `to`
/// (the machine remembers the latest few, recorded or not).
fn last_device_interrupt(m: &osviz_machine::Machine, from: u64, to: u64) -> Option<u8> {
    m.recent_interrupts()
        .filter(|(step, _)| *step >= from && *step <= to)
        .map(|(_, v)| v)
        .last()
}

/// The lesson's own first program's source ("" for xv6's lessons, which
/// run xv6's programs).
fn lesson_source(lesson: &Lesson) -> &'static str {
    lesson.source()
}

impl Session {
    pub fn new(lesson_id: &str) -> Session {
        Session::with_xv6(lesson_id, None)
    }

    /// A session on a lesson, with the xv6 build if the page has one. An
    /// xv6 lesson without a build opens the first lesson and waits for it
    /// (`pending_lesson`).
    pub fn with_xv6(lesson_id: &str, xv6: Option<Rc<Xv6Build>>) -> Session {
        let mut pending = None;
        let mut notice = None;
        let mut lesson = osviz_course::lesson(lesson_id).unwrap_or(osviz_course::first());
        if lesson.kernel() == Kernel::Xv6 && xv6.is_none() {
            pending = Some(lesson.id.to_string());
            lesson = osviz_course::first();
        }
        let system = match boot(lesson, xv6.as_ref(), None) {
            Ok(system) => system,
            Err(e) => {
                // A build that cannot boot is said, never silently replaced.
                notice = Some(format!(
                    "{} could not start: {e}; the first lesson opened instead",
                    lesson.id
                ));
                lesson = osviz_course::first();
                boot(lesson, None, None).expect("the built-in lessons assemble")
            }
        };
        let before = RegisterView::of(system.machine());
        let mut s = Session {
            system,
            lesson,
            program: lesson_source(lesson).to_string(),
            drafts: BTreeMap::new(),
            ran: BTreeMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            before,
            stop: None,
            running: false,
            speed: match lesson.kernel() {
                Kernel::Teaching => DEFAULT_SPEED,
                Kernel::Xv6 => SPEEDS.len() - 1,
            },
            carry: 0.0,
            selected_pid: None,
            linked: Linked::default(),
            answers: vec![None; lesson.questions.len()],
            predictions: BTreeMap::new(),
            event_filter: None,
            budget: FRAME_BUDGET,
            render_ms: 0.0,
            dir_names: HashMap::new(),
            events_first: 0,
            out_of_view: BTreeSet::new(),
            walk_addr: None,
            break_on: None,
            dark: false,
            projector: false,
            help: false,
            panel_choice: BTreeMap::new(),
            notice: None,
            breakpoints: Vec::new(),
            start_step: 0,
            return_to: None,
            step_overs: Vec::new(),
            last_switch: None,
            log_owner: None,
            xv6,
            pending_lesson: pending,
            pending_link: None,
            sleeps: Vec::new(),
            sleeps_seen: 0,
            timeline: TimelineRecord::default(),
        };
        s.go_to_start();
        if let Some(n) = notice {
            s.notice = Some(n);
        }
        s
    }

    /// Fast-forwards the boot to where the lesson starts: the user
    /// program's first instruction, or xv6's shell prompt with the lesson's
    /// command typed.
    fn go_to_start(&mut self) {
        self.start_step = match self.system.go_to_start(self.lesson) {
            Ok(step) => step,
            Err(e) => {
                self.notice = Some(e.to_string());
                self.system.machine().steps()
            }
        };
        self.system.machine_mut().clear_events();
        self.note_log_owner();
        self.remember_directories();
        self.mark();
    }

    /// The prediction typed for question `i` of this lesson ("" if none).
    pub fn guess(&self, i: usize) -> &str {
        self.predictions
            .get(self.lesson.id)
            .and_then(|g| g.get(i))
            .map_or("", String::as_str)
    }

    /// The editor's text: the student's draft, else the program as it runs.
    pub fn draft(&self) -> &str {
        self.drafts
            .get(self.lesson.id)
            .map_or(self.program.as_str(), String::as_str)
    }

    /// Whether the editor holds something other than the lesson's program.
    pub fn edited(&self) -> bool {
        self.draft() != lesson_source(self.lesson)
    }

    /// The source the machine runs now for the lesson's first program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The first program's file name, as the line table knows it.
    pub fn program_file(&self) -> String {
        self.lesson
            .programs()
            .first()
            .map_or(String::new(), |p| format!("{}.asm", p.name))
    }

    /// The text of a source file as the machine runs it.
    pub fn file_text(&self, file: &str) -> Option<String> {
        if let Some(build) = self.system.xv6() {
            return build.sources.get(file).cloned();
        }
        if file == self.program_file() {
            return Some(self.program.clone());
        }
        if let Some(p) = self
            .lesson
            .programs()
            .iter()
            .find(|p| format!("{}.asm", p.name) == file)
        {
            return Some(p.source.to_string());
        }
        source_file(file)
    }

    /// The physical address of the kernel's own page directory.
    pub fn kernel_dir(&self) -> u32 {
        self.system.view().kernel_dir(self.system.machine())
    }

    /// The breakpoints, with the addresses they are bound to now.
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        let i = self.system.view();
        self.breakpoints
            .iter()
            .map(|b| Breakpoint {
                file: b.file.clone(),
                line: b.line,
                addr: i.line_addresses(&b.file, b.line).first().map(|l| l.addr),
            })
            .collect()
    }

    /// Binds the source-line breakpoints to the machine as it is now: at
    /// every address each line has (the kernel's, or each user program's).
    fn bind_breakpoints(&mut self) {
        let m = self.system.machine_mut();
        let old: Vec<u32> = m.breakpoints().collect();
        for a in old {
            m.remove_breakpoint(a);
        }
        let i = self.system.view();
        let addrs: Vec<u32> = self
            .breakpoints
            .iter()
            .flat_map(|b| i.line_addresses(&b.file, b.line))
            .map(|l| l.addr)
            .collect();
        for a in addrs {
            self.system.machine_mut().add_breakpoint(a);
        }
    }

    /// Whether a stop at address breakpoint `eip` is one of the student's:
    /// a kernel line's, or a user program's line in a process that runs
    /// that program (the same user address in another program is other
    /// code). Addresses the page bound for itself count too.
    fn breakpoint_wanted(&self, eip: u32) -> bool {
        let m = self.system.machine();
        let i = self.system.view();
        let mut places = self
            .breakpoints
            .iter()
            .flat_map(|b| i.line_addresses(&b.file, b.line))
            .filter(|l| l.addr == eip)
            .peekable();
        if places.peek().is_none() {
            return true;
        }
        let running = i.current_program(m);
        places.any(|l| l.program.is_none() || l.program == running)
    }

    /// Whether the page builds `panel`'s view this frame. While the machine
    /// runs, a panel out of view keeps what it showed: building and drawing
    /// views the student cannot see took much of each frame at full speed.
    /// Paused or stepping, every panel is current; a panel coming into view
    /// while running is built again at once.
    /// The console is always built: what the program prints is what a
    /// student waits for, it costs little, and a test or a screen reader
    /// reads it wherever the page is scrolled.
    pub fn renders_panel(&self, panel: &str) -> bool {
        !self.running || panel == "Console" || !self.out_of_view.contains(panel)
    }

    /// The panels projector mode shows for this lesson.
    pub fn projector_panels(&self) -> Vec<String> {
        match self.panel_choice.get(self.lesson.id) {
            Some(list) => list.clone(),
            None => self
                .lesson
                .panels
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
        }
    }

    /// Does what the student asked. Returns what the browser must do, if
    /// anything.
    pub fn apply(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Step => self.step(),
            Action::StepOver => self.step_over(),
            Action::StepBack => self.step_back(),
            Action::ToggleRun => self.toggle_run(),
            Action::Reset => self.reset(),
            Action::ShowBoot => self.move_time(0, "the boot, from the kernel's first instruction"),
            Action::ReturnToWhereIWas => {
                if let Some(step) = self.return_to.take() {
                    self.seek(step);
                    self.notice = Some(format!("back at step {step}, where you were"));
                }
            }
            Action::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            Action::Slower => self.speed = self.speed.saturating_sub(1),
            Action::SetSpeed(k) => self.speed = k.min(SPEEDS.len() - 1),
            Action::SetBreak(choice) => self.set_break(choice),
            Action::NextBreak => {
                let next = match self.break_on {
                    None => Some(0),
                    Some(b) => BREAK_KINDS
                        .iter()
                        .position(|k| k == b)
                        .map(|i| i + 1)
                        .filter(|&i| i < BREAK_KINDS.len()),
                };
                self.set_break(next);
            }
            Action::Share => {
                let fragment = self.link().encode();
                return Some(Effect::CopyLink(fragment));
            }
            Action::ToggleProjector => self.projector = !self.projector,
            Action::ToggleTheme => self.dark = !self.dark,
            Action::ToggleHelp => self.help = !self.help,
            Action::CloseHelp => self.help = false,
            Action::ChooseLesson(id) => {
                let wants_xv6 =
                    osviz_course::lesson(&id).is_some_and(|l| l.kernel() == Kernel::Xv6);
                if wants_xv6 && self.xv6.is_none() {
                    self.pending_lesson = Some(id);
                    self.notice = Some("loading xv6 (kernel, fs.img and its sources)…".into());
                    return Some(Effect::LoadXv6);
                }
                self.load_lesson(&id);
            }
            Action::Xv6Loaded(build) => {
                self.xv6 = Some(build.0);
                if let Some(link) = self.pending_link.take() {
                    let mut opened = Session::open_link_with(&link, self.xv6.clone());
                    opened.dark = self.dark;
                    *self = opened;
                } else if let Some(id) = self.pending_lesson.take() {
                    self.load_lesson(&id);
                }
            }
            Action::Xv6Opened(build) => {
                let origin = build.0.origin.clone();
                self.xv6 = Some(build.0);
                self.pending_lesson = None;
                let id = match self.lesson.kernel() {
                    Kernel::Xv6 => self.lesson.id,
                    Kernel::Teaching => XV6_LESSONS[0].id,
                };
                self.load_lesson(id);
                let note = self.system.view().limitation();
                self.notice = Some(match note {
                    Some(why) => format!("opened {origin}; {why}"),
                    None => format!("opened {origin}"),
                });
            }
            Action::StepLine => self.step_line(osviz_view::LineStep::Into),
            Action::NextLine => self.step_line(osviz_view::LineStep::Over),
            Action::StepOut => self.step_line(osviz_view::LineStep::Out),
            Action::BreakAt(text) => self.break_at(&text),
            Action::Xv6Failed(why) => {
                self.pending_lesson = None;
                self.pending_link = None;
                self.notice = Some(format!("xv6 could not be loaded: {why}"));
            }
            Action::Edit(text) => {
                if text == lesson_source(self.lesson) {
                    self.drafts.remove(self.lesson.id);
                } else {
                    self.drafts.insert(self.lesson.id.to_string(), text);
                }
            }
            Action::RunDraft => {
                let text = self.draft().to_string();
                self.run_source(text);
            }
            Action::RevertDraft => {
                self.drafts.remove(self.lesson.id);
                let original = lesson_source(self.lesson).to_string();
                self.run_source(original);
                self.notice = Some("the editor holds the lesson's own program again".into());
            }
            Action::Reveal(i) => self.reveal(i),
            Action::Guess(i, text) => {
                let n = self.lesson.questions.len();
                if i < n {
                    let guesses = self
                        .predictions
                        .entry(self.lesson.id.to_string())
                        .or_insert_with(|| vec![String::new(); n]);
                    guesses.resize(n, String::new());
                    guesses[i] = text;
                }
            }
            Action::TypeKeys(text) => self.type_keys(&text),
            Action::Filter(name) => {
                self.event_filter = EventKind::from_name(&name);
                self.events_first = 0;
            }
            Action::Hover(f) => self.linked.hover = f,
            Action::Pin(f) => {
                self.linked.toggle_pin(f);
                // Clicking a process also shows its kernel stack and memory image.
                if let Focus::Pid(pid) = f {
                    self.selected_pid = Some(pid);
                }
            }
            Action::ScrollEvents(first) => self.events_first = first,
            Action::PanelsInView(seen) => {
                for (name, in_view) in seen {
                    if in_view {
                        self.out_of_view.remove(&name);
                    } else {
                        self.out_of_view.insert(name);
                    }
                }
            }
            Action::WhoChanged(pa) => self.who_changed(pa, 4),
            Action::WhoChangedText(text) => self.who_changed_text(&text),
            Action::WalkText(text) => self.walk_text(&text),
            Action::ToggleBreakpoint { file, line } => self.toggle_line_breakpoint(&file, line),
            Action::RemoveBreakpoint(i) => {
                if i < self.breakpoints.len() {
                    let b = self.breakpoints.remove(i);
                    self.bind_breakpoints();
                    self.notice = Some(format!("breakpoint removed at {}:{}", b.file, b.line));
                }
            }
            Action::TogglePanel(name) => {
                if PANELS.contains(&name.as_str()) {
                    let mut list = self.projector_panels();
                    match list.iter().position(|p| *p == name) {
                        Some(i) => {
                            list.remove(i);
                        }
                        None => list.push(name),
                    }
                    self.panel_choice.insert(self.lesson.id.to_string(), list);
                }
            }
            Action::DismissNotice => self.notice = None,
        }
        None
    }

    /// Sets what `run` stops on: an index into `BREAK_KINDS`, or nothing.
    fn set_break(&mut self, choice: Option<usize>) {
        if let Some(old) = self.break_on.take() {
            self.system.machine_mut().break_on(old.kind, false);
        }
        self.break_on = choice.and_then(|i| BREAK_KINDS.get(i));
        if let Some(b) = self.break_on {
            self.system.machine_mut().break_on(b.kind, true);
        }
        self.last_switch = None;
    }

    /// Walks a typed virtual address (hex, with or without 0x); an empty
    /// text goes back to the latest access.
    fn walk_text(&mut self, text: &str) {
        let t = text.trim();
        if t.is_empty() {
            self.walk_addr = None;
            return;
        }
        let digits = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        match u32::from_str_radix(digits, 16) {
            Ok(a) => self.walk_addr = Some(a),
            Err(_) => self.notice = Some(format!("{t:?} is not a virtual address (hex)")),
        }
    }

    /// The page directory of the process that ran before the CR3 write of
    /// the latest step: known from the previous switch-break stop, else read
    /// back from the event log, else the running process's.
    fn previous_process_dir(&self) -> Option<u32> {
        let m = self.system.machine();
        let kernel = self.kernel_dir();
        if let Some((_, dir)) = self.last_switch {
            return Some(dir);
        }
        m.event_log().iter().rev().find_map(|s| match s.event {
            Event::Cr3Write { new, .. } if new != kernel => Some(new),
            _ => None,
        })
    }

    /// Whether the latest step is a stop the break-on choice wants.
    fn wanted(&mut self, b: &BreakOn) -> bool {
        let m = self.system.machine();
        match b.narrow {
            Narrow::Any => true,
            Narrow::Vector(v) => m
                .last_events()
                .iter()
                .any(|e| matches!(e, Event::TrapEntry { vector, .. } if *vector == v)),
            Narrow::ProcessSwitch => {
                let kernel = self.kernel_dir();
                let new = m.last_events().iter().find_map(|e| match e {
                    Event::Cr3Write { new, .. } if *new != kernel => Some(*new),
                    _ => None,
                });
                let Some(new) = new else {
                    return false;
                };
                let before = self.previous_process_dir();
                self.last_switch = Some((m.steps(), new));
                before.is_some_and(|d| d != new)
            }
        }
    }

    /// Runs at most `steps` steps, stopping where the break-on choice says:
    /// past an event it does not want (a trap through another vector, a
    /// CR3 write that is no switch between processes), it runs on.
    fn run_to_break(&mut self, steps: u64) -> StopReason {
        let end = self.system.machine().steps() + steps;
        // A switch-break remembered from another point in time is stale.
        if self
            .last_switch
            .is_some_and(|(at, _)| at > self.system.machine().steps())
        {
            self.last_switch = None;
        }
        loop {
            let m = self.system.machine_mut();
            let stop = m.run(end - m.steps());
            let wanted = match (&stop, self.break_on) {
                (StopReason::Event { .. }, Some(b)) => self.wanted(b),
                (StopReason::Breakpoint { eip }, _) => self.breakpoint_wanted(*eip),
                // A process's state changed: note the sleeps, run on.
                (StopReason::Watch { .. }, _) => {
                    self.remember_processes(true);
                    false
                }
                _ => true,
            };
            if wanted {
                return stop;
            }
            if self.system.machine().steps() >= end {
                return StopReason::InstructionLimit;
            }
        }
    }

    /// Adds or removes a breakpoint at a source line.
    fn toggle_line_breakpoint(&mut self, file: &str, line: usize) {
        let at = SourceLine {
            file: file.to_string(),
            line,
        };
        if let Some(i) = self.breakpoints.iter().position(|b| *b == at) {
            self.breakpoints.remove(i);
            self.notice = Some(format!("breakpoint cleared at {file}:{line}"));
        } else {
            let places = self.system.view().line_addresses(file, line);
            match &places[..] {
                [] => self.notice = Some(format!("{file}:{line} has no code to break at")),
                [one] => {
                    self.notice = Some(format!(
                        "breakpoint set at {file}:{line} ({:#010x}{})",
                        one.addr,
                        one.program
                            .as_ref()
                            .map_or(String::new(), |p| format!(" in {p}"))
                    ));
                    self.breakpoints.push(at);
                }
                many => {
                    self.notice = Some(format!(
                        "breakpoint set at {file}:{line}, in {} programs: {}",
                        many.len(),
                        many.iter()
                            .map(|l| format!(
                                "{} at {:#010x}",
                                l.program.as_deref().unwrap_or("the kernel"),
                                l.addr
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    self.breakpoints.push(at);
                }
            }
        }
        self.bind_breakpoints();
    }

    /// The share link for this moment.
    pub fn link(&self) -> Link {
        Link {
            lesson: Some(self.lesson.id.to_string()),
            source: (self.program != lesson_source(self.lesson)).then(|| self.program.clone()),
            breakpoints: self
                .breakpoints
                .iter()
                .map(|b| (b.file.clone(), b.line))
                .collect(),
            step: Some(self.system.machine().steps()),
            panels: self.panel_choice.get(self.lesson.id).cloned(),
            projector: self.projector,
            keys: self.typed_keys(),
        }
    }

    /// The keys typed since the lesson's start (not the ones the lesson
    /// typed itself), up to now: what a share link replays.
    fn typed_keys(&self) -> Vec<(u64, u8)> {
        let m = self.system.machine();
        let own = self.lesson.typed().len();
        m.inputs()
            .iter()
            .enumerate()
            .filter(|(k, i)| !(*k < own && i.step == self.start_step))
            .map(|(_, i)| i)
            .filter(|i| i.step <= m.steps() && i.channel == osviz_machine::InputChannel::Keyboard)
            .map(|i| (i.step, i.byte))
            .take(crate::share::MAX_LINK_KEYS)
            .collect()
    }

    /// Opens what a share link describes: the lesson, the program, the
    /// breakpoints, and the point in time (by deterministic replay). The
    /// notice says what was asked and what opened where they differ.
    pub fn open_link(fragment: &str) -> Session {
        Session::open_link_with(fragment, None)
    }

    /// Opens a share link with the xv6 build, if the page has one. A link to
    /// an xv6 lesson without it opens the first lesson and waits for xv6
    /// (`pending_link`), then opens again.
    pub fn open_link_with(fragment: &str, xv6: Option<Rc<Xv6Build>>) -> Session {
        let (link, mut problems) = Link::decode(fragment);
        let asked = link.lesson.clone();
        let known = asked
            .as_deref()
            .and_then(osviz_course::lesson)
            .map(|l| l.id);
        let mut session = Session::with_xv6(known.unwrap_or(osviz_course::first().id), xv6);
        if session.pending_lesson.is_some() {
            session.pending_link = Some(fragment.to_string());
            session.notice = Some("loading xv6 to open the shared link…".into());
            return session;
        }
        match (&asked, known) {
            (Some(a), None) => problems.insert(
                0,
                format!(
                    "there is no lesson `{a}`: opened “{}” instead",
                    session.lesson.title
                ),
            ),
            (None, _) => problems.insert(
                0,
                format!(
                    "the link names no lesson: opened “{}”",
                    session.lesson.title
                ),
            ),
            _ => {}
        }
        if let Some(src) = link.source {
            session.run_source(src.clone());
            session.drafts.insert(session.lesson.id.to_string(), src);
            if !session.errors.is_empty() {
                problems.push("the program in the link does not assemble".into());
            }
        }
        session.breakpoints = link
            .breakpoints
            .iter()
            .map(|(file, line)| SourceLine {
                file: file.clone(),
                line: *line,
            })
            .collect();
        session.bind_breakpoints();
        if let Some(p) = link.panels {
            let known: Vec<String> = p
                .into_iter()
                .filter(|p| PANELS.contains(&p.as_str()))
                .collect();
            session
                .panel_choice
                .insert(session.lesson.id.to_string(), known);
        }
        session.projector = link.projector;
        let mut opened = String::new();
        // What was typed, each key at its step (replayed as it was typed).
        for &(step, byte) in &link.keys {
            if step < session.system.machine().steps() {
                continue;
            }
            session.seek(step);
            if session.system.machine().steps() < step {
                break;
            }
            session.system.machine_mut().press_key(byte);
        }
        if let Some(step) = link.step {
            session.seek(step);
            let reached = session.system.machine().steps();
            if reached < step {
                problems.push(format!(
                    "step {step} is past the end of this run: opened at step {reached}, where it stopped"
                ));
            }
            opened = format!(" at step {reached}");
        }
        session.remember_directories();
        session.mark();
        session.notice = Some(if problems.is_empty() {
            format!("opened a shared link to “{}”{opened}", session.lesson.title)
        } else {
            format!("opened a shared link{opened}; {}", problems.join("; "))
        });
        session
    }

    /// Notes who runs now, as the log starts empty (and the timeline's
    /// record with it).
    fn note_log_owner(&mut self) {
        let m = self.system.machine();
        self.timeline.restart(m.steps());
        self.log_owner = self
            .system
            .view()
            .current(m)
            .map(|p| (m.steps(), format!("pid {} {}", p.pid, p.name), Some(p.pid)));
    }

    /// Notes the page directory of every live process, and who sleeps on
    /// what (see [`Session::remember_processes`]).
    pub fn remember_directories(&mut self) {
        self.remember_processes(false);
    }

    /// Notes the page directory of every live process and who sleeps on
    /// what, and watches every live process's state field, so that running
    /// stops at each change of state (`at_change`): a sleep is then seen
    /// from the step it began to the step it ended, and the trap the kernel
    /// is in at that moment says who woke the sleeper (a device's interrupt
    /// handler, or a process in a system call). Where the kernel view cannot
    /// watch, sleeps are seen at each look and the latest device interrupt
    /// since the last look is named as the likely waker.
    fn remember_processes(&mut self, at_change: bool) {
        let m = self.system.machine();
        self.timeline.copy_from(m);
        let now = m.steps();
        let i = self.system.view();
        let procs = i.processes(m);
        for p in &procs {
            self.dir_names
                .insert(p.pgdir, (format!("pid {} {}", p.pid, p.name), Some(p.pid)));
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
                p.pid == pid
                    && p.phase == osviz_view::Phase::Sleeping
                    && p.chan_name.as_deref() == Some(chan)
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
                    let v = i.trap_in_progress(m)?;
                    Some(if v >= 32 && v != i.syscall_vector() {
                        interrupt(v)
                    } else {
                        match i.current(m) {
                            Some(p) => format!("pid {} {} in a system call", p.pid, p.name),
                            None => "a system call".to_string(),
                        }
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
        for p in procs
            .iter()
            .filter(|p| p.phase == osviz_view::Phase::Sleeping)
        {
            let Some(chan) = &p.chan_name else { continue };
            let open = self
                .sleeps
                .iter()
                .any(|s| s.to.is_none() && s.pid == p.pid && &s.chan == chan);
            if !open {
                self.sleeps.push(crate::views::timeline::SleepSpan {
                    pid: p.pid,
                    name: p.name.clone(),
                    chan: chan.clone(),
                    from: now,
                    to: None,
                    woken_by: None,
                });
            }
        }
        let extra = self.sleeps.len().saturating_sub(SLEEPS_KEPT);
        self.sleeps.drain(..extra);
        self.sleeps_seen = now;
        let watches: Vec<(u32, u32)> = procs.iter().filter_map(|p| i.state_field(p)).collect();
        self.system.machine_mut().set_watches(&watches);
    }

    fn mark(&mut self) {
        self.before = RegisterView::of(self.system.machine());
    }

    /// Goes to a step (the machine's history replays to it).
    fn seek(&mut self, step: u64) {
        self.mark();
        self.running = false;
        self.step_overs.clear();
        self.last_switch = None;
        match self.system.machine_mut().seek(step) {
            Ok(_) => self.stop = None,
            Err(e) => self.notice = Some(format!("cannot go to step {step}: {e}")),
        }
        self.note_log_owner();
        self.remember_directories();
    }

    /// Moves time for a query, remembering where the student was.
    fn move_time(&mut self, step: u64, what: &str) {
        let here = self.system.machine().steps();
        self.seek(step);
        if here != step {
            self.return_to = Some(here);
        }
        self.notice = Some(format!("step {step}: {what}"));
    }

    fn step(&mut self) {
        self.mark();
        self.stop = self.system.machine_mut().step().stop;
        self.remember_directories();
        self.running = false;
    }

    fn step_back(&mut self) {
        let now = self.system.machine().steps();
        let target = match self.step_overs.last() {
            Some(&(after, before)) if after == now => {
                self.step_overs.pop();
                before
            }
            _ => now.saturating_sub(1),
        };
        let overs = std::mem::take(&mut self.step_overs);
        self.seek(target);
        self.step_overs = overs;
    }

    /// Steps over a call or an `int n`: runs until the instruction after it
    /// in the same process; Step back undoes it as one step.
    fn step_over(&mut self) {
        self.mark();
        self.running = false;
        let before = self.system.machine().steps();
        self.stop = self.system.machine_mut().step_over(QUERY_STEPS);
        let after = self.system.machine().steps();
        if after > before + 1 {
            self.step_overs.push((after, before));
        }
        self.remember_directories();
    }

    /// Steps by source line; Step back undoes it as one step.
    fn step_line(&mut self, how: osviz_view::LineStep) {
        use osviz_view::LineStop;
        self.mark();
        self.running = false;
        let before = self.system.machine().steps();
        let (m, view) = self.system.split();
        let stop = osviz_view::step_line(m, &*view, how, QUERY_STEPS);
        let after = self.system.machine().steps();
        if after > before + 1 {
            self.step_overs.push((after, before));
        }
        self.stop = None;
        match stop {
            LineStop::Line(_) => {}
            LineStop::NoLine(p) => {
                self.notice = Some(format!(
                    "stopped at {}: no source line for this code",
                    p.symbol.map_or("an address without a symbol".into(), |s| {
                        osviz_view::symbol_plus(&s, p.offset)
                    })
                ))
            }
            LineStop::Machine(reason) => self.stop = Some(reason),
        }
        self.remember_directories();
    }

    /// A breakpoint on what the student typed: `file:line`, or a function
    /// (bound to its first line, so it lasts across reboots as lines do).
    fn break_at(&mut self, text: &str) {
        let t = text.trim();
        if let Some((file, line)) = t.rsplit_once(':')
            && let Ok(line) = line.trim().parse::<usize>()
        {
            self.add_line_breakpoint(file.trim(), line);
            return;
        }
        let m = self.system.machine();
        let view = self.system.view();
        let place = view
            .code_address(t)
            .or_else(|| view.symbol_address(t))
            .map(|a| view.place(m, a));
        match place.and_then(|p| Some((p.file?, p.line?))) {
            Some((file, line)) => self.add_line_breakpoint(&file, line),
            None => {
                self.notice = Some(format!(
                    "`{}` is neither a function with source lines nor file:line",
                    t.chars().take(40).collect::<String>()
                ))
            }
        }
    }

    /// Adds a breakpoint at a source line (not a toggle: it stays if set).
    fn add_line_breakpoint(&mut self, file: &str, line: usize) {
        let at = SourceLine {
            file: file.to_string(),
            line,
        };
        if self.breakpoints.contains(&at) {
            self.notice = Some(format!("a breakpoint is set at {file}:{line} already"));
            return;
        }
        self.toggle_line_breakpoint(file, line);
    }

    /// One animation frame of running: as many steps as the speed allows.
    pub fn tick(&mut self, seconds: f64) {
        if !self.running {
            return;
        }
        let steps = match SPEEDS[self.speed].1 {
            None => self.budget,
            Some(rate) => {
                self.carry += rate * seconds;
                let n = self.carry.floor();
                self.carry -= n;
                (n as u64).min(FRAME_BUDGET)
            }
        };
        if steps == 0 {
            return;
        }
        self.mark();
        // Processes may start and end within one frame: look before and after.
        self.remember_directories();
        // At full speed TLB hits are left out of the record (millions a
        // second that no one reads one by one; the TLB panel's counts come
        // from the TLB itself): a sixth of a recorded step's cost. Every
        // other event, and every kind a break can name, stays.
        let full_speed = SPEEDS[self.speed].1.is_none();
        if full_speed {
            self.system
                .machine_mut()
                .set_unrecorded(osviz_machine::KindSet::of(&[EventKind::TlbHit]));
        }
        let stop = self.run_to_break(steps);
        if full_speed {
            self.system
                .machine_mut()
                .set_unrecorded(osviz_machine::KindSet::EMPTY);
        }
        self.remember_directories();
        if stop != StopReason::InstructionLimit {
            self.running = false;
            self.stop = Some(stop);
        }
    }

    /// "Who last changed this?": finds the latest step that changed the
    /// `len` bytes at physical address `pa`, and goes back to just before
    /// it, so EIP points at the instruction that wrote them (kernel or
    /// user). Replays the run from its earliest checkpoint.
    fn who_changed(&mut self, pa: u32, len: u32) {
        let now = self.system.machine().steps();
        match self.system.machine_mut().last_change(pa, len) {
            Err(e) => self.notice = Some(e.to_string()),
            Ok(Some(step)) => {
                self.move_time(step - 1, "");
                self.notice = Some(format!(
                    "{pa:#010x} last changed at step {step}: this instruction wrote it"
                ));
            }
            Ok(None) => {
                self.notice = Some(format!(
                    "{pa:#010x} has not changed since step {}",
                    self.system.machine_mut().earliest_step().unwrap_or(0)
                ));
                let _ = now;
            }
        }
        // The break-on choice describes running; a query moved time.
        self.stop = None;
    }

    /// "Who last changed this?" for what the student typed: a physical
    /// address in hex, or a kernel symbol (its dword).
    fn who_changed_text(&mut self, text: &str) {
        let t = text.trim();
        let hex = t.trim_start_matches("0x");
        let target = match u32::from_str_radix(hex, 16) {
            Ok(pa) if !hex.is_empty() => Some((pa, 1)),
            _ => self.system.view().symbol_physical(t).map(|pa| (pa, 4)),
        };
        match target {
            Some((pa, len)) if (pa as usize) < self.system.machine().mem().len() => {
                self.who_changed(pa, len)
            }
            _ => {
                self.notice = Some(format!(
                    "`{}` is neither a physical address nor a kernel symbol",
                    t.chars().take(40).collect::<String>()
                ))
            }
        }
    }

    /// Notes how long the page took to render the latest frame.
    pub fn note_render(&mut self, ms: f64) {
        self.render_ms = ms;
    }

    /// Adjusts the full-speed budget after a frame whose running took `ms`,
    /// `since_last` ms after the frame before: the rest of that time is the
    /// page's own work (and any idle time), which sets how long running may
    /// take (see `RUN_SHARE`).
    pub fn adapt(&mut self, ms: f64, since_last: f64) {
        if SPEEDS[self.speed].1.is_some() || !self.running {
            return;
        }
        let target = run_target(ms, since_last, self.render_ms);
        if ms < target * 0.8 {
            self.budget = (self.budget * 9 / 8).min(MAX_BUDGET);
        } else if ms > target * 1.2 {
            self.budget = (self.budget * 3 / 4).max(MIN_BUDGET);
        }
    }

    fn toggle_run(&mut self) {
        self.running = !self.running;
        if self.running {
            self.stop = None;
            self.carry = 0.0;
            self.notice = None;
        }
    }

    /// Boots the lesson again with the program as it runs now; drafts,
    /// breakpoints and settings stay.
    fn reset(&mut self) {
        let program = self.program.clone();
        self.run_source(program);
        self.notice = Some(format!(
            "reset: the lesson starts again at step {}{}",
            self.start_step,
            match self.breakpoints.len() {
                0 => String::new(),
                n => format!(", with your {n} breakpoint(s)"),
            }
        ));
    }

    fn load_lesson(&mut self, id: &str) {
        let mut next = Session::with_xv6(id, self.xv6.clone());
        // xv6 takes millions of steps to answer a command and the teaching
        // kernel's programs are read a few instructions a second: changing
        // kernels starts at the speed that kernel is watched at.
        next.speed = if next.lesson.kernel() == self.lesson.kernel() {
            self.speed
        } else {
            match next.lesson.kernel() {
                Kernel::Xv6 => SPEEDS.len() - 1,
                Kernel::Teaching => DEFAULT_SPEED,
            }
        };
        next.dark = self.dark;
        next.projector = self.projector;
        next.drafts = std::mem::take(&mut self.drafts);
        next.predictions = std::mem::take(&mut self.predictions);
        next.ran = std::mem::take(&mut self.ran);
        next.panel_choice = std::mem::take(&mut self.panel_choice);
        next.event_filter = self.event_filter;
        next.breakpoints = std::mem::take(&mut self.breakpoints);
        // A program the student ran in that lesson before runs again.
        if let Some(program) = next.ran.get(next.lesson.id).cloned() {
            next.run_source(program);
        }
        next.bind_breakpoints();
        *self = next;
    }

    /// Rebuilds the machine with a program for the lesson's first one.
    fn run_source(&mut self, source: String) {
        if self.lesson.kernel() == Kernel::Xv6 {
            self.reboot_xv6();
            return;
        }
        match boot(self.lesson, None, Some(&source)) {
            Ok(system) => {
                if source == lesson_source(self.lesson) {
                    self.ran.remove(self.lesson.id);
                } else {
                    self.ran.insert(self.lesson.id.to_string(), source.clone());
                }
                self.program = source;
                self.errors.clear();
                self.warnings = self.check_program_of(&system);
                self.start_again(system);
                let lost: Vec<String> = self
                    .breakpoints()
                    .iter()
                    .filter(|b| b.addr.is_none())
                    .map(|b| format!("{}:{}", b.file, b.line))
                    .collect();
                self.notice = (!lost.is_empty())
                    .then(|| format!("no code at {} now: those breakpoints wait", lost.join(", ")));
            }
            Err(GuestError::Teaching(BootError::Assembly { errors, .. })) => {
                self.errors = errors;
                self.notice = Some(format!(
                    "the program does not assemble ({} error{}): the previous one still runs",
                    self.errors.len(),
                    if self.errors.len() == 1 { "" } else { "s" }
                ));
            }
            Err(other) => {
                self.errors = vec![Diagnostic {
                    file: String::new(),
                    line: 0,
                    column: 0,
                    message: other.to_string(),
                }]
            }
        }
    }

    /// Takes a freshly booted system: the run's state starts over (stops,
    /// answers, step overs), the break-on choice and breakpoints are bound
    /// to it, and it runs to the lesson's start.
    fn start_again(&mut self, system: Guest) {
        self.system = system;
        self.stop = None;
        self.running = false;
        self.return_to = None;
        self.step_overs.clear();
        self.last_switch = None;
        self.answers = vec![None; self.lesson.questions.len()];
        let kinds = self.break_on;
        self.break_on = None;
        self.set_break(kinds.and_then(|b| BREAK_KINDS.iter().position(|k| k == b)));
        self.go_to_start();
        self.bind_breakpoints();
    }

    /// Boots xv6 again to the lesson's start; breakpoints and settings stay.
    fn reboot_xv6(&mut self) {
        let Some(build) = self.xv6.clone() else {
            return;
        };
        match boot(self.lesson, Some(&build), None) {
            Ok(system) => {
                self.errors.clear();
                self.start_again(system);
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
    }

    /// What is worth saying about a program that assembled.
    fn check_program_of(&self, system: &Guest) -> Vec<String> {
        let mut out = Vec::new();
        let first = system.programs().first().map(|(_, o)| o);
        if first.is_some_and(|o| o.symbol("start").is_none()) {
            out.push(
                "there is no `start` label: the program runs from its first byte at 0x1000".into(),
            );
        }
        out
    }

    /// Answers question `i` from the lesson's own start, whatever the
    /// current step: replays from the boot to its moment, and remembers
    /// where the student was.
    fn reveal(&mut self, i: usize) {
        let Some(q) = self.lesson.questions.get(i) else {
            return;
        };
        let here = self.system.machine().steps();
        // The teaching kernel's moments count from the boot; xv6's from the
        // prompt, where the lesson types its command.
        self.seek(match self.lesson.kernel() {
            Kernel::Teaching => 0,
            Kernel::Xv6 => self.start_step,
        });
        let (m, view) = self.system.split();
        let answer = match run_to(m, &*view, q.moment, QUERY_STEPS) {
            Ok(events) => Answer {
                text: (q.answer)(m, &*view, &events),
                step: Some(self.system.machine().steps()),
            },
            Err(e) => Answer {
                text: e,
                step: None,
            },
        };
        self.remember_directories();
        if here != self.system.machine().steps() {
            self.return_to = Some(here);
        }
        self.notice = answer
            .step
            .map(|s| format!("question {}: the machine is at its moment, step {s}", i + 1));
        self.answers[i] = Some(answer);
    }

    fn type_keys(&mut self, text: &str) {
        for b in text.bytes() {
            self.system.machine_mut().press_key(b);
        }
        if self.stop == Some(StopReason::Idle) {
            self.stop = None;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs at full speed, frame by frame, until the page stops.
    pub(crate) fn run_until_stopped(s: &mut Session) {
        s.apply(Action::SetSpeed(SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        while s.running {
            s.tick(0.016);
        }
    }

    /// The vectors the latest step trapped through.
    fn trapped(s: &Session) -> Vec<u8> {
        s.system
            .machine()
            .last_events()
            .iter()
            .filter_map(|e| match e {
                Event::TrapEntry { vector, .. } => Some(*vector),
                _ => None,
            })
            .collect()
    }

    fn place(s: &Session) -> (String, usize) {
        let p = s.system.view().place_of_eip(s.system.machine());
        (p.file.unwrap(), p.line.unwrap())
    }

    /// The xv6 build scripts/xv6 makes, as the page gets it.
    pub(crate) fn xv6_build() -> crate::action::Build {
        let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        let sources: BTreeMap<String, String> =
            serde_json::from_slice(&read("www/sources.json")).unwrap();
        crate::action::Build(Rc::new(
            Xv6Build::new("xv6 (test)", read("kernel"), read("fs.img"), sources).unwrap(),
        ))
    }

    #[test]
    fn an_xv6_lesson_waits_for_xv6_then_boots_to_the_prompt_and_runs_ls() {
        let mut s = Session::new("memory-image");
        assert_eq!(
            s.apply(Action::ChooseLesson("xv6-shell".into())),
            Some(Effect::LoadXv6)
        );
        assert_eq!(
            s.lesson.id, "memory-image",
            "the lesson stays until xv6 is here"
        );
        s.apply(Action::Xv6Loaded(xv6_build()));
        assert_eq!(s.lesson.id, "xv6-shell");
        assert!(s.start_step > 10_000_000, "{}", s.start_step);
        let screen = s.system.machine_mut().text_screen().unwrap();
        assert!(
            screen.rows.iter().any(|r| r.starts_with("$ ")),
            "{screen:?}"
        );
        let names: Vec<String> = s
            .system
            .view()
            .processes(s.system.machine())
            .into_iter()
            .map(|p| format!("{} {} {}", p.pid, p.name, p.state))
            .collect();
        assert_eq!(names, ["1 init SLEEPING", "2 sh SLEEPING"]);
        // The lesson typed `ls`: running shows its listing and the prompt again.
        s.apply(Action::SetSpeed(SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        let mut seen_ls = false;
        for _ in 0..2_000 {
            s.tick(0.016);
            seen_ls |= s
                .system
                .view()
                .processes(s.system.machine())
                .iter()
                .any(|p| p.name == "ls");
            let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
            if out.matches("$ ").count() >= 2 {
                break;
            }
        }
        let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
        assert!(out.contains("README"), "{out}");
        assert!(seen_ls, "ls appeared in the process table");
        // The code panel shows xv6's C, the kernel's or a program's.
        let code = crate::views::code::code(&s);
        assert!(
            code.file.ends_with(".c") || code.file.ends_with(".S"),
            "{}",
            code.file
        );
        assert!(!code.lines.is_empty());
        // A reveal answers from the prompt.
        s.apply(Action::Reveal(0));
        assert_eq!(
            s.answers[0].as_ref().map(|a| a.text.as_str()),
            Some("pid 3 (sh)")
        );
    }

    #[test]
    fn an_xv6_share_link_carries_the_kernel_the_typing_and_the_moment() {
        let build = xv6_build();
        let mut s = Session::with_xv6("xv6-idt", Some(build.0.clone()));
        assert!(s.lesson.typed().is_empty());
        s.apply(Action::TypeKeys("echo hi\n".into()));
        while !String::from_utf8_lossy(s.system.machine().serial_output()).ends_with("hi\n$ ") {
            assert!(
                s.system.machine().steps() < s.start_step + 30_000_000,
                "no answer"
            );
            s.system.machine_mut().run(100_000);
        }
        eprintln!(
            "echo hi answered in {} steps",
            s.system.machine().steps() - s.start_step
        );
        let mut t = s.system.machine().clone();
        let at = t.steps();
        for b in b"ls\n" {
            t.press_key(*b);
        }
        while !String::from_utf8_lossy(t.serial_output()).ends_with("0\n$ ") {
            t.run(10_000);
        }
        eprintln!("ls answered in {} steps", t.steps() - at);
        let out = String::from_utf8_lossy(s.system.machine().serial_output()).into_owned();
        assert!(out.ends_with("hi\n$ "), "{out}");
        let fragment = s.link().encode();
        assert!(
            fragment.contains("lesson=xv6-idt") && fragment.contains("keys="),
            "{fragment}"
        );
        // Opened before xv6 is loaded, the link waits for it, then opens.
        let mut opened = Session::open_link(&fragment);
        assert_eq!(opened.pending_lesson.as_deref(), Some("xv6-idt"));
        opened.apply(Action::Xv6Loaded(build));
        assert_eq!(opened.lesson.id, "xv6-idt");
        assert_eq!(opened.system.machine().steps(), s.system.machine().steps());
        assert_eq!(
            opened.system.machine().serial_output(),
            s.system.machine().serial_output()
        );
        assert_eq!(
            opened.system.machine().state_hash(),
            s.system.machine().state_hash()
        );
    }

    #[test]
    fn a_breakpoint_on_sys_write_stops_there_and_c_lines_step_on() {
        let mut s = Session::with_xv6("xv6-syscall", Some(xv6_build().0));
        s.apply(Action::BreakAt("sys_write".into()));
        assert_eq!(s.breakpoints().len(), 1, "{:?}", s.notice);
        assert_eq!(s.breakpoints()[0].file, "sysfile.c");
        run_until_stopped(&mut s);
        assert!(
            matches!(s.stop, Some(StopReason::Breakpoint { .. })),
            "{:?}",
            s.stop
        );
        let code = crate::views::code::code(&s);
        assert_eq!(
            (code.file.as_str(), code.place.as_str()),
            ("sysfile.c", "sys_write")
        );
        assert!(
            code.stack.len() >= 3 && code.stack[1].starts_with("syscall"),
            "{:?}",
            code.stack
        );
        {
            let view = s.system.view();
            let p = view.current(s.system.machine()).unwrap();
            let stack = view.kernel_stack(s.system.machine(), &p);
            assert_eq!(stack.vector, Some(64));
        }
        let line = code.current;
        s.apply(Action::NextLine);
        let next = crate::views::code::code(&s);
        assert_eq!(next.place.split('+').next(), Some("sys_write"));
        assert_ne!(next.current, line);
        // Step back undoes the whole line step.
        s.apply(Action::StepBack);
        assert_eq!(crate::views::code::code(&s).current, line);
        s.apply(Action::BreakAt("no_such_function".into()));
        assert!(
            s.notice.as_deref().is_some_and(|n| n.contains("neither")),
            "{:?}",
            s.notice
        );
    }

    #[test]
    fn the_timeline_shows_sh_asleep_on_console_input_and_woken_by_the_keyboard() {
        let mut s = Session::with_xv6("xv6-idt", Some(xv6_build().0));
        let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
        let sh = sleeps
            .iter()
            .find(|x| x.name == "sh")
            .expect("sh asleep at the prompt");
        assert_eq!((sh.chan.as_str(), sh.to), ("input.r", None));
        s.apply(Action::TypeKeys("echo hi\n".into()));
        s.apply(Action::SetSpeed(SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        // Long frames: many timer interrupts fall between two looks at the
        // process table, so only the moment of the wake-up can say who woke.
        s.budget = 3_000_000;
        for _ in 0..200 {
            s.tick(0.016);
            if String::from_utf8_lossy(s.system.machine().serial_output()).ends_with("hi\n$ ") {
                break;
            }
        }
        let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
        let woke = sleeps
            .iter()
            .find(|x| x.name == "sh" && x.chan == "input.r" && x.to.is_some())
            .expect("sh woke");
        assert_eq!(
            woke.woken_by.as_deref(),
            Some("interrupt 33 (keyboard (IRQ 1))"),
            "{}",
            woke.text()
        );
        assert!(woke.text().contains("console input"), "{}", woke.text());
        // sh waited for echo, and echo's exit woke it.
        let waited = sleeps
            .iter()
            .find(|x| x.name == "sh" && x.chan.starts_with("ptable.proc") && x.to.is_some())
            .expect("sh waited for its child");
        assert_eq!(
            waited.woken_by.as_deref(),
            Some("pid 3 echo in a system call"),
            "{}",
            waited.text()
        );
        // sh sleeps again on its next read, and init still waits for a child.
        assert!(
            sleeps
                .iter()
                .any(|x| x.name == "init" && x.chan.starts_with("ptable.proc"))
        );
    }

    #[test]
    fn a_teaching_kernel_sleep_is_seen_from_its_first_step_to_the_disk_interrupt_that_ended_it() {
        let mut s = Session::new("blocking-io");
        // One long frame runs the whole lesson: only watching the process
        // states sees the sleep at all.
        s.budget = 1_000_000;
        run_until_stopped(&mut s);
        let sleeps = crate::views::timeline::of_session(&s, &[]).sleeps;
        let texts: Vec<String> = sleeps.iter().map(|x| x.text()).collect();
        let [disk] = &sleeps[..] else {
            panic!("one sleep: {texts:#?}")
        };
        assert_eq!(
            (disk.name.as_str(), disk.chan.as_str()),
            ("diskread", "disk_buf")
        );
        assert_eq!(
            disk.woken_by.as_deref(),
            Some("interrupt 46 (disk interrupt)"),
            "{texts:#?}"
        );
        // The span's ends are the steps the state changed at.
        let sleeping_at = |step: u64| {
            let mut m = s.system.machine().clone();
            m.seek(step).unwrap();
            s.system
                .view()
                .processes(&m)
                .iter()
                .any(|p| p.pid == disk.pid && p.phase == osviz_view::Phase::Sleeping)
        };
        let to = disk.to.expect("the sleep ended");
        assert!(!sleeping_at(disk.from - 1) && sleeping_at(disk.from));
        assert!(sleeping_at(to - 1) && !sleeping_at(to));
    }

    #[test]
    fn a_breakpoint_in_one_programs_code_stops_in_that_program_only() {
        // diskread and spin share their user addresses; a breakpoint on a
        // line of spin's must not stop diskread at that address.
        let mut s = Session::new("blocking-io");
        // The user addresses diskread runs at after its first instruction.
        let mut m = s.system.machine().clone();
        let mut diskread = std::collections::BTreeSet::new();
        for _ in 0..200_000 {
            if m.step().stop.is_some() {
                break;
            }
            let running = s.system.view().current(&m).map(|p| p.name);
            if m.cpu().cpl() == 3 && running.as_deref() == Some("diskread") {
                diskread.insert(m.cpu().eip);
            }
        }
        let view = s.system.view();
        let (line, addr) = (1..200)
            .find_map(|line| {
                let places = view.line_addresses("spin.asm", line);
                let spin = places
                    .iter()
                    .find(|l| l.program.as_deref() == Some("spin"))?;
                diskread.contains(&spin.addr).then_some((line, spin.addr))
            })
            .expect("a line of spin's at an address diskread runs");
        s.apply(Action::ToggleBreakpoint {
            file: "spin.asm".into(),
            line,
        });
        assert!(
            s.notice.as_deref().is_some_and(|n| n.contains("in spin")),
            "{:?}",
            s.notice
        );
        run_until_stopped(&mut s);
        assert_eq!(s.stop, Some(StopReason::Breakpoint { eip: addr }));
        let m = s.system.machine();
        let current = s.system.view().current(m).expect("a process runs");
        assert_eq!(current.name, "spin");
    }

    #[test]
    fn xv6_user_lines_break_in_their_program_and_a_shared_file_in_each_program() {
        let build = xv6_build().0;
        let ls = build.xv6.program("ls").expect("ls in fs.img");
        let main = ls
            .symbols
            .iter()
            .find(|(_, _, n)| n == "main")
            .expect("ls has main")
            .0;
        let place = ls.lines.place(main).expect("main has a line");
        let mut s = Session::with_xv6("xv6-idt", Some(build.clone()));
        s.apply(Action::ToggleBreakpoint {
            file: place.file.clone(),
            line: place.line as usize,
        });
        assert!(
            s.notice.as_deref().is_some_and(|n| n.contains("in ls")),
            "{:?}",
            s.notice
        );
        s.apply(Action::TypeKeys("ls\n".into()));
        run_until_stopped(&mut s);
        assert_eq!(s.stop, Some(StopReason::Breakpoint { eip: main }));
        let m = s.system.machine();
        let view = s.system.view();
        assert_eq!(view.current(m).map(|p| p.name).as_deref(), Some("ls"));
        assert_eq!(view.place_of_eip(m).file.as_deref(), Some("ls.c"));
        // printf.c is linked into every program: its line is in each.
        let printf = ls
            .symbols
            .iter()
            .find(|(_, _, n)| n == "printf")
            .expect("ls has printf")
            .0;
        let line = ls.lines.place(printf).expect("printf has a line").line as usize;
        s.apply(Action::ToggleBreakpoint {
            file: "printf.c".into(),
            line,
        });
        let notice = s.notice.clone().unwrap_or_default();
        assert!(notice.contains("programs: "), "{notice}");
        for program in ["cat", "echo", "ls", "sh"] {
            assert!(notice.contains(&format!("{program} at 0x")), "{notice}");
        }
    }

    #[test]
    fn a_line_breakpoint_lands_on_that_line_survives_reset_and_clears() {
        let mut s = Session::new("memory-image");
        s.apply(Action::SetBreak(Some(0)));
        run_until_stopped(&mut s);
        let eip = s.system.machine().cpu().eip;
        let (file, line) = place(&s);
        s.apply(Action::ToggleBreakpoint {
            file: file.clone(),
            line,
        });
        assert_eq!(s.system.machine().breakpoints().collect::<Vec<_>>(), [eip]);
        s.apply(Action::Reset);
        assert_eq!(s.system.machine().breakpoints().collect::<Vec<_>>(), [eip]);
        s.apply(Action::SetBreak(None));
        run_until_stopped(&mut s);
        assert_eq!(s.stop, Some(StopReason::Breakpoint { eip }));
        assert_eq!(place(&s), (file.clone(), line));
        s.apply(Action::ToggleBreakpoint { file, line });
        assert_eq!(s.system.machine().breakpoints().count(), 0);
    }

    #[test]
    fn breakpoints_are_bound_again_by_line_when_the_program_changes() {
        let mut s = Session::new("system-call");
        let file = s.program_file();
        // The line of `int 0x40` in the lesson's program.
        let line = 1 + s
            .program()
            .lines()
            .position(|l| l.contains("int 0x40"))
            .unwrap();
        s.apply(Action::ToggleBreakpoint {
            file: file.clone(),
            line,
        });
        let before = s.breakpoints()[0].addr.unwrap();
        // One byte of code more before it, on the same line count: the
        // line's address moves by one.
        let edited = s
            .program()
            .replacen("mov eax, SYS_getpid", "lea eax, [SYS_getpid]", 1);
        s.apply(Action::Edit(edited));
        s.apply(Action::RunDraft);
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        let b = &s.breakpoints()[0];
        assert_eq!((b.file.as_str(), b.line), (file.as_str(), line));
        assert_eq!(b.addr, Some(before + 1));
        assert_eq!(
            s.system.machine().breakpoints().collect::<Vec<_>>(),
            [before + 1]
        );
    }

    #[test]
    fn the_break_on_shortcut_cycles_through_every_kind_and_back_to_none() {
        let mut s = Session::new("memory-image");
        let mut seen = Vec::new();
        for _ in 0..BREAK_KINDS.len() {
            s.apply(Action::NextBreak);
            seen.push(s.break_on.map(|b| b.name));
        }
        let all: Vec<_> = BREAK_KINDS.iter().map(|b| Some(b.name)).collect();
        assert_eq!(seen, all);
        s.apply(Action::NextBreak);
        assert_eq!(s.break_on, None);
    }

    /// Breaking on a system call runs past the timer and the page faults
    /// (traps too, through other vectors) and stops at an `int 0x40`.
    #[test]
    fn break_on_system_call_skips_other_traps() {
        let mut s = Session::new("context-switch");
        s.apply(Action::SetBreak(Some(2)));
        let mut vectors = Vec::new();
        for _ in 0..3 {
            run_until_stopped(&mut s);
            vectors.extend(trapped(&s));
        }
        assert!(
            vectors.iter().any(|&v| v != 0x40),
            "other traps come first: {vectors:?}"
        );
        let mut s = Session::new("context-switch");
        s.apply(Action::SetBreak(Some(3)));
        for _ in 0..3 {
            run_until_stopped(&mut s);
            assert_eq!(trapped(&s), [0x40], "stopped at {:?}", s.stop);
        }
    }

    /// Breaking on a context switch stops only where the running process
    /// changes: never at the kernel's own directory, never twice in a row
    /// on the same process, and each stop names the other process.
    #[test]
    fn break_on_context_switch_stops_only_between_two_processes() {
        let mut s = Session::new("context-switch");
        s.apply(Action::ShowBoot);
        s.apply(Action::SetBreak(Some(BREAK_SWITCH)));
        let mut dirs = Vec::new();
        for _ in 0..4 {
            run_until_stopped(&mut s);
            assert!(
                matches!(s.stop, Some(StopReason::Event { .. })),
                "{:?}",
                s.stop
            );
            dirs.push(s.system.machine().cpu().cr3);
        }
        assert!(dirs.iter().all(|&d| d != s.kernel_dir()), "{dirs:x?}");
        for w in dirs.windows(2) {
            assert_ne!(w[0], w[1], "{dirs:x?}");
        }
        let i = s.system.view();
        let procs = i.processes(s.system.machine());
        assert!(dirs.iter().all(|d| procs.iter().any(|p| p.pgdir == *d)));
    }

    #[test]
    fn step_over_int_0x40_lands_after_it_in_user_mode_and_step_back_undoes_it() {
        let mut s = Session::new("system-call");
        while s
            .system
            .machine()
            .instruction_at(s.system.machine().cpu().eip)
            .map(|i| i.op)
            != Ok(osviz_machine::Op::Int)
        {
            s.apply(Action::Step);
        }
        let (eip, steps) = (s.system.machine().cpu().eip, s.system.machine().steps());
        s.apply(Action::StepOver);
        assert_eq!(s.system.machine().cpu().eip, eip + 2);
        assert_eq!(s.system.machine().cpu().cpl(), 3);
        assert!(
            s.system.machine().steps() > steps + 10,
            "the whole system call ran"
        );
        s.apply(Action::StepBack);
        assert_eq!(
            (s.system.machine().steps(), s.system.machine().cpu().eip),
            (steps, eip)
        );
        s.apply(Action::StepBack);
        assert_eq!(
            s.system.machine().steps(),
            steps - 1,
            "then one step at a time"
        );
    }

    /// Each question is answered from the lesson's start, whatever step the
    /// student is at, and the page can go back to where they were.
    #[test]
    fn questions_are_answered_from_the_start_in_any_order() {
        for id in ["memory-image", "demand-paging"] {
            let mut fresh = Vec::new();
            for i in 0..2 {
                let mut s = Session::new(id);
                s.apply(Action::Reveal(i));
                fresh.push(s.answers[i].clone().unwrap());
            }
            let mut s = Session::new(id);
            s.apply(Action::Reveal(0));
            s.apply(Action::Reveal(1));
            assert_eq!(s.answers[1].as_ref(), Some(&fresh[1]), "{id}");
            s.apply(Action::Reveal(0));
            assert_eq!(s.answers[0].as_ref(), Some(&fresh[0]), "{id}");
            assert!(fresh.iter().all(|a| a.step.is_some()), "{id}: {fresh:?}");
        }
        let mut s = Session::new("demand-paging");
        for _ in 0..50 {
            s.apply(Action::Step);
        }
        let here = s.system.machine().steps();
        s.apply(Action::Reveal(0));
        assert_ne!(s.system.machine().steps(), here);
        s.apply(Action::ReturnToWhereIWas);
        assert_eq!(s.system.machine().steps(), here);
    }

    #[test]
    fn a_lesson_starts_at_its_program_and_the_boot_is_one_action_away() {
        let mut s = Session::new("memory-image");
        assert!(s.start_step > 1000, "the boot ran: {}", s.start_step);
        assert_eq!(s.system.machine().cpu().cpl(), 3);
        s.apply(Action::ShowBoot);
        assert_eq!(s.system.machine().steps(), 0);
        s.apply(Action::ReturnToWhereIWas);
        assert_eq!(s.system.machine().steps(), s.start_step);
    }

    #[test]
    fn drafts_survive_switching_lessons_and_reverting_restores_the_lesson() {
        let mut s = Session::new("playground");
        let mine = format!("{}\n; mine\n", s.program());
        s.apply(Action::Edit(mine.clone()));
        s.apply(Action::Step);
        assert_eq!(s.draft(), mine, "stepping keeps what was typed");
        s.apply(Action::ChooseLesson("memory-image".into()));
        s.apply(Action::ChooseLesson("playground".into()));
        assert_eq!(s.draft(), mine);
        s.apply(Action::RunDraft);
        assert_eq!(s.program(), mine);
        s.apply(Action::ChooseLesson("memory-image".into()));
        s.apply(Action::ChooseLesson("playground".into()));
        assert_eq!(s.program(), mine, "the program run there runs again");
        s.apply(Action::RevertDraft);
        assert!(!s.edited());
        assert_eq!(s.program(), s.lesson.programs()[0].source);
        // A prediction typed in a lesson is there again when the student comes back.
        s.apply(Action::ChooseLesson("memory-image".into()));
        s.apply(Action::Guess(1, "0x4000".into()));
        s.apply(Action::ChooseLesson("playground".into()));
        s.apply(Action::ChooseLesson("memory-image".into()));
        assert_eq!((s.guess(0), s.guess(1)), ("", "0x4000"));
    }

    #[test]
    fn a_panel_out_of_view_is_not_built_while_running_and_is_when_it_comes_back_or_the_run_stops() {
        let mut s = Session::new("playground");
        let built = |s: &Session| -> Vec<bool> {
            ["Registers", "TLB", "Console"]
                .iter()
                .map(|p| s.renders_panel(p))
                .collect()
        };
        assert_eq!(built(&s), [true, true, true], "paused, all are built");
        s.apply(Action::PanelsInView(vec![
            ("Registers".into(), false),
            ("TLB".into(), false),
            ("Console".into(), false),
        ]));
        assert_eq!(built(&s), [true, true, true], "still paused: all");
        s.apply(Action::SetSpeed(SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        assert!(s.running);
        assert_eq!(
            built(&s),
            [false, false, true],
            "running: only in view, and the console"
        );
        s.apply(Action::PanelsInView(vec![("TLB".into(), true)]));
        assert_eq!(built(&s), [false, true, true], "scrolled back to the TLB");
        s.apply(Action::ToggleRun);
        assert_eq!(built(&s), [true, true, true], "paused again: all");
    }

    #[test]
    fn running_at_full_speed_takes_what_the_frame_leaves_or_as_long_as_the_page_works() {
        // (ran, since the frame before, render) -> the next frame's run.
        let cases = [
            // A quick page on time: what a 60 fps frame leaves.
            ((5.0, 16.0, 2.0), 11.0),
            ((10.0, 16.7, 2.0), 10.0),
            // A slow page (22 ms of its own work a frame): as long as that
            // work, up to the most a run takes.
            ((3.0, 25.0, 10.0), MAX_RUN_MS),
            ((12.0, 30.0, 9.0), MAX_RUN_MS),
            // A slower one still: frames no slower than one in 40 ms.
            ((5.0, 40.0, 14.0), 5.0),
            // Lateness from elsewhere (a tab in the background): the floor.
            ((3.0, 1000.0, 2.0), MIN_RUN_MS),
        ];
        for ((ms, since_last, render), want) in cases {
            let got = run_target(ms, since_last, render);
            assert!(
                (got - want).abs() < 1e-9,
                "ran {ms}, {since_last} since the last, render {render}: {got}, not {want}"
            );
        }
    }

    #[test]
    fn the_full_speed_budget_follows_the_frame_and_is_not_starved_by_outside_lateness() {
        let mut s = Session::new("playground");
        s.apply(Action::SetSpeed(SPEEDS.len() - 1));
        s.apply(Action::ToggleRun);
        let start = s.budget;
        // Running is cheap and frames are on time: the budget grows.
        for _ in 0..10 {
            s.adapt(1.0, 16.0);
        }
        assert!(s.budget > start, "{} > {start}", s.budget);
        // The page's own work fills the frame (a slow host), and running
        // is still short of it: the budget grows, as long as frames stay
        // within 40 ms.
        let held = s.budget;
        for _ in 0..10 {
            s.adapt(MIN_RUN_MS, 25.0);
        }
        assert!(s.budget > held, "{} > {held}", s.budget);
        // Frames come late while running is at its floor: something else is
        // busy, so the budget holds.
        let held = s.budget;
        for _ in 0..10 {
            s.adapt(MIN_RUN_MS, 60.0);
        }
        assert!(s.budget >= held);
        // Frames come late and running takes much of them: it shrinks.
        for _ in 0..10 {
            s.adapt(MAX_RUN_MS, 60.0);
        }
        assert!(s.budget < held);
        assert!(s.budget >= MIN_BUDGET);
    }

    #[test]
    fn a_program_without_start_is_warned_about() {
        let mut s = Session::new("playground");
        s.apply(Action::Edit("        mov eax, 1\n        jmp $\n".into()));
        s.apply(Action::RunDraft);
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        assert!(s.warnings[0].contains("no `start`"), "{:?}", s.warnings);
    }

    #[test]
    fn bad_share_links_say_what_was_asked_and_what_opened() {
        let s = Session::open_link("#lesson=paging&step=100");
        assert_eq!(s.lesson.id, osviz_course::first().id);
        let n = s.notice.clone().unwrap();
        assert!(n.contains("no lesson `paging`"), "{n}");
        assert_eq!(s.system.machine().steps(), 100);
        let s = Session::open_link("#lesson=system-call&step=4000000");
        let n = s.notice.clone().unwrap();
        assert!(n.contains("past the end"), "{n}");
        assert!(s.system.machine().steps() < 4_000_000);
        let s = Session::open_link("#lesson=system-call&step=9000");
        assert_eq!(s.system.machine().steps(), 9000);
        assert!(!s.notice.unwrap().contains(';'));
    }

    #[test]
    fn a_share_link_round_trips_the_moment_the_program_and_the_breakpoints() {
        let mut s = Session::new("playground");
        let src = s.program().replace("hello", "howdy");
        s.apply(Action::Edit(src.clone()));
        s.apply(Action::RunDraft);
        s.apply(Action::ToggleBreakpoint {
            file: s.program_file(),
            line: 1 + src.lines().position(|l| l.contains("int 0x40")).unwrap(),
        });
        s.apply(Action::TogglePanel("TLB".into()));
        for _ in 0..30 {
            s.apply(Action::Step);
        }
        let Some(Effect::CopyLink(fragment)) = s.apply(Action::Share) else {
            panic!("share gives a link");
        };
        let t = Session::open_link(&fragment);
        assert_eq!(t.system.machine().steps(), s.system.machine().steps());
        assert_eq!(t.system.machine().cpu().eip, s.system.machine().cpu().eip);
        assert_eq!(t.program(), src);
        assert_eq!(t.breakpoints(), s.breakpoints());
        assert_eq!(t.projector_panels(), s.projector_panels());
    }
}
