//! What the page is showing: a booted guest for a lesson (or the student's
//! program), and the state of the controls, split by job: run control
//! (`run_control`), what stops a run (`breaks`), the course — lesson,
//! program, answers, xv6's loading (`course`), share links (`links`), time
//! travel (`time_travel`), stepping and running (`stepping`), the record of
//! processes and sleeps (`record`), what the student looks at (`inspect`)
//! and what they keep between visits (`prefs`). Plain Rust: every way in is
//! an [`Action`] (or a constructor), every way out is read by `views/` into
//! plain data; nothing here touches the DOM, a clock or local storage.

mod breaks;
mod course;
mod inspect;
mod jobs;
mod links;
mod prefs;
mod record;
mod run_control;
mod stepping;
mod time_travel;

#[cfg(test)]
pub(crate) mod tests;

pub use breaks::{BreakChoice, Breakpoint, SourceLine};
pub use course::Answer;
pub use jobs::JobView;
pub use links::Opening;
pub use prefs::Preferences;
pub use record::{Owner, ProcessRecord, SleepSpan};
pub use run_control::{FRAME_BUDGET, SPEEDS};

use crate::action::Action;
use crate::focus::Linked;
use breaks::Breaks;
use course::{Course, Xv6Loading};
use inspect::Inspect;
use osviz_asm::Diagnostic;
use osviz_course::{Guest, Lesson, Panel};
use osviz_machine::{Cpu, StopReason};
use run_control::RunControl;
use time_travel::TimeTravel;

/// The most steps a query that runs the machine (a reveal, a step over)
/// may take before it gives up.
const QUERY_STEPS: u64 = FRAME_BUDGET * 500;

/// What an action asks of the browser, which the session cannot do itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    /// Copy this link (the page's address with the fragment) to the
    /// clipboard, then send `Action::LinkCopied`.
    CopyLink { fragment: String, step: u64 },
    /// Fetch the xv6 build the page serves, then send `Action::Xv6Loaded`.
    LoadXv6,
    /// A lesson opened: keep `left` (the moment the student left) in the
    /// page's address, then add a history entry for `fragment`, so Back
    /// returns to where they were (the page sends `Action::OpenMoment`).
    PushHistory { left: String, fragment: String },
}

#[derive(Debug)]
pub struct Session {
    system: Guest,
    course: Course,
    prefs: Preferences,
    run: RunControl,
    /// Why the machine last stopped, while that is news.
    stop: Option<StopReason>,
    breaks: Breaks,
    time: TimeTravel,
    record: ProcessRecord,
    inspect: Inspect,
    /// The registers before the latest action, to mark what changed.
    before: Cpu,
    /// A message about what the latest action did.
    notice: Option<String>,
    xv6: Xv6Loading,
    /// Keys typed while the machine stood still: the guest takes them when
    /// it runs, and until then the console shows them as waiting.
    pending_keys: String,
    /// Whether keys were typed since the last frame ran: the guest has
    /// something to do, so it is not idle.
    keys_since_frame: bool,
    /// Long work under way (a replay, "who last changed this?").
    job: Option<jobs::Job>,
    /// Keys typed while a job runs: typed when it is over.
    job_keys: String,
    /// Whether jobs are advanced in slices by the page's host
    /// ([`Session::work`]); otherwise an action finishes its job.
    sliced: bool,
}

impl Session {
    pub fn new(lesson_id: &str) -> Session {
        Session::with_prefs(lesson_id, None, Preferences::default())
    }

