//! The top-level component: owns the session, runs it frame by frame,
//! turns the page's events into [`Action`]s, and hands each panel the view
//! data `views` computes. Nothing here reads the machine itself.

use crate::action::{Action, SHORTCUTS, for_key, key_of};
use crate::channel::{FromWorker, Start, ToWorker};
use crate::clock::now_ms;
use crate::focus::Focus;
use crate::kept::{Kept, Painted};
use crate::panels::code::CodePanel;
use crate::panels::console::ConsolePanel;
use crate::panels::events::EventsPanel;
use crate::panels::frames::FramesPanel;
use crate::panels::idt::IdtPanel;
use crate::panels::kernel_stack::KernelStackPanel;
use crate::panels::lesson::LessonPanel;
use crate::panels::memory_image::MemoryImagePanel;
use crate::panels::page_tables::PageTablesPanel;
use crate::panels::page_walk::PageWalkPanel;
use crate::panels::processes::ProcessesPanel;
use crate::panels::registers::RegistersPanel;
use crate::panels::timeline::TimelinePanel;
use crate::panels::tlb::TlbPanel;
use crate::panels::vm::{ThreeTablesPanel, VirtualMachinePanel, VmExitsPanel};
use crate::session::{BreakChoice, Effect, Opening, SPEEDS};
use crate::settings::{SETTINGS_KEY, Settings};
use crate::views;
use crate::views::frame::{Frame, Keep};
use crate::views::panel::PanelView;
use gloo::render::{AnimationFrame, request_animation_frame};
use gloo::storage::Storage;
use osviz_course::Panel;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// The history state of an entry whose fragment the page itself keeps at
/// the moment shown: a reload of it is the student's own moment, not a
/// link someone sent.
const MOMENT_STATE: &str = "osviz-moment";

/// Whether the current history entry is one the page keeps.
fn entry_is_kept() -> bool {
    gloo::utils::window()
        .history()
        .and_then(|h| h.state())
        .ok()
        .and_then(|s| s.as_string())
        .is_some_and(|s| s == MOMENT_STATE)
}

/// Sets the current history entry's fragment, or adds an entry (`push`).
fn set_entry(fragment: &str, push: bool) {
    let Ok(history) = gloo::utils::window().history() else {
        return;
    };
    let state = wasm_bindgen::JsValue::from_str(MOMENT_STATE);
    let url = format!("#{fragment}");
    let _ = if push {
        history.push_state_with_url(&state, "", Some(&url))
    } else {
        history.replace_state_with_url(&state, "", Some(&url))
    };
}

/// Saves the settings (drafts and predictions with them).
fn save_settings(settings: &Settings) {
    let _ = gloo::storage::LocalStorage::set(SETTINGS_KEY, settings);
}

/// Copies a share link to the clipboard; where the browser refuses, the
/// notice shows the link to copy by hand.
fn copy_link(fragment: String, step: u64, dispatch: Callback<Action>) {
    let window = gloo::utils::window();
    set_entry(&fragment, false);
    let url = window.location().href().unwrap_or_default();
    let promise = window.navigator().clipboard().write_text(&url);
    wasm_bindgen_futures::spawn_local(async move {
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        dispatch.emit(Action::LinkCopied { url, step, copied });
    });
}

/// Tells the session which panels are in the window's view.
struct PanelObserver {
    observer: web_sys::IntersectionObserver,
    /// The observer's callback, kept alive as long as the observer.
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array)>,
}

/// How far outside the window a panel still counts as in view, so that
/// scrolling shows it already built.
const IN_VIEW_MARGIN: &str = "200px";

