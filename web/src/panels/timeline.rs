//! The "Timeline" panel: which process ran when, and why it stopped; each
//! disk request with its DMA transfer and interrupt; who slept on what and
//! which interrupt woke it.

use crate::focus::{Focus, Linked};
use crate::views::timeline::{IOS_DRAWN, IoStory, TimelineView};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub view: TimelineView,
    /// The machine's step now (where a running slice ends on the chart).
    pub now: u64,
    pub linked: Linked,
}

/// The chart's size in SVG units; it scales to the panel's width.
const CHART_W: f64 = 360.0;
const LANE_H: f64 = 22.0;
const LABEL_W: f64 = 96.0;

/// The chart: one lane per process and one for the disk; a bar per slice;
/// each I/O as request (on the asking process's lane) → DMA → interrupt (on
/// the disk lane) → wake-up (back on the process's lane), joined by lines.
fn chart(v: &TimelineView, now: u64, linked: &Linked) -> Html {
    // The I/Os drawn are the latest few; the chart spans them and the slices.
    // The axis starts at the first slice drawn; I/Os from before it are
    // left out rather than stretching the chart over empty time.
    let slice_start = v.slices.first().map(|s| s.from);
    let ios: Vec<&IoStory> =
        v.io.iter()
            .rev()
            .take(IOS_DRAWN)
            .filter(|io| slice_start.is_none_or(|f| io.requested >= f))
            .collect();
    let Some(first) = slice_start.or_else(|| ios.iter().map(|io| io.requested).min()) else {
        return html! {};
    };
    let end = now.max(first + 1);
    let mut lanes: Vec<String> = Vec::new();
    for who in v
        .slices
        .iter()
        .map(|s| &s.who)
        .chain(ios.iter().filter_map(|io| io.who.as_ref()))
    {
        if !lanes.contains(who) {
            lanes.push(who.clone());
        }
    }
    let disk_lane = lanes.len();
    let height = LANE_H * (disk_lane + 1) as f64 + 18.0;
    let x = |step: u64| {
        LABEL_W
            + (step.clamp(first, end) - first) as f64 / (end - first) as f64
                * (CHART_W - LABEL_W - 4.0)
    };
    let y = |lane: usize| LANE_H * lane as f64 + 3.0;
    let lane_of = |who: &str| lanes.iter().position(|l| l == who);
    let labels = lanes.iter().enumerate().map(|(i, name)| {
        html! {
            <text class="lane-label" x="2" y={(y(i) + 13.0).to_string()}>{ name }</text>
        }
    });
    let bars = v.slices.iter().map(|s| {
        let lane = lane_of(&s.who).unwrap_or(0);
        let to = if s.to == u64::MAX { now } else { s.to };
        let (x0, x1) = (x(s.from), x(to));
        let pid = s.pid.map(Focus::Pid);
        let class = classes!(
            "bar",
            format!("p{}", s.pid.unwrap_or(0) % 8),
            pid.and_then(|p| linked.class(&[p]))
        );
        html! {
            <rect class={class} x={x0.to_string()} y={y(lane).to_string()}
                width={(x1 - x0).max(1.5).to_string()} height={(LANE_H - 6.0).to_string()}
                data-focus={pid.map(Focus::attr)}>
                <title>{ if s.to == u64::MAX { format!("{}: from step {}, running now", s.who, s.from) } else { format!("{}: steps {}–{}, stopped: {}", s.who, s.from, to, s.why) } }</title>
            </rect>
        }
    });
    let ios = ios.iter().map(|io| {
        let mid = y(disk_lane) + (LANE_H - 6.0) / 2.0;
        let lane = io.who.as_deref().and_then(lane_of);
        let proc_y = lane.map_or(mid, |l| y(l) + (LANE_H - 6.0) / 2.0);
        let mut points = vec![(x(io.requested), proc_y, "request")];
        if let Some(d) = io.dma {
            points.push((x(d), mid, "DMA"));
        }
        if let Some(i) = io.interrupt {
            points.push((x(i), mid, "interrupt"));
        }
        if let Some(w) = io.wake {
            points.push((x(w), proc_y, "wake-up"));
        }
        let path = points
            .iter()
            .map(|(px, py, _)| format!("{px:.1},{py:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        html! {
            <g class="io-link">
                <polyline points={path} />
                { for points.iter().map(|(px, py, what)| html! {
                    <circle class={format!("io-{}", what.replace(' ', "-"))} cx={format!("{px:.1}")} cy={format!("{py:.1}")} r="4">
                        <title>{ format!("{what} ({})", io.text) }</title>
                    </circle>
                }) }
            </g>
        }
    });
    html! {
        <svg class="chart" viewBox={format!("0 0 {CHART_W} {height}")} role="img"
            aria-label="Who ran when, and each I/O from request to wake-up">
            { for labels }
            <text class="lane-label" x="2" y={(y(disk_lane) + 13.0).to_string()}>{ "disk" }</text>
            <line class="lane-line" x1={LABEL_W.to_string()} x2={CHART_W.to_string()}
                y1={(y(disk_lane) + 8.0).to_string()} y2={(y(disk_lane) + 8.0).to_string()} />
            { for bars }
            { for ios }
            <text class="axis" x={LABEL_W.to_string()} y={(height - 3.0).to_string()}>{ format!("step {first}") }</text>
            <text class="axis end" x={CHART_W.to_string()} y={(height - 3.0).to_string()}>{ format!("step {end}") }</text>
        </svg>
    }
}

#[function_component(TimelinePanel)]
pub fn timeline_panel(props: &TimelineProps) -> Html {
    let v = &props.view;
    let linked = &props.linked;
    let slices = v.slices.iter().rev().map(|s| {
        let to = if s.to == u64::MAX {
            "now".to_string()
        } else {
            s.to.to_string()
        };
        let pid = s.pid.map(Focus::Pid);
        let vector = s.vector.map(Focus::Vector);
        html! {
            <li class={classes!("slice", pid.and_then(|p| linked.class(&[p])))} data-focus={pid.map(Focus::attr)}>
                <span class="steps">{ format!("{}–{}", s.from, to) }</span>
                <span class="who">{ &s.who }</span>
                <span class={classes!("why", vector.and_then(|v| linked.class(&[v])))} data-focus={vector.map(Focus::attr)}>
                    { if s.to == u64::MAX { "running now".to_string() } else { format!("stopped: {}", s.why) } }
                </span>
            </li>
        }
    });
    let io =
        v.io.iter()
            .rev()
            .take(IOS_DRAWN)
            .map(|i| html! { <li class="io">{ i.line() }</li> });
    html! {
        <section class="panel timeline" aria-label="Timeline">
            <h2>{ "Timeline" }</h2>
            if v.slices.is_empty() && v.io.is_empty() && v.sleeps.is_empty() {
                <p class="empty">{ "nothing has run yet" }</p>
            }
            { chart(v, props.now, linked) }
            <ol class="slices">{ for slices }</ol>
            if !v.io.is_empty() {
                <ol class="ios">{ for io }</ol>
            }
            if !v.sleeps.is_empty() {
                <h3>{ "Sleeps and wake-ups" }</h3>
                <ol class="sleeps" aria-label="Sleeps">
                    { for crate::views::timeline::sleep_lines(&v.sleeps).into_iter().take(8).map(|sl| {
                        let pid = Focus::Pid(sl.pid);
                        html! {
                            <li class={classes!("sleep", sl.asleep.then_some("asleep"), linked.class(&[pid]))} data-focus={pid.attr()}>
                                { sl.text }
                            </li>
                        }
                    }) }
                </ol>
            }
            <h3>{ "Disk queue" }</h3>
            if v.disk_queue.is_empty() {
                <p class="empty" aria-label="Disk queue">{ "empty: no request waits for the disk" }</p>
            } else {
                <ol class="disk-queue" aria-label="Disk queue">
                    { for v.disk_queue.iter().map(|line| html! { <li>{ line }</li> }) }
                </ol>
            }
            if let Some(t) = &v.ticks {
                <p class="ticks">{ t }</p>
            }
        </section>
    }
}
