//! The osviz machine as a JavaScript object.
//!
//! A thin adapter: every method forwards to [`osviz_machine::Machine`], or,
//! for a machine that runs a kernel, to the [`osviz_course::Guest`] that
//! booted it (the teaching kernel, or xv6 from a build's bytes: the one
//! way the page and the command line boot a guest too), and converts its
//! plain data to JavaScript values with serde-wasm-bindgen. Errors become
//! JavaScript exceptions with a message; nothing panics on bad input.

use osviz_course::{Guest, GuestError, Kernel, Lesson, Moment, Setup};
use osviz_kernel::{BootError, Program};
use osviz_machine::{
    BoardKind, EventKind, Machine, MachineConfig, Snapshot, StopReason, multiboot, programs,
};
use osviz_view::ProcessView;
use osviz_xv6::Xv6Build;
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    // Maps become plain objects and absent values null, as JSON would have
    // them; large integers (steps, counters) stay numbers (below 2^53).
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value
        .serialize(&serializer)
        .map_err(|e| JsError::new(&e.to_string()))
}

fn kind(name: &str) -> Result<EventKind, JsError> {
    EventKind::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        JsError::new(&format!(
            "unknown event kind {name:?}; known kinds: {}",
            known.join(", ")
        ))
    })
}

/// A step count from JavaScript: negative and NaN count as 0.
fn steps_arg(n: f64) -> u64 {
    n.max(0.0) as u64
}

/// What `step` returns: why the machine stopped (if it did) and the step's events.
#[derive(Serialize)]
struct StepResult<'a> {
    stop: &'a Option<StopReason>,
    events: &'a [osviz_machine::Event],
}

/// What `runUntilText` and `runToPrompt` return: whether what they waited
/// for appeared, the step the run ended at, and what else ended it (a
/// breakpoint, an event broken on, a halt, or the step limit), if anything.
#[derive(Debug, PartialEq, Serialize)]
struct Until {
    found: bool,
    step: u64,
    stop: Option<StopReason>,
}

/// Steps a run that waits for output takes between looks at it: the run
/// ends at most this many steps after the output appeared.
const LOOK_EVERY: u64 = 10_000;

/// What the guest printed: the lessons' console port, or the PC's serial
/// port (xv6 prints everything there, as on QEMU's `-serial`).
fn printed(m: &Machine) -> &[u8] {
    match m.config().board {
        BoardKind::Pc => m.serial_output(),
        BoardKind::Lessons | BoardKind::Tester => m.console(),
    }
}

/// Runs `m` at most `max_steps` steps, until `seen(output)` holds for what
/// the guest printed (looked at every [`LOOK_EVERY`] steps) or the machine
/// stops for another reason.
fn run_until(m: &mut Machine, max_steps: u64, mut seen: impl FnMut(&[u8]) -> bool) -> Until {
    let end = m.steps().saturating_add(max_steps);
    loop {
        if seen(printed(m)) {
            return Until {
                found: true,
                step: m.steps(),
                stop: None,
            };
        }
        if m.steps() >= end {
            return Until {
                found: false,
                step: m.steps(),
                stop: Some(StopReason::InstructionLimit),
            };
        }
        match m.run(LOOK_EVERY.min(end - m.steps())) {
            StopReason::InstructionLimit => {}
            other => {
                return Until {
                    found: seen(printed(m)),
                    step: m.steps(),
                    stop: Some(other),
                };
            }
        }
    }
}

/// Runs until the guest prints `text` (not empty) from now on.
fn until_text(m: &mut Machine, text: &str, max_steps: u64) -> Until {
    let needle = text.as_bytes();
    // Where the search starts: new output, and the bytes before it that a
    // text printed across the start would begin with.
    let mut from = printed(m).len().saturating_sub(needle.len() - 1);
    run_until(m, max_steps, |out| {
        let found = out[from.min(out.len())..]
            .windows(needle.len())
            .any(|w| w == needle);
        from = out.len().saturating_sub(needle.len() - 1).max(from);
        found
    })
}

/// Runs until the output has grown and ends with xv6's `$ ` prompt.
fn until_prompt(m: &mut Machine, max_steps: u64) -> Until {
    let before = printed(m).len();
    run_until(m, max_steps, |out| {
        out.len() > before && out.ends_with(b"$ ")
    })
}