impl PanelObserver {
    /// `None` where the browser has no IntersectionObserver: every panel
    /// then counts as in view, as it does before the first report.
    fn new(dispatch: Callback<Action>) -> Option<PanelObserver> {
        let callback = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
            move |entries: js_sys::Array| {
                let seen: Vec<(Panel, bool)> = entries
                    .iter()
                    .filter_map(|entry| {
                        let entry: web_sys::IntersectionObserverEntry = entry.unchecked_into();
                        let panel = entry.target();
                        // A panel taken off the page reports once, out of view.
                        if !panel.is_connected() {
                            return None;
                        }
                        let name = panel.get_attribute("aria-label")?;
                        Some((Panel::from_name(&name).ok()?, entry.is_intersecting()))
                    })
                    .collect();
                if !seen.is_empty() {
                    dispatch.emit(Action::PanelsInView(seen));
                }
            },
        );
        let init = web_sys::IntersectionObserverInit::new();
        init.set_root_margin(IN_VIEW_MARGIN);
        let observer = web_sys::IntersectionObserver::new_with_options(
            callback.as_ref().unchecked_ref(),
            &init,
        )
        .ok()?;
        Some(PanelObserver {
            observer,
            _callback: callback,
        })
    }

    fn observe_panels(&self) {
        let Ok(panels) = gloo::utils::document().query_selector_all(".panels > .panel") else {
            return;
        };
        for k in 0..panels.length() {
            if let Some(panel) = panels
                .item(k)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                self.observer.observe(&panel);
            }
        }
    }
}

/// The machine's thread, from the page's side: it takes actions (numbered
/// in the order sent) and sends frames, which the page paints one an
/// animation frame, saying when it is ready for the next.
struct MachineThread {
    worker: web_sys::Worker,
    sent: Cell<u64>,
    /// Messages held until the worker is up (`None` once it is).
    held: Rc<RefCell<Option<Vec<String>>>>,
    /// The worker's callbacks, kept alive as long as it.
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

/// The worker's loader, which Trunk writes beside the page.
const WORKER_SCRIPT: &str = "./osviz-worker_loader.js";

impl MachineThread {
    /// Starts the worker; its messages go to `on_message`.
    fn start(on_message: impl FnMut(FromWorker) + 'static) -> Result<MachineThread, String> {
        let worker =
            web_sys::Worker::new(WORKER_SCRIPT).map_err(|e| format!("{WORKER_SCRIPT}: {e:?}"))?;
        let mut on_message = on_message;
        let held: Rc<RefCell<Option<Vec<String>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let (up, to) = (held.clone(), worker.clone());
        let message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                match FromWorker::decode(&text) {
                    Ok(FromWorker::Up) => {
                        for message in up.borrow_mut().take().unwrap_or_default() {
                            let _ = to.post_message(&wasm_bindgen::JsValue::from_str(&message));
                        }
                    }
                    Ok(m) => on_message(m),
                    Err(e) => crate::panic::elsewhere(&format!(
                        "the machine's thread sent a message the page cannot read: {e}"
                    )),
                }
            });
        let error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(|e: web_sys::ErrorEvent| {
            crate::panic::elsewhere(&format!(
                "the machine's thread stopped: {} ({WORKER_SCRIPT})",
                e.message()
            ));
        });
        worker.set_onmessage(Some(message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(error.as_ref().unchecked_ref()));
        Ok(MachineThread {
            worker,
            sent: Cell::new(0),
            held,
            _on_message: message,
            _on_error: error,
        })
    }

    fn post(&self, message: &ToWorker) {
        let text = message.encode();
        if let Some(held) = self.held.borrow_mut().as_mut() {
            held.push(text);
            return;
        }
        let _ = self
            .worker
            .post_message(&wasm_bindgen::JsValue::from_str(&text));
    }

    /// Sends an action; returns its number.
    fn send(&self, action: Action) -> u64 {
        let seq = self.sent.get() + 1;
        self.sent.set(seq);
        self.post(&ToWorker::Action { seq, action });
        mark("data-sent", seq);
        seq
    }
}

/// Writes a count on the document's body: the actions sent (`data-sent`)
/// and the last one the painted frame shows (`data-applied`). Equal, the
/// page shows everything asked of it; a test or a screen reader waits for
/// that rather than for a time.
fn mark(name: &str, n: u64) {
    if let Some(body) = gloo::utils::document().body() {
        let _ = body.set_attribute(name, &n.to_string());
    }
}

