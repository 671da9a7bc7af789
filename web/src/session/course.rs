//! The course in the page: the lesson, the program the machine runs for
//! it (the lesson's own or the student's), the answers revealed, and xv6's
//! loading (an xv6 lesson waits for the page to fetch the build). Lessons
//! and guests come from the course crate; this is the page's state of them.

use super::jobs::Then;
use super::run_control::{DEFAULT_SPEED, RunControl, SPEEDS};
use super::{Preferences, QUERY_STEPS, Session};
use crate::action::BuildFiles;
use crate::session::Effect;
use crate::session::links::Opening;
use osviz_asm::Diagnostic;
use osviz_course::run::run_to;
use osviz_course::{Guest, GuestError, Kernel, Lesson, XV6_LESSONS};
use osviz_kernel::{BootError, source_file};
use osviz_machine::StopReason;
use osviz_xv6::Xv6Build;
use std::rc::Rc;

/// The machine's answer to a question, and the step it was read at.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub text: String,
    pub step: Option<u64>,
}

/// The lesson and what the machine runs for it.
#[derive(Debug)]
pub struct Course {
    lesson: &'static Lesson,
    /// The first program's source as the machine runs it now.
    program: String,
    errors: Vec<Diagnostic>,
    /// Things worth saying about a program that assembled.
    warnings: Vec<String>,
    /// One per question of the lesson, once revealed.
    answers: Vec<Option<Answer>>,
}

impl Course {
    fn new(lesson: &'static Lesson) -> Course {
        Course {
            lesson,
            program: lesson.source().to_string(),
            errors: Vec::new(),
            warnings: Vec::new(),
            answers: vec![None; lesson.questions.len()],
        }
    }

    pub fn lesson(&self) -> &'static Lesson {
        self.lesson
    }

    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn answers(&self) -> &[Option<Answer>] {
        &self.answers
    }

    /// A new run of the lesson: no answer is revealed in it yet.
    fn forget_answers(&mut self) {
        self.answers = vec![None; self.lesson.questions.len()];
    }
}

/// What an xv6 lesson waits for: its id, the share link to open once xv6
/// is there (if a link asked for it, and how it came), and whether the
/// student chose the lesson (it then becomes an entry of the browser's
/// history once it opens).
#[derive(Clone, Debug)]
struct Waiting {
    lesson: String,
    link: Option<(String, Opening)>,
    chosen: bool,
}

/// The xv6 build the page has (kept across lessons), and what waits for it.
#[derive(Debug, Default)]
pub struct Xv6Loading {
    build: Option<Rc<Xv6Build>>,
    waiting: Option<Waiting>,
}

impl Xv6Loading {
    /// The lesson waiting for xv6, if any.
    pub fn waiting(&self) -> Option<&str> {
        self.waiting.as_ref().map(|w| w.lesson.as_str())
    }

    /// The xv6 build the page has, if any.
    pub(super) fn build(&self) -> Option<Rc<Xv6Build>> {
        self.build.clone()
    }

    /// Whether a share link waits for xv6.
    pub(super) fn waiting_link(&self) -> bool {
        self.waiting.as_ref().is_some_and(|w| w.link.is_some())
    }

    /// Stops waiting to open a share link (xv6 still loads, for the
    /// lessons); whether one waited.
    pub(super) fn forget_link(&mut self) -> bool {
        let waited = self.waiting_link();
        if waited {
            self.waiting = None;
        }
        waited
    }

    /// Waits for xv6 to open a share link.
    pub(super) fn wait_with_link(&mut self, fragment: &str, how: Opening) {
        if let Some(w) = &mut self.waiting {
            w.link = Some((fragment.to_string(), how));
        }
    }
}

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

/// The speed a kernel's lessons start at: xv6 takes millions of steps to
/// answer a command, and the teaching kernel's programs are read a few
/// instructions a second.
fn speed_for(kernel: Kernel) -> usize {
    match kernel {
        Kernel::Xv6 => SPEEDS.len() - 1,
        Kernel::Teaching => DEFAULT_SPEED,
    }
}

/// Reads an xv6 build from its files.
fn read_build(files: BuildFiles) -> Result<Rc<Xv6Build>, String> {
    let mut build = Xv6Build::new(&files.origin, files.kernel, files.disk, files.sources)
        .map_err(|e| format!("{}: {e}", files.origin))?;
    if let Some(elf) = files.boot_block {
        build
            .set_boot_block(elf)
            .map_err(|e| format!("{}: {e}", files.origin))?;
    }
    if let Some(h) = files.hypervisor {
        build
            .set_hypervisor(h.elf)
            .map_err(|e| format!("{}: {e}", files.origin))?;
        build.add_hypervisor_sources(h.sources);
    }
    build.set_clock_start(files.clock_start);
    Ok(Rc::new(build))
}