/// What the handle runs: a bare machine (loaded by hand), or a guest, a
/// kernel booted on its machine (from a lesson, a program or an xv6 build).
#[derive(Debug)]
enum Host {
    Bare(Machine),
    Guest(Guest),
}

/// A handle on one emulated machine, and on the kernel it runs when it
/// was booted from a lesson, a program or an xv6 build (for the kernel
/// views).
#[wasm_bindgen]
#[derive(Debug)]
pub struct MachineHandle {
    host: Host,
    /// The lesson it was booted from, for its questions.
    lesson: Option<&'static Lesson>,
}

/// The error of a kernel view asked of a bare machine.
fn no_kernel() -> JsError {
    JsError::new(
        "this machine runs no kernel: boot a lesson (fromLesson, xv6Lesson), a program (fromSource) or xv6 (xv6)",
    )
}

impl MachineHandle {
    fn bare(machine: Machine) -> MachineHandle {
        MachineHandle {
            host: Host::Bare(machine),
            lesson: None,
        }
    }

    fn guest(guest: Guest, lesson: Option<&'static Lesson>) -> MachineHandle {
        MachineHandle {
            host: Host::Guest(guest),
            lesson,
        }
    }

    fn machine(&self) -> &Machine {
        match &self.host {
            Host::Bare(m) => m,
            Host::Guest(g) => g.machine(),
        }
    }

    fn machine_mut(&mut self) -> &mut Machine {
        match &mut self.host {
            Host::Bare(m) => m,
            Host::Guest(g) => g.machine_mut(),
        }
    }

    fn booted(&self) -> Result<&Guest, JsError> {
        match &self.host {
            Host::Guest(g) => Ok(g),
            Host::Bare(_) => Err(no_kernel()),
        }
    }

    fn booted_mut(&mut self) -> Result<&mut Guest, JsError> {
        match &mut self.host {
            Host::Guest(g) => Ok(g),
            Host::Bare(_) => Err(no_kernel()),
        }
    }

    fn process(&self, pid: u32) -> Result<ProcessView, JsError> {
        let g = self.booted()?;
        g.view()
            .processes(g.machine())
            .into_iter()
            .find(|p| p.pid == pid)
            .ok_or_else(|| JsError::new(&format!("no process with pid {pid}")))
    }

    /// Reads `f` of the kernel's view of the process `pid`.
    fn of_process<T: Serialize>(
        &self,
        pid: u32,
        f: impl FnOnce(&Guest, &ProcessView) -> T,
    ) -> Result<JsValue, JsError> {
        let p = self.process(pid)?;
        to_js(&f(self.booted()?, &p))
    }

    /// An xv6 build from a kernel ELF's and a disk image's bytes.
    /// A build from its bytes, with its boot block when given.
    fn xv6_build(
        kernel: &[u8],
        disk: &[u8],
        boot_block: Option<Vec<u8>>,
        hypervisor: Option<Vec<u8>>,
    ) -> Result<Rc<Xv6Build>, JsError> {
        let error = |e: osviz_xv6::OpenError| JsError::new(&format!("xv6: {e}"));
        let mut build = Xv6Build::new(
            "JavaScript",
            kernel.to_vec(),
            disk.to_vec(),
            Default::default(),
        )
        .map_err(error)?;
        if let Some(elf) = boot_block {
            build.set_boot_block(elf).map_err(error)?;
        }
        if let Some(elf) = hypervisor {
            build.set_hypervisor(elf).map_err(error)?;
        }
        Ok(Rc::new(build))
    }
}

fn known_lesson(id: &str) -> Result<&'static Lesson, JsError> {
    osviz_course::lesson(id).ok_or_else(|| {
        let ids: Vec<&str> = osviz_course::all().map(|l| l.id).collect();
        JsError::new(&format!(
            "no lesson `{id}`; the lessons are: {}",
            ids.join(", ")
        ))
    })
}

fn guest_error(e: GuestError) -> JsError {
    JsError::new(&e.to_string())
}

