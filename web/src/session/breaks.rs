//! What stops a run: the break-on choice (an event kind, narrowed where a
//! kind alone would stop too often) and the student's breakpoints, kept by
//! source line and bound to addresses on every boot.

use osviz_machine::{Event, EventKind, Machine};
use osviz_view::{ExitReason, KernelView};
use serde::{Deserialize, Serialize};

/// One choice of the break-on control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BreakChoice {
    PageFault,
    TlbMiss,
    Trap,
    /// Only traps through the kernel's system-call vector.
    SystemCall,
    /// Only a CR3 write that switches from one process's address space to
    /// another's (not the kernel's own directory, not the same process again).
    ContextSwitch,
    IoRequest,
    Dma,
    Iret,
    /// The hypervisor's next exit of this reason, once it has logged it
    /// (only while a hypervisor runs the guest).
    VmExit(ExitReason),
}

impl BreakChoice {
    /// Every choice, in the control's order.
    pub const ALL: [BreakChoice; 8] = [
        BreakChoice::PageFault,
        BreakChoice::TlbMiss,
        BreakChoice::Trap,
        BreakChoice::SystemCall,
        BreakChoice::ContextSwitch,
        BreakChoice::IoRequest,
        BreakChoice::Dma,
        BreakChoice::Iret,
    ];

    /// Every choice: the machine's events, then the hypervisor's exits.
    pub fn every() -> Vec<BreakChoice> {
        BreakChoice::ALL
            .into_iter()
            .chain(ExitReason::ALL.into_iter().map(BreakChoice::VmExit))
            .collect()
    }

    /// Whether the choice needs a hypervisor to mean anything.
    pub fn is_vm_exit(self) -> bool {
        matches!(self, BreakChoice::VmExit(_))
    }

    /// The control's words for it.
    pub fn name(self) -> &'static str {
        match self {
            BreakChoice::PageFault => "page fault",
            BreakChoice::TlbMiss => "TLB miss",
            BreakChoice::Trap => "trap or interrupt",
            BreakChoice::SystemCall => "system call",
            BreakChoice::ContextSwitch => "context switch",
            BreakChoice::IoRequest => "I/O request",
            BreakChoice::Dma => "DMA transfer",
            BreakChoice::Iret => "return from trap (iret)",
            BreakChoice::VmExit(reason) => reason.label(),
        }
    }

    /// The event kind the machine breaks on for it (none for an exit: the
    /// hypervisor's counts are watched instead).
    pub fn kind(self) -> Option<EventKind> {
        Some(match self {
            BreakChoice::PageFault => EventKind::PageFault,
            BreakChoice::TlbMiss => EventKind::TlbMiss,
            BreakChoice::Trap | BreakChoice::SystemCall => EventKind::TrapEntry,
            BreakChoice::ContextSwitch => EventKind::Cr3Write,
            BreakChoice::IoRequest => EventKind::DiskRequest,
            BreakChoice::Dma => EventKind::Dma,
            BreakChoice::Iret => EventKind::Iret,
            BreakChoice::VmExit(_) => return None,
        })
    }

    /// The choice after this one in the control (`None` after the last).
    pub fn next(choice: Option<BreakChoice>) -> Option<BreakChoice> {
        match choice {
            None => Some(BreakChoice::ALL[0]),
            Some(c) => {
                let i = BreakChoice::ALL.iter().position(|k| *k == c)?;
                BreakChoice::ALL.get(i + 1).copied()
            }
        }
    }
}

/// A breakpoint as the student set it: on a source line. It is bound to an
/// address on every boot, so it survives Reset and "Run my program".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLine {
    pub file: String,
    pub line: usize,
}

/// A breakpoint, and the address it is bound to now (none when the line
/// has no code in the program as it is now).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakpoint {
    pub file: String,
    pub line: usize,
    pub addr: Option<u32>,
}

/// What a student typed to break at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BreakTarget {
    Line(SourceLine),
    /// A function, bound to its first line.
    Function(String),
}

impl BreakTarget {
    /// `file:line`, else a function's name.
    pub fn parse(text: &str) -> BreakTarget {
        let t = text.trim();
        if let Some((file, line)) = t.rsplit_once(':')
            && let Ok(line) = line.trim().parse::<usize>()
        {
            return BreakTarget::Line(SourceLine {
                file: file.trim().to_string(),
                line,
            });
        }
        BreakTarget::Function(t.to_string())
    }
}

