//! The top-level component: owns the session, runs it frame by frame, and
//! hands each panel plain data read off the machine and the kernel.

use crate::focus::Focus;
use crate::panels::code::{CodePanel, CodeView};
use crate::panels::console::ConsolePanel;
use crate::panels::events::{EventLine, EventsPanel, OVERSCAN, VISIBLE_ROWS};
use crate::panels::frames::FramesPanel;
use crate::panels::idt::{Dispatch, IdtPanel, vector_name};
use crate::panels::kernel_stack::KernelStackPanel;
use crate::panels::lesson::LessonPanel;
use crate::panels::memory_image::{MemoryImagePanel, PageCell, Region};
use crate::panels::page_walk::PageWalkPanel;
use crate::panels::processes::ProcessesPanel;
use crate::panels::registers::{RegisterView, RegistersPanel};
use crate::panels::timeline::{TimelinePanel, timeline};
use crate::panels::tlb::TlbPanel;
use crate::session::{SPEEDS, Session};
use gloo::timers::callback::Interval;
use osviz_kernel::introspect::{Introspector, ProcessView};
use osviz_kernel::{KERNBASE, source_file};
use osviz_machine::{Event, StopReason};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Milliseconds between animation ticks while running.
const TICK_MS: u32 = 16;

fn describe(session: &Session) -> String {
    if session.running {
        return format!("Running at {}", SPEEDS[session.speed].0);
    }
    match &session.stop {
        None => "Paused".to_string(),
        Some(StopReason::InstructionLimit) => "Paused".to_string(),
        Some(StopReason::Idle) => "Waiting for keyboard input".to_string(),
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

fn file_text(session: &Session, file: &str) -> Option<String> {
    let first = format!("{}.asm", session.lesson.programs[0].name);
    if file == first {
        return Some(session.source.clone());
    }
    if let Some(p) = session
        .lesson
        .programs
        .iter()
        .find(|p| format!("{}.asm", p.name) == file)
    {
        return Some(p.source.to_string());
    }
    source_file(file)
}

fn code_view(session: &Session) -> CodeView {
    let m = &session.system.machine;
    let eip = m.cpu.eip;
    // Before paging is on, the kernel runs at its physical addresses.
    let linked = if !m.cpu.paging() && eip < KERNBASE {
        eip + KERNBASE
    } else {
        eip
    };
    let place = Introspector::of(&session.system).place(m, linked);
    let file = place.file.clone().unwrap_or_default();
    let current = place.line.unwrap_or(0);
    let lines = file_text(session, &file)
        .map(|text| {
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_string()))
                .skip(current.saturating_sub(8))
                .take(16)
                .collect()
        })
        .unwrap_or_default();
    let window: Vec<u8> = m
        .peek_virtual(eip, 15)
        .into_iter()
        .map(|b| b.unwrap_or(0))
        .collect();
    let len = osviz_machine::decode(&window).map_or(1, |i| usize::from(i.len));
    let bytes = window[..len]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    // The next few instructions from EIP, disassembled.
    let mut disassembly = Vec::new();
    let mut at = eip;
    for _ in 0..6 {
        let w: Vec<u8> = m
            .peek_virtual(at, 15)
            .into_iter()
            .map(|b| b.unwrap_or(0))
            .collect();
        match osviz_machine::decode(&w) {
            Ok(i) => {
                disassembly.push((at, i.disassemble(at)));
                at = at.wrapping_add(u32::from(i.len));
            }
            Err(e) => {
                disassembly.push((at, format!("({e})")));
                break;
            }
        }
    }
    let breakpoint_lines = m
        .breakpoints()
        .filter_map(|b| {
            let p = Introspector::of(&session.system).place(m, b);
            (p.file.as_deref() == Some(file.as_str()))
                .then_some(p.line)
                .flatten()
        })
        .collect();
    CodeView {
        file,
        lines,
        current,
        breakpoint_lines,
        place: match &place.symbol {
            Some(s) if place.offset == 0 => s.clone(),
            Some(s) => format!("{s}+{}", place.offset),
            None => "no symbol".into(),
        },
        eip,
        bytes,
        disassembly,
        ring: m.cpu.cpl(),
    }
}

