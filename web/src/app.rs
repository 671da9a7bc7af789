//! The top-level component: owns the machine and the controls.

use crate::panels::console::ConsolePanel;
use crate::panels::registers::{RegisterView, RegistersPanel};
use osviz_machine::{Machine, StopReason, programs};
use yew::prelude::*;

/// The most instructions one click of Run executes, so that a program that
/// never halts cannot freeze the page.
const RUN_BUDGET: u64 = 1_000_000;

fn demo_machine() -> Machine {
    let program = programs::SUM_LOOP;
    let mut machine = Machine::new(64 * 1024);
    machine
        .load(program.load_addr, program.bytes)
        .expect("the demo program fits in 64 KiB");
    machine.cpu.eip = program.load_addr;
    machine
}

/// A sentence for the status line.
fn describe(stop: &Option<StopReason>) -> String {
    match stop {
        None => "Ready".to_string(),
        Some(StopReason::InstructionLimit) => format!("Paused after {RUN_BUDGET} steps"),
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

#[function_component(App)]
pub fn app() -> Html {
    // The machine lives in a mutable cell: stepping it in place avoids copying
    // its memory on every instruction, and `refresh` re-renders the panels.
    let machine = use_mut_ref(demo_machine);
    let previous = use_mut_ref(|| RegisterView::of(&machine.borrow()));
    let last_stop = use_state(|| None::<StopReason>);
    let refresh = use_force_update();

    let act = {
        let machine = machine.clone();
        let previous = previous.clone();
        let last_stop = last_stop.clone();
        move |action: fn(&mut Machine) -> Option<StopReason>| {
            let machine = machine.clone();
            let previous = previous.clone();
            let last_stop = last_stop.clone();
            let refresh = refresh.clone();
            Callback::from(move |_: MouseEvent| {
                let mut m = machine.borrow_mut();
                *previous.borrow_mut() = RegisterView::of(&m);
                last_stop.set(action(&mut m));
                refresh.force_update();
            })
        }
    };
    let on_step = act(|m| m.step().stop);
    let on_run = act(|m| Some(m.run(RUN_BUDGET)));
    let on_reset = act(|m| {
        *m = demo_machine();
        None
    });

    let m = machine.borrow();
    let now = RegisterView::of(&m);
    let before = previous.borrow().clone();
    let can_step = m.stopped.is_none();
    html! {
        <>
            <header class="top">
                <h1>{ "osviz" }</h1>
                <p class="tagline">{ "watch an operating system virtualize the CPU and memory" }</p>
            </header>
            <nav class="controls" aria-label="Controls">
                <button id="step" onclick={on_step} disabled={!can_step}>{ "Step" }</button>
                <button id="run" onclick={on_run} disabled={!can_step}>{ "Run" }</button>
                <button id="reset" onclick={on_reset}>{ "Reset" }</button>
                <span class="status" id="status" role="status">
                    { format!("{} · {} instructions retired", describe(&last_stop), m.retired) }
                </span>
            </nav>
            <main class="panels">
                <RegistersPanel now={now} before={before} />
                <ConsolePanel text={
                    String::from_utf8_lossy(&[m.console(), m.debug_output()].concat()).into_owned()
                } />
            </main>
        </>
    }
}
