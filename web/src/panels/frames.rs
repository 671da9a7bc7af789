//! The "Physical frames" panel: every frame as a cell coloured by its owner.

use osviz_kernel::introspect::FrameOwner;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FramesProps {
    pub frames: Vec<FrameOwner>,
    pub free: u32,
    /// The selected frame, and the selected process (whose frames are marked).
    pub selected_frame: Option<u32>,
    pub selected_pid: Option<u32>,
    pub on_select: Callback<u32>,
}

fn class_of(f: &FrameOwner) -> String {
    match f {
        FrameOwner::Free => "frame free".into(),
        FrameOwner::Kernel => "frame kernel".into(),
        FrameOwner::PageTable => "frame pt".into(),
        FrameOwner::Process { pid } => format!("frame p{}", pid % 8),
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
    let cells = props.frames.iter().enumerate().map(|(i, f)| {
        let owner = match f {
            FrameOwner::Process { pid } => pid.to_string(),
            FrameOwner::Free => "free".into(),
            FrameOwner::Kernel => "kernel".into(),
            FrameOwner::PageTable => "pt".into(),
        };
        let mine = matches!(f, FrameOwner::Process { pid } if Some(*pid) == props.selected_pid);
        let class = classes!(
            class_of(f),
            (props.selected_frame == Some(i as u32)).then_some("selected"),
            mine.then_some("of-selected")
        );
        let onclick = props.on_select.reform(move |_: MouseEvent| i as u32);
        html! { <span class={class} title={title_of(i, f)} data-owner={owner} data-frame={i.to_string()} onclick={onclick}></span> }
    });
    html! {
        <section class="panel frames" aria-label="Physical frames">
            <h2>{ "Physical frames" }</h2>
            <div class="legend">
                <span class="frame kernel"></span>{" kernel "}
                <span class="frame pt"></span>{" page table "}
                <span class="frame p1"></span>{" process "}
                <span class="frame free"></span>{ format!(" free ({})", props.free) }
            </div>
            <div class="frame-grid">{ for cells }</div>
        </section>
    }
}
