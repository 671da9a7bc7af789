//! The status line: whether the machine runs, why it stopped, where it is.

use crate::session::{BreakChoice, Session};
use osviz_machine::StopReason;

/// Why the machine is not running (or how fast it runs), in words.
pub fn describe(session: &Session) -> String {
    if session.idle() {
        return "Idle: every process waits for you to type (running slowly until you do)"
            .to_string();
    }
    if session.running() {
        return format!("Running at {}", session.run_control().speed_name());
    }
    match &session.stop() {
        None | Some(StopReason::InstructionLimit) => "Paused".to_string(),
        Some(StopReason::Idle) => "Waiting for keyboard input".to_string(),
        Some(StopReason::Watch { .. })
            if session.break_choice().is_some_and(BreakChoice::is_vm_exit) =>
        {
            format!(
                "Stopped at a VM exit ({}): the hypervisor has just logged it",
                session.break_choice().map_or("", BreakChoice::name)
            )
        }
        Some(StopReason::Event { kind }) => match session.break_choice() {
            Some(b) => format!("Stopped at a {}", b.name()),
            None => format!("Stopped at a {}", kind.label()),
        },
        Some(stop) => {
            let text = stop.to_string();
            let mut chars = text.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// The whole status line.
pub fn status_line(session: &Session) -> String {
    let m = session.guest().machine();
    format!(
        "{} · step {} · {} instructions retired",
        describe(session),
        m.steps(),
        m.retired()
    )
}

/// The break-on control's words for a choice: the system call names the
/// running kernel's own vector (`int 0x40` on both kernels osviz runs).
pub fn break_label(session: &Session, choice: BreakChoice) -> String {
    match choice {
        BreakChoice::SystemCall => format!(
            "break on: {} (int {:#x})",
            choice.name(),
            session.guest().view().syscall_vector()
        ),
        BreakChoice::VmExit(_) => format!("break on: VM exit, {}", choice.name()),
        _ => format!("break on: {}", choice.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    #[test]
    fn a_break_is_told_in_course_words() {
        let mut s = Session::new("demand-paging");
        s.apply(Action::SetBreak(Some(
            crate::session::BreakChoice::PageFault,
        )));
        s.apply(Action::ToggleRun);
        while s.running() {
            s.tick_for_test(0.016);
        }
        assert_eq!(describe(&s), "Stopped at a page fault");
        assert!(!status_line(&s).contains('_'));
    }
}
