//! The "Physical frames" panel: every frame as a cell coloured by its owner.

use crate::focus::{Focus, Linked};
use osviz_kernel::introspect::FrameOwner;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FramesProps {
    pub frames: Vec<FrameOwner>,
    pub free: u32,
    /// The process the other panels show: its frames are outlined.
    pub shown_pid: Option<u32>,
    pub linked: Linked,
}

fn class_of(f: &FrameOwner) -> String {
    match f {
        FrameOwner::Free => "frame free".into(),
        FrameOwner::Kernel => "frame kernel".into(),
        FrameOwner::PageTable => "frame pt".into(),
        FrameOwner::Process { pid } => format!("frame p{}", pid % 8),
    }
}

fn owner_of(f: &FrameOwner) -> String {
    match f {
        FrameOwner::Free => "free".into(),
        FrameOwner::Kernel => "kernel".into(),
        FrameOwner::PageTable => "pt".into(),
        FrameOwner::Process { pid } => pid.to_string(),
    }
}

fn title_of(i: usize, f: &FrameOwner) -> String {
    let who = match f {
        FrameOwner::Free => "free".to_string(),
        FrameOwner::Kernel => "kernel".to_string(),
        FrameOwner::PageTable => "page table".to_string(),
        FrameOwner::Process { pid } => format!("process {pid}"),
    };
    format!("frame {i:#x} ({:#010x}): {who}", i << 12)
}

#[function_component(FramesPanel)]
pub fn frames_panel(props: &FramesProps) -> Html {
    let linked = &props.linked;
    let cells = props.frames.iter().enumerate().map(|(i, f)| {
        let frame = Focus::Frame(i as u32);
        let owner_pid = match f {
            FrameOwner::Process { pid } => Some(*pid),
            _ => None,
        };
        let mine = owner_pid.is_some() && owner_pid == props.shown_pid;
        let mut these = vec![frame];
        these.extend(owner_pid.map(Focus::Pid));
        let class = classes!(
            class_of(f),
            (linked.pinned == Some(frame)).then_some("selected"),
            linked.class(&these),
            mine.then_some("of-selected")
        );
        html! {
            <span class={class} title={title_of(i, f)} data-owner={owner_of(f)}
                data-frame={i.to_string()} data-focus={frame.attr()}></span>
        }
    });
    html! {
        <section class="panel frames" aria-label="Physical frames">
            <h2>{ "Physical frames" }</h2>
            <div class="legend">
                <span class="frame kernel"></span>{" kernel "}
                <span class="frame pt"></span>{" page table "}
                <span class="frame p1"></span>{" process "}
                <span class="frame free"></span>{ format!(" free ({})", props.free) }
                <span class="hint">{ " · point at a frame to find it elsewhere, click to pin it" }</span>
            </div>
            <div class="frame-grid">{ for cells }</div>
        </section>
    }
}