/// How the page was opened, for the machine's thread to make the session.
/// A reload of the page's own entry reopens the moment painted last, which
/// is newer than what the address was last given.
fn start_info() -> Start {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    let address = hash.trim_start_matches('#').to_string();
    let kept_entry = entry_is_kept();
    let fragment = match crate::settings::take_left() {
        Some(left) if kept_entry && left.address == address => left.moment,
        _ => address,
    };
    Start {
        fragment,
        kept_entry,
        saved: gloo::storage::LocalStorage::get::<Settings>(SETTINGS_KEY).ok(),
    }
}

/// Keeps what a frame asks the page to keep: the moment in the address
/// (`kept`: the fragment last written) and the settings in local storage
/// (a frame brings them only when they changed, so what is typed is saved
/// a frame after it reached the machine's thread).
fn keep(keep: Keep, moment: Option<&str>, kept: &RefCell<String>) {
    if let Some(fragment) = moment.filter(|_| keep.write_moment)
        && *kept.borrow() != fragment
    {
        set_entry(fragment, false);
        *kept.borrow_mut() = fragment.to_string();
    }
    if let Some(settings) = keep.settings {
        save_settings(&settings);
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let painted = use_mut_ref(Painted::default);
    let refresh = use_force_update();
    // The fragment last written into the page's address.
    let kept = use_mut_ref(String::new);
    // The latest frame not yet painted, and the animation frame that will.
    let inbox = use_mut_ref(|| None::<(Frame, u64)>);
    let painting = use_mut_ref(|| None::<AnimationFrame>);
    let dispatch_cell = use_mut_ref(|| None::<Callback<Action>>);
    let machine = {
        let painted = painted.clone();
        let refresh = refresh.clone();
        let kept = kept.clone();
        let inbox = inbox.clone();
        let dispatch_cell = dispatch_cell.clone();
        let painting = painting.clone();
        use_mut_ref(move || {
            // Set once the worker runs: the frames' painter answers through it.
            let me: Rc<RefCell<Option<Rc<MachineThread>>>> = Rc::new(RefCell::new(None));
            let answer = me.clone();
            let on_message = move |message: FromWorker| match message {
                FromWorker::Frame { frame, applied } => {
                    *inbox.borrow_mut() = Some((*frame, applied));
                    if painting.borrow().is_some() {
                        return;
                    }
                    let (painted, refresh, kept, inbox, painting_now, answer) = (
                        painted.clone(),
                        refresh.clone(),
                        kept.clone(),
                        inbox.clone(),
                        painting.clone(),
                        answer.clone(),
                    );
                    *painting.borrow_mut() = Some(request_animation_frame(move |_| {
                        painting_now.borrow_mut().take();
                        let Some((frame, applied)) = inbox.borrow_mut().take() else {
                            return;
                        };
                        if crate::panic::stopped() {
                            return;
                        }
                        let t0 = now_ms();
                        let what = painted.borrow_mut().take(frame, applied);
                        let moment = painted.borrow().moment().map(str::to_string);
                        keep(what, moment.as_deref(), &kept);
                        // Yew renders within this call.
                        refresh.force_update();
                        mark("data-applied", applied);
                        let render_ms = now_ms() - t0;
                        if let Some(m) = answer.borrow().as_ref() {
                            m.post(&ToWorker::Ready { render_ms });
                        }
                    }));
                }
                FromWorker::Effect(Effect::CopyLink { fragment, step }) => {
                    if let Some(d) = dispatch_cell.borrow().clone() {
                        copy_link(fragment, step, d);
                    }
                }
                FromWorker::Effect(Effect::PushHistory { left, fragment }) => {
                    set_entry(&left, false);
                    set_entry(&fragment, true);
                    painted.borrow_mut().set_moment(fragment.clone());
                    *kept.borrow_mut() = fragment;
                }
                // The worker fetches xv6 itself; `Up` is the thread's own.
                FromWorker::Effect(Effect::LoadXv6) | FromWorker::Up => {}
                FromWorker::Panicked(message) => crate::panic::elsewhere(&message),
            };
            let machine = match MachineThread::start(on_message) {
                Ok(m) => Some(Rc::new(m)),
                Err(why) => {
                    crate::panic::elsewhere(&format!("the machine's thread did not start: {why}"));
                    None
                }
            };
            if let Some(m) = &machine {
                m.post(&ToWorker::Start(start_info()));
            }
            *me.borrow_mut() = machine.clone();
            machine
        })
    };

    // Every control sends an action to the machine's thread; what the
    // student types is shown at once (the frame that answers comes later).
    let dispatch: Callback<Action> = {
        let machine = machine.clone();
        let painted = painted.clone();
        let refresh = refresh.clone();
        Callback::from(move |action: Action| {
            let Some(m) = machine.borrow().clone() else {
                return;
            };
            // What the page shows at once, from what it has: typing,
            // pointing, Run and Pause.
            let typed = matches!(action, Action::Edit(_) | Action::Guess(..));
            let shown_now = matches!(
                action,
                Action::Hover(_) | Action::Pin(_) | Action::ToggleRun
            );
            let local = (typed || shown_now).then(|| action.clone());
            let seq = m.send(action);
            if let Some(action) = local {
                let mut p = painted.borrow_mut();
                p.typed(seq, &action);
                p.pointed(seq, &action);
                p.toggled(seq, &action);
                drop(p);
                if shown_now {
                    refresh.force_update();
                }
            }
        })
    };
    *dispatch_cell.borrow_mut() = Some(dispatch.clone());
    {
        // Which panels are in the window's view, with a margin so that one
        // scrolled toward is built before it shows: one observer on every
        // panel, shown the panels again after each render (observing one
        // already observed does nothing).
        let observer = use_mut_ref(|| None::<PanelObserver>);
        let dispatch = dispatch.clone();
        use_effect(move || {
            let mut observer = observer.borrow_mut();
            if observer.is_none() {
                *observer = PanelObserver::new(dispatch);
            }
            if let Some(o) = observer.as_ref() {
                o.observe_panels();
            }
        });
    }
    {
        // The moment is in the address when the page is left (a reload
        // reopens it exactly); Back and Forward between lessons, or a link
        // pasted into the address, open the fragment's moment.
        let painted = painted.clone();
        let kept = kept.clone();
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let window = gloo::utils::window();
            let leaving = {
                let kept = kept.clone();
                gloo::events::EventListener::new(&window, "pagehide", move |_| {
                    if let Ok(painted) = painted.try_borrow()
                        && let Some(fragment) = painted.moment()
                        && *kept.borrow() != fragment
                    {
                        crate::settings::keep_left(crate::settings::Left {
                            address: kept.borrow().clone(),
                            moment: fragment.to_string(),
                        });
                        set_entry(fragment, false);
                        *kept.borrow_mut() = fragment.to_string();
                    }
                })
            };
            let went = move |_: &web_sys::Event| {
                let hash = gloo::utils::window().location().hash().unwrap_or_default();
                let fragment = hash.trim_start_matches('#');
                if fragment.is_empty() || *kept.borrow() == fragment {
                    return;
                }
                *kept.borrow_mut() = fragment.to_string();
                let how = if entry_is_kept() {
                    Opening::History
                } else {
                    Opening::Shared
                };
                dispatch.emit(Action::OpenMoment {
                    fragment: fragment.to_string(),
                    how,
                });
            };
            let went = Rc::new(went);
            let popstate = {
                let went = went.clone();
                gloo::events::EventListener::new(&window, "popstate", move |e| went(e))
            };
            let hashchange =
                gloo::events::EventListener::new(&window, "hashchange", move |e| went(e));
            move || drop((leaving, popstate, hashchange))
        });
    }
    {
        // Keyboard shortcuts, except while typing in a field.
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let document = gloo::utils::document();
            // Not passive: a shortcut's key must not also scroll the page.
            let options = gloo::events::EventListenerOptions::enable_prevent_default();
            let listener = gloo::events::EventListener::new_with_options(
                &document,
                "keydown",
                options,
                move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    let typing = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|el| {
                            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                                || el.has_attribute("data-keyboard")
                        });
                    if typing || e.ctrl_key() || e.alt_key() || e.meta_key() {
                        return;
                    }
                    if let Some(action) = for_key(&e.key()) {
                        e.prevent_default();
                        dispatch.emit(action);
                    }
                },
            );
            move || drop(listener)
        });
    }
    let send = |action: Action| dispatch.reform(move |_: MouseEvent| action.clone());
    // Linked selection by delegation: the element under the pointer (or
    // its nearest ancestor) that carries `data-focus` says what it stands
    // for. Pointing re-renders only when the focus changes.
    let focus_at = |e: &MouseEvent| -> Option<Focus> {
        let el: web_sys::Element = e.target()?.dyn_into().ok()?;
        let holder = el.closest("[data-focus]").ok()??;
        Focus::parse(&holder.get_attribute("data-focus")?)
    };
    let hovering =
        |painted: &RefCell<Painted>| painted.borrow().controls().and_then(|c| c.linked.hover);
    let on_pointer = {
        let dispatch = dispatch.clone();
        let painted = painted.clone();
        Callback::from(move |e: MouseEvent| {
            let f = focus_at(&e);
            if hovering(&painted) != f {
                dispatch.emit(Action::Hover(f));
            }
        })
    };
    let on_pointer_leave = {
        let dispatch = dispatch.clone();
        let painted = painted.clone();
        Callback::from(move |_: MouseEvent| {
            if hovering(&painted).is_some() {
                dispatch.emit(Action::Hover(None));
            }
        })
    };
    let on_pin = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            // Buttons and fields inside a linked element keep their own meaning.
            let on_control = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "BUTTON" | "INPUT" | "SELECT"));
            if let Some(f) = focus_at(&e).filter(|_| !on_control) {
                dispatch.emit(Action::Pin(f));
            }
        })
    };
    let select_change = |make: fn(String) -> Action| {
        dispatch.reform(move |e: web_sys::Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            make(select.value())
        })
    };
    let speed_change = select_change(|v| Action::SetSpeed(v.parse().unwrap_or(3)));
    let break_change = select_change(|v| {
        Action::SetBreak(
            v.parse::<usize>()
                .ok()
                .and_then(|k| BreakChoice::every().get(k).copied()),
        )
    });

    let painted = painted.borrow();
    let (Some(c), Some(lesson)) = (painted.controls(), painted.lesson()) else {
        // Until the machine's thread sends its first frame (its code loads
        // beside the page's), the page says what it is doing; opening a
        // moment (a link, a reload), that is the opening's first part, and
        // Cancel already works (the machine's thread takes it when it is up).
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        let opening = hash.contains("step=");
        return html! {
            <div class="app">
                <header class="top">
                    <h1>{ "osviz" }</h1>
                    <p class="tagline">{ "starting the machine…" }</p>
                </header>
                if opening {
                    <div class="job" id="job" role="status">
                        <span class="job-text">{ "starting the machine to open the link…" }</span>
                        <progress aria-label="starting the machine to open the link"></progress>
                        <button id="cancel" class="secondary" onclick={send(Action::Cancel)}>{ "Cancel" }</button>
                    </div>
                }
            </div>
        };
    };
    // Where the machine is, for the notice a panic shows.
    crate::panic::note(&c.lesson_id, c.steps);
    let root_class = classes!(
        "app",
        c.dark.then_some("dark"),
        c.projector.then_some("projector")
    );
    let linked = c.linked;
    let button = |id: &'static str, label: &str, action: Action| {
        let title = key_of(&action).map(|k| format!("{label} (key {k})"));
        html! { <button id={id} title={title} onclick={send(action)}>{ label.to_string() }</button> }
    };
    let secondary = |id: &'static str, label: &str, action: Action| {
        let title = key_of(&action).map(|k| format!("{label} (key {k})"));
        html! { <button id={id} class="secondary" title={title} onclick={send(action)}>{ label.to_string() }</button> }
    };
    // Each panel from its view; projector mode shows the chosen ones in
    // the chosen order (the key panel first), the normal view all of them.
    let build = |view: &PanelView| -> Html {
        match view.clone() {
            PanelView::Registers { now, before } => html! {
                <RegistersPanel now={now} before={before} linked={linked} />
            },
            PanelView::Code { view, breakpoints } => html! {
                <CodePanel view={view} on_action={dispatch.clone()} breakpoints={breakpoints} />
            },
            PanelView::Processes { procs, shown } => html! {
                <ProcessesPanel procs={procs} shown={shown} linked={linked} />
            },
            PanelView::KernelStack(view) => html! {
                <KernelStackPanel view={view} linked={linked} />
            },
            PanelView::MemoryImage { pid, regions } => html! {
                <MemoryImagePanel pid={pid} regions={regions} linked={linked} />
            },
            PanelView::VirtualMachine { vm, steps } => html! {
                <VirtualMachinePanel vm={vm} steps={steps} />
            },
            PanelView::VmExits(rows) => html! { <VmExitsPanel rows={rows} /> },
            PanelView::ThreeTables(view) => html! { <ThreeTablesPanel view={view} /> },
            PanelView::PageWalk {
                walk,
                what,
                tables,
                paging,
                real_mode,
                animate,
                step,
            } => html! {
                <PageWalkPanel walk={walk} what={what} tables={tables} paging={paging} real_mode={real_mode} step={step} animate={animate}
                    on_who={dispatch.reform(Action::WhoChanged)} on_who_text={dispatch.reform(Action::WhoChangedText)}
                    on_walk_text={dispatch.reform(Action::WalkText)} linked={linked} />
            },
            PanelView::PageTables {
                pid,
                tables,
                paging,
            } => html! {
                <PageTablesPanel pid={pid} tables={tables} paging={paging} linked={linked} />
            },
            PanelView::Tlb { tlb, used, flushed } => html! {
                <TlbPanel tlb={tlb} used={used} flushed={flushed} linked={linked} />
            },
            PanelView::Idt {
                entries,
                dispatch: story,
                real_mode,
            } => html! {
                <IdtPanel entries={entries} dispatch={story} real_mode={real_mode} linked={linked} />
            },
            PanelView::Frames {
                frames,
                free,
                shown_pid,
                paging,
            } => html! {
                <FramesPanel frames={frames} free={free} on_hover={dispatch.reform(Action::Hover)}
                    shown_pid={shown_pid} paging={paging} linked={linked} />
            },
            PanelView::Timeline { view, now } => html! {
                <TimelinePanel view={view} now={now} linked={linked} />
            },
            PanelView::Events {
                rows,
                row_px,
                filter,
            } => html! {
                <EventsPanel rows={rows} row_px={row_px} filter={filter}
                    on_filter={dispatch.reform(|name: String| Action::Filter(osviz_machine::EventKind::from_name(&name)))}
                    on_scroll={dispatch.reform(Action::ScrollEvents)} linked={linked} />
            },
            PanelView::Console {
                text,
                screen,
                scrollback,
                pending,
            } => html! {
                <ConsolePanel text={text} screen={screen} scrollback={scrollback} pending={pending}
                    on_keys={dispatch.reform(Action::TypeKeys)} />
            },
        }
    };
    // A panel the latest frame did not send keeps its DOM (see
    // `FrameBuilder`); keyed by name, so a kept panel stays itself when
    // projector mode reorders them.
    let render = |panel: Panel| -> Html {
        let Some((serial, view)) = painted.panel(panel) else {
            return Html::default();
        };
        let content = view.map(build).unwrap_or_default();
        html! { <Kept key={panel.name()} serial={serial} content={content} /> }
    };
    html! {
        <div class={root_class}>
            <header class="top">
                <h1>{ "osviz" }</h1>
                <p class="tagline">{ "watch an operating system virtualize the CPU and memory" }</p>
            </header>
            <nav class="controls" aria-label="Controls">
                { button("step", "Step", Action::Step) }
                { button("step-over", "Step over", Action::StepOver) }
                { button("step-back", "Step back", Action::StepBack) }
                { button("run", if c.running { "Pause" } else { "Run" }, Action::ToggleRun) }
                <select aria-label="Speed" onchange={speed_change}>
                    { for SPEEDS.iter().enumerate().map(|(k, (name, _))| html! { <option value={k.to_string()} selected={k == c.speed}>{ *name }</option> }) }
                </select>
                { button("reset", "Reset", Action::Reset) }
                <select aria-label="Break on" onchange={break_change}>
                    <option value="" selected={c.break_chosen.is_none()}>{ "break on: nothing" }</option>
                    { for c.break_options.iter().map(|(k, label)| html! {
                        <option value={k.to_string()} selected={c.break_chosen == Some(*k)}>{ label.clone() }</option>
                    }) }
                </select>
                { secondary("share", "Share link", Action::Share) }
                { secondary("projector", if c.projector { "Normal view" } else { "Projector" }, Action::ToggleProjector) }
                { secondary("theme", if c.dark { "Light" } else { "Dark" }, Action::ToggleTheme) }
                <button id="help" class="secondary" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (key ?)" onclick={send(Action::ToggleHelp)}>{ "?" }</button>
                <span class="status" id="status" role="status">
                    { c.status.clone() }
                    if let Some(f) = linked.current() {
                        <span class="focus-note">{ format!(" · {}: {}", if linked.hover.is_some() { "pointing at" } else { "pinned" }, f.describe()) }</span>
                    }
                </span>
            </nav>
            if let Some(job) = &c.job {
                <div class="job" id="job" role="status">
                    if let Some(done) = job.done {
                        <span class="job-text">{ format!("{}: {:.0}%", job.what, done * 100.0) }</span>
                        <progress max="100" value={format!("{:.1}", done * 100.0)} aria-label={job.what.clone()}></progress>
                    } else {
                        <span class="job-text">{ format!("{}…", job.what) }</span>
                        <progress aria-label={job.what.clone()}></progress>
                    }
                    <button id="cancel" class="secondary" title="Cancel (Esc): the machine goes back to where it was" onclick={send(Action::Cancel)}>{ "Cancel" }</button>
                </div>
            }
            if let Some(n) = &c.notice {
                <div class="notice" role="status">
                    <span class="notice-text">{ crate::panels::lesson::text(&views::lesson::inline(n)) }</span>
                    if let Some(step) = c.return_to {
                        <button id="return" class="secondary" onclick={send(Action::ReturnToWhereIWas)}>
                            { format!("back to step {step} (where you were)") }
                        </button>
                    }
                    <button class="dismiss secondary" aria-label="Dismiss" onclick={send(Action::DismissNotice)}>{ "×" }</button>
                </div>
            }
            if c.help {
                <div class="help" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>{ "Keyboard shortcuts" }</h2>
                    <table>{ for SHORTCUTS.iter().map(|k| html! {
                        <tr><td>{ for k.keys.iter().map(|key| html! { <kbd>{ *key }</kbd> }) }</td><td>{ k.what }</td></tr>
                    }) }</table>
                    <p>{ "Click a line number in the editor, or a source line in the Code panel, to set or clear a breakpoint there." }</p>
                </div>
            }
            if c.projector {
                <fieldset class="panel-picker" aria-label="Panels shown">
                    <legend>{ "Panels:" }</legend>
                    { for c.available_panels.iter().filter(|p| **p != Panel::Console).map(|p| {
                        let on = c.projector_panels.contains(p);
                        html! {
                            <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()}
                                onclick={send(Action::TogglePanel(*p))}>{ p.name() }</button>
                        }
                    }) }
                </fieldset>
            }
            <div class="layout">
                <LessonPanel view={lesson.clone()} on_action={dispatch.clone()} />
                <main class="panels" onmouseover={on_pointer} onmouseleave={on_pointer_leave} onclick={on_pin}>
                    { for painted.order().iter().map(|panel| render(*panel)) }
                </main>
            </div>
        </div>
    }
}
