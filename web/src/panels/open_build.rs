//! "Open your own xv6": a file picker and a drop zone for a kernel ELF, its
//! fs.img and (optionally) its C sources. The files are read in the
//! browser and never sent anywhere; what is wrong with them is said.

use crate::action::Action;
use web_sys::{DragEvent, FileList, HtmlInputElement};
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct OpenBuildProps {
    pub on_action: Callback<Action>,
}

fn files_of(list: Option<FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Reads the files and hands the build (or why not) to the session.
fn open(files: Vec<web_sys::File>, on_action: Callback<Action>) {
    if files.is_empty() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        on_action.emit(match crate::loader::open_files(files).await {
            Ok(files) => Action::Xv6Opened(files),
            Err(why) => Action::Xv6Failed(why),
        });
    });
}

#[function_component(OpenBuild)]
pub fn open_build(props: &OpenBuildProps) -> Html {
    let over = use_state(|| false);
    let on_change = {
        let act = props.on_action.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            open(files_of(input.files()), act.clone());
            input.set_value("");
        })
    };
    let on_drop = {
        let act = props.on_action.clone();
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(false);
            let files = e.data_transfer().and_then(|d| d.files());
            open(files_of(files), act.clone());
        })
    };
    let on_drag_over = {
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(true);
        })
    };
    let on_drag_leave = {
        let over = over.clone();
        Callback::from(move |_: DragEvent| over.set(false))
    };
    html! {
        <div class={classes!("open-build", over.then_some("over"))} ondrop={on_drop}
            ondragover={on_drag_over} ondragleave={on_drag_leave} aria-label="Open your own xv6 build">
            <label>
                { "Open your own xv6: choose or drop its " }<code>{ "kernel" }</code>{ ", " }<code>{ "fs.img" }</code>
                { " and, for the Code panel, its .c, .h and .S files (and " }<code>{ "bootblock.o" }</code>
                { " for the boot lesson). They stay in this browser." }
                <input type="file" multiple=true class="build-files" aria-label="xv6 build files" onchange={on_change} />
            </label>
        </div>
    }
}