/// The address the latest step's instruction touched: the faulting one if
/// it faulted, else its first translated access; EIP when it touched none.
fn latest_access(session: &Session) -> (u32, &'static str) {
    let m = &session.system.machine;
    let events = m.last_events();
    if let Some(linear) = events.iter().find_map(|e| match e {
        Event::PageFault { linear, .. } => Some(*linear),
        _ => None,
    }) {
        return (linear, "faulting access");
    }
    for e in events {
        match e {
            Event::PageWalk { linear, .. } => return (*linear, "latest access"),
            Event::TlbHit { page, .. } | Event::TlbMiss { page } => {
                return (page << 12, "latest access (page)");
            }
            _ => {}
        }
    }
    (m.cpu.eip, "EIP")
}

fn event_text(e: &Event) -> String {
    match e {
        Event::PageWalk { linear, frame, .. } => match frame {
            Some(f) => format!("walk {linear:08x} → frame {f:#x}"),
            None => format!("walk {linear:08x} stopped: not present"),
        },
        Event::TlbHit { page, slot, .. } => format!("TLB hit page {page:#x} slot {slot}"),
        Event::TlbMiss { page } => format!("TLB miss page {page:#x}"),
        Event::TlbFill {
            page, frame, slot, ..
        } => format!("TLB fill page {page:#x} → frame {frame:#x} slot {slot}"),
        Event::TlbEvict { page, slot, .. } => format!("TLB evict page {page:#x} slot {slot}"),
        Event::TlbFlush {
            reason, dropped, ..
        } => format!("TLB flush ({reason:?}), {dropped} dropped"),
        Event::PageFault {
            linear,
            error_code,
            eip,
        } => format!("#PF at {linear:08x}, error {error_code:#x}, eip {eip:08x}"),
        Event::TrapEntry {
            vector,
            source,
            cpl_before,
            cpl_after,
            ..
        } => format!("trap {vector:#x} ({source:?}) ring {cpl_before} → {cpl_after}"),
        Event::DoubleFault { first, second } => format!("double fault ({first} then {second})"),
        Event::TripleFault { vector } => format!("triple fault (vector {vector})"),
        Event::Iret {
            cpl_before,
            cpl_after,
            eip,
            ..
        } => format!("iret ring {cpl_before} → {cpl_after} to {eip:08x}"),
        Event::Cr0Write { new, .. } => format!("CR0 ← {new:08x}"),
        Event::Cr3Write { new, .. } => format!("CR3 ← {new:08x}"),
        Event::PortOut { port, value, .. } => format!("out {port:#x} ← {value:#x}"),
        Event::PortIn { port, value, .. } => format!("in {port:#x} → {value:#x}"),
        Event::DiskRequest { block, addr, .. } => {
            format!("disk request block {block} → {addr:08x}")
        }
        Event::Dma {
            block, addr, len, ..
        } => format!("DMA block {block}: {len} bytes at {addr:08x}"),
        Event::IrqRaised { irq, vector } => format!("IRQ {irq} raised (vector {vector})"),
        Event::KeyInput { byte } => format!("key {:?}", char::from(*byte)),
        Event::Halt { eip } => format!("hlt at {eip:08x}"),
        Event::InvalidOpcode { eip, message } => format!("invalid opcode at {eip:08x}: {message}"),
    }
}

/// What an event names, for linking it to the other panels.
fn event_links(e: &Event) -> Vec<Focus> {
    match e {
        Event::TrapEntry { vector, .. } => vec![Focus::Vector(*vector)],
        Event::DoubleFault { .. } => vec![Focus::Vector(8)],
        Event::PageFault { linear, .. } => vec![Focus::Page(linear >> 12)],
        Event::PageWalk { linear, frame, .. } => {
            let mut v = vec![Focus::Page(linear >> 12)];
            v.extend(frame.map(Focus::Frame));
            v
        }
        Event::TlbHit { page, frame, .. } | Event::TlbFill { page, frame, .. } => {
            vec![Focus::Page(*page), Focus::Frame(*frame)]
        }
        Event::TlbMiss { page } | Event::TlbEvict { page, .. } => vec![Focus::Page(*page)],
        Event::Cr3Write { new, .. } => vec![Focus::Frame(new >> 12)],
        Event::DiskRequest { addr, .. } | Event::Dma { addr, .. } => vec![Focus::Frame(addr >> 12)],
        Event::IrqRaised { vector, .. } => vec![Focus::Vector(*vector)],
        _ => Vec::new(),
    }
}

