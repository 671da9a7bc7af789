//! The virtualization panels, shown while a hypervisor runs the guest:
//! "Virtual machine" (the real CPU beside the virtual CPU the guest
//! believes in, and the exits counted by reason), "VM exits" (the last
//! exits, each with its reason, the guest's instruction and C line), and
//! "Three page tables" (the guest's tables, the hypervisor's map and the
//! shadow tables side by side, one address followed through all three).

use super::hex;
use crate::views::vm::{ExitRow, ThreeWay};
use osviz_machine::Pte;
use osviz_view::{CpuSide, ExitReason, Runner, VirtualMachineView, Walk};
use yew::prelude::*;

/// Said where a panel has nothing to show: the kernel owns the machine.
const BARE: &str = "no hypervisor: the kernel runs on the machine itself. The virtualization lessons (vm-…) run xv6 as the teaching hypervisor's guest.";

#[derive(Debug, Properties, PartialEq)]
pub struct VirtualMachineProps {
    pub vm: Option<VirtualMachineView>,
    /// Steps the machine has run, for the exits' rate.
    pub steps: u64,
}

fn yes_no(on: bool) -> &'static str {
    if on { "1 (enabled)" } else { "0 (disabled)" }
}

/// One row of the real-versus-virtual table; `differs` marks the rows
/// where the guest is told something else than the truth.
fn side_row(what: &str, real: String, virt: String, note: &str) -> Html {
    let differs = real != virt;
    html! {
        <tr class={classes!(differs.then_some("differs"))}>
            <th scope="row">{ what.to_string() }</th>
            <td class="real">{ real }</td>
            <td class="virtual">{ virt }</td>
            <td class="why">{ note.to_string() }</td>
        </tr>
    }
}

fn sides(real: &CpuSide, virt: &CpuSide) -> Html {
    html! {
        <table class="vm-sides" aria-label="Real and virtual CPU">
            <thead><tr><th></th><th>{ "real CPU" }</th><th>{ "virtual CPU (what the guest believes)" }</th><th></th></tr></thead>
            <tbody>
                { side_row("ring (CPL)", format!("ring {}", real.ring), format!("ring {}", virt.ring),
                    "ring compression: the guest's kernel runs in ring 1 and believes ring 0") }
                { side_row("interrupt flag", yes_no(real.interrupts_enabled).into(), yes_no(virt.interrupts_enabled).into(),
                    "the guest's cli and sti trap and change the virtual flag; the real one stays the hypervisor's") }
                { side_row("CR3", format!("{:#x} host-physical", real.cr3), format!("{:#x} guest-physical", virt.cr3),
                    "the MMU walks the shadow page directory; the guest's own is only read by the hypervisor") }
                { side_row("IDT base", format!("{:#x}", real.idt_base), format!("{:#x}", virt.idt_base),
                    "every trap enters the hypervisor's IDT; it delivers into the guest's") }
                { side_row("GDT base", format!("{:#x}", real.gdt_base), format!("{:#x}", virt.gdt_base),
                    "the guest's descriptors copied into the hypervisor's GDT, ring 0 made ring 1") }
            </tbody>
        </table>
    }
}

