//! One road from the session to every panel: [`panel_view`] builds the
//! plain data of any [`Panel`], an exhaustive match, so a panel added to
//! the enum does not build until it has a view, and `app.rs` renders each
//! variant of [`PanelView`] with its component.

use crate::session::{Breakpoint, Session};
use crate::views;
use crate::views::code::CodeView;
use crate::views::dispatch::Dispatch;
use crate::views::events::EventRows;
use crate::views::memory::Region;
use crate::views::registers::RegisterView;
use crate::views::timeline::TimelineView;
use osviz_course::Panel;
use osviz_machine::{EventKind, TlbView, Walk};
use osviz_view::{FrameOwner, IdtEntry, KernelStackView, PageTable, ProcessView};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// The PC's text screen as the console panel draws it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screen {
    pub rows: Vec<String>,
    pub cursor: Option<(u32, u32)>,
}

/// What every panel of a render shares: the processes, and the one the
/// process panels show (the chosen one, else the running one, else the
/// first).
#[derive(Clone, Debug)]
pub struct Shown {
    pub procs: Vec<ProcessView>,
    pub process: Option<ProcessView>,
    /// The virtual machine, read once a frame for every panel that shows
    /// it (none without a hypervisor).
    pub vm: Option<osviz_view::VirtualMachineView>,
}

impl Shown {
    pub fn of(s: &Session) -> Shown {
        let m = s.guest().machine();
        let i = s.guest().view();
        let procs = i.processes(m);
        let process = s
            .inspect()
            .selected_pid()
            .and_then(|pid| procs.iter().find(|p| p.pid == pid).cloned())
            .or_else(|| i.current(m))
            .or_else(|| procs.first().cloned());
        let vm = i.virtual_machine(m);
        Shown { procs, process, vm }
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }
}

/// The data of one panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PanelView {
    Registers {
        now: RegisterView,
        before: RegisterView,
    },
    Code {
        view: CodeView,
        breakpoints: Vec<Breakpoint>,
    },
    Processes {
        procs: Vec<ProcessView>,
        shown: Option<u32>,
    },
    KernelStack(Option<KernelStackView>),
    MemoryImage {
        pid: Option<u32>,
        regions: Vec<Region>,
    },
    VirtualMachine {
        vm: Option<osviz_view::VirtualMachineView>,
        steps: u64,
    },
    VmExits(Option<Vec<views::vm::ExitRow>>),
    ThreeTables(Option<views::vm::ThreeWay>),
    PageWalk {
        walk: Walk,
        what: String,
        /// Under a hypervisor, which tables the MMU walked (the shadow's).
        tables: Option<String>,
        paging: bool,
        /// In real mode, how the address was made from a segment and an
        /// offset (there is no page walk to draw).
        real_mode: Option<String>,
        /// Whether the walk animates (stepping, or running slowly).
        animate: bool,
        step: u64,
    },
    PageTables {
        pid: Option<u32>,
        tables: Vec<PageTable>,
        /// Whether paging is on: during the boot the CPU uses no tables.
        paging: bool,
    },
    Tlb {
        tlb: TlbView,
        used: Option<u8>,
        flushed: Option<String>,
    },
    Idt {
        entries: Vec<IdtEntry>,
        dispatch: Option<Dispatch>,
        /// In real mode, where interrupts go instead (the vector table).
        real_mode: Option<String>,
    },
    Frames {
        #[serde(with = "owner_runs")]
        frames: Rc<[FrameOwner]>,
        free: u32,
        shown_pid: Option<u32>,
        /// Whether paging is on: during the boot the kernel keeps no
        /// records of its frames yet.
        paging: bool,
    },
    Timeline {
        view: TimelineView,
        now: u64,
    },
    Events {
        rows: EventRows,
        row_px: u32,
        filter: Option<EventKind>,
    },
    Console {
        text: String,
        screen: Option<Screen>,
        /// The output's last lines, for reading back what scrolled off the
        /// screen (only on a board with a text screen).
        scrollback: Vec<String>,
        /// Keys typed while the machine stood still, as they will arrive.
        pending: String,
    },
}

/// The owners of every frame as runs of one owner: tens of thousands of
/// frames (xv6's 57,344) come in runs (the kernel's image, the free list,
/// a process's pages), so a frame of the page carries hundreds of runs,
/// not a value a frame.
mod owner_runs {
    use osviz_view::FrameOwner;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::rc::Rc;

