//! The top-level component: owns the session, runs it frame by frame,
//! turns the page's events into [`Action`]s, and hands each panel the view
//! data `views` computes. Nothing here reads the machine itself.

use crate::action::{Action, SHORTCUTS, for_key, key_of};
use crate::focus::Focus;
use crate::kept::{Kept, Serials};
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
use crate::session::{BREAK_KINDS, Effect, PANELS, SPEEDS, Session};
use crate::settings::{SETTINGS_KEY, Settings};
use crate::views;
use gloo::storage::Storage;
use gloo::timers::callback::{Interval, Timeout};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Milliseconds between animation ticks while running.
const TICK_MS: u32 = 16;
/// The longest real time one tick makes up for (a tab in the background
/// does not come back to a burst of steps).
const MAX_TICK_MS: f64 = 100.0;
/// How long typing pauses before the draft is saved.
const SAVE_DRAFT_MS: u32 = 400;

/// A share link in the URL wins; then what the last visit left in local
/// storage; then, for a newcomer, the first lesson.
fn initial_session() -> Session {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    if hash.len() > 1 {
        return Session::open_link(&hash);
    }
    match gloo::storage::LocalStorage::get::<Settings>(SETTINGS_KEY) {
        Ok(settings) => settings.restore(),
        Err(_) => {
            let mut s = Session::new(osviz_kernel::lessons::LESSONS[0].id);
            s.notice = Some(
                "Welcome: read the lesson, press Step (s) to run one instruction, or Run (r); press ? for every shortcut".into(),
            );
            s
        }
    }
}

/// Writes the settings when they differ from what was saved last.
fn save_settings(session: &Session, saved: &RefCell<Option<Settings>>) {
    let now = Settings::of(session);
    if saved.borrow().as_ref() != Some(&now) {
        let _ = gloo::storage::LocalStorage::set(SETTINGS_KEY, &now);
        *saved.borrow_mut() = Some(now);
    }
}

/// Copies a share link to the clipboard; where the browser refuses, the
/// notice shows the link to copy by hand.
fn copy_link(fragment: String, session: Rc<RefCell<Session>>, refresh: UseForceUpdateHandle) {
    let window = gloo::utils::window();
    let _ = window.location().set_hash(&fragment);
    let url = window.location().href().unwrap_or_default();
    let step = session.borrow().system.machine.steps();
    let promise = window.navigator().clipboard().write_text(&url);
    wasm_bindgen_futures::spawn_local(async move {
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        let mut s = session.borrow_mut();
        s.notice = Some(if copied {
            format!("share link copied to the clipboard: it opens step {step}")
        } else {
            format!("copy this share link (it opens step {step}): {url}")
        });
        drop(s);
        refresh.force_update();
    });
}

/// Fetches the xv6 build the page serves and hands it to the session,
/// which boots the xv6 lesson that waits for it.
fn load_xv6(session: Rc<RefCell<Session>>, refresh: UseForceUpdateHandle) {
    wasm_bindgen_futures::spawn_local(async move {
        let action = match crate::loader::served_xv6().await {
            Ok(build) => Action::Xv6Loaded(crate::action::Build(Rc::new(build))),
            Err(why) => Action::Xv6Failed(why),
        };
        session.borrow_mut().apply(action);
        refresh.force_update();
    });
}

/// The frame owners as last read, with when (page time) and at which step.
#[derive(Default)]
struct FramesCache {
    at_ms: f64,
    step: Option<u64>,
    owners: (Rc<[osviz_view::FrameOwner]>, u32),
}

/// While the machine runs, the frames panel is read at most this often:
/// reading 57,344 owners (xv6's free list and every page table) takes
/// milliseconds, which every frame cannot spare; paused, it is always now.
const FRAMES_EVERY_MS: f64 = 250.0;

