//! The lesson: its text, its questions (predict, then reveal), and the
//! program editor with line numbers, breakpoints in the gutter and the
//! assembler's errors marked on their lines.

use crate::action::Action;
use crate::session::SourceLine;
use crate::views::lesson::{Inline, LessonView};
use osviz_course::{Grade, TEACHING_LESSONS as LESSONS, VMM_LESSONS, XV6_LESSONS};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LessonProps {
    pub view: LessonView,
    pub on_action: Callback<Action>,
}

/// Lesson text: prose as text, code in `<code>`; never markup from the text.
pub fn text(pieces: &[Inline]) -> Html {
    html! {
        { for pieces.iter().map(|p| match p {
            Inline::Text(t) => html! { { t.clone() } },
            Inline::Code(c) => html! { <code>{ c.clone() }</code> },
        }) }
    }
}

#[function_component(LessonPanel)]
pub fn lesson_panel(props: &LessonProps) -> Html {
    let v = &props.view;
    let act = &props.on_action;
    // The picker shows the lesson the session has, also when it changed
    // without the picker (a share link, xv6 arriving, a restored visit):
    // an option's `selected` attribute alone does not move a select the
    // page has already drawn.
    let picker = use_node_ref();
    {
        let picker = picker.clone();
        let shown = v.loading.clone().unwrap_or_else(|| v.id.to_string());
        use_effect(move || {
            if let Some(select) = picker.cast::<HtmlSelectElement>()
                && select.value() != shown
            {
                select.set_value(&shown);
            }
        });
    }
    let on_choose = act.reform(|e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        Action::ChooseLesson(select.value())
    });
    // The editor is controlled: every keystroke goes to the session as a
    // draft, so a re-render (a step, a hover, a running frame) writes back
    // exactly what is there.
    let on_input = act.reform(|e: InputEvent| {
        let area: HtmlTextAreaElement = e.target_unchecked_into();
        Action::Edit(area.value())
    });
    let questions = v.questions.iter().enumerate().map(|(i, q)| {
        let on_guess = act.reform(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            Action::Guess(i, input.value())
        });
        let verdict = q.grade.map(|g| match g {
            Grade::Right => ("right", "✓ your prediction was right".to_string()),
            Grade::Wrong => ("wrong", "✗ your prediction differs".to_string()),
            Grade::PartlyRight { parts_right, parts } => (
                "partly",
                format!("◐ partly right: {parts_right} of {parts} parts"),
            ),
        });
        html! {
            <li class="question">
                <p>{ text(&q.prompt) }</p>
                <input class="guess" aria-label={format!("Your answer to question {}", i + 1)}
                    placeholder="your prediction" value={q.guess.clone()} oninput={on_guess} />
                <button class="reveal" onclick={act.reform(move |_: MouseEvent| Action::Reveal(i))}>{ "Run to it and reveal" }</button>
                if let Some(a) = &q.answer {
                    <p class={classes!("answer", verdict.as_ref().map(|v| v.0))}>
                        { format!("The machine says: {}", a.text) }
                        if let Some(step) = a.step {
                            <span class="at">{ format!(" (step {step})") }</span>
                        }
                        if let Some((_, words)) = &verdict {
                            <span class="verdict">{ format!(" {words}") }</span>
                        }
                    </p>
                }
            </li>
        }
    });
    let error_lines: Vec<usize> = v
        .errors
        .iter()
        .filter(|e| e.file.is_empty() || e.file == v.file)
        .map(|e| e.line)
        .collect();
    let line_count = v.draft.lines().count().max(1) + usize::from(v.draft.ends_with('\n'));
    let gutter = (1..=line_count).map(|n| {
        let class = classes!(
            "gutter-line",
            v.breakpoint_lines.contains(&n).then_some("breakpoint"),
            error_lines.contains(&n).then_some("error")
        );
        let file = v.file.clone();
        let onclick = act.reform(move |_: MouseEvent| {
            Action::ToggleBreakpoint(SourceLine {
                file: file.clone(),
                line: n,
            })
        });
        html! { <div class={class} data-line={n.to_string()} onclick={onclick}
        title="click: set or clear a breakpoint on this line">{ n }</div> }
    });
    html! {
        <section class="panel lesson" aria-label="Lesson">
            <select aria-label="Lesson picker" onchange={on_choose} ref={picker}>
                <optgroup label="The teaching kernel">
                    { for LESSONS.iter().enumerate().map(|(k, x)| html! {
                        <option value={x.id} selected={v.loading.as_deref().unwrap_or(&v.id) == x.id}>{ format!("{}. {}", k + 1, x.title) }</option>
                    }) }
                </optgroup>
                <optgroup label="xv6">
                    { for XV6_LESSONS.iter().enumerate().map(|(k, x)| html! {
                        <option value={x.id} selected={v.loading.as_deref().unwrap_or(&v.id) == x.id}>{ format!("x{}. {}", k + 1, x.title) }</option>
                    }) }
                </optgroup>
                <optgroup label="Virtualization: xv6 as a guest">
                    { for VMM_LESSONS.iter().enumerate().map(|(k, x)| html! {
                        <option value={x.id} selected={v.loading.as_deref().unwrap_or(&v.id) == x.id}>{ format!("v{}. {}", k + 1, x.title) }</option>
                    }) }
                </optgroup>
            </select>
            <h2 class="lesson-title">{ v.title.clone() }</h2>
            <p class="concept">{ text(&v.concept) }</p>
            { for v.paragraphs.iter().map(|p| html! { <p>{ text(p) }</p> }) }
            <p class="start-note">
                if let Some(hv) = v.hypervisor {
                    { text(&crate::views::lesson::inline(&format!("Running {} as the guest of the teaching hypervisor. {}",
                        v.origin.as_deref().unwrap_or("xv6"),
                        if hv.pure {
                            format!("The lesson starts at step {}, the hypervisor's first instruction: it boots, then starts xv6 in ring 1; ", v.start_step)
                        } else {
                            format!("The lesson starts at step {}, at xv6's shell prompt (the hypervisor's and xv6's boot fast-forwarded{}); ", v.start_step,
                                if v.typed.is_empty() { String::new() } else { format!(", `{}` typed for you: it runs when you press Run", v.typed.trim_end()) })
                        }))) }
                } else if v.real_boot {
                    { text(&crate::views::lesson::inline(&format!("Running {}, booted from its disk as a BIOS hands over: the lesson starts at step {}, the boot sector's first instruction at 0000:7C00, in real mode. ",
                        v.origin.as_deref().unwrap_or("xv6"), v.start_step))) }
                } else if v.xv6 {
                    { text(&crate::views::lesson::inline(&format!("Running {}. The lesson starts at step {}, at xv6's shell prompt (the boot fast-forwarded{}); ",
                        v.origin.as_deref().unwrap_or("xv6"), v.start_step,
                        if v.typed.is_empty() { String::new() } else { format!(", `{}` typed for you: it runs when you press Run", v.typed.trim_end()) }))) }
                } else {
                    { format!("The lesson starts at step {}, the program's first instruction; ", v.start_step) }
                }
                if !v.real_boot {
                    <button class="link" id="show-boot" onclick={act.reform(|_: MouseEvent| Action::ShowBoot)}>{ "show the boot" }</button>
                }
                if v.xv6 && !v.real_boot && v.hypervisor.is_none() {
                    { " (from the kernel's first instruction; or " }
                    <button class="link" id="real-boot" onclick={act.reform(|_: MouseEvent| Action::ChooseLesson("xv6-boot".into()))}>{ "the real boot, from the boot sector" }</button>
                    { ")" }
                }
            </p>
            if let Some(why) = &v.limitation {
                <p class="limitation" role="note">{ why.clone() }</p>
            }
            if v.open_build {
                <crate::panels::open_build::OpenBuild on_action={act.clone()} />
            }
            if !v.questions.is_empty() {
                <h3>{ "Predict, then reveal" }</h3>
                <ol class="questions">{ for questions }</ol>
            }
            if !v.xv6 {
            <h3 class="program-head">{ format!("Program: {}", v.file) }
                if v.unsaved { <span class="unsaved">{ " · edited, not run yet" }</span> }
            </h3>
            <div class="editor-box">
                <div class="gutter" aria-label="Line numbers">{ for gutter }</div>
                <textarea class="editor" aria-label="Program editor" spellcheck="false" wrap="off"
                    rows={line_count.to_string()} value={v.draft.clone()} oninput={on_input} />
            </div>
            <div class="editor-actions">
                <button class="run-source" onclick={act.reform(|_: MouseEvent| Action::RunDraft)}>{ "Run my program" }</button>
                if v.edited {
                    <button class="revert secondary" onclick={act.reform(|_: MouseEvent| Action::RevertDraft)}>{ "Revert to the lesson's program" }</button>
                }
            </div>
            }
            if !v.errors.is_empty() {
                <ul class="errors" aria-label="Assembly errors">
                    { for v.errors.iter().map(|e| html! { <li>{ format!("line {}, column {}: {}", e.line, e.column, e.message) }</li> }) }
                </ul>
            }
            if !v.warnings.is_empty() {
                <ul class="warnings" aria-label="Warnings">
                    { for v.warnings.iter().map(|w| html! { <li>{ w }</li> }) }
                </ul>
            }
            if !v.breakpoints.is_empty() {
                <h3>{ "Breakpoints" }</h3>
                <ul class="breakpoint-list" aria-label="Breakpoints">
                    { for v.breakpoints.iter().enumerate().map(|(k, (place, bound))| html! {
                        <li>
                            { place.clone() }
                            if !bound { <span class="unbound">{ " (no code there now)" }</span> }
                            <button class="secondary remove" aria-label={format!("Remove the breakpoint at {place}")}
                                onclick={act.reform(move |_: MouseEvent| Action::RemoveBreakpoint(k))}>{ "remove" }</button>
                        </li>
                    }) }
                </ul>
            }
        </section>
    }
}