/// A lesson as JavaScript sees it (the questions without their answers).
#[derive(Serialize)]
struct LessonInfo {
    id: &'static str,
    title: &'static str,
    concept: &'static str,
    paragraphs: &'static [&'static str],
    /// `"teaching"` or `"xv6"`.
    kernel: Kernel,
    /// Whether xv6 runs as the teaching hypervisor's guest.
    hypervisor: bool,
    /// The teaching kernel's programs (none on xv6).
    programs: &'static [Program],
    /// What the teaching kernel's console shows by the end (null on xv6).
    expected_output: Option<&'static str>,
    /// What the lesson types at xv6's prompt (null on the teaching kernel).
    typed: Option<&'static str>,
    breakpoints: &'static [Moment],
    questions: Vec<&'static str>,
    /// The key panels, by their titles on the page.
    panels: Vec<&'static str>,
}

/// Every lesson of both kernels: the teaching kernel's, then xv6's.
#[wasm_bindgen]
pub fn lessons() -> Result<JsValue, JsError> {
    let list: Vec<LessonInfo> = osviz_course::all()
        .map(|l| {
            let (expected_output, typed) = match l.setup {
                Setup::Teaching {
                    expected_output, ..
                } => (Some(expected_output), None),
                Setup::Xv6 { typed } | Setup::Vmm { typed, .. } => (None, Some(typed)),
                Setup::Xv6Boot => (None, None),
            };
            LessonInfo {
                id: l.id,
                title: l.title,
                concept: l.concept,
                paragraphs: l.paragraphs,
                kernel: l.kernel(),
                hypervisor: l.under_hypervisor(),
                programs: l.programs(),
                expected_output,
                typed,
                breakpoints: l.breakpoints,
                questions: l.questions.iter().map(|q| q.prompt).collect(),
                panels: l.panels.iter().map(|p| p.name()).collect(),
            }
        })
        .collect();
    to_js(&list)
}

#[wasm_bindgen]
impl MachineHandle {
    /// A machine with `mem_size` bytes of RAM, the other settings at their
    /// defaults, and nothing loaded.
    #[wasm_bindgen(constructor)]
    pub fn new(mem_size: usize) -> MachineHandle {
        MachineHandle::bare(Machine::new(mem_size))
    }

    /// The teaching kernel with the programs of lesson `id`, at the
    /// lesson's start: its first program's first instruction (the boot
    /// fast-forwarded; it stays in the history, so `seek(0)` goes back to
    /// it). An xv6 lesson needs a build: see `xv6Lesson`.
    #[wasm_bindgen(js_name = fromLesson)]
    pub fn from_lesson(id: &str) -> Result<MachineHandle, JsError> {
        let l = known_lesson(id)?;
        if l.kernel() == Kernel::Xv6 {
            return Err(JsError::new(&format!(
                "lesson `{id}` runs on xv6, not on the teaching kernel: boot it with MachineHandle.xv6Lesson(id, kernel, disk), giving the bytes of an xv6 build's kernel and fs.img"
            )));
        }
        let mut guest = Guest::for_lesson(l, None, None).map_err(guest_error)?;
        guest.go_to_start(l).map_err(guest_error)?;
        Ok(MachineHandle::guest(guest, Some(l)))
    }

    /// The teaching kernel running one program from source, at its first
    /// instruction (step 0). A source that does not assemble throws an
    /// array of `{file, line, column, message}`.
    #[wasm_bindgen(js_name = fromSource)]
    pub fn from_source(name: &str, source: &str) -> Result<MachineHandle, JsValue> {
        match Guest::teaching_sources(&[(name, source)]) {
            Ok(guest) => Ok(MachineHandle::guest(guest, None)),
            Err(GuestError::Teaching(BootError::Assembly { errors, .. })) => {
                Err(to_js(&errors).map_err(JsValue::from)?)
            }
            Err(other) => Err(guest_error(other).into()),
        }
    }

    /// xv6 on the PC board, booted from the bytes of a build's kernel (the
    /// ELF xv6's make builds) and its file system image (fs.img, the IDE
    /// slave), at its first instruction. `checkpointSteps` sets how often a
    /// checkpoint for reverse stepping is kept (default 1,000,000 steps, as
    /// the page; 0 keeps none, for a long batch run).
    #[wasm_bindgen(js_name = xv6)]
    pub fn xv6(
        kernel: &[u8],
        disk: &[u8],
        checkpoint_steps: Option<f64>,
    ) -> Result<MachineHandle, JsError> {
        let build = MachineHandle::xv6_build(kernel, disk, None, None)?;
        let interval = checkpoint_steps.map_or(osviz_xv6::CHECKPOINT_STEPS, steps_arg);
        let guest = Guest::boot_xv6_with(build, interval).map_err(guest_error)?;
        Ok(MachineHandle::guest(guest, None))
    }