/// The Events panel's rows: the window of the filtered log (newest first)
/// that is in view, and how many events pass the filter.
fn events(session: &Session) -> (Vec<EventLine>, usize, usize) {
    let m = &session.system.machine;
    let filter = session.event_filter.as_str();
    let keep = |e: &Event| {
        let k = e.kind().name();
        if filter.is_empty() {
            k != "tlb_hit"
        } else {
            k == filter
        }
    };
    let newest_first = || {
        m.last_events()
            .iter()
            .rev()
            .map(|e| (m.steps, e))
            .chain(m.event_log().iter().rev().map(|s| (s.step, &s.event)))
            .filter(|(_, e)| keep(e))
    };
    let total = newest_first().count();
    let first = session
        .events_first
        .saturating_sub(OVERSCAN)
        .min(total.saturating_sub(VISIBLE_ROWS));
    let rows = newest_first()
        .skip(first)
        .take(VISIBLE_ROWS + 2 * OVERSCAN)
        .map(|(step, e)| EventLine {
            step,
            kind: e.kind().name(),
            text: event_text(e),
            links: event_links(e),
        })
        .collect();
    (rows, first, total)
}

fn shown_process(session: &Session, procs: &[ProcessView]) -> Option<ProcessView> {
    let i = Introspector::of(&session.system);
    session
        .selected_pid
        .and_then(|pid| procs.iter().find(|p| p.pid == pid).cloned())
        .or_else(|| i.current(&session.system.machine))
        .or_else(|| procs.first().cloned())
}

fn regions(session: &Session, p: &ProcessView) -> Vec<Region> {
    let m = &session.system.machine;
    let i = Introspector::of(&session.system);
    let maps = i.mappings(m, p);
    let count = |a: u32, b: u32| maps.iter().filter(|x| x.page >= a && x.page < b).count();
    // Regions of at most this many pages are drawn page by page.
    const DRAWN_PAGES: u32 = 128;
    let pages = |a: u32, b: u32| -> Vec<PageCell> {
        let n = b.saturating_sub(a) / 4096;
        if n == 0 || n > DRAWN_PAGES {
            return Vec::new();
        }
        (0..n)
            .map(|k| {
                let page = a + k * 4096;
                let frame = maps.iter().find(|x| x.page == page).map(|x| x.frame);
                PageCell { page, frame }
            })
            .collect()
    };
    let stack_low = KERNBASE - 16 * 4096;
    let running = i.current(m).is_some_and(|c| c.pid == p.pid);
    let (eip, esp) = if running {
        (m.cpu.eip, m.cpu.gpr[4])
    } else {
        let tf = p.tf;
        let read = |off: &str| {
            let o = session
                .system
                .kernel
                .symbol(&format!("trapframe.{off}"))
                .unwrap_or(0);
            m.mem.read(tf + o - KERNBASE, 4)
        };
        (read("eip"), read("esp"))
    };
    let mut list = vec![
        Region {
            name: "null page",
            start: 0,
            end: 0x1000,
            mapped: 0,
            pages: Vec::new(),
            marks: vec![],
        },
        Region {
            name: "code and data",
            start: 0x1000,
            end: p.heap,
            mapped: count(0x1000, p.heap),
            pages: pages(0x1000, p.heap),
            marks: vec![],
        },
        Region {
            name: "heap",
            start: p.heap,
            end: p.brk.max(p.heap),
            mapped: count(p.heap, p.brk),
            pages: pages(p.heap, p.brk.max(p.heap)),
            marks: vec![],
        },
        Region {
            name: "unmapped",
            start: p.brk.max(p.heap),
            end: stack_low,
            mapped: 0,
            pages: Vec::new(),
            marks: vec![],
        },
        Region {
            name: "stack",
            start: stack_low,
            end: KERNBASE,
            mapped: count(stack_low, KERNBASE),
            pages: pages(stack_low, KERNBASE),
            marks: vec![],
        },
        Region {
            name: "kernel",
            start: KERNBASE,
            end: 0xFFFF_FFFF,
            mapped: 0,
            pages: Vec::new(),
            marks: vec![],
        },
    ];
    for r in &mut list {
        if eip >= r.start && eip < r.end {
            r.marks.push("EIP");
        }
        // A push decrements ESP first, so an ESP at a region's end belongs
        // to that region (an empty stack), not to the one above.
        if esp > r.start && esp <= r.end {
            r.marks.push("ESP");
        }
    }
    list
}