/// The break-on choice and the breakpoints. The machine breaks on the
/// choice's event kind exactly while it is chosen (`set_choice` keeps the
/// two together), and on every address the breakpoints' lines have
/// (`bind`).
#[derive(Clone, Debug, Default)]
pub struct Breaks {
    choice: Option<BreakChoice>,
    /// Breaking on an exit: its count went up, and the run waits for the
    /// hypervisor to log it (then it stops, the exit's record written).
    exit_counted: bool,
    /// The page directory of the process last switched to, for breaking on
    /// a context switch; with the step it was known at.
    last_switch: Option<(u64, u32)>,
    lines: Vec<SourceLine>,
}

impl Breaks {
    pub fn choice(&self) -> Option<BreakChoice> {
        self.choice
    }

    /// Chooses what `run` stops on, telling the machine.
    pub fn set_choice(&mut self, m: &mut Machine, choice: Option<BreakChoice>) {
        if let Some(kind) = self.choice.take().and_then(BreakChoice::kind) {
            m.break_on(kind, false);
        }
        self.choice = choice;
        if let Some(kind) = choice.and_then(BreakChoice::kind) {
            m.break_on(kind, true);
        }
        self.last_switch = None;
        self.exit_counted = false;
    }

    /// The bytes the run watches for the choice: the hypervisor's count of
    /// the chosen exits, then, once it went up, its count of exits logged.
    pub fn watched(&self, view: &dyn KernelView) -> Option<(u32, u32)> {
        let Some(BreakChoice::VmExit(reason)) = self.choice else {
            return None;
        };
        if self.exit_counted {
            view.exit_log_count()
        } else {
            view.exit_counter(reason)
        }
    }

    /// A watch on `pa` fired: whether it is the choice's, and if so whether
    /// the run stops now (the exit counted and then logged).
    pub fn exit_watch_fired(&mut self, view: &dyn KernelView, pa: u32) -> Option<bool> {
        let (at, len) = self.watched(view)?;
        if !(at..at + len).contains(&pa) {
            return None;
        }
        self.exit_counted = !self.exit_counted;
        Some(!self.exit_counted)
    }

    /// Forgets the last switch seen (time moved).
    pub fn forget_switch(&mut self) {
        self.last_switch = None;
    }

    /// Forgets a switch seen later than `step` (time moved back past it).
    pub fn forget_switch_after(&mut self, step: u64) {
        if self.last_switch.is_some_and(|(at, _)| at > step) {
            self.last_switch = None;
        }
    }

    /// The page directory of the process that ran before the CR3 write of
    /// the latest step: known from the previous switch-break stop, else read
    /// back from the event log, else the one that ran when the log started
    /// (`at_log_start`: the first switch of a lesson switches away from it).
    fn previous_process_dir(
        &self,
        m: &Machine,
        kernel_dir: u32,
        at_log_start: Option<u32>,
    ) -> Option<u32> {
        if let Some((_, dir)) = self.last_switch {
            return Some(dir);
        }
        let latest = m.event_log().iter().rev().find_map(|s| match s.event {
            Event::Cr3Write { new, .. } if new != kernel_dir => Some(new),
            _ => None,
        });
        latest.or(at_log_start)
    }

    /// Whether the latest step's event is a stop the choice wants: past an
    /// event it does not want (a trap through another vector, a CR3 write
    /// that is no switch between processes), a run goes on.
    /// `at_log_start` is the directory of the process that ran when the
    /// event log last started empty.
    pub fn wanted(
        &mut self,
        m: &Machine,
        view: &dyn KernelView,
        at_log_start: Option<u32>,
    ) -> bool {
        let Some(choice) = self.choice else {
            return true;
        };
        match choice {
            BreakChoice::SystemCall => {
                let v = view.syscall_vector();
                m.last_events()
                    .iter()
                    .any(|e| matches!(e, Event::TrapEntry { vector, .. } if *vector == v))
            }
            BreakChoice::ContextSwitch => {
                let kernel = view.kernel_dir(m);
                let new = m.last_events().iter().find_map(|e| match e {
                    Event::Cr3Write { new, .. } if *new != kernel => Some(*new),
                    _ => None,
                });
                let Some(new) = new else {
                    return false;
                };
                let before = self.previous_process_dir(m, kernel, at_log_start);
                self.last_switch = Some((m.steps(), new));
                before.is_some_and(|d| d != new)
            }
            _ => true,
        }
    }