#[function_component(VirtualMachinePanel)]
pub fn virtual_machine_panel(props: &VirtualMachineProps) -> Html {
    let Some(vm) = &props.vm else {
        return html! {
            <section class="panel vm" aria-label="Virtual machine">
                <h2>{ "Virtual machine" }</h2>
                <p class="summary" role="note">{ BARE }</p>
            </section>
        };
    };
    let runs = match vm.runs {
        Runner::Guest => "the guest runs natively (an exit hands the CPU to the hypervisor)",
        Runner::Hypervisor if vm.exits == 0 => {
            "the hypervisor runs: it is booting, and has not started the guest yet"
        }
        Runner::Hypervisor => {
            "the hypervisor runs: it is handling an exit, and the guest is stopped"
        }
    };
    let most = vm
        .by_reason
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
        .max(1);
    let per_thousand = vm.exits_per_thousand(props.steps);
    let guest = vm.guest_steps(props.steps);
    html! {
        <section class="panel vm" aria-label="Virtual machine">
            <h2>{ "Virtual machine" }</h2>
            <p class={classes!("summary", "vm-runs", (vm.runs == Runner::Hypervisor).then_some("in-vmm"))} role="note">{ runs }</p>
            { sides(&vm.real, &vm.virtual_cpu) }
            <p class="summary">{ format!(
                "guest-physical memory: {} MiB at host-physical {:#x} · {} exits, {per_thousand:.1} per 1,000 of the guest's own steps · of {} steps, {} the hypervisor's handling exits ({:.0}%) and {guest} the guest's · {} interrupts and exceptions delivered into the guest",
                vm.guest_size >> 20, vm.guest_base, vm.exits, props.steps, vm.vmm_steps,
                vm.vmm_steps as f64 * 100.0 / props.steps.max(1) as f64, vm.injected
            ) }</p>
            <table class="vm-counts" aria-label="Exits by reason">
                <tbody>
                    { for vm.by_reason.iter().map(|(reason, n)| html! {
                        <tr data-reason={format!("{reason:?}")}>
                            <th scope="row">{ reason.label() }</th>
                            <td class="count">{ n.to_string() }</td>
                            <td class="bar-cell"><span class="bar" style={format!("width: {:.1}%", f64::from(*n) * 100.0 / f64::from(most))}></span></td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}

#[derive(Debug, Properties, PartialEq)]
pub struct VmExitsProps {
    /// `None` when no hypervisor runs.
    pub rows: Option<Vec<ExitRow>>,
}

fn reason_class(r: ExitReason) -> &'static str {
    match r {
        ExitReason::Privileged => "r-privileged",
        ExitReason::PortIo => "r-io",
        ExitReason::Mmio => "r-mmio",
        ExitReason::ShadowFill => "r-shadow",
        ExitReason::GuestPageFault => "r-pf",
        ExitReason::Interrupt => "r-irq",
        ExitReason::SystemCall => "r-syscall",
        ExitReason::Patched => "r-patched",
        ExitReason::Exception => "r-exception",
    }
}

#[function_component(VmExitsPanel)]
pub fn vm_exits_panel(props: &VmExitsProps) -> Html {
    let Some(rows) = &props.rows else {
        return html! {
            <section class="panel vm-exits" aria-label="VM exits">
                <h2>{ "VM exits" }</h2>
                <p class="summary" role="note">{ BARE }</p>
            </section>
        };
    };
    // The patched pushfl/popfl of xv6's pushcli and popcli are most of
    // the exits: hidden on request, so that the rarer ones stay in view.
    let hide_patched = use_state(|| false);
    let toggle = {
        let hide = hide_patched.clone();
        Callback::from(move |_: Event| hide.set(!*hide))
    };
    let shown: Vec<&ExitRow> = rows
        .iter()
        .filter(|r| !*hide_patched || r.reason != ExitReason::Patched)
        .collect();
    html! {
        <section class="panel vm-exits" aria-label="VM exits">
            <h2>{ "VM exits" }</h2>
            <p class="summary">{ format!("the hypervisor's last {} exits, newest first", rows.len()) }</p>
            <label class="filters"><input type="checkbox" checked={*hide_patched} onchange={toggle} />{ " hide the patched pushfl/popfl" }</label>
            <div class="vm-exits-scroll">
                <table>
                    <thead><tr><th>{ "#" }</th><th>{ "reason" }</th><th>{ "guest instruction" }</th><th>{ "where" }</th><th>{ "detail" }</th><th title="the hypervisor's steps handling it">{ "steps" }</th></tr></thead>
                    <tbody>
                        { for shown.iter().map(|r| html! {
                            <tr class={classes!("exit", reason_class(r.reason))} data-reason={format!("{:?}", r.reason)}>
                                <td class="num">{ r.number.to_string() }</td>
                                <td class="reason">{ r.reason.label() }</td>
                                <td class="insn"><code>{ format!("{} {}", hex(r.eip), r.instruction) }</code></td>
                                <td class="place">{ r.place.clone() }</td>
                                <td class="detail">{ r.detail.clone() }</td>
                                <td class="num">{ r.steps.map_or("…".to_string(), |n| n.to_string()) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[derive(Debug, Properties, PartialEq)]
pub struct ThreeTablesProps {
    pub view: Option<ThreeWay>,
}

fn entry(e: Option<u32>) -> String {
    match e {
        Some(e) => format!("{:#x}", e),
        None => "—".into(),
    }
}

/// One walk's stages in words.
fn walk_words(w: &Walk, side: &str) -> Html {
    let table = (w.pde & Pte::PRESENT != 0 && w.pde & Pte::LARGE == 0).then(|| {
        html! { <span>{ format!(" → table entry {}", entry(w.pte)) }</span> }
    });
    html! {
        <span class="walk-words">
            { format!("{side} directory {:#x} → directory entry {:#x}", w.dir, w.pde) }
            { for table }
            { match w.address {
                Some(a) => format!(" → {a:#x}"),
                None => " → not present".to_string(),
            } }
        </span>
    }
}

#[function_component(ThreeTablesPanel)]
pub fn three_tables_panel(props: &ThreeTablesProps) -> Html {
    let Some(v) = &props.view else {
        return html! {
            <section class="panel three" aria-label="Three page tables">
                <h2>{ "Three page tables" }</h2>
                <p class="summary" role="note">{ BARE }</p>
            </section>
        };
    };
    let t = &v.tables;
    let follow = v.follow.map(|f| {
        let guest_user = f.guest.pte.map_or(f.guest.pde, |pte| pte & f.guest.pde) & Pte::USER != 0;
        let verdict = if f.shadow_agrees() {
            "the shadow maps it to the frame the guest's table and the hypervisor's map imply (with W only once the guest's page is dirty: the hypervisor sets its D bit on the first write)".to_string()
        } else if f.guest.address.is_some() && f.shadow.address.is_none() && !guest_user {
            "not a user page in the guest's table: a user touch is a true page fault, reflected into the guest (a kernel touch fills the shadow)".to_string()
        } else if f.guest.address.is_none() {
            "the guest's own table does not map it: a touch is a true page fault, reflected into the guest".to_string()
        } else if f.shadow.address.is_none() {
            "missing from the shadow: the next touch is a hidden page fault, and the hypervisor fills it".to_string()
        } else {
            "the shadow maps it elsewhere: a device page, or an entry not yet refreshed".to_string()
        };
        html! {
            <ol class="three-follow" aria-label="One address through the three tables">
                <li><span class="stage-name">{ "guest" }</span>{ walk_words(&f.guest, "guest's") }{ " (guest-physical)" }</li>
                <li><span class="stage-name">{ "map" }</span>{ match (f.guest.address, f.host) {
                    (Some(gpa), Some(hpa)) => format!("guest-physical {gpa:#x} + base {:#x} = host-physical {hpa:#x}", v.guest_base),
                    (Some(gpa), None) => format!("guest-physical {gpa:#x} is past the guest's memory (a device the hypervisor emulates)"),
                    (None, _) => "nothing to map".to_string(),
                } }</li>
                <li><span class="stage-name">{ "shadow" }</span>{ walk_words(&f.shadow, "shadow") }{ " (host-physical: what the MMU gives)" }</li>
                <li class={classes!("verdict", (!f.shadow_agrees()).then_some("missing"))}>{ verdict }</li>
            </ol>
        }
    });
    html! {
        <section class="panel three" aria-label="Three page tables">
            <h2>{ "Three page tables" }</h2>
            <p class="summary">{ format!(
                "guest's directory at guest-physical {:#x}; shadow directory at host-physical {:#x}; the shadow holds {} user and {} kernel entries",
                t.guest_dir, t.shadow_dir, t.shadow_user_entries, t.shadow_kernel_entries
            ) }</p>
            <p class="three-what">{ format!("followed: {} {:#010x}", v.what, v.follow.map_or(0, |f| f.gva)) }</p>
            { for follow }
            <table class="three-rows" aria-label="User pages in the three tables">
                <thead><tr>
                    <th>{ "virtual page" }</th>
                    <th>{ "guest PTE (guest-physical frame)" }</th>
                    <th>{ "hypervisor's map (host frame)" }</th>
                    <th>{ "shadow PTE" }</th>
                </tr></thead>
                <tbody>
                    { for t.rows.iter().map(|r| {
                        let missing = r.shadow_pte.is_none();
                        html! {
                            <tr class={classes!(missing.then_some("missing"))}>
                                <td>{ hex(r.page) }</td>
                                <td>{ format!("{:#x} → {:#x}", r.guest_pte, r.guest_pte & Pte::FRAME) }</td>
                                <td>{ format!("{:#x}", r.host_frame) }</td>
                                <td>{ match r.shadow_pte {
                                    Some(pte) => format!("{pte:#x}"),
                                    None if r.guest_pte & Pte::USER == 0 => "missing (not a user page: a user touch faults)".to_string(),
                                    None => "missing (filled on first touch)".to_string(),
                                } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}