    /// The session a returning student left: their lesson (with the program
    /// they last ran there), at their speed, with their preferences.
    pub fn restore(lesson_id: &str, speed: usize, mut prefs: Preferences) -> Session {
        let unknown = prefs.panels.take_unknown();
        let mut s = Session::with_prefs(lesson_id, None, prefs);
        if let Some(program) = s.prefs.ran.get(s.course.lesson().id).cloned() {
            s.run_source(program);
        }
        s.run.set_speed(speed);
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|n| format!("{n:?}")).collect();
            s.notice = Some(format!(
                "there is no panel called {}: projector mode shows the others",
                names.join(", ")
            ));
        }
        s
    }

    /// Does what the student asked. Returns what the browser must do, if
    /// anything.
    pub fn apply(&mut self, action: Action) -> Option<Effect> {
        let effect = self.apply_now(action);
        if !self.sliced {
            self.finish_jobs();
        }
        effect
    }

    /// Whether long work is under way (see [`Session::job`]).
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Jobs are advanced in slices ([`Session::work`]) from now on, not
    /// finished by the action that starts them.
    pub fn work_in_slices(&mut self) {
        self.sliced = true;
    }

    fn apply_now(&mut self, action: Action) -> Option<Effect> {
        if self.job.is_some() {
            match action {
                // Escape closes the help, or else cancels the job.
                Action::Cancel => {
                    self.cancel_job();
                    return None;
                }
                Action::CloseHelp if !self.inspect.help() => {
                    self.cancel_job();
                    return None;
                }
                Action::TypeKeys(text) => {
                    self.job_keys.push_str(&text);
                    return None;
                }
                // The host does not run the machine during a job.
                Action::Tick { .. } => return None,
                a if a.moves_the_machine() => {
                    self.notice = Some(format!(
                        "{}: wait for it, or press Cancel (Esc)",
                        self.job().map_or(String::new(), |j| j.what)
                    ));
                    return None;
                }
                _ => {}
            }
        }
        match action {
            Action::Cancel => self.cancel_job(),
            Action::Step => self.step(),
            Action::StepOver => self.step_over(),
            Action::StepBack => self.step_back(),
            Action::StepLine => self.step_line(osviz_view::LineStep::Into),
            Action::NextLine => self.step_line(osviz_view::LineStep::Over),
            Action::StepOut => self.step_line(osviz_view::LineStep::Out),
            Action::ToggleRun => self.toggle_run(),
            Action::Tick { seconds } => self.tick(seconds),
            Action::FrameTimed {
                run_ms,
                since_last_ms,
            } => self.run.adapt(run_ms, since_last_ms),
            Action::Rendered { ms } => self.run.note_render(ms),
            Action::Reset => self.reset(),
            Action::ShowBoot => self.move_time(0, "the boot, from the kernel's first instruction"),
            Action::ReturnToWhereIWas => self.return_to_where_i_was(),
            Action::Faster => self.run.faster(),
            Action::Slower => self.run.slower(),
            Action::SetSpeed(k) => self.run.set_speed(k),
            Action::SetBreak(choice) => self.set_break(choice),
            Action::NextBreak => self.set_break(BreakChoice::next(self.breaks.choice())),
            Action::Share => {
                let link = self.link();
                return Some(Effect::CopyLink {
                    fragment: link.encode(),
                    step: link.step.unwrap_or(0),
                });
            }
            Action::LinkCopied { url, step, copied } => {
                let short = if step < self.system.machine().steps() {
                    format!(
                        " (a link carries {} typed keys: it opens before the rest were typed)",
                        crate::share::MAX_LINK_KEYS
                    )
                } else {
                    String::new()
                };
                self.notice = Some(if copied {
                    format!("share link copied to the clipboard: it opens step {step}{short}")
                } else {
                    format!("copy this share link (it opens step {step}{short}): {url}")
                });
            }
            Action::ToggleProjector => self.prefs.projector = !self.prefs.projector,
            Action::ToggleTheme => self.prefs.dark = !self.prefs.dark,
            Action::ToggleHelp => self.inspect.toggle_help(),
            Action::CloseHelp => self.inspect.close_help(),
            Action::ChooseLesson(id) => return self.choose_lesson(&id),
            Action::Xv6Loaded(files) => return self.xv6_loaded(files),
            Action::OpenMoment { fragment, how } => return self.open_moment(&fragment, how),
            Action::Xv6Opened(files) => self.xv6_opened(files),
            Action::Xv6Failed(why) => self.xv6_failed(&why),
            Action::Edit(text) => {
                let lesson = self.course.lesson();
                self.prefs.set_draft(lesson.id, lesson.source(), text);
            }
            Action::RunDraft => self.run_source(self.draft().to_string()),
            Action::RevertDraft => self.revert_draft(),
            Action::Reveal(i) => self.reveal(i),
            Action::Guess(i, text) => {
                let lesson = self.course.lesson();
                self.prefs
                    .set_guess(lesson.id, lesson.questions.len(), i, text);
            }
            Action::TypeKeys(text) => self.type_keys(&text),
            Action::Filter(kind) => self.inspect.filter(kind),
            Action::Hover(f) => self.inspect.hover(f),
            Action::Pin(f) => self.inspect.pin(f),
            Action::ScrollEvents(first) => self.inspect.scroll_events(first),
            Action::PanelsInView(seen) => self.inspect.panels_seen(seen),
            Action::WhoChanged(pa) => self.who_changed(pa, 4),
            Action::WhoChangedText(text) => self.who_changed_text(&text),
            Action::WalkText(text) => {
                if let Err(why) = self.inspect.walk_text(&text) {
                    self.notice = Some(why);
                }
            }
            Action::ToggleBreakpoint(at) => {
                let said = self.breaks.toggle_line(&*self.system.view(), at);
                self.notice = Some(said);
                self.bind_breakpoints();
            }
            Action::RemoveBreakpoint(i) => {
                if let Some(b) = self.breaks.remove(i) {
                    self.bind_breakpoints();
                    self.notice = Some(format!("breakpoint removed at {}:{}", b.file, b.line));
                }
            }
            Action::BreakAt(text) => self.break_at(&text),
            Action::TogglePanel(panel) => self.toggle_panel(panel),
            Action::DismissNotice => self.notice = None,
            Action::Welcome => {
                self.notice = Some(
                    "Welcome: read the lesson, press Step (s) to run one instruction, or Run (r); press ? for every shortcut".into(),
                );
            }
        }
        None
    }

    // What the views read.

    /// The booted guest: the machine and its kernel's view.
    pub fn guest(&self) -> &Guest {
        &self.system
    }

    pub fn lesson(&self) -> &'static Lesson {
        self.course.lesson()
    }

    pub fn prefs(&self) -> &Preferences {
        &self.prefs
    }

    pub fn run_control(&self) -> &RunControl {
        &self.run
    }

    pub fn running(&self) -> bool {
        self.run.running()
    }

    pub fn stop(&self) -> Option<&StopReason> {
        self.stop.as_ref()
    }

    pub fn break_choice(&self) -> Option<BreakChoice> {
        self.breaks.choice()
    }

    pub fn record(&self) -> &ProcessRecord {
        &self.record
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Whether the machine runs at full speed while every process waits for
    /// a person: then it runs slowly (see `run_control::IDLE_BUDGET`), and
    /// the status line says why.
    pub fn idle(&self) -> bool {
        self.run.running()
            && self.run.full_speed()
            && !self.keys_since_frame
            && self.record.waiting_for_person()
    }

    /// Keys typed while the machine stood still, not yet run to.
    pub fn pending_keys(&self) -> &str {
        &self.pending_keys
    }

    /// The registers before the latest action.
    pub fn before(&self) -> &Cpu {
        &self.before
    }

    pub fn linked(&self) -> Linked {
        self.inspect.linked()
    }

    pub fn inspect(&self) -> &Inspect {
        &self.inspect
    }

    /// Assembly errors of the program last run (it did not boot).
    pub fn errors(&self) -> &[Diagnostic] {
        self.course.errors()
    }

    /// What is worth saying about the program that runs.
    pub fn warnings(&self) -> &[String] {
        self.course.warnings()
    }

    /// Each question's answer, once revealed.
    pub fn answers(&self) -> &[Option<Answer>] {
        self.course.answers()
    }

    /// The step where the lesson starts: the user program's first
    /// instruction, or xv6's prompt.
    pub fn start_step(&self) -> u64 {
        self.time.start_step()
    }

    /// Where the student was before a reveal or "show the boot" moved time.
    pub fn return_to(&self) -> Option<u64> {
        self.time.return_to()
    }

    /// The xv6 lesson (or link) waiting for xv6 to be fetched, if any.
    pub fn waiting_for_xv6(&self) -> Option<&str> {
        self.xv6.waiting()
    }

    /// The physical address of the kernel's own page directory.
    pub fn kernel_dir(&self) -> u32 {
        self.system.view().kernel_dir(self.system.machine())
    }

    /// The breakpoints, with the addresses they are bound to now.
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        self.breaks.bound(&*self.system.view())
    }

    /// Whether the page builds `panel`'s view this frame. While the machine
    /// runs, a panel out of view keeps what it showed: building and drawing
    /// views the student cannot see took much of each frame at full speed.
    /// Paused or stepping, every panel is current; a panel coming into view
    /// while running is built again at once. The console is always built:
    /// what the program prints is what a student waits for, it costs
    /// little, and a test or a screen reader reads it wherever the page is
    /// scrolled.
    pub fn renders_panel(&self, panel: Panel) -> bool {
        !self.run.running() || panel == Panel::Console || self.inspect.in_view(panel)
    }

    /// The panels projector mode shows for this lesson.
    /// The panels the lesson is about, in its order (not the instructor's
    /// projector choice).
    pub fn lesson_panels(&self) -> &'static [Panel] {
        self.course.lesson().panels
    }

    /// The panels this guest has something for, in the page's order: the
    /// virtualization panels only while a hypervisor runs the guest.
    pub fn available_panels(&self) -> Vec<Panel> {
        let vm = self.system.under_hypervisor();
        Panel::ALL
            .into_iter()
            .filter(|p| vm || !p.is_virtualization())
            .collect()
    }

    pub fn projector_panels(&self) -> Vec<Panel> {
        let lesson = self.course.lesson();
        match self.prefs.panels.get(lesson.id) {
            Some(list) => list.clone(),
            None => lesson.panels.to_vec(),
        }
    }

    fn toggle_panel(&mut self, panel: Panel) {
        let mut list = self.projector_panels();
        match list.iter().position(|p| *p == panel) {
            Some(i) => {
                list.remove(i);
            }
            None => list.push(panel),
        }
        self.prefs
            .panels
            .insert(self.course.lesson().id.to_string(), list);
    }

    /// Sets what `run` stops on.
    fn set_break(&mut self, choice: Option<BreakChoice>) {
        self.breaks.set_choice(self.system.machine_mut(), choice);
    }

    /// Binds the breakpoints to the machine as it is now.
    fn bind_breakpoints(&mut self) {
        let (m, view) = self.system.split();
        self.breaks.bind(m, &*view);
    }

    /// Notes the registers as they are before an action changes them; the
    /// machine is about to move, so keys typed while it stood are no longer
    /// waiting.
    fn mark(&mut self) {
        self.before = self.system.machine().cpu().clone();
        self.pending_keys.clear();
    }

    /// Looks at the processes (see [`ProcessRecord::look`]) and watches
    /// their state fields.
    fn remember_processes(&mut self, at_change: bool) {
        let (m, view) = self.system.split();
        let mut watches = self.record.look(m, &*view, at_change);
        watches.extend(self.breaks.watched(&*view));
        m.set_watches(&watches);
    }

    /// Notes the processes as they are now, outside a change of state.
    pub(crate) fn remember_directories(&mut self) {
        self.remember_processes(false);
    }

    /// The event log starts empty: the record notes who runs.
    fn note_log_owner(&mut self) {
        self.record
            .log_started(self.system.machine(), &*self.system.view());
    }
}

#[cfg(test)]
impl Session {
    /// Runs one animation frame of `seconds` (the page's timer sends it).
    pub(crate) fn tick_for_test(&mut self, seconds: f64) {
        self.apply(Action::Tick { seconds });
    }

    /// The machine, to drive it past the page's controls in a test.
    pub(crate) fn machine_for_test(&mut self) -> &mut osviz_machine::Machine {
        self.system.machine_mut()
    }
}