impl Session {
    /// A session on a lesson, with the xv6 build if the page has one and
    /// the student's preferences. An xv6 lesson without a build opens the
    /// first lesson and waits for it; a lesson that cannot start says why
    /// and opens the first lesson.
    pub(super) fn with_prefs(
        lesson_id: &str,
        xv6: Option<Rc<Xv6Build>>,
        prefs: Preferences,
    ) -> Session {
        let mut waiting = None;
        let mut lesson = osviz_course::lesson(lesson_id).unwrap_or(osviz_course::first());
        if lesson.kernel() == Kernel::Xv6 && xv6.is_none() {
            waiting = Some(Waiting {
                lesson: lesson.id.to_string(),
                link: None,
                chosen: false,
            });
            lesson = osviz_course::first();
        }
        match Session::try_open(lesson, xv6.clone(), waiting.clone(), prefs) {
            Ok(s) => s,
            Err(failed) => {
                let (e, prefs) = *failed;
                // A build that cannot boot is said, never silently replaced.
                let first = osviz_course::first();
                let Ok(mut s) = Session::try_open(first, xv6, waiting, prefs) else {
                    unreachable!("the teaching kernel's first lesson boots (its tests hold it)")
                };
                s.notice = Some(format!(
                    "{} could not start: {e}; the first lesson opened instead",
                    lesson.id
                ));
                s
            }
        }
    }

    /// A session on `lesson` at its start, or why its guest did not boot or
    /// reach the start (the preferences handed back).
    fn try_open(
        lesson: &'static Lesson,
        xv6: Option<Rc<Xv6Build>>,
        waiting: Option<Waiting>,
        prefs: Preferences,
    ) -> Result<Session, Box<(GuestError, Preferences)>> {
        let mut system = match boot(lesson, xv6.as_ref(), None) {
            Ok(system) => system,
            Err(e) => return Err(Box::new((e, prefs))),
        };
        let start = match system.go_to_start(lesson) {
            Ok(step) => step,
            Err(e) => return Err(Box::new((e, prefs))),
        };
        let before = system.machine().cpu().clone();
        let mut s = Session {
            system,
            course: Course::new(lesson),
            prefs,
            run: RunControl::new(speed_for(lesson.kernel())),
            stop: None,
            breaks: Default::default(),
            time: Default::default(),
            record: Default::default(),
            inspect: Default::default(),
            before,
            notice: None,
            pending_keys: String::new(),
            keys_since_frame: false,
            job: None,
            job_keys: String::new(),
            sliced: false,
            xv6: Xv6Loading {
                build: xv6,
                waiting,
            },
        };
        s.started_at(start);
        Ok(s)
    }

    /// A session on a lesson with the xv6 build the page has.
    #[cfg(test)]
    pub(crate) fn with_xv6(lesson_id: &str, xv6: Option<Rc<Xv6Build>>) -> Session {
        Session::with_prefs(lesson_id, xv6, Preferences::default())
    }

    /// Fast-forwards the boot to where the lesson starts: the user
    /// program's first instruction, or xv6's shell prompt with the lesson's
    /// command typed.
    fn go_to_start(&mut self) {
        let start = match self.system.go_to_start(self.course.lesson) {
            Ok(step) => step,
            Err(e) => {
                self.notice = Some(e.to_string());
                self.system.machine().steps()
            }
        };
        self.started_at(start);
    }

    /// The lesson starts at `start`, where the guest is: the log starts
    /// empty there.
    fn started_at(&mut self, start: u64) {
        self.time.started_at(start);
        self.system.machine_mut().clear_events();
        self.note_log_owner();
        self.remember_directories();
        self.mark();
    }

    /// The prediction typed for question `i` of this lesson ("" if none).
    pub fn guess(&self, i: usize) -> &str {
        self.prefs.guess(self.course.lesson.id, i)
    }

    /// The editor's text: the student's draft, else the program as it runs.
    pub fn draft(&self) -> &str {
        self.prefs
            .drafts
            .get(self.course.lesson.id)
            .map_or(self.course.program.as_str(), String::as_str)
    }

    /// Whether the editor holds something other than the lesson's program.
    pub fn edited(&self) -> bool {
        self.draft() != self.course.lesson.source()
    }

    /// The source the machine runs now for the lesson's first program.
    pub fn program(&self) -> &str {
        &self.course.program
    }

