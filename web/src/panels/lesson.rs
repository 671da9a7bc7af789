//! The lesson: its text, its questions (predict, then reveal), and the
//! program editor.

use osviz_asm::Diagnostic;
use osviz_kernel::lessons::{LESSONS, Lesson};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LessonProps {
    pub lesson_id: &'static str,
    pub answers: Vec<Option<String>>,
    pub source: String,
    pub errors: Vec<Diagnostic>,
    pub on_choose: Callback<String>,
    pub on_reveal: Callback<usize>,
    pub on_run_source: Callback<String>,
}

#[function_component(LessonPanel)]
pub fn lesson_panel(props: &LessonProps) -> Html {
    let l: &Lesson = osviz_kernel::lessons::lesson(props.lesson_id).unwrap_or(&LESSONS[0]);
    let editor = use_node_ref();
    let on_choose = {
        let cb = props.on_choose.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            cb.emit(select.value());
        })
    };
    let on_run = {
        let cb = props.on_run_source.clone();
        let editor = editor.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(area) = editor.cast::<HtmlTextAreaElement>() {
                cb.emit(area.value());
            }
        })
    };
    let questions = l.questions.iter().enumerate().map(|(i, q)| {
        let reveal = props.on_reveal.reform(move |_: MouseEvent| i);
        html! {
            <li class="question">
                <p>{ q.prompt }</p>
                <input class="guess" aria-label={format!("Your answer to question {}", i + 1)} placeholder="your prediction" />
                <button class="reveal" onclick={reveal}>{ "Run to it and reveal" }</button>
                if let Some(Some(a)) = props.answers.get(i) {
                    <p class="answer">{ format!("The machine says: {a}") }</p>
                }
            </li>
        }
    });
    html! {
        <section class="panel lesson" aria-label="Lesson">
            <select aria-label="Lesson picker" onchange={on_choose}>
                { for LESSONS.iter().map(|x| html! { <option value={x.id} selected={x.id == l.id}>{ x.title }</option> }) }
            </select>
            <h2 class="lesson-title">{ l.title }</h2>
            <p class="concept">{ l.concept }</p>
            { for l.paragraphs.iter().map(|p| html! { <p>{ *p }</p> }) }
            if !l.questions.is_empty() {
                <h3>{ "Predict, then reveal" }</h3>
                <ol class="questions">{ for questions }</ol>
            }
            <h3>{ format!("Program: {}.asm", l.programs[0].name) }</h3>
            <textarea ref={editor} class="editor" aria-label="Program editor" spellcheck="false" value={props.source.clone()} />
            <button class="run-source" onclick={on_run}>{ "Run my program" }</button>
            if !props.errors.is_empty() {
                <ul class="errors" aria-label="Assembly errors">
                    { for props.errors.iter().map(|e| html! { <li>{ format!("line {}, column {}: {}", e.line, e.column, e.message) }</li> }) }
                </ul>
            }
        </section>
    }
}
