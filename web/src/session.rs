//! What the page is showing: a booted system for a lesson (or the
//! student's program), and the state of the controls. Plain Rust; the
//! components read views of it and send it actions.

use crate::panels::registers::RegisterView;
use osviz_asm::Diagnostic;
use osviz_kernel::lessons::{LESSONS, Lesson, disk_image, run_to};
use osviz_kernel::{BootError, System};
use osviz_machine::{EventKind, MachineConfig, StopReason};

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

/// The steps one animation frame starts with at full speed; the page then
/// adapts it (see `Session::adapt`) so that running takes a set share of
/// each frame and the page stays responsive whatever the program does.
pub const FRAME_BUDGET: u64 = 60_000;

/// The bounds of the adaptive budget, and the milliseconds of running per
/// frame it aims at. With every panel open, rendering, layout and paint
/// take most of the rest of a 16.7 ms frame (measured in headless Chromium:
/// 8 ms of running dropped to 54-57 frames/s, 5 ms keeps 59-60).
const MIN_BUDGET: u64 = 5_000;
const MAX_BUDGET: u64 = 2_000_000;
const TARGET_MS: f64 = 5.0;

#[derive(Debug)]
pub struct Session {
    pub system: System,
    pub lesson: &'static Lesson,
    /// The program the editor holds (the lesson's first, or the student's).
    pub source: String,
    pub errors: Vec<Diagnostic>,
    /// The registers before the latest action, to mark what changed.
    pub before: RegisterView,
    pub stop: Option<StopReason>,
    pub running: bool,
    pub speed: usize,
    /// Fractional steps carried between animation frames at slow speeds.
    pub carry: f64,
    /// The process the kernel-stack and memory-image panels show (the
    /// running one when none is chosen).
    pub selected_pid: Option<u32>,
    /// The frame, process, vector or page pointed at or clicked: every
    /// panel that shows it marks it.
    pub linked: crate::focus::Linked,
    pub answers: Vec<Option<String>>,
    pub event_filter: String,
    /// Steps per frame at full speed.
    pub budget: u64,
    /// Who each page directory belonged to, remembered after the process
    /// exits (for the timeline).
    pub dir_names: std::collections::HashMap<u32, (String, Option<u32>)>,
    /// A virtual address the student typed for the Page walk panel (it
    /// shows the latest access when there is none).
    pub walk_addr: Option<u32>,
    /// The index (newest first) of the first event row in view.
    pub events_first: usize,
    /// What `run` breaks on, if anything: an entry of `BREAK_KINDS`.
    pub break_on: Option<&'static BreakOn>,
    pub dark: bool,
    pub projector: bool,
    pub help: bool,
    /// A message about the latest share link or restored settings.
    pub notice: Option<String>,
}

/// One choice of the break-on control: the machine breaks on an event
/// kind; a choice may narrow it to one IDT vector (a system call is a trap
/// through vector 0x40), and the page then runs on past the other vectors.
#[derive(Debug, PartialEq, Eq)]
pub struct BreakOn {
    pub name: &'static str,
    pub kind: EventKind,
    pub vector: Option<u8>,
}

const fn on(name: &'static str, kind: EventKind, vector: Option<u8>) -> BreakOn {
    BreakOn { name, kind, vector }
}

/// What the break-on control offers.
pub const BREAK_KINDS: [BreakOn; 8] = [
    on("page fault", EventKind::PageFault, None),
    on("TLB miss", EventKind::TlbMiss, None),
    on("trap or interrupt", EventKind::TrapEntry, None),
    on("system call (int 0x40)", EventKind::TrapEntry, Some(0x40)),
    on("context switch (CR3 write)", EventKind::Cr3Write, None),
    on("I/O request", EventKind::DiskRequest, None),
    on("I/O completion (DMA)", EventKind::Dma, None),
    on("return to user (iret)", EventKind::Iret, None),
];

fn boot(lesson: &Lesson, source: Option<&str>) -> Result<System, BootError> {
    let mut system = match source {
        None => lesson.boot()?,
        Some(text) => {
            let mut sources: Vec<(&str, &str)> = vec![(lesson.programs[0].name, text)];
            sources.extend(lesson.programs[1..].iter().map(|p| (p.name, p.source)));
            let mut s = System::boot_sources(&sources, MachineConfig::default())?;
            let _ = s.machine.load_disk(&disk_image());
            s
        }
    };
    system.machine.set_recording(true);
    Ok(system)
}