    /// xv6 lesson `id` booted from a build's kernel and fs.img bytes, at
    /// the lesson's start: the shell's `$ ` prompt with the lesson's
    /// command typed (run on to see it execute); the boot lesson
    /// (`xv6-boot`) starts at the boot sector instead and needs the build's
    /// `bootblock.o` as `bootBlock`; the virtualization lessons (`vm-*`) run
    /// xv6 as the guest of the teaching hypervisor and need its ELF
    /// (`scripts/vmm`'s `vmm`) as `hypervisor`.
    #[wasm_bindgen(js_name = xv6Lesson)]
    pub fn xv6_lesson(
        id: &str,
        kernel: &[u8],
        disk: &[u8],
        boot_block: Option<Vec<u8>>,
        hypervisor: Option<Vec<u8>>,
    ) -> Result<MachineHandle, JsError> {
        let l = known_lesson(id)?;
        if l.kernel() != Kernel::Xv6 {
            return Err(JsError::new(&format!(
                "lesson `{id}` runs on the teaching kernel, not on xv6: boot it with MachineHandle.fromLesson(id)"
            )));
        }
        let build = MachineHandle::xv6_build(kernel, disk, boot_block, hypervisor)?;
        let mut guest = Guest::for_lesson(l, Some(&build), None).map_err(guest_error)?;
        guest.go_to_start(l).map_err(guest_error)?;
        Ok(MachineHandle::guest(guest, Some(l)))
    }

    /// The kernel this machine runs: `"teaching"`, `"xv6"`, or null for a
    /// bare machine.
    #[wasm_bindgen(getter)]
    pub fn kernel(&self) -> Option<String> {
        self.booted().ok().map(|g| {
            match g.kernel() {
                Kernel::Teaching => "teaching",
                Kernel::Xv6 => "xv6",
            }
            .to_string()
        })
    }

    /// The id of the lesson this machine was booted from, or null.
    #[wasm_bindgen(getter)]
    pub fn lesson(&self) -> Option<String> {
        self.lesson.map(|l| l.id.to_string())
    }

