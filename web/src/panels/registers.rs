//! The "Registers" panel: general registers, EIP, EFLAGS bits, ring and
//! control registers, with the values the latest action changed marked.

use crate::focus::{Focus, Linked};
pub use crate::views::registers::RegisterView;
use osviz_machine::Flags;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RegistersProps {
    pub now: RegisterView,
    pub before: RegisterView,
    pub linked: Linked,
}

const FLAG_BITS: [(&str, u32); 9] = [
    ("CF", Flags::CF),
    ("PF", Flags::PF),
    ("AF", Flags::AF),
    ("ZF", Flags::ZF),
    ("SF", Flags::SF),
    ("TF", Flags::TF),
    ("IF", Flags::IF),
    ("DF", Flags::DF),
    ("OF", Flags::OF),
];

#[function_component(RegistersPanel)]
pub fn registers_panel(props: &RegistersProps) -> Html {
    let rows = props
        .now
        .rows
        .iter()
        .zip(&props.before.rows)
        .map(|((name, value), (_, old))| {
            let (value, old) = (*value, *old);
            let class = if value != old { "reg changed" } else { "reg" };
            // CR3 names the page directory's frame; EIP and ESP a page.
            let focus = match name.as_str() {
                "cr3" => Some(Focus::Frame(value >> 12)),
                "eip" | "esp" => Some(Focus::Page(value >> 12)),
                _ => None,
            };
            html! {
                <tr class={classes!(class, focus.and_then(|f| props.linked.class(&[f])))} data-reg={name.clone()}
                    data-focus={focus.map(Focus::attr)}>
                    <th scope="row">{ name.to_uppercase() }</th>
                    <td class="hex">{ format!("{value:08X}") }</td>
                    <td class="dec">{ value.to_string() }</td>
                </tr>
            }
        });
    let flags = FLAG_BITS.iter().map(|&(name, mask)| {
        let on = props.now.eflags & mask != 0;
        let changed = on != (props.before.eflags & mask != 0);
        let class = classes!("flag", on.then_some("on"), changed.then_some("changed"));
        html! { <span class={class} title={format!("{name} = {}", u8::from(on))}>{ name }</span> }
    });
    let ring = if props.now.mode.starts_with("real mode") {
        "no rings in real mode: every instruction may run"
    } else {
        match props.now.cpl {
            0 if props.now.hypervisor => "ring 0 (the hypervisor)",
            0 => "ring 0 (kernel mode)",
            3 => "ring 3 (user mode)",
            // A guest kernel a hypervisor deprivileged (ring compression).
            _ => "ring 1 (a guest's kernel, deprivileged by the hypervisor)",
        }
    };
    let segments = props.now.segments.iter().map(|g| {
        html! {
            <tr class="seg">
                <th scope="row">{ g.name.to_uppercase() }</th>
                <td class="hex">{ format!("{:04X}", g.selector) }</td>
                <td class="hex">{ format!("{:08X}", g.base) }</td>
                <td class="hex">{ format!("{:X}", g.limit) }</td>
                <td>{ if g.big { "32" } else { "16" } }</td>
            </tr>
        }
    });
    html! {
        <section class="panel registers" aria-label="Registers">
            <h2>{ "Registers" }</h2>
            <table class="reg-table">
                <thead><tr><th>{ "reg" }</th><th>{ "hex" }</th><th>{ "decimal" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            <div class="flags" aria-label="EFLAGS bits">{ for flags }</div>
            <div class="ring">{ format!("CPL {} · {ring}", props.now.cpl) }</div>
            <div class="cpu-mode">{ props.now.mode.clone() }</div>
            if !props.now.segments.is_empty() {
                <table class="seg-table" aria-label="Segment registers">
                    <thead><tr><th>{ "seg" }</th><th>{ "selector" }</th><th>{ "base" }</th><th>{ "limit" }</th><th>{ "bits" }</th></tr></thead>
                    <tbody>{ for segments }</tbody>
                </table>
            }
        </section>
    }
}