impl Session {
    pub fn new(lesson_id: &str) -> Session {
        let lesson = osviz_kernel::lessons::lesson(lesson_id).unwrap_or(&LESSONS[0]);
        let system = boot(lesson, None).expect("the built-in lessons assemble");
        let before = RegisterView::of(&system.machine);
        Session {
            system,
            lesson,
            source: lesson.programs[0].source.to_string(),
            errors: Vec::new(),
            before,
            stop: None,
            running: false,
            speed: 3,
            carry: 0.0,
            selected_pid: None,
            linked: crate::focus::Linked::default(),
            answers: vec![None; lesson.questions.len()],
            event_filter: String::new(),
            budget: FRAME_BUDGET,
            dir_names: std::collections::HashMap::new(),
            events_first: 0,
            walk_addr: None,
            break_on: None,
            dark: false,
            projector: false,
            help: false,
            notice: None,
        }
    }

    /// Sets what `run` stops on, by the name of a `BREAK_KINDS` entry (any
    /// other name clears it).
    pub fn set_break(&mut self, name: &str) {
        if let Some(old) = self.break_on.take() {
            self.system.machine.break_on(old.kind, false);
        }
        self.break_on = BREAK_KINDS.iter().find(|b| b.name == name);
        if let Some(b) = self.break_on {
            self.system.machine.break_on(b.kind, true);
        }
    }

    /// Moves the break-on choice to the next kind (after the last: none).
    pub fn next_break(&mut self) {
        let next = match self.break_on {
            None => BREAK_KINDS.first(),
            Some(b) => BREAK_KINDS
                .iter()
                .position(|k| k == b)
                .and_then(|i| BREAK_KINDS.get(i + 1)),
        };
        self.set_break(next.map_or("", |b| b.name));
    }