    /// Runs to the moment of question `index` of the lesson this machine
    /// was booted from (at most `max_steps` steps, from where the machine
    /// is), and returns `{prompt, answer, step}` computed there. The
    /// machine stays at the moment, for the views.
    #[wasm_bindgen(js_name = answerQuestion)]
    pub fn answer_question(&mut self, index: usize, max_steps: f64) -> Result<JsValue, JsError> {
        let l = self
            .lesson
            .ok_or_else(|| JsError::new("this machine was not booted from a lesson"))?;
        let q = l.questions.get(index).ok_or_else(|| {
            JsError::new(&format!(
                "lesson `{}` has {} questions: no question {index}",
                l.id,
                l.questions.len()
            ))
        })?;
        let guest = self.booted_mut()?;
        let events = guest
            .run_to(q.moment, steps_arg(max_steps))
            .map_err(|e| JsError::new(&format!("question {index} of `{}`: {e}", l.id)))?;
        #[derive(Serialize)]
        struct Answered<'a> {
            prompt: &'a str,
            answer: String,
            step: u64,
        }
        to_js(&Answered {
            prompt: q.prompt,
            answer: guest.answer(q, &events),
            step: guest.machine().steps(),
        })
    }

    /// The process table, each PCB decoded: `{slot, pid, state, phase,
    /// name, pgdir, kstack, tf, context, brk, chan, chan_name, parent, ...}`.
    pub fn processes(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().processes(g.machine()))
    }

    /// The process the CPU runs, or null (the scheduler, or no process yet).
    pub fn current(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().current(g.machine()))
    }

    /// A process's kernel stack: the trap frame (who pushed each field),
    /// and the context saved when it was switched out.
    #[wasm_bindgen(js_name = kernelStack)]
    pub fn kernel_stack(&self, pid: u32) -> Result<JsValue, JsError> {
        self.of_process(pid, |g, p| g.view().kernel_stack(g.machine(), p))
    }

    /// A process's memory image, region by region as its kernel lays it
    /// out: `{kind, start, end}` (code and data, guard page, stack, heap,
    /// kernel, ...).
    #[wasm_bindgen(js_name = memoryImage)]
    pub fn memory_image(&self, pid: u32) -> Result<JsValue, JsError> {
        self.of_process(pid, |g, p| g.view().regions(g.machine(), p))
    }

    /// A process's page directory below the kernel, as tables: `{dir_index,
    /// pde, covers, entries: [[index, pte], ...]}`.
    #[wasm_bindgen(js_name = pageTables)]
    pub fn page_tables(&self, pid: u32) -> Result<JsValue, JsError> {
        self.of_process(pid, |g, p| g.view().page_tables(g.machine(), p))
    }

    /// A process's user mappings: page, frame and flags.
    pub fn mappings(&self, pid: u32) -> Result<JsValue, JsError> {
        self.of_process(pid, |g, p| g.view().mappings(g.machine(), p))
    }

    /// The owner of every physical frame.
    pub fn frames(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().frames(g.machine()))
    }

    /// The virtual machine, when xv6 runs as the hypervisor's guest: the
    /// real CPU beside the virtual one, the exits by reason and the last
    /// exits; null on a kernel that runs on the machine itself.
    #[wasm_bindgen(js_name = virtualMachine)]
    pub fn virtual_machine(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().virtual_machine(g.machine()))
    }

    /// The running guest process's user pages in the guest's tables, the
    /// hypervisor's map and the shadow tables; null without a hypervisor.
    #[wasm_bindgen(js_name = threeTables)]
    pub fn three_tables(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().three_tables(g.machine()))
    }

    /// One guest-virtual address followed through the three tables; null
    /// without a hypervisor.
    #[wasm_bindgen(js_name = translateThree)]
    pub fn translate_three(&self, gva: u32) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().translate_three(g.machine(), gva))
    }

    /// The IDT, decoded, with handler symbols.
    pub fn idt(&self) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().idt(g.machine()))
    }

    /// Where an address is in the source: `{symbol, offset, file, line}`
    /// (for xv6, the C file and line and the function).
    pub fn place(&self, addr: u32) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        to_js(&g.view().place(g.machine(), addr))
    }

    /// The call stack by frame pointers, innermost first: where the CPU
    /// is, then each caller's call site, as `place` gives them (at most
    /// `maxDepth` frames, default 32).
    #[wasm_bindgen(js_name = callStack)]
    pub fn call_stack(&self, max_depth: Option<u32>) -> Result<JsValue, JsError> {
        let g = self.booted()?;
        let depth = max_depth.unwrap_or(32).min(1024) as usize;
        to_js(&osviz_view::call_stack(g.machine(), &*g.view(), depth))
    }

    /// The address of a kernel symbol (a function or a global), or null.
    #[wasm_bindgen(js_name = symbolAddress)]
    pub fn symbol_address(&self, name: &str) -> Result<Option<u32>, JsError> {
        Ok(self.booted()?.view().symbol_address(name))
    }

    /// A machine built to a configuration object with the fields of
    /// `MachineConfig` (`mem_size`, `tlb: {entries, replacement}`,
    /// `disk_blocks`, `disk_latency`, `event_capacity`,
    /// `checkpoint_interval`, `max_checkpoints`).
    #[wasm_bindgen(js_name = withConfig)]
    pub fn with_config(config: JsValue) -> Result<MachineHandle, JsError> {
        let config: MachineConfig = serde_wasm_bindgen::from_value(config)
            .map_err(|e| JsError::new(&format!("bad machine configuration: {e}")))?;
        if config.mem_size > 256 * 1024 * 1024 {
            return Err(JsError::new("mem_size above 256 MiB is not supported"));
        }
        Ok(MachineHandle::bare(Machine::with_config(config)))
    }

    /// A machine with the built-in sum-loop program loaded and EIP at its start.
    #[wasm_bindgen(js_name = withDemo)]
    pub fn with_demo() -> MachineHandle {
        let program = programs::SUM_LOOP;
        let mut machine = Machine::new(64 * 1024);
        machine
            .load(program.load_addr, program.bytes)
            .expect("the demo program fits in 64 KiB");
        machine.set_eip(program.load_addr);
        MachineHandle::bare(machine)
    }

    /// Copies `bytes` to physical address `addr` and points EIP at it.
    #[wasm_bindgen(js_name = loadProgram)]
    pub fn load_program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), JsError> {
        self.machine_mut()
            .load(addr, bytes)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.machine_mut().set_eip(addr);
        Ok(())
    }

    /// Loads a multiboot image and enters it as a multiboot loader would.
    #[wasm_bindgen(js_name = loadMultiboot)]
    pub fn load_multiboot(&mut self, image: &[u8]) -> Result<(), JsError> {
        multiboot::load(self.machine_mut(), image).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Executes one step; returns `{stop, events}` (stop is null while the
    /// machine can go on; events are empty unless recording).
    pub fn step(&mut self) -> Result<JsValue, JsError> {
        let outcome = self.machine_mut().step();
        to_js(&StepResult {
            stop: &outcome.stop,
            events: &outcome.events,
        })
    }

    /// Executes up to `max_steps` steps and returns why it stopped.
    pub fn run(&mut self, max_steps: f64) -> Result<JsValue, JsError> {
        let stop = self.machine_mut().run(steps_arg(max_steps));
        to_js(&stop)
    }

    /// Goes back `n` steps; returns the step reached.
    #[wasm_bindgen(js_name = stepBack)]
    pub fn step_back(&mut self, n: f64) -> Result<f64, JsError> {
        self.machine_mut()
            .step_back(steps_arg(n))
            .map(|s| s as f64)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Goes to the state after `step` steps, back or forward; returns the step reached.
    pub fn seek(&mut self, step: f64) -> Result<f64, JsError> {
        self.machine_mut()
            .seek(steps_arg(step))
            .map(|s| s as f64)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Steps over a `call` or an `int n` (to the instruction after it in
    /// the same address space), else one step; returns why it stopped
    /// early, or `null`.
    #[wasm_bindgen(js_name = stepOver)]
    pub fn step_over(&mut self, max_steps: f64) -> Result<JsValue, JsError> {
        let stop = self.machine_mut().step_over(steps_arg(max_steps));
        to_js(&stop)
    }

    /// `count` instructions from `addr` on, as `{addr, bytes, text}` (or
    /// `{addr, bytes, error}` where the bytes do not decode).
    pub fn disassemble(&self, addr: u32, count: usize) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Line {
            addr: u32,
            bytes: Vec<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            text: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<String>,
        }
        let lines: Vec<Line> = self
            .machine()
            .disassemble(addr, count.min(256))
            .into_iter()
            .map(|l| Line {
                addr: l.addr,
                bytes: l.bytes,
                text: l.text.clone().ok(),
                error: l.text.err(),
            })
            .collect();
        to_js(&lines)
    }

    /// The step that last changed the `len` bytes at physical address `pa`
    /// (replaying the run), or `null` if none did since the earliest
    /// checkpoint. The machine stays where it was.
    #[wasm_bindgen(js_name = lastChange)]
    pub fn last_change(&mut self, pa: u32, len: u32) -> Result<Option<f64>, JsError> {
        self.machine_mut()
            .last_change(pa, len.clamp(1, 4))
            .map(|s| s.map(|s| s as f64))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The whole machine state as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        self.machine().snapshot().to_bytes()
    }

    /// Returns to a state saved with `snapshot`.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let snapshot = Snapshot::from_bytes(bytes).map_err(|e| JsError::new(&e.to_string()))?;
        self.machine_mut().restore(&snapshot);
        Ok(())
    }

    /// A hash of the whole state, as 16 hex digits: equal states, equal hashes.
    #[wasm_bindgen(js_name = stateHash)]
    pub fn state_hash(&self) -> String {
        format!("{:016x}", self.machine().state_hash())
    }

    /// Every register, as an object with one field per register.
    pub fn registers(&self) -> Result<JsValue, JsError> {
        to_js(&self.machine().registers())
    }

    /// `len` bytes of physical memory from `addr` (bytes past the end read 0xFF).
    #[wasm_bindgen(js_name = readPhysical)]
    pub fn read_physical(&self, addr: u32, len: u32) -> Vec<u8> {
        (0..len.min(1 << 20))
            .map(|i| self.machine().mem().read_u8(addr.wrapping_add(i)))
            .collect()
    }

    /// `len` bytes of virtual memory from `addr` through the page tables,
    /// without touching the TLB; an unmapped byte is null.
    #[wasm_bindgen(js_name = readVirtual)]
    pub fn read_virtual(&self, addr: u32, len: u32) -> Result<JsValue, JsError> {
        to_js(&self.machine().peek_virtual(addr, len.min(1 << 16) as usize))
    }

    /// The page walk for a virtual address: every entry read and the frame found.
    pub fn walk(&self, linear: u32) -> Result<JsValue, JsError> {
        to_js(&self.machine().walk(linear))
    }

    /// The TLB: its size and policy, its valid entries, and its counters.
    pub fn tlb(&self) -> Result<JsValue, JsError> {
        to_js(&self.machine().tlb_view())
    }

    /// Turns event recording on or off.
    #[wasm_bindgen(js_name = setRecording)]
    pub fn set_recording(&mut self, on: bool) {
        self.machine_mut().set_recording(on);
    }

    /// Leaves the named kinds out of the record while recording, as the
    /// page does at full speed with TLB hits (`["tlb_hit"]`); an empty list
    /// records every kind again.
    #[wasm_bindgen(js_name = setUnrecorded)]
    pub fn set_unrecorded(&mut self, kind_names: Vec<String>) -> Result<(), JsError> {
        let kinds = kind_names
            .iter()
            .map(|name| kind(name))
            .collect::<Result<Vec<_>, _>>()?;
        self.machine_mut()
            .set_unrecorded(osviz_machine::KindSet::of(&kinds));
        Ok(())
    }

    /// The retained events, oldest first, each `{step, event}`.
    pub fn events(&self) -> Result<JsValue, JsError> {
        let events: Vec<_> = self.machine().events().collect();
        to_js(&events)
    }

    /// Makes `run` stop before executing at `addr`.
    #[wasm_bindgen(js_name = addBreakpoint)]
    pub fn add_breakpoint(&mut self, addr: u32) {
        self.machine_mut().add_breakpoint(addr);
    }

    #[wasm_bindgen(js_name = removeBreakpoint)]
    pub fn remove_breakpoint(&mut self, addr: u32) {
        self.machine_mut().remove_breakpoint(addr);
    }

    /// Makes `run` stop after a step with an event of the named kind, for
    /// example `"page_fault"`, `"tlb_miss"`, `"trap_entry"`, `"cr3_write"`.
    #[wasm_bindgen(js_name = breakOn)]
    pub fn break_on(&mut self, kind_name: &str, on: bool) -> Result<(), JsError> {
        self.machine_mut().break_on(kind(kind_name)?, on);
        Ok(())
    }

    /// Types a byte on the keyboard.
    #[wasm_bindgen(js_name = pressKey)]
    pub fn press_key(&mut self, byte: u8) {
        self.machine_mut().press_key(byte);
    }

    /// Types each byte of `text` on the keyboard (`"ls\n"`: `\n` is
    /// Enter). The bytes wait in the keyboard until the guest reads them;
    /// run on to see them taken.
    #[wasm_bindgen(js_name = typeKeys)]
    pub fn type_keys(&mut self, text: &str) {
        let m = self.machine_mut();
        for b in text.bytes() {
            m.press_key(b);
        }
    }

    /// Runs until the guest prints `text` (in what it prints from now on,
    /// as `console()` shows it), at most `max_steps` steps; a breakpoint,
    /// an event broken on or a halt ends the run too. Returns `{found,
    /// step, stop}`: whether the text appeared, the step the run ended at
    /// (at most 10,000 steps after the text), and what else ended it
    /// (`{reason: "breakpoint", eip}`, `{reason: "instruction_limit"}`,
    /// ...) or null.
    #[wasm_bindgen(js_name = runUntilText)]
    pub fn run_until_text(&mut self, text: &str, max_steps: f64) -> Result<JsValue, JsError> {
        if text.is_empty() {
            return Err(JsError::new("runUntilText needs a text to wait for"));
        }
        to_js(&until_text(self.machine_mut(), text, steps_arg(max_steps)))
    }

    /// Runs until xv6's shell prints its next `$ ` prompt (the output
    /// grew and ends with `$ `): after the boot, or after the command
    /// typed has finished. At most `max_steps` steps (the boot takes about
    /// 14 M); returns `{found, step, stop}` as `runUntilText` does.
    #[wasm_bindgen(js_name = runToPrompt)]
    pub fn run_to_prompt(&mut self, max_steps: f64) -> Result<JsValue, JsError> {
        to_js(&until_prompt(self.machine_mut(), steps_arg(max_steps)))
    }

    /// Steps taken since power-on.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> f64 {
        self.machine().steps() as f64
    }

    /// Instructions retired since power-on.
    #[wasm_bindgen(getter)]
    pub fn retired(&self) -> f64 {
        self.machine().retired() as f64
    }

    /// What the guest printed, as text: on the lessons' board the bytes
    /// written to the console port 0x3F8; on the PC (xv6) the serial
    /// port's output (what xv6 prints, and the echo of what was typed).
    pub fn console(&self) -> String {
        String::from_utf8_lossy(printed(self.machine())).into_owned()
    }

    /// The bytes the guest wrote to the debug port 0xE9, as text.
    #[wasm_bindgen(js_name = debugOutput)]
    pub fn debug_output(&self) -> String {
        String::from_utf8_lossy(self.machine().debug_output()).into_owned()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    //! The waits of `runUntilText` and `runToPrompt`, natively (the
    //! JavaScript side is tested in the browser: tests/browser.rs, tests/xv6.rs).

    use super::*;

    fn lesson_guest(id: &str) -> Guest {
        let l = osviz_course::lesson(id).unwrap();
        let mut g = Guest::for_lesson(l, None, None).unwrap();
        g.go_to_start(l).unwrap();
        g
    }

    #[test]
    fn a_text_is_found_in_what_the_guest_prints_from_now_on() {
        let mut g = lesson_guest("system-call");
        let m = g.machine_mut();
        let until = until_text(m, "from pid", 5_000_000);
        assert!(until.found && until.stop.is_none(), "{until:?}");
        assert!(String::from_utf8_lossy(printed(m)).contains("hello from pid 1"));
        // Already printed: it does not count again, and the kernel halts.
        let again = until_text(m, "from pid", 5_000_000);
        assert!(!again.found, "{again:?}");
        assert_eq!(again.stop, Some(StopReason::Halted));
    }

    #[test]
    fn a_text_printed_across_the_start_of_the_wait_counts() {
        let mut g = lesson_guest("system-call");
        let m = g.machine_mut();
        // Stop after "hello f" has been printed, then wait for "from".
        while !printed(m).ends_with(b"hello f") {
            assert!(m.steps() < 5_000_000, "{:?}", printed(m));
            m.step();
        }
        assert!(until_text(m, "lo from", 5_000_000).found);
    }

    #[test]
    fn a_breakpoint_or_the_step_limit_ends_the_wait() {
        let mut g = lesson_guest("system-call");
        let (m, view) = g.split();
        let at = view.code_address("start").unwrap();
        let m: &mut Machine = m;
        m.add_breakpoint(at.wrapping_add(5));
        let until = until_text(m, "hello", 5_000_000);
        assert!(!until.found);
        assert!(
            matches!(until.stop, Some(StopReason::Breakpoint { .. })),
            "{until:?}"
        );
        let until = until_text(m, "no such text", 1_000);
        assert_eq!(until.stop, Some(StopReason::InstructionLimit));
        assert!(until.step <= m.steps());
    }

    #[test]
    fn xv6_runs_to_its_prompt_then_ls_to_the_next() {
        let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        let build = Rc::new(
            Xv6Build::new("test", read("kernel"), read("fs.img"), Default::default()).unwrap(),
        );
        let mut g = Guest::boot_xv6_with(build, 0).unwrap();
        let m = g.machine_mut();
        let boot = until_prompt(m, 60_000_000);
        assert!(boot.found, "{boot:?}");
        // At the prompt, with nothing typed, no new prompt comes.
        assert!(!until_prompt(m, 3_000_000).found);
        for b in b"ls\n" {
            m.press_key(*b);
        }
        assert!(until_text(m, "README", 50_000_000).found);
        assert!(until_prompt(m, 50_000_000).found);
        let out = String::from_utf8_lossy(printed(m)).into_owned();
        assert!(out.ends_with("console        3 18 0\n$ "), "{out}");
    }
}