    /// The breakpoints' lines, as the student set them.
    pub fn lines(&self) -> &[SourceLine] {
        &self.lines
    }

    /// Replaces the breakpoints (a share link's); bind them afterwards.
    pub fn set_lines(&mut self, lines: Vec<SourceLine>) {
        self.lines = lines;
    }

    /// The breakpoints, with the addresses they are bound to now.
    pub fn bound(&self, view: &dyn KernelView) -> Vec<Breakpoint> {
        self.lines
            .iter()
            .map(|b| Breakpoint {
                file: b.file.clone(),
                line: b.line,
                addr: view.line_addresses(&b.file, b.line).first().map(|l| l.addr),
            })
            .collect()
    }

    /// Binds the breakpoints to the machine as it is now: at every address
    /// each line has (the kernel's, or each user program's).
    pub fn bind(&self, m: &mut Machine, view: &dyn KernelView) {
        let old: Vec<u32> = m.breakpoints().collect();
        for a in old {
            m.remove_breakpoint(a);
        }
        for l in self
            .lines
            .iter()
            .flat_map(|b| view.line_addresses(&b.file, b.line))
        {
            m.add_breakpoint(l.addr);
        }
    }

    /// Whether a stop at address breakpoint `eip` is one of the student's:
    /// a kernel line's, or a user program's line in a process that runs
    /// that program (the same user address in another program is other
    /// code). Addresses the page bound for itself count too.
    pub fn breakpoint_wanted(&self, m: &Machine, view: &dyn KernelView, eip: u32) -> bool {
        let mut places = self
            .lines
            .iter()
            .flat_map(|b| view.line_addresses(&b.file, b.line))
            .filter(|l| l.addr == eip)
            .peekable();
        if places.peek().is_none() {
            return true;
        }
        let running = view.current_program(m);
        places.any(|l| l.program.is_none() || l.program == running)
    }

    /// Sets or clears a breakpoint at a source line; says what it did.
    /// Bind afterwards.
    pub fn toggle_line(&mut self, view: &dyn KernelView, at: SourceLine) -> String {
        let SourceLine { file, line } = &at;
        if let Some(i) = self.lines.iter().position(|b| *b == at) {
            self.lines.remove(i);
            return format!("breakpoint cleared at {file}:{line}");
        }
        let places = view.line_addresses(file, *line);
        let said = match &places[..] {
            [] => return format!("{file}:{line} has no code to break at"),
            [one] => format!(
                "breakpoint set at {file}:{line} ({:#010x}{})",
                one.addr,
                one.program
                    .as_ref()
                    .map_or(String::new(), |p| format!(" in {p}"))
            ),
            many => format!(
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
            ),
        };
        self.lines.push(at);
        said
    }

    /// Sets a breakpoint at a source line (not a toggle: it stays if set).
    pub fn add_line(&mut self, view: &dyn KernelView, at: SourceLine) -> String {
        if self.lines.contains(&at) {
            return format!("a breakpoint is set at {}:{} already", at.file, at.line);
        }
        self.toggle_line(view, at)
    }

    /// Removes breakpoint `i` of the list; bind afterwards.
    pub fn remove(&mut self, i: usize) -> Option<SourceLine> {
        (i < self.lines.len()).then(|| self.lines.remove(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choices_cycle_in_order_and_end_with_none() {
        let mut seen = Vec::new();
        let mut c = BreakChoice::next(None);
        while let Some(k) = c {
            seen.push(k);
            c = BreakChoice::next(c);
        }
        assert_eq!(seen, BreakChoice::ALL);
    }

    #[test]
    fn typed_targets_are_lines_or_functions() {
        assert_eq!(
            BreakTarget::parse(" sysfile.c : 83 "),
            BreakTarget::Line(SourceLine {
                file: "sysfile.c".into(),
                line: 83
            })
        );
        assert_eq!(
            BreakTarget::parse("sys_write"),
            BreakTarget::Function("sys_write".into())
        );
        assert_eq!(
            BreakTarget::parse("a:b"),
            BreakTarget::Function("a:b".into())
        );
    }
}
