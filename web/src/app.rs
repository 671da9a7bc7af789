//! The top-level component: owns the session, runs it frame by frame,
//! turns the page's events into [`Action`]s, and hands each panel the view
//! data `views` computes. Nothing here reads the machine itself.

use crate::action::{Action, SHORTCUTS, for_key, key_of};
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
use crate::session::{BreakChoice, Effect, Opening, SPEEDS, Session};
use crate::settings::{SETTINGS_KEY, Settings};
use crate::views;
use crate::views::frame::{FrameBuilder, Keep};
use crate::views::panel::PanelView;
use gloo::storage::Storage;
use gloo::timers::callback::{Interval, Timeout};
use osviz_course::Panel;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Milliseconds between animation ticks while running.
const TICK_MS: u32 = 16;
/// Milliseconds between frames while the guest is idle (every process waits
/// for a person).
const IDLE_FRAME_MS: f64 = 250.0;
/// The longest real time one tick makes up for (a tab in the background
/// does not come back to a burst of steps).
const MAX_TICK_MS: f64 = 100.0;
/// How long typing pauses before the draft is saved.
const SAVE_DRAFT_MS: u32 = 400;

/// How often, while running, the page's address is brought up to the
/// moment shown (and whenever an action changed it, and when the page is
/// left), so a reload reopens it.
const KEEP_MOMENT_MS: f64 = 500.0;

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