fn timeline_view(
    session: &Session,
    procs: &[ProcessView],
) -> crate::panels::timeline::TimelineView {
    let m = &session.system.machine;
    let kernel_dir = session.system.kernel.symbol("kpgdir").unwrap_or(KERNBASE) - KERNBASE;
    let events = m
        .event_log()
        .iter()
        .map(|s| (s.step, &s.event))
        .chain(m.last_events().iter().map(|e| (m.steps, e)));
    timeline(
        events,
        |dir| {
            procs
                .iter()
                .find(|p| p.pgdir == dir)
                .map(|p| (format!("pid {} {}", p.pid, p.name), Some(p.pid)))
                .or_else(|| session.dir_names.get(&dir).cloned())
        },
        kernel_dir,
    )
}

/// The latest dispatch through the IDT, stage by stage, and whether it
/// happened in the latest step; with the `iret` that ended it, once it has.
fn idt_dispatch(session: &Session) -> Option<(Dispatch, bool)> {
    let m = &session.system.machine;
    let i = Introspector::of(&session.system);
    let newest_first = m
        .last_events()
        .iter()
        .rev()
        .map(|e| (m.steps, e))
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
                let name = vector_name(*vector);
                let sym = i.place(m, *handler).symbol.unwrap_or_default();
                let gate = if *interrupt_gate {
                    "interrupt gate (IF cleared)"
                } else {
                    "trap gate (IF kept)"
                };
                let check = match source {
                    osviz_machine::TrapKind::Software => format!(
                        "int from CPL {cpl_before} needs CPL ≤ gate DPL {gate_dpl}: allowed"
                    ),
                    _ => format!("{source:?}: no DPL check for faults and device interrupts")
                        .to_lowercase(),
                };
                let switch = match stack_switch {
                    Some(sw) => format!(
                        "ring {cpl_before} → ring {cpl_after}: stack switch to ESP0 {:08x} from the TSS; pushed {}",
                        sw.new_esp,
                        pushed
                            .iter()
                            .map(|p| format!("{:?}", p.what))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => format!("ring {cpl_before} → ring {cpl_after}: same stack, no switch"),
                };
                let mut stages = vec![
                    (
                        "vector",
                        format!("{vector:#04x} {name} ({source:?}, step {step})"),
                    ),
                    ("gate", format!("{gate}, DPL {gate_dpl}")),
                    ("privilege check", check),
                    ("stack switch", switch),
                    ("handler", format!("{sym} at {handler:08x}")),
                ];
                stages.push((
                    "iret",
                    iret.unwrap_or_else(|| "not yet: the handler is running".into()),
                ));
                return Some((
                    Dispatch {
                        vector: *vector,
                        stages,
                    },
                    step == m.steps,
                ));
            }
            _ => {}
        }
    }
    None
}

/// The settings kept in local storage between visits.
#[derive(serde::Serialize, serde::Deserialize)]
struct Settings {
    lesson: String,
    source: Option<String>,
    speed: usize,
    dark: bool,
    projector: bool,
}

const SETTINGS_KEY: &str = "osviz.settings";

