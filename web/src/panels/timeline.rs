//! The "Timeline" panel: which process ran when, and why it stopped; and
//! each disk request with its DMA transfer and interrupt.

use osviz_machine::{Event, Stamped};
use yew::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub from: u64,
    pub to: u64,
    pub who: String,
    pub why: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IoStory {
    pub requested: u64,
    pub dma: Option<u64>,
    pub interrupt: Option<u64>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct TimelineView {
    pub slices: Vec<Slice>,
    pub io: Vec<IoStory>,
}

fn reason(vector: u8) -> &'static str {
    match vector {
        32 => "timer interrupt",
        0x40 => "system call",
        14 => "page fault",
        13 => "protection fault",
        0 => "divide error",
        33 => "keyboard interrupt",
        46 => "disk interrupt",
        _ => "trap",
    }
}

/// Builds the timeline from the event log: a CR3 write to a process's page
/// directory starts its slice; the trap that took it into the kernel before
/// the scheduler's next CR3 write is why the slice ended.
pub fn timeline(
    events: &[Stamped],
    owner: impl Fn(u32) -> Option<String>,
    kernel_dir: u32,
) -> TimelineView {
    let mut view = TimelineView::default();
    let mut open: Option<(u64, String)> = None;
    let mut last_trap: Option<u8> = None;
    for s in events {
        match &s.event {
            Event::Cr3Write { new, .. } if *new == kernel_dir => {
                if let Some((from, who)) = open.take() {
                    let why = last_trap.map_or("switched out", reason).to_string();
                    view.slices.push(Slice {
                        from,
                        to: s.step,
                        who,
                        why,
                    });
                }
            }
            Event::Cr3Write { new, .. } => {
                open = Some((
                    s.step,
                    owner(*new).unwrap_or_else(|| format!("directory {new:#x}")),
                ));
                last_trap = None;
            }
            Event::TrapEntry {
                vector,
                cpl_before: 3,
                ..
            } => last_trap = Some(*vector),
            Event::DiskRequest { block, addr, .. } => view.io.push(IoStory {
                requested: s.step,
                dma: None,
                interrupt: None,
                text: format!("block {block} into {addr:#x}"),
            }),
            Event::Dma { .. } => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.dma.is_none()) {
                    io.dma = Some(s.step);
                }
            }
            Event::IrqRaised { irq: 14, .. } => {
                if let Some(io) = view.io.iter_mut().rev().find(|i| i.interrupt.is_none()) {
                    io.interrupt = Some(s.step);
                }
            }
            _ => {}
        }
    }
    if let Some((from, who)) = open {
        view.slices.push(Slice {
            from,
            to: u64::MAX,
            who,
            why: "running now".into(),
        });
    }
    let keep = view.slices.len().saturating_sub(12);
    view.slices.drain(..keep);
    view
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub view: TimelineView,
}

#[function_component(TimelinePanel)]
pub fn timeline_panel(props: &TimelineProps) -> Html {
    let v = &props.view;
    let slices = v.slices.iter().rev().map(|s| {
        let to = if s.to == u64::MAX {
            "now".to_string()
        } else {
            s.to.to_string()
        };
        html! {
            <li class="slice">
                <span class="steps">{ format!("{}–{}", s.from, to) }</span>
                <span class="who">{ &s.who }</span>
                <span class="why">{ format!("stopped: {}", s.why) }</span>
            </li>
        }
    });
    let io = v.io.iter().rev().take(6).map(|i| {
        let at = |s: Option<u64>| s.map_or("…".to_string(), |s| s.to_string());
        html! {
            <li class="io">{ format!("I/O {}: request @{} → DMA @{} → interrupt @{} → wake-up", i.text, i.requested, at(i.dma), at(i.interrupt)) }</li>
        }
    });
    html! {
        <section class="panel timeline" aria-label="Timeline">
            <h2>{ "Timeline" }</h2>
            if v.slices.is_empty() && v.io.is_empty() {
                <p class="empty">{ "nothing has run yet" }</p>
            }
            <ol class="slices">{ for slices }</ol>
            if !v.io.is_empty() {
                <ol class="ios">{ for io }</ol>
            }
        </section>
    }
}
