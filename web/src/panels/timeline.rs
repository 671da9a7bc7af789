//! The "Timeline" panel: which process ran when, and why it stopped; each
//! disk request with its DMA transfer and interrupt; who slept on what and
//! which interrupt woke it.

use crate::focus::{Focus, Linked};
use crate::views::timeline::{IOS_DRAWN, IoStory, TimelineView};
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
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

/// Steps as the chart's inner SVG places them: `(step - base) / unit`.
/// Chromium lays SVG shapes out in fixed point, which saturates near 2^25,
/// so raw step numbers (xv6 reaches its prompt at 14 million, and runs on
/// to billions) would put bars in the wrong place. A unit of a power of
/// two steps keeps the span within 2^20 units, and the base is the span's
/// start rounded down to 2^20 units: both change only when the span
/// doubles or slides past its own length, so from one frame to the next
/// a bar keeps its numbers.
#[derive(Clone, Copy)]
struct Units {
    base: u64,
    unit: u64,
}

impl Units {
    const SPAN_UNITS: u64 = 1 << 20;

    fn for_span(first: u64, end: u64) -> Units {
        let unit = (end - first).div_ceil(Self::SPAN_UNITS).next_power_of_two();
        let block = unit.saturating_mul(Self::SPAN_UNITS);
        Units {
            base: first / block * block,
            unit,
        }
    }

    fn at(self, step: u64) -> String {
        self.len(step.saturating_sub(self.base))
    }

    fn len(self, steps: u64) -> String {
        // A power of two divides exactly; three decimals are a thousandth
        // of a unit, far below a pixel.
        format!("{:.3}", steps as f64 / self.unit as f64)
    }
}

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
    // Lanes in pid order (an I/O's asker not in a slice after them), not
    // in order of appearance: as old slices leave the chart, the lanes
    // then stay where they are.
    let mut keyed: Vec<(Option<u32>, String)> = Vec::new();
    for (pid, who) in v.slices.iter().map(|s| (s.pid, s.who.clone())).chain(
        ios.iter()
            .filter_map(|io| io.who.as_ref().map(|w| (Some(w.pid), w.label()))),
    ) {
        if !keyed.iter().any(|(_, w)| *w == who) {
            keyed.push((pid, who));
        }
    }
    keyed.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    let lanes: Vec<String> = keyed.into_iter().map(|(_, w)| w).collect();
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
    // The bars and the I/O lines are drawn in steps, inside an inner SVG
    // whose view box is the span [first, end]: as the machine runs, only
    // the view box and the running bar change, not every bar's place (a
    // chart redrawn in pixels changed over a hundred attributes a frame at
    // full speed). Their strokes do not scale, so a slice of a few steps
    // still shows a bar at least a stroke wide.
    let span_w = CHART_W - LABEL_W - 4.0;
    let units = Units::for_span(first, end);
    let bars = v.slices.iter().map(|s| {
        let lane = lane_of(&s.who).unwrap_or(0);
        let to = if s.to == u64::MAX { now } else { s.to };
        let pid = s.pid.map(Focus::Pid);
        let class = classes!(
            "bar",
            format!("p{}", s.pid.unwrap_or(0) % 8),
            pid.and_then(|p| linked.class(&[p]))
        );
        html! {
            <rect key={s.from} class={class} x={units.at(s.from)} y={y(lane).to_string()}
                width={units.len(to.saturating_sub(s.from))} height={(LANE_H - 6.0).to_string()}
                data-focus={pid.map(Focus::attr)}>
                <title>{ if s.to == u64::MAX { format!("{}: from step {}, running now", s.who, s.from) } else { format!("{}: steps {}–{}, stopped: {}", s.who, s.from, to, s.why) } }</title>
            </rect>
        }
    });
    let mid = y(disk_lane) + (LANE_H - 6.0) / 2.0;
    let points_of = |io: &IoStory| {
        let proc_y = io
            .who
            .as_ref()
            .and_then(|w| lane_of(&w.label()))
            .map_or(mid, |l| y(l) + (LANE_H - 6.0) / 2.0);
        let mut points = vec![(io.requested, proc_y, "request")];
        if let Some(d) = io.dma {
            points.push((d, mid, "DMA"));
        }
        if let Some(i) = io.interrupt {
            points.push((i, mid, "interrupt"));
        }
        if let Some(w) = io.wake {
            points.push((w, proc_y, "wake-up"));
        }
        points
    };
    let links = ios.iter().map(|io| {
        let path = points_of(io)
            .iter()
            .map(|(step, py, _)| format!("{},{py:.1}", units.at(*step)))
            .collect::<Vec<_>>()
            .join(" ");
        html! { <polyline key={io.requested} class="io-line" points={path} /> }
    });
    // The points stay round, so they are drawn in the chart's own units.
    let dots = ios.iter().map(|io| {
        html! {
            <g key={io.requested} class="io-link">
                { for points_of(io).into_iter().map(|(step, py, what)| html! {
                    <circle class={format!("io-{}", what.replace(' ', "-"))} cx={format!("{:.1}", x(step))} cy={format!("{py:.1}")} r="4">
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
            <svg class="span" x={LABEL_W.to_string()} y="0" width={span_w.to_string()} height={height.to_string()}
                viewBox={format!("{} 0 {} {height}", units.at(first), units.len(end - first))} preserveAspectRatio="none">
                { for bars }
                { for links }
            </svg>
            { for dots }
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
            <li key={s.from} class={classes!("slice", pid.and_then(|p| linked.class(&[p])))} data-focus={pid.map(Focus::attr)}>
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
            .map(|i| html! { <li key={i.requested} class="io">{ i.line() }</li> });
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

#[cfg(test)]
mod tests {
    use super::Units;

    fn num(s: String) -> f64 {
        s.parse().unwrap()
    }

    #[test]
    fn the_inner_chart_keeps_its_numbers_small_and_a_bar_keeps_them_while_the_run_goes_on() {
        let spans = [
            (0, 1),
            (0, 30_000),
            (14_000_000, 14_600_000),
            (56_693_126, 70_236_370),
            (4_000_000_000, 4_000_000_100),
            (0, 9_000_000_000_000),
        ];
        for (first, end) in spans {
            let u = Units::for_span(first, end);
            let (a, b) = (num(u.at(first)), num(u.at(end)));
            assert!(b < f64::from(1 << 21), "{first}..{end}: {a}..{b}");
            assert!(b > a, "{first}..{end}");
            // The step halfway is drawn halfway (to a thousandth of a unit).
            let mid = num(u.at(first + (end - first) / 2));
            assert!(
                (mid - (a + b) / 2.0).abs() <= 0.5 + 1e-3,
                "{first}..{end}: {mid}"
            );
        }
        // While the run goes on (the end moves a frame's steps at a time),
        // a bar drawn from one slice's steps keeps the same numbers, until
        // the span outgrows its unit (here 16 steps, to 16 Mi steps).
        let (first, mut end) = (56_693_126, 70_236_370);
        let bar = |u: Units| (u.at(62_079_515), u.len(610_296));
        let was = bar(Units::for_span(first, end));
        while end - first + 600_000 <= 16 << 20 {
            end += 600_000;
            assert_eq!(bar(Units::for_span(first, end)), was, "to {end}");
        }
        end += 600_000;
        assert_ne!(bar(Units::for_span(first, end)), was, "a unit of 32");
    }
}