fn save_settings(s: &Session) {
    use gloo::storage::Storage;
    let edited = s.source != s.lesson.programs[0].source;
    let settings = Settings {
        lesson: s.lesson.id.to_string(),
        source: edited.then(|| s.source.clone()),
        speed: s.speed,
        dark: s.dark,
        projector: s.projector,
    };
    let _ = gloo::storage::LocalStorage::set(SETTINGS_KEY, settings);
}

/// A share link in the URL wins; then what the last visit left in local
/// storage; then the system-call lesson.
fn initial_session() -> Session {
    use gloo::storage::Storage;
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    if hash.len() > 1
        && let Some(s) = Session::open_link(&hash)
    {
        return s;
    }
    match gloo::storage::LocalStorage::get::<Settings>(SETTINGS_KEY) {
        Ok(settings) => {
            let mut s = Session::new(&settings.lesson);
            if let Some(src) = settings.source {
                s.run_source(src);
            }
            s.speed = settings.speed.min(SPEEDS.len() - 1);
            s.dark = settings.dark;
            s.projector = settings.projector;
            s
        }
        Err(_) => Session::new("system-call"),
    }
}

/// The panels projector mode shows for each lesson (the lesson text and
/// the console are always there).
fn lesson_panels(id: &str) -> &'static [&'static str] {
    match id {
        "memory-image" => &["Registers", "Code", "Memory image"],
        "translation-tlb" => &["Code", "Page walk", "TLB"],
        "two-level" => &["Page walk", "Memory image", "Physical frames"],
        "demand-paging" => &["Page walk", "Physical frames", "Memory image"],
        "user-kernel-mode" => &["Registers", "Code", "IDT"],
        "system-call" => &["IDT", "Kernel stack", "Registers"],
        "context-switch" => &["Processes", "Kernel stack", "Timeline"],
        "blocking-io" => &["Processes", "Timeline", "Events"],
        _ => &["Registers", "Code", "Processes"],
    }
}

const SHORTCUTS: [(&str, &str); 12] = [
    ("s", "step"),
    ("o", "step over a call"),
    ("b", "step back"),
    ("r", "run or pause"),
    ("+", "run faster"),
    ("-", "run slower"),
    ("e", "next break-on event kind"),
    ("x", "reset"),
    ("l", "make a share link"),
    ("p", "projector mode"),
    ("t", "light or dark theme"),
    ("?", "this help"),
];