    /// Walks a typed virtual address (hex, with or without 0x); an empty
    /// text goes back to the latest access.
    pub fn walk_text(&mut self, text: &str) {
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

    /// Runs at most `steps` steps, stopping where the break-on choice says:
    /// past a break of the right kind through another vector, it runs on.
    fn run_to_break(&mut self, steps: u64) -> StopReason {
        let m = &mut self.system.machine;
        let end = m.steps + steps;
        loop {
            let stop = m.run(end - m.steps);
            let wanted = match (&stop, self.break_on) {
                (
                    StopReason::Event { .. },
                    Some(BreakOn {
                        vector: Some(v), ..
                    }),
                ) => m.last_events().iter().any(
                    |e| matches!(e, osviz_machine::Event::TrapEntry { vector, .. } if vector == v),
                ),
                _ => true,
            };
            if wanted || m.steps >= end {
                return if wanted {
                    stop
                } else {
                    StopReason::InstructionLimit
                };
            }
        }
    }

    /// Adds or removes an address breakpoint at the code of a source line.
    pub fn toggle_line_breakpoint(&mut self, file: &str, line: usize) {
        let outputs =
            std::iter::once(&self.system.kernel).chain(self.system.programs.iter().map(|(_, o)| o));
        let addr = outputs.into_iter().find_map(|out| {
            let index = out.files.iter().position(|f| f == file)?;
            out.lines
                .iter()
                .find(|l| l.file == index && l.line == line)
                .map(|l| l.addr)
        });
        let m = &mut self.system.machine;
        self.notice = Some(match addr {
            Some(a) if m.breakpoints().any(|b| b == a) => {
                m.remove_breakpoint(a);
                format!("breakpoint cleared at {file}:{line}")
            }
            Some(a) => {
                m.add_breakpoint(a);
                format!("breakpoint set at {file}:{line} ({a:#010x})")
            }
            None => format!("{file}:{line} has no code to break at"),
        });
    }

    /// The share link for this moment.
    pub fn link(&self) -> crate::share::Link {
        let edited = self.source != self.lesson.programs[0].source;
        crate::share::Link {
            lesson: Some(self.lesson.id.to_string()),
            source: edited.then(|| self.source.clone()),
            breakpoints: self.system.machine.breakpoints().collect(),
            step: self.system.machine.steps,
        }
    }

    /// Opens what a share link describes: the lesson, the program, the
    /// breakpoints, and the point in time (by deterministic replay).
    pub fn open_link(fragment: &str) -> Option<Session> {
        let (link, problems) = crate::share::Link::decode(fragment);
        let lesson = link.lesson.as_deref()?;
        let mut session = Session::new(lesson);
        if let Some(src) = link.source {
            session.run_source(src);
        }
        for b in &link.breakpoints {
            session.system.machine.add_breakpoint(*b);
        }
        if link.step > 0 {
            let _ = session.system.machine.seek(link.step);
        }
        session.mark();
        session.notice = Some(if problems.is_empty() {
            format!(
                "opened a shared link at step {}",
                session.system.machine.steps
            )
        } else {
            format!("opened a shared link; ignored: {}", problems.join("; "))
        });
        Some(session)
    }

    /// Notes the page directory of every live process.
    pub fn remember_directories(&mut self) {
        let i = osviz_kernel::introspect::Introspector::of(&self.system);
        for p in i.processes(&self.system.machine) {
            self.dir_names
                .insert(p.pgdir, (format!("pid {} {}", p.pid, p.name), Some(p.pid)));
        }
    }

    fn mark(&mut self) {
        self.before = RegisterView::of(&self.system.machine);
    }

    pub fn step(&mut self) {
        self.mark();
        self.stop = self.system.machine.step().stop;
        self.remember_directories();
        self.running = false;
    }

    pub fn step_back(&mut self) {
        self.mark();
        self.running = false;
        match self.system.machine.step_back(1) {
            Ok(_) => self.stop = None,
            Err(e) => {
                self.stop = Some(StopReason::TripleFault {
                    vector: 0,
                    cause: e,
                })
            }
        }
    }

    /// Steps over a call: runs until the instruction after it.
    pub fn step_over(&mut self) {
        self.mark();
        let m = &mut self.system.machine;
        let eip = m.cpu.eip;
        let bytes: Vec<u8> = m
            .peek_virtual(eip, 15)
            .into_iter()
            .map(|b| b.unwrap_or(0))
            .collect();
        match osviz_machine::decode(&bytes) {
            Ok(i)
                if matches!(
                    i.op,
                    osviz_machine::Op::Call | osviz_machine::Op::CallIndirect
                ) =>
            {
                let next = eip + u32::from(i.len);
                m.add_breakpoint(next);
                let stop = m.run(FRAME_BUDGET * 100);
                m.remove_breakpoint(next);
                self.stop = (!matches!(stop, StopReason::Breakpoint { .. })).then_some(stop);
            }
            _ => self.stop = m.step().stop,
        }
        self.running = false;
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
        let stop = self.run_to_break(steps);
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
    pub fn who_changed(&mut self, pa: u32, len: u32) {
        self.mark();
        self.running = false;
        let m = &mut self.system.machine;
        let now = m.steps;
        let read = |m: &osviz_machine::Machine| m.mem.read(pa, len);
        let Some(earliest) = m.earliest_step() else {
            self.notice = Some("no history to search yet".into());
            return;
        };
        if m.seek(earliest).is_err() {
            self.notice = Some("the history cannot be replayed".into());
            return;
        }
        let mut last = None;
        let mut value = read(m);
        while m.steps < now {
            if m.step().stop.is_some() && m.stopped.is_some() {
                break;
            }
            let v = read(m);
            if v != value {
                last = Some(m.steps);
                value = v;
            }
        }
        self.notice = Some(match last {
            Some(step) => {
                let _ = m.seek(step - 1);
                format!("{pa:#010x} last changed at step {step}: this instruction wrote it")
            }
            None => {
                let _ = m.seek(now);
                format!("{pa:#010x} has not changed since step {earliest}")
            }
        });
    }

    /// "Who last changed this?" for what the student typed: a physical
    /// address in hex, or a kernel symbol (its dword).
    pub fn who_changed_text(&mut self, text: &str) {
        let t = text.trim();
        let hex = t.trim_start_matches("0x");
        let target = match u32::from_str_radix(hex, 16) {
            Ok(pa) if !hex.is_empty() => Some((pa, 1)),
            _ => self
                .system
                .kernel
                .symbol(t)
                .filter(|&v| v >= osviz_kernel::KERNBASE)
                .map(|v| (v - osviz_kernel::KERNBASE, 4)),
        };
        match target {
            Some((pa, len)) if (pa as usize) < self.system.machine.mem.len() => {
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

    /// Adjusts the full-speed budget after a frame whose running took `ms`.
    pub fn adapt(&mut self, ms: f64) {
        if SPEEDS[self.speed].1.is_some() || !self.running {
            return;
        }
        if ms < TARGET_MS * 0.7 {
            self.budget = (self.budget * 5 / 4).min(MAX_BUDGET);
        } else if ms > TARGET_MS * 1.3 {
            self.budget = (self.budget * 3 / 4).max(MIN_BUDGET);
        }
    }

    pub fn toggle_run(&mut self) {
        self.running = !self.running;
        if self.running {
            self.stop = None;
            self.carry = 0.0;
        }
    }

    pub fn reset(&mut self) {
        self.load_lesson(self.lesson.id);
    }

    pub fn load_lesson(&mut self, id: &str) {
        let (speed, dark, projector) = (self.speed, self.dark, self.projector);
        *self = Session::new(id);
        self.speed = speed;
        self.dark = dark;
        self.projector = projector;
    }

    /// Rebuilds the machine with the edited program.
    pub fn run_source(&mut self, source: String) {
        self.source = source;
        match boot(self.lesson, Some(&self.source)) {
            Ok(system) => {
                self.system = system;
                self.errors.clear();
                self.stop = None;
                self.running = false;
                self.mark();
            }
            Err(BootError::Assembly { errors, .. }) => self.errors = errors,
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

    /// Runs to the moment of question `i` and records the machine's answer.
    pub fn reveal(&mut self, i: usize) {
        let Some(q) = self.lesson.questions.get(i) else {
            return;
        };
        self.mark();
        self.running = false;
        let answer = match run_to(&mut self.system, q.moment, FRAME_BUDGET * 500) {
            Ok(events) => (q.answer)(&self.system, &events),
            Err(e) => e,
        };
        self.answers[i] = Some(answer);
    }

    pub fn type_keys(&mut self, text: &str) {
        for b in text.bytes() {
            self.system.machine.press_key(b);
        }
        if self.stop == Some(StopReason::Idle) {
            self.stop = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs at full speed, frame by frame, until the page stops.
    fn run_until_stopped(s: &mut Session) {
        s.running = true;
        s.speed = SPEEDS.len() - 1;
        while s.running {
            s.tick(0.016);
        }
    }

    /// The vectors the latest step trapped through.
    fn trapped(s: &Session) -> Vec<u8> {
        s.system
            .machine
            .last_events()
            .iter()
            .filter_map(|e| match e {
                osviz_machine::Event::TrapEntry { vector, .. } => Some(*vector),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_line_breakpoint_lands_on_that_line_and_clears() {
        let mut s = Session::new("memory-image");
        s.set_break("page fault");
        run_until_stopped(&mut s);
        let eip = s.system.machine.cpu.eip;
        let place =
            osviz_kernel::introspect::Introspector::of(&s.system).place(&s.system.machine, eip);
        let (file, line) = (place.file.unwrap(), place.line.unwrap());
        s.toggle_line_breakpoint(&file, line);
        assert_eq!(
            s.system.machine.breakpoints().collect::<Vec<_>>(),
            [eip],
            "{file}:{line}"
        );
        s.toggle_line_breakpoint(&file, line);
        assert_eq!(s.system.machine.breakpoints().count(), 0);
    }

    #[test]
    fn the_break_on_shortcut_cycles_through_every_kind_and_back_to_none() {
        let mut s = Session::new("memory-image");
        let mut seen = Vec::new();
        for _ in 0..BREAK_KINDS.len() {
            s.next_break();
            seen.push(s.break_on.map(|b| b.name));
        }
        let all: Vec<_> = BREAK_KINDS.iter().map(|b| Some(b.name)).collect();
        assert_eq!(seen, all);
        s.next_break();
        assert_eq!(s.break_on, None);
    }

    /// Breaking on a system call runs past the timer and the page faults
    /// (traps too, through other vectors) and stops at an `int 0x40`.
    #[test]
    fn break_on_system_call_skips_other_traps() {
        let mut s = Session::new("context-switch");
        s.set_break("trap or interrupt");
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
        s.set_break("system call (int 0x40)");
        for _ in 0..3 {
            run_until_stopped(&mut s);
            assert_eq!(trapped(&s), [0x40], "stopped at {:?}", s.stop);
        }
    }
}
