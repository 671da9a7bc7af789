//! The "Physical frames" panel: every frame as a cell coloured by its owner.
//! A small memory (the teaching kernel's 1,024 frames) is a grid of cells;
//! a large one (xv6's 57,344) is one pixel per frame on a canvas, with the
//! frame under the pointer found from the pointer's position.

use crate::focus::{Focus, Linked};
use osviz_kernel::introspect::FrameOwner;
use std::rc::Rc;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct FramesProps {
    /// Shared, so an unchanged list is compared by pointer, not copied.
    pub frames: Rc<[FrameOwner]>,
    pub free: u32,
    /// The process the other panels show: its frames are outlined.
    pub shown_pid: Option<u32>,
    /// Whether paging is on: during the boot the kernel has not taken
    /// charge of memory, and the owners read from its records mean nothing.
    pub paging: bool,
    pub linked: Linked,
    /// Pointing at a frame on the canvas (the grid's cells are found by
    /// the page's own pointer handler).
    pub on_hover: Callback<Option<Focus>>,
}

/// Above this many frames the panel draws a canvas instead of cells.
const CELLS_UP_TO: usize = 4096;
/// Frames per canvas row.
const CANVAS_COLUMNS: usize = 256;

/// The cells' colours (as in style.css), for the canvas.
const KERNEL: [u8; 3] = [0x5a, 0x6b, 0x8c];
const PAGE_TABLE: [u8; 3] = [0xb0, 0x7c, 0x1e];
const FREE: [u8; 3] = [0xe9, 0xeb, 0xef];
const PROCESS: [[u8; 3]; 8] = [
    [0x2f, 0x7d, 0x4a],
    [0xc2, 0x41, 0x0c],
    [0x0e, 0x74, 0x90],
    [0x7c, 0x3a, 0xed],
    [0xbe, 0x18, 0x5d],
    [0x4d, 0x7c, 0x0f],
    [0xb4, 0x53, 0x09],
    [0x1d, 0x4e, 0xd8],
];
const MARK: [u8; 3] = [0xff, 0xd4, 0x00];
/// Free frames of the row the close-up shows, so the overview says where
/// the close-up is.
const BAND: [u8; 3] = [0xf6, 0xdf, 0x8a];

fn colour(f: &FrameOwner) -> [u8; 3] {
    match f {
        FrameOwner::Free => FREE,
        FrameOwner::Kernel => KERNEL,
        FrameOwner::PageTable => PAGE_TABLE,
        FrameOwner::Process { pid } => PROCESS[*pid as usize % 8],
    }
}

/// One pixel per frame, the linked frame marked and the close-up's row
/// (`band`) tinted where it is free.
fn draw(canvas: &HtmlCanvasElement, frames: &[FrameOwner], marked: Option<u32>, band: usize) {
    let rows = frames.len().div_ceil(CANVAS_COLUMNS);
    canvas.set_width(CANVAS_COLUMNS as u32);
    canvas.set_height(rows as u32);
    let mut rgba = vec![0u8; CANVAS_COLUMNS * rows * 4];
    for (i, f) in frames.iter().enumerate() {
        let c = if marked == Some(i as u32) {
            MARK
        } else if i / CANVAS_COLUMNS == band && *f == FrameOwner::Free {
            BAND
        } else {
            colour(f)
        };
        rgba[i * 4..i * 4 + 3].copy_from_slice(&c);
        rgba[i * 4 + 3] = 255;
    }
    let Ok(Some(ctx)) = canvas.get_context("2d") else {
        return;
    };
    let Ok(ctx) = ctx.dyn_into::<CanvasRenderingContext2d>() else {
        return;
    };
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&rgba),
        CANVAS_COLUMNS as u32,
        rows as u32,
    ) {
        let _ = ctx.put_image_data(&image, 0.0, 0.0);
    }
}

#[derive(Debug, Properties, PartialEq)]
struct CanvasProps {
    frames: Rc<[FrameOwner]>,
    marked: Option<u32>,
    /// The row (MiB) the close-up below shows.
    band: usize,
    on_hover: Callback<Option<Focus>>,
}

#[function_component(FrameCanvas)]
fn frame_canvas(props: &CanvasProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let frames = props.frames.clone();
        let marked = props.marked;
        use_effect_with(
            (frames, marked, props.band),
            move |(frames, marked, band)| {
                if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                    draw(&c, frames, *marked, *band);
                }
            },
        );
    }
    let n = props.frames.len();
    let owners = props.frames.clone();
    let on_hover = props.on_hover.clone();
    // The frame under the pointer: the canvas is scaled to the panel's
    // width, so the pointer's offset is divided by the drawn cell size. The
    // page's click handler pins what `data-focus` names, so it is set here.
    let onmousemove = Callback::from(move |e: MouseEvent| {
        let Some(el) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlCanvasElement>().ok())
        else {
            return;
        };
        let scale = f64::from(el.client_width()) / CANVAS_COLUMNS as f64;
        if scale <= 0.0 {
            return;
        }
        let col = (f64::from(e.offset_x()) / scale) as usize;
        let row = (f64::from(e.offset_y()) / scale) as usize;
        let i = row * CANVAS_COLUMNS + col.min(CANVAS_COLUMNS - 1);
        if i >= n {
            return;
        }
        let frame = Focus::Frame(i as u32);
        let _ = el.set_attribute("data-focus", &frame.attr());
        el.set_title(&title_of(i, &owners[i]));
        on_hover.emit(Some(frame));
    });
    let rows = n.div_ceil(CANVAS_COLUMNS);
    html! {
        <canvas ref={canvas} class="frame-canvas" onmousemove={onmousemove}
            aria-label={format!("{n} frames, {CANVAS_COLUMNS} to a row, one pixel each")}
            style={format!("aspect-ratio: {CANVAS_COLUMNS} / {rows}")}></canvas>
    }
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