    /// The first program's file name, as the line table knows it.
    pub fn program_file(&self) -> String {
        self.course
            .lesson
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
            return Some(self.course.program.clone());
        }
        if let Some(p) = self
            .course
            .lesson
            .programs()
            .iter()
            .find(|p| format!("{}.asm", p.name) == file)
        {
            return Some(p.source.to_string());
        }
        source_file(file)
    }

    /// Opens lesson `id`; an xv6 lesson without xv6 waits while the page
    /// fetches it.
    pub(super) fn choose_lesson(&mut self, id: &str) -> Option<Effect> {
        let wants_xv6 = osviz_course::lesson(id).is_some_and(|l| l.kernel() == Kernel::Xv6);
        if wants_xv6 && self.xv6.build.is_none() {
            self.xv6.waiting = Some(Waiting {
                lesson: id.to_string(),
                link: None,
                chosen: true,
            });
            self.notice = Some("loading xv6 (kernel, fs.img and its sources)…".into());
            return Some(Effect::LoadXv6);
        }
        Some(self.load_chosen_lesson(id))
    }

    /// Opens a lesson the student chose: a new entry of the browser's
    /// history, after the moment they left (so Back returns to it).
    fn load_chosen_lesson(&mut self, id: &str) -> Effect {
        let left = self.link().encode();
        self.load_lesson(id);
        Effect::PushHistory {
            left,
            fragment: self.link().encode(),
        }
    }

    /// The page fetched xv6: opens what waited for it.
    pub(super) fn xv6_loaded(&mut self, files: BuildFiles) -> Option<Effect> {
        let build = match read_build(files) {
            Ok(build) => build,
            Err(why) => {
                self.xv6_failed(&why);
                return None;
            }
        };
        self.xv6.build = Some(build);
        match self.xv6.waiting.take() {
            Some(Waiting {
                link: Some((link, how)),
                ..
            }) => {
                let dark = self.prefs.dark;
                let prefs = std::mem::take(&mut self.prefs);
                let sliced = self.sliced;
                *self = Session::open_link_pending(&link, self.xv6.build.clone(), prefs, how);
                self.sliced = sliced;
                self.prefs.dark = dark;
            }
            Some(Waiting {
                lesson,
                chosen: true,
                ..
            }) => return Some(self.load_chosen_lesson(&lesson)),
            Some(Waiting { lesson, .. }) => self.load_lesson(&lesson),
            None => {}
        }
        None
    }

    /// The student opened their own xv6 build: boots it, in the xv6 lesson
    /// open now or the first one.
    pub(super) fn xv6_opened(&mut self, files: BuildFiles) {
        let origin = files.origin.clone();
        let kept = match self.course.lesson.kernel() {
            Kernel::Xv6 => "the xv6 that was running, and what you typed, are kept",
            Kernel::Teaching => "the lesson that was open is kept",
        };
        let build = match read_build(files) {
            Ok(build) => build,
            Err(why) => {
                self.notice = Some(format!("the build could not be opened: {why}; {kept}"));
                return;
            }
        };
        let lesson = match self.course.lesson.kernel() {
            Kernel::Xv6 => self.course.lesson,
            Kernel::Teaching => &XV6_LESSONS[0],
        };
        // The running session is replaced only once the build has booted
        // to its prompt: a kernel that panics at boot leaves it as it was.
        let next = match Session::try_open(lesson, Some(build.clone()), None, self.prefs.clone()) {
            Ok(next) => next,
            Err(failed) => {
                self.notice = Some(format!("{origin} did not start: {}; {kept}", failed.0));
                return;
            }
        };
        self.xv6.waiting = None;
        self.carry_into(next);
        let note = self.system.view().limitation();
        self.notice = Some(match note {
            Some(why) => format!("opened {origin}; {why}"),
            None => format!("opened {origin}"),
        });
    }

    pub(super) fn xv6_failed(&mut self, why: &str) {
        self.xv6.waiting = None;
        self.notice = Some(format!("xv6 could not be loaded: {why}"));
    }

    /// Opens lesson `id` in a fresh session, keeping the student's
    /// preferences, speed (within a kernel), break-on choice, filter and
    /// breakpoints.
    fn load_lesson(&mut self, id: &str) {
        let prefs = std::mem::take(&mut self.prefs);
        let next = Session::with_prefs(id, self.xv6.build.clone(), prefs);
        self.carry_into(next);
    }

    /// Moves to a freshly opened session, carrying over what the student
    /// set here (speed within a kernel, the event filter, breakpoints) and
    /// running the program they last ran in that lesson.
    fn carry_into(&mut self, mut next: Session) {
        if next.course.lesson.kernel() == self.course.lesson.kernel() {
            next.run.set_speed(self.run.speed());
        }
        next.inspect.filter(self.inspect.event_filter());
        next.breaks.set_lines(self.breaks.lines().to_vec());
        // A program the student ran in that lesson before runs again.
        if let Some(program) = next.prefs.ran.get(next.course.lesson.id).cloned() {
            next.run_source(program);
        }
        next.bind_breakpoints();
        let sliced = self.sliced;
        *self = next;
        self.sliced = sliced;
    }

    /// Rebuilds the machine with a program for the lesson's first one.
    pub(super) fn run_source(&mut self, source: String) {
        let lesson = self.course.lesson;
        if lesson.kernel() == Kernel::Xv6 {
            self.reboot_xv6();
            return;
        }
        match boot(lesson, None, Some(&source)) {
            Ok(system) => {
                self.prefs.note_ran(lesson.id, lesson.source(), &source);
                self.course.program = source;
                self.course.errors.clear();
                self.course.warnings = warnings_of(&system);
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
                let n = errors.len();
                self.course.errors = errors;
                self.notice = Some(format!(
                    "the program does not assemble ({n} error{}): the previous one still runs",
                    if n == 1 { "" } else { "s" }
                ));
            }
            Err(other) => {
                self.course.errors = vec![Diagnostic {
                    file: String::new(),
                    line: 0,
                    column: 0,
                    message: other.to_string(),
                }]
            }
        }
    }

    /// Puts the lesson's own program back in the editor and runs it.
    pub(super) fn revert_draft(&mut self) {
        let lesson = self.course.lesson;
        self.prefs.drafts.remove(lesson.id);
        self.run_source(lesson.source().to_string());
        self.notice = Some("the editor holds the lesson's own program again".into());
    }

    /// Takes a freshly booted guest: the run's state starts over (stops,
    /// answers, step overs), the break-on choice and breakpoints are bound
    /// to it, and it runs to the lesson's start.
    fn start_again(&mut self, system: Guest) {
        self.system = system;
        self.stop = None;
        self.run.pause();
        self.time = Default::default();
        self.course.forget_answers();
        let choice = self.breaks.choice();
        self.set_break(choice);
        self.go_to_start();
        self.bind_breakpoints();
    }

    /// Boots xv6 again to the lesson's start; breakpoints and settings stay.
    fn reboot_xv6(&mut self) {
        let Some(build) = self.xv6.build.clone() else {
            return;
        };
        match boot(self.course.lesson, Some(&build), None) {
            Ok(system) => {
                self.course.errors.clear();
                self.start_again(system);
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
    }

    /// Boots the lesson again with the program as it runs now; drafts,
    /// breakpoints and settings stay.
    pub(super) fn reset(&mut self) {
        let program = self.course.program.clone();
        self.run_source(program);
        let n = self.breaks.lines().len();
        self.notice = Some(format!(
            "reset: the lesson starts again at step {}{}",
            self.time.start_step(),
            match n {
                0 => String::new(),
                n => format!(", with your {n} breakpoint(s)"),
            }
        ));
    }

    /// Answers question `i` from the lesson's own start, whatever the
    /// current step: replays from the boot to its moment, and remembers
    /// where the student was.
    pub(super) fn reveal(&mut self, i: usize) {
        let lesson = self.course.lesson;
        if lesson.questions.get(i).is_none() {
            return;
        }
        let here = self.system.machine().steps();
        // The teaching kernel's moments count from the boot; xv6's from the
        // prompt, where the lesson types its command.
        let start = match lesson.kernel() {
            Kernel::Teaching => 0,
            Kernel::Xv6 => self.time.start_step(),
        };
        self.seek_then(start, Then::Reveal { question: i, here });
    }

    /// A reveal's replay reached the lesson's start: runs to question
    /// `i`'s moment and answers it.
    pub(super) fn reveal_from_start(&mut self, i: usize, here: u64) {
        let lesson = self.course.lesson;
        let Some(q) = lesson.questions.get(i) else {
            return;
        };
        let (m, view) = self.system.split();
        let answer = match run_to(m, &*view, q.moment, QUERY_STEPS) {
            Ok(events) => Answer {
                text: (q.answer)(m, &*view, &events),
                step: Some(m.steps()),
            },
            Err(e) => Answer {
                text: e,
                step: None,
            },
        };
        self.remember_directories();
        if here != self.system.machine().steps() {
            self.time.remember_return(here);
        }
        self.notice = answer
            .step
            .map(|s| format!("question {}: the machine is at its moment, step {s}", i + 1));
        self.course.answers[i] = Some(answer);
    }

    /// Types text into the guest's keyboard.
    pub(super) fn type_keys(&mut self, text: &str) {
        for b in text.bytes() {
            self.system.machine_mut().press_key(b);
        }
        if !self.run.running() {
            self.pending_keys.push_str(text);
        }
        self.keys_since_frame = true;
        if self.stop == Some(StopReason::Idle) {
            self.stop = None;
        }
    }
}

/// What is worth saying about a program that assembled.
fn warnings_of(system: &Guest) -> Vec<String> {
    let mut out = Vec::new();
    let first = system.programs().first().map(|(_, o)| o);
    if first.is_some_and(|o| o.symbol("start").is_none()) {
        out.push(
            "there is no `start` label: the program runs from its first byte at 0x1000".into(),
        );
    }
    out
}