/// Who owns each physical frame, and how many are free: now when paused or
/// stepping, at most every `FRAMES_EVERY_MS` while running.
fn frame_owners(s: &Session, cache: &RefCell<FramesCache>) -> (Rc<[osviz_view::FrameOwner]>, u32) {
    let m = &s.system.machine;
    let now = gloo::utils::window().performance().map_or(0.0, |p| p.now());
    let mut c = cache.borrow_mut();
    let fresh = c.step == Some(m.steps()) || (s.running && now - c.at_ms < FRAMES_EVERY_MS);
    if !fresh {
        let i = s.system.view();
        let (owners, free) = i.frames_and_free(m);
        *c = FramesCache {
            at_ms: now,
            step: Some(m.steps()),
            owners: (owners.into(), free),
        };
    }
    c.owners.clone()
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
                let seen: Vec<(String, bool)> = entries
                    .iter()
                    .filter_map(|entry| {
                        let entry: web_sys::IntersectionObserverEntry = entry.unchecked_into();
                        let panel = entry.target();
                        // A panel taken off the page reports once, out of view.
                        if !panel.is_connected() {
                            return None;
                        }
                        Some((panel.get_attribute("aria-label")?, entry.is_intersecting()))
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

#[function_component(App)]
pub fn app() -> Html {
    let session = use_mut_ref(initial_session);
    let saved = use_mut_ref(|| None::<Settings>);
    let refresh = use_force_update();
    let ticker = use_mut_ref(|| None::<Interval>);
    let frames_cache = use_mut_ref(FramesCache::default);
    let draft_timer = use_mut_ref(|| None::<Timeout>);
    let serials = use_mut_ref(Serials::default);

    // Every control sends an action here: apply it, do what it asks of the
    // browser, save the settings if they changed, re-render.
    let dispatch: Callback<Action> = {
        let session = session.clone();
        let refresh = refresh.clone();
        let saved = saved.clone();
        Callback::from(move |action: Action| {
            let editing = matches!(action, Action::Edit(_));
            let hover = matches!(
                action,
                Action::Hover(_) | Action::ScrollEvents(_) | Action::PanelsInView(_)
            );
            let effect = session.borrow_mut().apply(action);
            match effect {
                Some(Effect::CopyLink(fragment)) => {
                    copy_link(fragment, session.clone(), refresh.clone())
                }
                Some(Effect::LoadXv6) => load_xv6(session.clone(), refresh.clone()),
                None => {}
            }
            if editing {
                // Typing saves the draft once it pauses.
                let session = session.clone();
                let saved = saved.clone();
                *draft_timer.borrow_mut() = Some(Timeout::new(SAVE_DRAFT_MS, move || {
                    save_settings(&session.borrow(), &saved);
                }));
            } else if !hover {
                save_settings(&session.borrow(), &saved);
            }
            refresh.force_update();
        })
    };
    {
        // A lesson restored or linked on xv6 waits for xv6 to load.
        let session = session.clone();
        let refresh = refresh.clone();
        use_effect_with((), move |_| {
            if session.borrow().pending_lesson.is_some() {
                load_xv6(session, refresh);
            }
        });
    }
    let running = session.borrow().running;
    {
        // While running, tick every animation frame; stop the timer when paused.
        let session = session.clone();
        let refresh = refresh.clone();
        let ticker = ticker.clone();
        use_effect_with(running, move |&running| {
            if running {
                let s = session.clone();
                // Each tick runs for the time that really passed since the
                // last one, so a speed setting keeps its rate even when the
                // browser fires the timer late.
                let last = Rc::new(std::cell::Cell::new(None::<f64>));
                *ticker.borrow_mut() = Some(Interval::new(TICK_MS, move || {
                    if crate::panic::stopped() {
                        return;
                    }
                    let clock = gloo::utils::window().performance();
                    let t0 = clock.as_ref().map_or(0.0, |p| p.now());
                    let elapsed = last
                        .replace(Some(t0))
                        .map_or(f64::from(TICK_MS), |t| t0 - t);
                    let mut session = s.borrow_mut();
                    session.tick(elapsed.clamp(0.0, MAX_TICK_MS) / 1000.0);
                    let ms = clock.as_ref().map_or(0.0, |p| p.now()) - t0;
                    session.adapt(ms, elapsed);
                    drop(session);
                    // Yew renders within this call: the time it takes is the
                    // render's, which the next frame's budget allows for.
                    let t1 = clock.as_ref().map_or(0.0, |p| p.now());
                    refresh.force_update();
                    let rendered = clock.as_ref().map_or(0.0, |p| p.now()) - t1;
                    s.borrow_mut().note_render(rendered);
                }));
            } else {
                *ticker.borrow_mut() = None;
            }
        });
    }
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
    let on_pointer = {
        let dispatch = dispatch.clone();
        let session = session.clone();
        Callback::from(move |e: MouseEvent| {
            let f = focus_at(&e);
            if session.borrow().linked.hover != f {
                dispatch.emit(Action::Hover(f));
            }
        })
    };
    let on_pointer_leave = {
        let dispatch = dispatch.clone();
        let session = session.clone();
        Callback::from(move |_: MouseEvent| {
            if session.borrow().linked.hover.is_some() {
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
    let break_change = select_change(|v| Action::SetBreak(v.parse().ok()));

    let s = session.borrow();
    let m = &s.system.machine;
    // Where the machine is, for the notice a panic shows.
    crate::panic::note(s.lesson.id, m.steps());
    let root_class = classes!(
        "app",
        s.dark.then_some("dark"),
        s.projector.then_some("projector")
    );
    let i = s.system.view();
    let procs = i.processes(m);
    let shown = s
        .selected_pid
        .and_then(|pid| procs.iter().find(|p| p.pid == pid).cloned())
        .or_else(|| i.current(m))
        .or_else(|| procs.first().cloned());
    let linked = s.linked;
    let (walk_addr, walk_what) = match s.walk_addr {
        Some(a) => (a, "typed address"),
        None => views::code::latest_access(m),
    };
    let button = |id: &'static str, label: &str, action: Action| {
        let title = key_of(&action).map(|k| format!("{label} (key {k})"));
        html! { <button id={id} title={title} onclick={send(action)}>{ label.to_string() }</button> }
    };
    let secondary = |id: &'static str, label: &str, action: Action| {
        let title = key_of(&action).map(|k| format!("{label} (key {k})"));
        html! { <button id={id} class="secondary" title={title} onclick={send(action)}>{ label.to_string() }</button> }
    };
    let breakpoints = s.breakpoints();
    let projector_panels = s.projector_panels();
    // Each panel by name; projector mode shows the chosen ones in the
    // chosen order (the key panel first), the normal view all of them.
    let build = |name: &str| -> Html {
        match name {
            "Registers" => html! {
                    <RegistersPanel now={views::registers::RegisterView::of(m)} before={s.before.clone()} linked={linked} />
            },
            "Code" => html! {
                    <CodePanel view={views::code::code(&s)} on_action={dispatch.clone()} breakpoints={breakpoints.clone()} />
            },
            "Processes" => html! {
                    <ProcessesPanel procs={procs.clone()} shown={shown.as_ref().map(|p| p.pid)} linked={linked} />
            },
            "Kernel stack" => html! {
                    <KernelStackPanel view={shown.as_ref().map(|p| i.kernel_stack(m, p))} linked={linked} />
            },
            "Memory image" => html! {
                    <MemoryImagePanel pid={shown.as_ref().map(|p| p.pid)} regions={shown.as_ref().map(|p| views::memory::regions(&s.system, p)).unwrap_or_default()} linked={linked} />
            },
            "Page walk" => html! {
                    <PageWalkPanel walk={m.walk(walk_addr)} what={walk_what.to_string()} paging={m.cpu().paging()} step={m.steps()}
                        animate={!s.running || SPEEDS[s.speed].1.is_some_and(|r| r <= 10.0)}
                        on_who={dispatch.reform(Action::WhoChanged)} on_who_text={dispatch.reform(Action::WhoChangedText)}
                        on_walk_text={dispatch.reform(Action::WalkText)} linked={linked} />
            },
            "Page tables" => html! {
                <PageTablesPanel pid={shown.as_ref().map(|p| p.pid)} tables={shown.as_ref().map(|p| i.page_tables(m, p)).unwrap_or_default()} linked={linked} />
            },
            "TLB" => html! {
                    <TlbPanel tlb={m.tlb_view()} used={views::tlb::used_slot(m)} flushed={views::tlb::flushed(m)} linked={linked} />
            },
            "IDT" => html! {
                    <IdtPanel entries={i.idt(m)} dispatch={views::dispatch::dispatch(&s)} linked={linked} />
            },
            "Physical frames" => {
                let (frames, free) = frame_owners(&s, &frames_cache);
                html! {
                    <FramesPanel frames={frames} free={free} on_hover={dispatch.reform(Action::Hover)}
                        shown_pid={shown.as_ref().map(|p| p.pid)} linked={linked} />
                }
            }
            "Timeline" => html! {
                    <TimelinePanel view={views::timeline::of_session(&s, &procs)} now={m.steps()} linked={linked} />
            },
            "Events" => html! {
                    <EventsPanel rows={views::events::rows(&s)} row_px={if s.projector { 34 } else { 22 }}
                        filter={s.event_filter} on_filter={dispatch.reform(Action::Filter)}
                        on_scroll={dispatch.reform(Action::ScrollEvents)} linked={linked} />
            },
            _ => html! {
                <ConsolePanel text={String::from_utf8_lossy(m.console()).into_owned()}
                    screen={m.text_screen().map(|t| crate::panels::console::Screen { rows: t.rows, cursor: t.cursor })}
                    on_keys={dispatch.reform(Action::TypeKeys)} />
            },
        }
    };
    // A panel out of view keeps its DOM while running (see
    // `Session::renders_panel`); keyed by name, so a kept panel stays
    // itself when projector mode reorders them.
    let render = |name: &str| -> Html {
        let (serial, now) = serials.borrow_mut().of(name, s.renders_panel(name));
        let content = if now { build(name) } else { Html::default() };
        html! { <Kept key={name.to_string()} serial={serial} content={content} /> }
    };
    let order: Vec<String> = if s.projector {
        projector_panels
            .iter()
            .cloned()
            .chain(["Console".to_string()])
            .collect()
    } else {
        PANELS.iter().map(|p| p.to_string()).collect()
    };
    serials.borrow_mut().next_render(&order);
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
                { button("run", if s.running { "Pause" } else { "Run" }, Action::ToggleRun) }
                <select aria-label="Speed" onchange={speed_change}>
                    { for SPEEDS.iter().enumerate().map(|(k, (name, _))| html! { <option value={k.to_string()} selected={k == s.speed}>{ *name }</option> }) }
                </select>
                { button("reset", "Reset", Action::Reset) }
                <select aria-label="Break on" onchange={break_change}>
                    <option value="" selected={s.break_on.is_none()}>{ "break on: nothing" }</option>
                    { for BREAK_KINDS.iter().enumerate().map(|(k, b)| html! {
                        <option value={k.to_string()} selected={s.break_on == Some(b)}>{ format!("break on: {}", b.name) }</option>
                    }) }
                </select>
                { secondary("share", "Share link", Action::Share) }
                { secondary("projector", if s.projector { "Normal view" } else { "Projector" }, Action::ToggleProjector) }
                { secondary("theme", if s.dark { "Light" } else { "Dark" }, Action::ToggleTheme) }
                <button id="help" class="secondary" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (key ?)" onclick={send(Action::ToggleHelp)}>{ "?" }</button>
                <span class="status" id="status" role="status">
                    { views::status::status_line(&s) }
                    if let Some(f) = linked.current() {
                        <span class="focus-note">{ format!(" · {}: {}", if linked.hover.is_some() { "pointing at" } else { "pinned" }, f.describe()) }</span>
                    }
                </span>
            </nav>
            if let Some(n) = &s.notice {
                <div class="notice" role="status">
                    <span class="notice-text">{ n }</span>
                    if s.return_to.is_some() {
                        <button id="return" class="secondary" onclick={send(Action::ReturnToWhereIWas)}>
                            { format!("back to step {} (where you were)", s.return_to.unwrap_or_default()) }
                        </button>
                    }
                    <button class="dismiss secondary" aria-label="Dismiss" onclick={send(Action::DismissNotice)}>{ "×" }</button>
                </div>
            }
            if s.help {
                <div class="help" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>{ "Keyboard shortcuts" }</h2>
                    <table>{ for SHORTCUTS.iter().map(|k| html! {
                        <tr><td>{ for k.keys.iter().map(|key| html! { <kbd>{ *key }</kbd> }) }</td><td>{ k.what }</td></tr>
                    }) }</table>
                    <p>{ "Click a line number in the editor, or a source line in the Code panel, to set or clear a breakpoint there." }</p>
                </div>
            }
            if s.projector {
                <fieldset class="panel-picker" aria-label="Panels shown">
                    <legend>{ "Panels:" }</legend>
                    { for PANELS.iter().filter(|p| **p != "Console").map(|p| {
                        let on = projector_panels.iter().any(|x| x == p);
                        html! {
                            <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()}
                                onclick={send(Action::TogglePanel(p.to_string()))}>{ *p }</button>
                        }
                    }) }
                </fieldset>
            }
            <div class="layout">
                <LessonPanel view={views::lesson::of_session(&s)} on_action={dispatch.clone()} />
                <main class="panels" onmouseover={on_pointer} onmouseleave={on_pointer_leave} onclick={on_pin}>
                    { for order.iter().map(|name| render(name)) }
                </main>
            </div>
        </div>
    }
}