/// How many frames each kind of owner has, for the legend.
fn counts(frames: &[FrameOwner]) -> (usize, usize, usize) {
    let kernel = frames.iter().filter(|f| **f == FrameOwner::Kernel).count();
    let tables = frames
        .iter()
        .filter(|f| **f == FrameOwner::PageTable)
        .count();
    let process = frames
        .iter()
        .filter(|f| matches!(f, FrameOwner::Process { .. }))
        .count();
    (kernel, tables, process)
}

/// One frame as a cell: coloured by its owner, outlined when it is the
/// shown process's, marked when linked, and found by the page's pointer
/// handler through `data-focus`.
fn cell(i: usize, f: &FrameOwner, props: &FramesProps) -> Html {
    let linked = &props.linked;
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
}

/// Frames in a close-up: one MiB, a row of the overview.
const CLOSE_UP: usize = CANVAS_COLUMNS;

/// Which MiB of a large memory the close-up shows: the one of the frame
/// pointed at or pinned, else the one holding most of the shown process's
/// frames, else the first with any process's frame (xv6 hands out frames
/// from the top of memory down, so a process's frames sit together).
fn close_up_mib(props: &FramesProps) -> usize {
    if let Some(Focus::Frame(n)) = props.linked.current() {
        return n as usize / CLOSE_UP;
    }
    let mibs = props.frames.len().div_ceil(CLOSE_UP);
    let count = |pid: Option<u32>| {
        let mut per = vec![0usize; mibs];
        for (i, f) in props.frames.iter().enumerate() {
            if let FrameOwner::Process { pid: p } = f
                && pid.is_none_or(|want| want == *p)
            {
                per[i / CLOSE_UP] += 1;
            }
        }
        per
    };
    let most = |per: Vec<usize>| {
        per.iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .max_by_key(|(i, n)| (**n, *i))
            .map(|(i, _)| i)
    };
    props
        .shown_pid
        .and_then(|pid| most(count(Some(pid))))
        .or_else(|| most(count(None)))
        .unwrap_or(mibs.saturating_sub(1))
}

#[function_component(FramesPanel)]
pub fn frames_panel(props: &FramesProps) -> Html {
    let linked = &props.linked;
    if props.frames.len() > CELLS_UP_TO {
        let marked = linked.current().and_then(|f| match f {
            Focus::Frame(n) => Some(n),
            _ => None,
        });
        let (kernel, tables, process) = counts(&props.frames);
        let mib = close_up_mib(props);
        let what = match (linked.current(), props.shown_pid) {
            (Some(Focus::Frame(_)), _) => "the frame pointed at".to_string(),
            (_, Some(pid)) => format!("where most of pid {pid}'s frames are"),
            _ => "where processes' frames are".to_string(),
        };
        let close_up = (mib * CLOSE_UP..((mib + 1) * CLOSE_UP).min(props.frames.len()))
            .map(|i| cell(i, &props.frames[i], props));
        return html! {
            <section class="panel frames" aria-label="Physical frames">
                <h2>{ format!("Physical frames · {} ({} MiB)", props.frames.len(), props.frames.len() / 256) }</h2>
                if !props.paging { { boot_note() } }
                <div class="legend">
                    <span class="frame kernel"></span>{ format!(" kernel ({kernel}) ") }
                    <span class="frame pt"></span>{ format!(" page table ({tables}) ") }
                    <span class="frame p1"></span>{ format!(" process ({process}) ") }
                    <span class="frame free"></span>{ format!(" free ({})", props.free) }
                </div>
                // The close-up first: its cells are what a student reads and
                // points at; the overview below says where in memory it is.
                <h3 class="close-up-title">{ format!(
                    "Close-up: MiB {mib}, frames {first:#x}–{last:#x} ({what})",
                    first = mib * CLOSE_UP,
                    last = ((mib + 1) * CLOSE_UP).min(props.frames.len()) - 1,
                ) }</h3>
                <div class="frame-grid close-up" aria-label="Close-up">{ for close_up }</div>
                <h3 class="close-up-title overview-title">{ "All of memory: one pixel a frame, a row a MiB (the close-up's row tinted); point at one for its MiB, click to pin it" }</h3>
                <FrameCanvas frames={props.frames.clone()} marked={marked} band={mib} on_hover={props.on_hover.clone()} />
            </section>
        };
    }
    let cells = props
        .frames
        .iter()
        .enumerate()
        .map(|(i, f)| cell(i, f, props));
    html! {
        <section class="panel frames" aria-label="Physical frames">
            <h2>{ "Physical frames" }</h2>
            if !props.paging { { boot_note() } }
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

/// What the frames mean while paging is off: the kernel has not yet listed
/// its free memory nor made any page table, so the colours below are not
/// its records yet.
fn boot_note() -> Html {
    html! {
        <p class="summary" role="note">{ "paging is off (the boot): the kernel has not taken charge of memory yet, so its records of frames (the free list, the page tables) are still empty; the colours say nothing until it has" }</p>
    }
}
