//! The IDT panel's view: the latest dispatch through the IDT, stage by
//! stage (vector, gate, privilege check, stack switch, handler, iret).

use crate::session::Session;
use osviz_machine::{Event, TrapKind};
use osviz_view::TrapCause;
use serde::{Deserialize, Serialize};

/// One trap's way through the IDT, as plain text per stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    pub vector: u8,
    /// (stage name, what happened there), in order.
    pub stages: Vec<(String, String)>,
    /// Whether it happened in the latest step.
    pub live: bool,
}

fn source_text(source: TrapKind) -> &'static str {
    match source {
        TrapKind::Software => "int n",
        TrapKind::Exception => "exception",
        TrapKind::External => "device interrupt",
    }
}

/// The latest dispatch, with the `iret` that ended it once it has.
pub fn dispatch(session: &Session) -> Option<Dispatch> {
    let m = session.guest().machine();
    let i = session.guest().view();
    let newest_first = m
        .last_events()
        .iter()
        .rev()
        .map(|e| (m.steps(), e))
        .chain(m.event_log().iter().rev().map(|s| (s.step, &s.event)));
    let mut iret = None;
    for (step, e) in newest_first {
        match e {
            Event::Iret {
                cpl_before,
                cpl_after,
                eip,
                esp,
            } if iret.is_none() => {
                iret = Some(format!(
                    "ring {cpl_before} → {cpl_after}: popped EIP {eip:08x}, ESP {esp:08x} (step {step})"
                ));
            }
            Event::TrapEntry {
                vector,
                source,
                cpl_before,
                cpl_after,
                gate_dpl,
                interrupt_gate,
                stack_switch,
                pushed,
                handler,
                ..
            } => {
                let name = i.vector_name(*vector).unwrap_or("unnamed vector");
                // A device's interrupt names the device the board routes
                // the vector from.
                let told = match (source, i.trap_cause_of(m, *vector)) {
                    (
                        TrapKind::External,
                        TrapCause::DeviceInterrupt {
                            device,
                            line: Some(line),
                            ..
                        },
                    ) => format!("device interrupt: the {} on IRQ {line}", device.words()),
                    (TrapKind::External, TrapCause::DeviceInterrupt { device, .. }) => {
                        format!("device interrupt: the {}", device.words())
                    }
                    _ => source_text(*source).to_string(),
                };
                let sym = i.place(m, *handler).symbol.unwrap_or_default();
                let gate = if *interrupt_gate {
                    "interrupt gate (IF cleared)"
                } else {
                    "trap gate (IF kept)"
                };
                let check = match source {
                    TrapKind::Software => format!(
                        "int from CPL {cpl_before} needs CPL ≤ gate DPL {gate_dpl}: allowed"
                    ),
                    _ => format!(
                        "{}: no DPL check for exceptions and device interrupts",
                        source_text(*source)
                    ),
                };
                let pushed = pushed
                    .iter()
                    .map(|p| format!("{:?}", p.what))
                    .collect::<Vec<_>>()
                    .join(", ");
                let switch = match stack_switch {
                    Some(sw) => format!(
                        "ring {cpl_before} → ring {cpl_after}: stack switch to ESP0 {:08x} from the TSS; pushed {pushed}",
                        sw.new_esp
                    ),
                    None => format!(
                        "ring {cpl_before} → ring {cpl_after}: same stack, no switch; pushed {pushed}"
                    ),
                };
                let stages = vec![
                    (
                        "vector",
                        format!("{vector:#04x} {name} ({told}, step {step})"),
                    ),
                    ("gate", format!("{gate}, DPL {gate_dpl}")),
                    ("privilege check", check),
                    ("stack switch", switch),
                    ("handler", format!("{sym} at {handler:08x}")),
                    (
                        "iret",
                        iret.unwrap_or_else(|| "not yet: the handler is running".into()),
                    ),
                ];
                return Some(Dispatch {
                    vector: *vector,
                    stages: stages
                        .into_iter()
                        .map(|(stage, what)| (stage.to_string(), what))
                        .collect(),
                    live: step == m.steps(),
                });
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    #[test]
    fn a_system_call_is_told_stage_by_stage() {
        let mut s = Session::new("system-call");
        assert_eq!(
            dispatch(&s),
            None,
            "nothing dispatched since the lesson's start"
        );
        s.apply(Action::Reveal(0));
        let d = dispatch(&s).unwrap();
        assert_eq!(d.vector, 0x40);
        assert!(d.live);
        let text = |stage: &str| {
            d.stages
                .iter()
                .find(|(n, _)| *n == stage)
                .unwrap()
                .1
                .clone()
        };
        assert!(
            text("vector").contains("system call (int n"),
            "{}",
            text("vector")
        );
        assert!(text("privilege check").contains("DPL 3: allowed"));
        assert!(text("stack switch").contains("ESP0"));
        assert!(text("iret").starts_with("not yet"));
    }

    /// A device's interrupt is told with the device the board routes its
    /// vector from.
    #[test]
    fn a_device_interrupt_names_its_device() {
        let mut s = Session::new("blocking-io");
        s.apply(Action::SetBreak(Some(crate::session::BreakChoice::Trap)));
        for _ in 0..200 {
            crate::session::tests::run_until_stopped(&mut s);
            let Some(d) = dispatch(&s) else { continue };
            let vector = &d.stages[0].1;
            if vector.contains("disk") {
                assert!(
                    vector.contains("device interrupt: the disk on IRQ 14"),
                    "{vector}"
                );
                return;
            }
        }
        panic!("no disk interrupt");
    }
}