    pub fn serialize<S: Serializer>(owners: &Rc<[FrameOwner]>, s: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<(FrameOwner, u32)> = Vec::new();
        for &owner in owners.iter() {
            match runs.last_mut() {
                Some((last, n)) if *last == owner => *n += 1,
                _ => runs.push((owner, 1)),
            }
        }
        runs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Rc<[FrameOwner]>, D::Error> {
        let runs = Vec::<(FrameOwner, u32)>::deserialize(d)?;
        Ok(runs
            .into_iter()
            .flat_map(|(owner, n)| std::iter::repeat_n(owner, n as usize))
            .collect())
    }
}

/// How many lines of output the console keeps to read back.
pub const SCROLLBACK_LINES: usize = 500;

/// The frame owners as last read, with when (page time) and at which step.
#[derive(Debug, Default)]
pub struct FramesCache {
    at_ms: f64,
    step: Option<u64>,
    owners: (Rc<[FrameOwner]>, u32),
}

/// While the machine runs, the frames panel is read at most this often:
/// reading 57,344 owners (xv6's free list and every page table) takes
/// milliseconds, which every frame cannot spare; paused, it is always now.
const FRAMES_EVERY_MS: f64 = 250.0;

impl FramesCache {
    /// Who owns each physical frame, and how many are free: now when
    /// paused or stepping, at most every `FRAMES_EVERY_MS` while running
    /// (`now_ms` is the page's clock, which the page reads).
    fn owners(&mut self, s: &Session, now_ms: f64) -> (Rc<[FrameOwner]>, u32) {
        let m = s.guest().machine();
        let fresh =
            self.step == Some(m.steps()) || (s.running() && now_ms - self.at_ms < FRAMES_EVERY_MS);
        if !fresh {
            let (owners, free) = s.guest().view().frames_and_free(m);
            *self = FramesCache {
                at_ms: now_ms,
                step: Some(m.steps()),
                owners: (owners.into(), free),
            };
        }
        self.owners.clone()
    }
}

/// The panels the page shows, in order. Projector mode: the chosen ones
/// (the lesson's key panel first), then the console unless chosen already.
/// The normal view: every panel; on a board with a text screen (xv6 on the
/// PC), the console first, where the student types without scrolling, then
/// the panels the lesson is about (so they are on the first screen or
/// next to it, not a thousand pixels down), then the rest in the page's
/// order.
pub fn order(s: &Session) -> Vec<Panel> {
    if s.prefs().projector {
        let mut order = s.projector_panels();
        if !order.contains(&Panel::Console) {
            order.push(Panel::Console);
        }
        return order;
    }
    let available = s.available_panels();
    if s.guest().machine().text_screen().is_some() {
        let mut order = vec![Panel::Console];
        for p in s.lesson_panels().iter().chain(available.iter()) {
            if !order.contains(p) && available.contains(p) {
                order.push(*p);
            }
        }
        return order;
    }
    available
}

/// The speeds at or below which the page walk animates while running.
const ANIMATED_RATE: f64 = 10.0;

/// The kernel stack the panel shows: the chosen process's; else the stack
/// ESP is on in the kernel (the running process's, or the scheduler's when
/// no process runs: an interrupt taken while it idles is pushed there);
/// else the shown process's (empty while it runs in user mode).
fn kernel_stack(s: &Session, shown: &Shown) -> Option<KernelStackView> {
    let m = s.guest().machine();
    let i = s.guest().view();
    let chosen = s
        .inspect()
        .selected_pid()
        .and_then(|pid| shown.procs.iter().find(|p| p.pid == pid));
    if let Some(p) = chosen {
        return Some(i.kernel_stack(m, p));
    }
    i.current_stack(m)
        .or_else(|| shown.process.as_ref().map(|p| i.kernel_stack(m, p)))
}

/// The data of `panel` now.
pub fn panel_view(
    s: &Session,
    panel: Panel,
    shown: &Shown,
    frames: &RefCell<FramesCache>,
    now_ms: f64,
) -> PanelView {
    let m = s.guest().machine();
    let i = s.guest().view();
    match panel {
        Panel::Registers => PanelView::Registers {
            now: RegisterView {
                hypervisor: s.guest().under_hypervisor(),
                ..RegisterView::of(m)
            },
            before: RegisterView::of_cpu(s.before()),
        },
        Panel::Code => PanelView::Code {
            view: views::code::code(s),
            breakpoints: s.breakpoints(),
        },
        Panel::Processes => PanelView::Processes {
            procs: shown.procs.clone(),
            shown: shown.pid(),
        },
        Panel::KernelStack => PanelView::KernelStack(kernel_stack(s, shown)),
        Panel::MemoryImage => PanelView::MemoryImage {
            pid: shown.pid(),
            regions: shown
                .process
                .as_ref()
                .map(|p| views::memory::regions(s.guest(), p))
                .unwrap_or_default(),
        },
        Panel::VirtualMachine => PanelView::VirtualMachine {
            vm: shown.vm.clone(),
            steps: m.steps(),
        },
        Panel::VmExits => {
            PanelView::VmExits(shown.vm.as_ref().map(views::vm::exit_rows))
        }
        Panel::ThreeTables => PanelView::ThreeTables(views::vm::three_way(s, shown.vm.as_ref())),
        Panel::PageWalk => {
            let (addr, what) = match s.inspect().walk_addr() {
                Some(a) => (a, "typed address"),
                None => views::code::latest_access(m),
            };
            let speed = crate::session::SPEEDS[s.run_control().speed()].1;
            PanelView::PageWalk {
                walk: m.walk(addr),
                what: what.to_string(),
                tables: shown.vm.as_ref().map(views::vm::walked_tables),
                paging: m.cpu().paging(),
                real_mode: m
                    .cpu()
                    .real_mode()
                    .then(|| views::registers::mode_words(m.cpu())),
                animate: !s.running() || speed.is_some_and(|r| r <= ANIMATED_RATE),
                step: m.steps(),
            }
        }
        Panel::PageTables => PanelView::PageTables {
            pid: shown.pid(),
            tables: shown
                .process
                .as_ref()
                .map(|p| i.page_tables(m, p))
                .unwrap_or_default(),
            paging: m.cpu().paging(),
        },
        Panel::Tlb => PanelView::Tlb {
            tlb: m.tlb_view(),
            used: views::tlb::used_slot(m),
            flushed: views::tlb::flushed(m),
        },
        Panel::Idt => PanelView::Idt {
            entries: i.idt(m),
            dispatch: views::dispatch::dispatch(s),
            real_mode: m.cpu().real_mode().then(|| {
                format!(
                    "real mode: an interrupt goes through the vector table at IDTR's base {:#x} (four bytes a vector: offset, then segment), not through the gates below, which the kernel has not loaded yet",
                    m.cpu().idtr.base
                )
            }).or_else(|| shown.vm.as_ref().map(|vm| format!(
                "under the hypervisor: every trap first goes through the hypervisor's IDT (the real IDTR, {:#x}), as the stages below tell; the table is the guest's own (at {:#x}), through which the hypervisor then delivers it",
                vm.real.idt_base, vm.virtual_cpu.idt_base
            ))),
        },
        Panel::PhysicalFrames => {
            let (frames, free) = frames.borrow_mut().owners(s, now_ms);
            PanelView::Frames {
                frames,
                free,
                shown_pid: shown.pid(),
                paging: m.cpu().paging(),
            }
        }
        Panel::Timeline => PanelView::Timeline {
            view: views::timeline::of_session(s, &shown.procs),
            now: m.steps(),
        },
        Panel::Events => PanelView::Events {
            rows: views::events::rows(s),
            row_px: if s.prefs().projector { 34 } else { 22 },
            filter: s.inspect().event_filter(),
        },
        Panel::Console => {
            let screen = m.text_screen().map(|t| Screen {
                rows: t.rows,
                cursor: t.cursor,
            });
            let scrollback = if screen.is_some() {
                // Only the output's tail is read (the console is built every
                // frame, and a long run's output keeps growing).
                let out = m.serial_output();
                let from = out
                    .iter()
                    .rposition({
                        let mut newlines = 0;
                        move |&b| {
                            newlines += usize::from(b == b'\n');
                            newlines > SCROLLBACK_LINES
                        }
                    })
                    .map_or(0, |i| i + 1);
                String::from_utf8_lossy(&out[from..])
                    .lines()
                    .map(str::to_string)
                    .collect()
            } else {
                Vec::new()
            };
            PanelView::Console {
                text: String::from_utf8_lossy(m.console()).into_owned(),
                screen,
                scrollback,
                pending: s.pending_keys().to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use osviz_view::StackOwner;

    #[test]
    fn every_panel_has_a_view_of_its_own_kind() {
        let s = Session::new("system-call");
        let shown = Shown::of(&s);
        let cache = RefCell::new(FramesCache::default());
        for panel in Panel::ALL {
            let view = panel_view(&s, panel, &shown, &cache, 0.0);
            let kind = match &view {
                PanelView::Registers { .. } => Panel::Registers,
                PanelView::Code { .. } => Panel::Code,
                PanelView::Processes { .. } => Panel::Processes,
                PanelView::KernelStack(_) => Panel::KernelStack,
                PanelView::MemoryImage { .. } => Panel::MemoryImage,
                PanelView::PageWalk { .. } => Panel::PageWalk,
                PanelView::PageTables { .. } => Panel::PageTables,
                PanelView::Tlb { .. } => Panel::Tlb,
                PanelView::Idt { .. } => Panel::Idt,
                PanelView::Frames { .. } => Panel::PhysicalFrames,
                PanelView::Timeline { .. } => Panel::Timeline,
                PanelView::Events { .. } => Panel::Events,
                PanelView::Console { .. } => Panel::Console,
                PanelView::VirtualMachine { .. } => Panel::VirtualMachine,
                PanelView::VmExits(_) => Panel::VmExits,
                PanelView::ThreeTables(_) => Panel::ThreeTables,
            };
            assert_eq!(kind, panel);
        }
        // No hypervisor: its panels have nothing to say, and are not shown.
        assert!(matches!(
            panel_view(&s, Panel::VirtualMachine, &shown, &cache, 0.0),
            PanelView::VirtualMachine { vm: None, .. }
        ));
        assert_eq!(
            order(&s),
            Panel::ALL
                .into_iter()
                .filter(|p| !p.is_virtualization())
                .collect::<Vec<_>>(),
            "the teaching kernel: every panel in order but the hypervisor's"
        );
        // The process panels show the running process: pid 1 at its first
        // instruction.
        assert_eq!(shown.pid(), Some(1));
        let PanelView::KernelStack(Some(stack)) =
            panel_view(&s, Panel::KernelStack, &shown, &cache, 0.0)
        else {
            panic!("pid 1 has a kernel stack")
        };
        assert_eq!(stack.owner, StackOwner::Process { pid: 1 });
    }

    #[test]
    fn on_xv6_the_console_then_the_lessons_panels_lead_the_normal_view() {
        let s = Session::with_xv6("xv6-idt", Some(crate::session::tests::xv6_read()));
        let order = order(&s);
        assert_eq!(
            order[..4],
            [
                Panel::Console,
                Panel::Idt,
                Panel::KernelStack,
                Panel::Events
            ]
        );
        let mut all = order.clone();
        all.sort_by_key(|p| Panel::ALL.iter().position(|q| q == p));
        let bare: Vec<Panel> = Panel::ALL
            .into_iter()
            .filter(|p| !p.is_virtualization())
            .collect();
        assert_eq!(
            all, bare,
            "every panel once but the hypervisor's: {order:?}"
        );
    }

    #[test]
    fn under_the_hypervisor_its_panels_show_the_virtual_machine() {
        let s = Session::with_xv6("vm-guest", Some(crate::session::tests::xv6_read()));
        let order = order(&s);
        assert_eq!(
            order[..4],
            [
                Panel::Console,
                Panel::VirtualMachine,
                Panel::Registers,
                Panel::Code
            ]
        );
        assert!(order.contains(&Panel::VmExits) && order.contains(&Panel::ThreeTables));
        let shown = Shown::of(&s);
        let cache = RefCell::new(FramesCache::default());
        let PanelView::VirtualMachine { vm: Some(vm), .. } =
            panel_view(&s, Panel::VirtualMachine, &shown, &cache, 0.0)
        else {
            panic!("the virtual machine is shown");
        };
        // At the prompt, the guest's kernel is stopped in ring 1 (sh and
        // init sleep; the hypervisor idles the CPU for it) or runs there.
        assert_eq!(vm.guest_size, 224 << 20);
        assert!(vm.exits > 0 && vm.by_reason.iter().map(|(_, n)| n).sum::<u32>() == vm.exits);
        let PanelView::VmExits(Some(rows)) = panel_view(&s, Panel::VmExits, &shown, &cache, 0.0)
        else {
            panic!("the exits are listed");
        };
        assert_eq!(rows.len(), vm.recent.len());
        assert!(
            rows.windows(2).all(|w| w[0].number >= w[1].number),
            "newest first"
        );
        let PanelView::ThreeTables(Some(three)) =
            panel_view(&s, Panel::ThreeTables, &shown, &cache, 0.0)
        else {
            panic!("the three tables are shown");
        };
        assert_eq!(three.guest_base, vm.guest_base);
        assert_eq!(three.tables.guest_dir, vm.virtual_cpu.cr3 & !0xFFF);
        let PanelView::PageWalk {
            tables: Some(note), ..
        } = panel_view(&s, Panel::PageWalk, &shown, &cache, 0.0)
        else {
            panic!("the page walk says which tables the MMU walked");
        };
        assert!(note.contains("shadow page directory"), "{note}");
    }

    #[test]
    fn break_on_a_vm_exit_stops_once_the_hypervisor_logged_one_of_its_reason() {
        use crate::action::Action;
        use crate::session::BreakChoice;
        use osviz_view::ExitReason;
        let mut s = Session::with_xv6("vm-io", Some(crate::session::tests::xv6_read()));
        let cache = RefCell::new(FramesCache::default());
        for reason in [
            ExitReason::PortIo,
            ExitReason::ShadowFill,
            ExitReason::Interrupt,
        ] {
            s.apply(Action::SetBreak(Some(BreakChoice::VmExit(reason))));
            let before = {
                let shown = Shown::of(&s);
                let PanelView::VirtualMachine { vm: Some(vm), .. } =
                    panel_view(&s, Panel::VirtualMachine, &shown, &cache, 0.0)
                else {
                    panic!("the virtual machine is shown");
                };
                vm.count(reason)
            };
            s.apply(Action::ToggleRun);
            for _ in 0..200 {
                if !s.running() {
                    break;
                }
                s.tick_for_test(0.01);
            }
            assert!(!s.running(), "{reason:?}: the run stopped");
            let shown = Shown::of(&s);
            let PanelView::VirtualMachine { vm: Some(vm), .. } =
                panel_view(&s, Panel::VirtualMachine, &shown, &cache, 0.0)
            else {
                panic!("the virtual machine is shown");
            };
            assert_eq!(vm.count(reason), before + 1, "{reason:?}: one more exit");
            assert_eq!(vm.recent.last().map(|e| e.reason), Some(reason), "logged");
            assert!(
                crate::views::status::status_line(&s).contains("Stopped at a VM exit"),
                "{}",
                crate::views::status::status_line(&s)
            );
        }
    }

    #[test]
    fn while_no_process_runs_the_kernel_stack_is_the_schedulers_with_the_frame_just_pushed() {
        use crate::session::tests::xv6_read;
        use osviz_machine::{Event, EventKind, StopReason};
        let mut s = Session::with_xv6("xv6-idt", Some(xv6_read()));
        let cache = RefCell::new(FramesCache::default());
        // At the prompt, a timer interrupt taken while the scheduler idles.
        let m = s.machine_for_test();
        m.set_recording(true);
        m.break_on(EventKind::TrapEntry, true);
        loop {
            let m = s.machine_for_test();
            let stop = m.run(30_000_000);
            assert!(matches!(stop, StopReason::Event { .. }), "{stop:?}");
            let idle = m.last_events().iter().any(|e| {
                matches!(
                    e,
                    Event::TrapEntry {
                        vector: 32,
                        cpl_before: 0,
                        ..
                    }
                )
            });
            if idle && s.guest().view().current(s.guest().machine()).is_none() {
                break;
            }
        }
        s.machine_for_test().break_on(EventKind::TrapEntry, false);
        let shown = Shown::of(&s);
        let PanelView::KernelStack(Some(stack)) =
            panel_view(&s, Panel::KernelStack, &shown, &cache, 0.0)
        else {
            panic!("a kernel stack")
        };
        assert_eq!(stack.owner, StackOwner::Scheduler);
        let top: Vec<_> = stack.trap_frame.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(top, ["eip", "cs", "eflags"]);
        assert_eq!(stack.vector, Some(32));
        // A process chosen by the student is still the one shown.
        s.apply(crate::action::Action::Pin(crate::focus::Focus::Pid(1)));
        let PanelView::KernelStack(Some(stack)) =
            panel_view(&s, Panel::KernelStack, &Shown::of(&s), &cache, 0.0)
        else {
            panic!("pid 1's kernel stack")
        };
        assert_eq!(stack.owner, StackOwner::Process { pid: 1 });
    }
}
