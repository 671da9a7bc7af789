//! The "IDT" panel: the vectors the kernel uses, with handler and DPL, and
//! the latest dispatch told stage by stage: vector, gate, privilege check,
//! stack switch, handler, and the `iret` that ends it.

use crate::focus::{Focus, Linked};
use crate::views::dispatch::Dispatch;
use osviz_kernel::introspect::IdtEntry;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct IdtProps {
    pub entries: Vec<IdtEntry>,
    /// The latest dispatch, if the run has made one.
    pub dispatch: Option<Dispatch>,
    /// In real mode, where interrupts go instead of the IDT.
    pub real_mode: Option<String>,
    pub linked: Linked,
}

/// Below this many, the CPU's exceptions are listed one by one even when
/// folding is asked for.
const FOLD_AT: usize = 4;

#[function_component(IdtPanel)]
pub fn idt_panel(props: &IdtProps) -> Html {
    let active = props.dispatch.as_ref().map(|d| d.vector);
    let linked = &props.linked;
    // The CPU's exceptions fold into one row until asked for, so the
    // vectors a lesson is about (the devices', the system call's) are on
    // the first screen; the one trapped through last, or pinned, keeps its
    // own row.
    let folded = use_state(|| true);
    let own_row =
        |e: &IdtEntry| active == Some(e.vector) || linked.pinned == Some(Focus::Vector(e.vector));
    let shown: Vec<&IdtEntry> = props
        .entries
        .iter()
        // The vectors the kernel names, and the one trapped through last.
        .filter(|e| e.name.is_some() || active == Some(e.vector))
        .collect();
    let foldable: Vec<&IdtEntry> = shown
        .iter()
        .copied()
        .filter(|e| e.is_cpu_exception() && e.present && !own_row(e))
        .collect();
    let fold = *folded && foldable.len() >= FOLD_AT;
    let row = |e: &IdtEntry| {
        let v = Focus::Vector(e.vector);
        let class = classes!(
            "gate",
            (active == Some(e.vector)).then_some("active"),
            linked.class(&[v])
        );
        html! {
            <tr class={class} data-vector={e.vector.to_string()} data-focus={v.attr()}>
                <td>{ format!("{:#04x}", e.vector) }</td>
                <td class="vname">{ e.name.clone().unwrap_or_default() }</td>
                if e.present {
                    <td class="handler">{ e.handler_symbol.clone().unwrap_or_default() }</td>
                    <td>{ &e.gate }</td>
                    <td class="dpl">{ format!("DPL {}", e.dpl) }</td>
                } else {
                    <td class="unset" colspan="3">{ "not yet set (the kernel fills the IDT at boot)" }</td>
                }
            </tr>
        }
    };
    let toggle = {
        let folded = folded.clone();
        Callback::from(move |_: MouseEvent| folded.set(!*folded))
    };
    let summary = fold.then(|| {
        let (first, last) = (foldable[0], foldable[foldable.len() - 1]);
        let same = |f: &dyn Fn(&IdtEntry) -> String| {
            let v = f(first);
            foldable.iter().all(|e| f(e) == v).then_some(v)
        };
        let gate = same(&|e| e.gate.clone()).unwrap_or_else(|| "mixed".into());
        let dpl = same(&|e| format!("DPL {}", e.dpl)).unwrap_or_else(|| "mixed DPL".into());
        let names = |e: &IdtEntry| e.name.clone().unwrap_or_default();
        html! {
            <tr class="gate folded">
                <td>{ format!("{:#04x}–{:#04x}", first.vector, last.vector) }</td>
                // Across the name and handler columns, so that the summary
                // wraps there and widens neither.
                <td class="vname" colspan="2">{ format!(
                    "{} CPU exceptions ({} … {}), handlers {} … {}",
                    foldable.len(),
                    names(first),
                    names(last),
                    first.handler_symbol.clone().unwrap_or_default(),
                    last.handler_symbol.clone().unwrap_or_default()
                ) }
                    { " " }<button class="link" onclick={toggle.clone()}>{ "list them" }</button></td>
                <td>{ gate }</td>
                <td class="dpl">{ dpl }</td>
            </tr>
        }
    });
    let rows = shown
        .iter()
        .filter(|e| !fold || !foldable.iter().any(|f| f.vector == e.vector))
        .map(|e| row(e));
    let refold = (!*folded && foldable.len() >= FOLD_AT).then(|| html! {
        <tr class="folded"><td colspan="5"><button class="link" onclick={toggle.clone()}>{ "fold the CPU exceptions into one row" }</button></td></tr>
    });
    html! {
        <section class="panel idt" aria-label="IDT">
            <h2>{ "IDT" }</h2>
            if let Some(note) = &props.real_mode {
                <p class="summary" role="note">{ note.clone() }</p>
            }
            if let Some(d) = &props.dispatch {
                <ol class={classes!("dispatch", d.live.then_some("live"))} aria-label="Dispatch"
                    data-focus={Focus::Vector(d.vector).attr()}>
                    { for d.stages.iter().map(|(name, text)| html! {
                        <li><span class="stage-name">{ name.clone() }</span>{ text }</li>
                    }) }
                </ol>
            } else {
                <ol class="dispatch" aria-label="Dispatch"><li class="none">{ "no trap since the lesson started: the next one is told here stage by stage" }</li></ol>
            }
            <table><tbody>{ for summary }{ for rows }{ for refold }</tbody></table>
        </section>
    }
}