#[function_component(App)]
pub fn app() -> Html {
    let session = use_mut_ref(initial_session);
    let refresh = use_force_update();
    let ticker = use_mut_ref(|| None::<Interval>);

    // One callback shape for every control: act on the session, re-render.
    let act = {
        let session = session.clone();
        let refresh = refresh.clone();
        move |f: Rc<dyn Fn(&mut Session)>| {
            let session = session.clone();
            let refresh = refresh.clone();
            Callback::from(move |_: ()| {
                f(&mut session.borrow_mut());
                refresh.force_update();
            })
        }
    };
    let running = session.borrow().running;
    {
        // While running, tick every animation frame; stop the timer when paused.
        let session = session.clone();
        let refresh = refresh.clone();
        let ticker = ticker.clone();
        use_effect_with(running, move |&running| {
            if running {
                let s = session.clone();
                *ticker.borrow_mut() = Some(Interval::new(TICK_MS, move || {
                    let clock = gloo::utils::window().performance();
                    let t0 = clock.as_ref().map_or(0.0, |p| p.now());
                    let mut session = s.borrow_mut();
                    session.tick(f64::from(TICK_MS) / 1000.0);
                    let ms = clock.as_ref().map_or(0.0, |p| p.now()) - t0;
                    session.adapt(ms);
                    drop(session);
                    refresh.force_update();
                }));
            } else {
                *ticker.borrow_mut() = None;
            }
        });
    }
    let on = |f: Rc<dyn Fn(&mut Session)>| {
        let cb = act(f);
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_step = on(Rc::new(|s| s.step()));
    let on_back = on(Rc::new(|s| s.step_back()));
    let on_over = on(Rc::new(|s| s.step_over()));
    let on_run = on(Rc::new(|s| s.toggle_run()));
    let on_reset = on(Rc::new(|s| s.reset()));
    let with_arg = |f: fn(&mut Session, String)| {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |v: String| {
            f(&mut session.borrow_mut(), v);
            refresh.force_update();
        })
    };
    let on_choose = with_arg(|s, id| s.load_lesson(&id));
    let on_run_source = with_arg(|s, src| s.run_source(src));
    let on_keys = with_arg(|s, keys| s.type_keys(&keys));
    let on_filter = with_arg(|s, f| s.event_filter = f);
    let on_speed = with_arg(|s, v| s.speed = v.parse().unwrap_or(3).min(SPEEDS.len() - 1));
    // Linked selection by delegation: the element under the pointer (or
    // its nearest ancestor) that carries `data-focus` says what it stands
    // for. Pointing re-renders only when the focus changes.
    let focus_at = |e: &MouseEvent| -> Option<Focus> {
        let el: web_sys::Element = e.target()?.dyn_into().ok()?;
        let holder = el.closest("[data-focus]").ok()??;
        Focus::parse(&holder.get_attribute("data-focus")?)
    };
    let on_pointer = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |e: MouseEvent| {
            let f = focus_at(&e);
            let mut s = session.borrow_mut();
            if s.linked.hover != f {
                s.linked.hover = f;
                drop(s);
                refresh.force_update();
            }
        })
    };
    let on_pointer_leave = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |_: MouseEvent| {
            let mut s = session.borrow_mut();
            if s.linked.hover.is_some() {
                s.linked.hover = None;
                drop(s);
                refresh.force_update();
            }
        })
    };
    let on_pin = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |e: MouseEvent| {
            // Buttons and fields inside a linked element keep their own meaning.
            let on_control = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "BUTTON" | "INPUT" | "SELECT"));
            let Some(f) = focus_at(&e).filter(|_| !on_control) else {
                return;
            };
            let mut s = session.borrow_mut();
            s.linked.toggle_pin(f);
            // Clicking a process also shows its kernel stack and memory image.
            if let Focus::Pid(pid) = f {
                s.selected_pid = Some(pid);
            }
            drop(s);
            refresh.force_update();
        })
    };
    let on_events_scroll = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |first: usize| {
            let mut s = session.borrow_mut();
            if s.events_first != first {
                s.events_first = first;
                drop(s);
                refresh.force_update();
            }
        })
    };
    let on_reveal = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |i: usize| {
            session.borrow_mut().reveal(i);
            refresh.force_update();
        })
    };
    let on_who = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |pa: u32| {
            session.borrow_mut().who_changed(pa, 4);
            refresh.force_update();
        })
    };
    let on_who_text = with_arg(|s, text| s.who_changed_text(&text));
    let on_walk_text = with_arg(|s, text| s.walk_text(&text));
    let on_line = {
        let session = session.clone();
        let refresh = refresh.clone();
        Callback::from(move |(file, line): (String, usize)| {
            session.borrow_mut().toggle_line_breakpoint(&file, line);
            refresh.force_update();
        })
    };
    let on_break = with_arg(|s, v| s.set_break(&v));
    let break_change = Callback::from(move |e: web_sys::Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        on_break.emit(select.value());
    });
    let share = |s: &mut Session| {
        let fragment = s.link().encode();
        let _ = gloo::utils::window().location().set_hash(&fragment);
        s.notice = Some(format!(
            "share link: this page's address now opens step {}",
            s.system.machine.steps
        ));
    };
    let on_share = on(Rc::new(share));
    let on_theme = on(Rc::new(|s| s.dark = !s.dark));
    let on_projector = on(Rc::new(|s| s.projector = !s.projector));
    let on_help = on(Rc::new(|s| s.help = !s.help));
    {
        // Keyboard shortcuts, except while typing in a field.
        let session = session.clone();
        let refresh = refresh.clone();
        use_effect_with((), move |_| {
            let document = gloo::utils::document();
            let listener = gloo::events::EventListener::new(&document, "keydown", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                let typing = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| {
                        matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    });
                if typing || e.ctrl_key() || e.alt_key() || e.meta_key() {
                    return;
                }
                let mut s = session.borrow_mut();
                match e.key().as_str() {
                    "s" => s.step(),
                    "o" => s.step_over(),
                    "b" => s.step_back(),
                    "r" => s.toggle_run(),
                    "x" => s.reset(),
                    "l" => share(&mut s),
                    "p" => s.projector = !s.projector,
                    "t" => s.dark = !s.dark,
                    "+" | "=" => s.speed = (s.speed + 1).min(SPEEDS.len() - 1),
                    "-" => s.speed = s.speed.saturating_sub(1),
                    "e" => s.next_break(),
                    "?" => s.help = !s.help,
                    "Escape" => s.help = false,
                    _ => return,
                }
                drop(s);
                refresh.force_update();
            });
            move || drop(listener)
        });
    }
    let speed_change = Callback::from(move |e: web_sys::Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        on_speed.emit(select.value());
    });

    let s = session.borrow();
    save_settings(&s);
    let m = &s.system.machine;
    let shown_panels = |name: &str| !s.projector || lesson_panels(s.lesson.id).contains(&name);
    let root_class = classes!(
        "app",
        s.dark.then_some("dark"),
        s.projector.then_some("projector")
    );
    let i = Introspector::of(&s.system);
    let procs = i.processes(m);
    let shown = shown_process(&s, &procs);
    let tlb = m.tlb_view();
    let used = m.last_events().iter().rev().find_map(|e| match e {
        Event::TlbHit { slot, .. } | Event::TlbFill { slot, .. } => Some(*slot),
        _ => None,
    });
    let flushed = m.last_events().iter().find_map(|e| match e {
        Event::TlbFlush {
            reason,
            page,
            dropped,
        } => Some(match (reason, page) {
            (osviz_machine::FlushReason::Invlpg, Some(p)) => {
                format!("invlpg dropped page {p:#x} ({dropped} entry)")
            }
            (osviz_machine::FlushReason::Cr3Write, _) => {
                format!("CR3 write flushed every entry ({dropped} dropped)")
            }
            _ => format!("paging switched: {dropped} entries dropped"),
        }),
        _ => None,
    });
    let (addr, what) = match s.walk_addr {
        Some(a) => (a, "typed address"),
        None => latest_access(&s),
    };
    let linked = s.linked;
    let dispatch = shown_panels("IDT").then(|| idt_dispatch(&s)).flatten();
    let (event_rows, event_first, event_total) = if shown_panels("Events") {
        events(&s)
    } else {
        (Vec::new(), 0, 0)
    };
    let tss = s.system.kernel.symbol("tss").unwrap_or(KERNBASE);
    let esp0 = m.mem.read(tss + 4 - KERNBASE, 4);
    html! {
        <div class={root_class}>
            <header class="top">
                <h1>{ "osviz" }</h1>
                <p class="tagline">{ "watch an operating system virtualize the CPU and memory" }</p>
            </header>
            <nav class="controls" aria-label="Controls">
                <button id="step" onclick={on_step}>{ "Step" }</button>
                <button id="step-over" onclick={on_over}>{ "Step over" }</button>
                <button id="step-back" onclick={on_back}>{ "Step back" }</button>
                <button id="run" onclick={on_run}>{ if s.running { "Pause" } else { "Run" } }</button>
                <select aria-label="Speed" onchange={speed_change}>
                    { for SPEEDS.iter().enumerate().map(|(k, (name, _))| html! { <option value={k.to_string()} selected={k == s.speed}>{ *name }</option> }) }
                </select>
                <button id="reset" onclick={on_reset}>{ "Reset" }</button>
                <select aria-label="Break on" onchange={break_change}>
                    <option value="" selected={s.break_on.is_none()}>{ "break on: nothing" }</option>
                    { for crate::session::BREAK_KINDS.iter().map(|b| html! {
                        <option value={b.name} selected={s.break_on == Some(b)}>{ format!("break on: {}", b.name) }</option>
                    }) }
                </select>
                <button id="share" class="secondary" onclick={on_share}>{ "Share link" }</button>
                <button id="projector" class="secondary" onclick={on_projector}>{ if s.projector { "Normal view" } else { "Projector" } }</button>
                <button id="theme" class="secondary" onclick={on_theme}>{ if s.dark { "Light" } else { "Dark" } }</button>
                <button id="help" class="secondary" aria-label="Keyboard shortcuts" onclick={on_help}>{ "?" }</button>
                <span class="status" id="status" role="status">
                    { format!("{} · step {} · {} instructions retired", describe(&s), m.steps, m.retired) }
                    if let Some(f) = linked.current() {
                        <span class="focus-note">{ format!(" · {}: {}", if linked.hover.is_some() { "pointing at" } else { "pinned" }, f.describe()) }</span>
                    }
                </span>
            </nav>
            if let Some(n) = &s.notice {
                <div class="notice" role="status">{ n }</div>
            }
            if s.help {
                <div class="help" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>{ "Keyboard shortcuts" }</h2>
                    <table>{ for SHORTCUTS.iter().map(|(k, what)| html! { <tr><td><kbd>{ *k }</kbd></td><td>{ *what }</td></tr> }) }</table>
                    <p>{ "Click a source line in the Code panel to set or clear a breakpoint there." }</p>
                </div>
            }
            <div class="layout">
                <LessonPanel lesson_id={s.lesson.id} answers={s.answers.clone()} source={s.source.clone()}
                    errors={s.errors.clone()} on_choose={on_choose} on_reveal={on_reveal} on_run_source={on_run_source} />
                <main class="panels" onmouseover={on_pointer} onmouseleave={on_pointer_leave} onclick={on_pin}>
                    if shown_panels("Registers") {
                        <RegistersPanel now={RegisterView::of(m)} before={s.before.clone()} linked={linked} />
                    }
                    if shown_panels("Code") {
                        <CodePanel view={code_view(&s)} on_line={on_line} />
                    }
                    if shown_panels("Processes") {
                        <ProcessesPanel procs={procs.clone()} shown={shown.as_ref().map(|p| p.pid)} linked={linked} />
                    }
                    if shown_panels("Kernel stack") {
                        <KernelStackPanel view={shown.as_ref().map(|p| i.kernel_stack(m, p))} esp0={esp0} linked={linked} />
                    }
                    if shown_panels("Memory image") {
                        <MemoryImagePanel pid={shown.as_ref().map(|p| p.pid)} regions={shown.as_ref().map(|p| regions(&s, p)).unwrap_or_default()} linked={linked} />
                    }
                    if shown_panels("Page walk") {
                        <PageWalkPanel walk={m.walk(addr)} what={what.to_string()} paging={m.cpu.paging()} step={m.steps}
                            animate={!s.running || SPEEDS[s.speed].1.is_some_and(|r| r <= 10.0)}
                            on_who={on_who} on_who_text={on_who_text} on_walk_text={on_walk_text} linked={linked} />
                    }
                    if shown_panels("TLB") {
                        <TlbPanel tlb={tlb} used={used} flushed={flushed} linked={linked} />
                    }
                    if shown_panels("IDT") {
                        <IdtPanel entries={i.idt(m)} dispatch={dispatch.as_ref().map(|d| d.0.clone())} live={dispatch.as_ref().is_some_and(|d| d.1)} linked={linked} />
                    }
                    if shown_panels("Physical frames") {
                        <FramesPanel frames={i.frames(m)} free={i.free_frames(m)}
                            shown_pid={shown.as_ref().map(|p| p.pid)} linked={linked} />
                    }
                    if shown_panels("Timeline") {
                        <TimelinePanel view={timeline_view(&s, &procs)} now={m.steps} linked={linked} />
                    }
                    if shown_panels("Events") {
                        <EventsPanel rows={event_rows} first={event_first} total={event_total} row_px={if s.projector { 34 } else { 22 }}
                            filter={s.event_filter.clone()} on_filter={on_filter} on_scroll={on_events_scroll} linked={linked} />
                    }
                    <ConsolePanel text={String::from_utf8_lossy(m.console()).into_owned()} on_keys={on_keys} />
                </main>
            </div>
        </div>
    }
}