/// A share link in the URL wins (the moment the page kept there, after a
/// reload); then what the last visit left in local storage; then, for a
/// newcomer, the first lesson.
fn initial_session() -> Session {
    let saved = gloo::storage::LocalStorage::get::<Settings>(SETTINGS_KEY).ok();
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    if hash.len() > 1 {
        // The link's moment, with the student's own drafts and settings.
        let speed = saved.as_ref().map(|s| s.speed);
        let prefs = saved.map(|s| s.prefs).unwrap_or_default();
        if !entry_is_kept() {
            return Session::open_link(&hash, prefs);
        }
        let mut s = Session::reopen(&hash, prefs, Opening::Reload);
        if let Some(speed) = speed {
            s.apply(Action::SetSpeed(speed));
        }
        return s;
    }
    match saved {
        Some(settings) => settings.restore(),
        None => {
            let mut s = Session::new(osviz_course::first().id);
            s.apply(Action::Welcome);
            s
        }
    }
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

/// Fetches the xv6 build the page serves and hands it to the session,
/// which boots the xv6 lesson that waits for it.
fn load_xv6(dispatch: Callback<Action>) {
    wasm_bindgen_futures::spawn_local(async move {
        let action = match crate::loader::served_xv6().await {
            Ok(files) => Action::Xv6Loaded(files),
            Err(why) => Action::Xv6Failed(why),
        };
        dispatch.emit(action);
    });
}

/// The page's clock, in milliseconds.
fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
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

/// Where the session runs, from the page's side: it takes actions and
/// gives frames; the page renders only frames (`Painted`).
struct Host {
    session: RefCell<Session>,
    builder: RefCell<FrameBuilder>,
}

impl Host {
    /// The next frame, taken into `painted`; returns what to keep of it.
    fn publish(&self, painted: &RefCell<Painted>, moment: bool) -> Keep {
        let frame = self
            .builder
            .borrow_mut()
            .frame(&self.session.borrow(), now_ms(), moment);
        painted.borrow_mut().take(frame)
    }
}

/// Keeps what a frame asks the page to keep: the moment in the address
/// (`kept`: the fragment last written), the settings in local storage, at
/// once or (`later`) after typing pauses.
fn keep(keep: Keep, kept: &RefCell<String>, later: Option<&RefCell<Option<Timeout>>>) {
    if let Some(fragment) = keep.moment
        && *kept.borrow() != fragment
    {
        set_entry(&fragment, false);
        *kept.borrow_mut() = fragment;
    }
    if let Some(settings) = keep.settings {
        match later {
            Some(timer) => {
                *timer.borrow_mut() = Some(Timeout::new(SAVE_DRAFT_MS, move || {
                    save_settings(&settings);
                }));
            }
            None => save_settings(&settings),
        }
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let host = use_mut_ref(|| Host {
        session: RefCell::new(initial_session()),
        builder: RefCell::new(FrameBuilder::default()),
    });
    let painted = {
        let host = host.clone();
        use_mut_ref(move || {
            let painted = RefCell::new(Painted::default());
            // The first frame: what is saved already is not saved again.
            host.borrow().publish(&painted, false);
            painted.into_inner()
        })
    };
    let refresh = use_force_update();
    let ticker = use_mut_ref(|| None::<Interval>);
    let draft_timer = use_mut_ref(|| None::<Timeout>);
    // The fragment last written into the page's address.
    let kept = use_mut_ref(String::new);

    // Every control sends an action here: apply it, do what it asks of the
    // browser, keep the moment and the settings, render the frame.
    // The dispatcher hands itself to what it starts (a fetch, the
    // clipboard), whose answers come back as actions.
    let dispatch_cell = use_mut_ref(|| None::<Callback<Action>>);
    let dispatch: Callback<Action> = {
        let host = host.clone();
        let painted = painted.clone();
        let refresh = refresh.clone();
        let dispatch_cell = dispatch_cell.clone();
        let kept = kept.clone();
        let draft_timer = draft_timer.clone();
        Callback::from(move |action: Action| {
            let editing = matches!(action, Action::Edit(_));
            let hover = matches!(
                action,
                Action::Hover(_) | Action::ScrollEvents(_) | Action::PanelsInView(_)
            );
            let host = host.borrow();
            let effect = host.session.borrow_mut().apply(action);
            let again = dispatch_cell.borrow().clone();
            match (effect, again) {
                (Some(Effect::CopyLink { fragment, step }), Some(d)) => {
                    copy_link(fragment, step, d)
                }
                (Some(Effect::LoadXv6), Some(d)) => load_xv6(d),
                (Some(Effect::PushHistory { left, fragment }), _) => {
                    set_entry(&left, false);
                    set_entry(&fragment, true);
                    host.builder.borrow_mut().moment_kept(fragment.clone());
                    *kept.borrow_mut() = fragment;
                }
                _ => {}
            }
            let frame = host.publish(&painted, !hover && !editing);
            keep(frame, &kept, editing.then_some(&*draft_timer));
            refresh.force_update();
        })
    };
    *dispatch_cell.borrow_mut() = Some(dispatch.clone());
    {
        // A lesson restored or linked on xv6 waits for xv6 to load.
        let host = host.clone();
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            if host.borrow().session.borrow().waiting_for_xv6().is_some() {
                load_xv6(dispatch);
            }
        });
    }
    let running = painted.borrow().controls().is_some_and(|c| c.running);
    {
        // While running, tick every animation frame; stop the timer when paused.
        let host = host.clone();
        let painted = painted.clone();
        let refresh = refresh.clone();
        let ticker = ticker.clone();
        let kept = kept.clone();
        use_effect_with(running, move |&running| {
            if running {
                let kept_at = std::cell::Cell::new(0.0);
                // Each tick runs for the time that really passed since the
                // last one, so a speed setting keeps its rate even when the
                // browser fires the timer late.
                let last = Rc::new(std::cell::Cell::new(None::<f64>));
                *ticker.borrow_mut() = Some(Interval::new(TICK_MS, move || {
                    if crate::panic::stopped() {
                        return;
                    }
                    let host = host.borrow();
                    let clock = gloo::utils::window().performance();
                    let t0 = clock.as_ref().map_or(0.0, |p| p.now());
                    // While every process waits for a person, a few frames a
                    // second are enough: the page then leaves the host idle
                    // too (a key typed makes the next frame come at once).
                    let since = last.get().map_or(f64::INFINITY, |t| t0 - t);
                    if host.session.borrow().idle() && since < IDLE_FRAME_MS {
                        return;
                    }
                    let elapsed = last
                        .replace(Some(t0))
                        .map_or(f64::from(TICK_MS), |t| t0 - t);
                    {
                        let mut session = host.session.borrow_mut();
                        session.apply(Action::Tick {
                            seconds: elapsed.clamp(0.0, MAX_TICK_MS) / 1000.0,
                        });
                        let ms = clock.as_ref().map_or(0.0, |p| p.now()) - t0;
                        session.apply(Action::FrameTimed {
                            run_ms: ms,
                            since_last_ms: elapsed,
                        });
                    }
                    // Building the frame and rendering it are the page's
                    // work, which the next frame's budget allows for.
                    let t1 = clock.as_ref().map_or(0.0, |p| p.now());
                    let moment = t0 - kept_at.get() >= KEEP_MOMENT_MS;
                    if moment {
                        kept_at.set(t0);
                    }
                    let frame = host.publish(&painted, moment);
                    keep(frame, &kept, None);
                    refresh.force_update();
                    let rendered = clock.as_ref().map_or(0.0, |p| p.now()) - t1;
                    host.session
                        .borrow_mut()
                        .apply(Action::Rendered { ms: rendered });
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
        // The moment is in the address when the page is left (a reload
        // reopens it exactly); Back and Forward between lessons, or a link
        // pasted into the address, open the fragment's moment.
        let host = host.clone();
        let painted = painted.clone();
        let kept = kept.clone();
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let window = gloo::utils::window();
            let leaving = {
                let kept = kept.clone();
                gloo::events::EventListener::new(&window, "pagehide", move |_| {
                    let free = painted.try_borrow_mut().is_ok();
                    if let (Ok(host), true) = (host.try_borrow(), free) {
                        let frame = host.publish(&painted, true);
                        keep(frame, &kept, None);
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
        return Html::default();
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
