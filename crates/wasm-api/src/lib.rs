//! The osviz machine as a JavaScript object.
//!
//! A thin adapter: every method forwards to [`osviz_machine::Machine`] and
//! converts its plain data to JavaScript values with serde-wasm-bindgen.
//! Errors become JavaScript exceptions with a message; nothing panics on
//! bad input.

use osviz_kernel::introspect::{Introspector, KernelView};
use osviz_kernel::lessons::{LESSONS, lesson};
use osviz_kernel::{Program, System};
use osviz_machine::{EventKind, Machine, MachineConfig, Snapshot, StopReason, multiboot, programs};
use serde::Serialize;
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

/// What `step` returns: why the machine stopped (if it did) and the step's events.
#[derive(Serialize)]
struct StepResult<'a> {
    stop: &'a Option<StopReason>,
    events: &'a [osviz_machine::Event],
}

/// A handle on one emulated machine, and on the kernel it runs when it
/// was booted from a lesson or a program (for the kernel views).
#[wasm_bindgen]
#[derive(Debug)]
pub struct MachineHandle {
    machine: Machine,
    kernel: Option<KernelParts>,
}

/// What the kernel views need besides the machine.
#[derive(Debug)]
struct KernelParts {
    kernel: osviz_asm::Output,
    programs: Vec<(String, osviz_asm::Output)>,
    lesson: Option<&'static str>,
}

impl MachineHandle {
    fn plain(machine: Machine) -> MachineHandle {
        MachineHandle {
            machine,
            kernel: None,
        }
    }

    fn from_system(system: System, lesson: Option<&'static str>) -> MachineHandle {
        MachineHandle {
            machine: system.machine,
            kernel: Some(KernelParts {
                kernel: system.kernel,
                programs: system.programs,
                lesson,
            }),
        }
    }

    /// Runs `f` with a `System` view of the handle (the machine is moved in
    /// and back, not copied).
    fn with_system<T>(&mut self, f: impl FnOnce(&mut System) -> T) -> Result<T, JsError> {
        let parts = self.kernel.take().ok_or_else(|| {
            JsError::new("this machine runs no kernel: boot a lesson or a program")
        })?;
        let machine = std::mem::replace(&mut self.machine, Machine::new(4096));
        let mut system = System {
            machine,
            kernel: parts.kernel,
            programs: parts.programs,
        };
        let result = f(&mut system);
        self.machine = system.machine;
        self.kernel = Some(KernelParts {
            kernel: system.kernel,
            programs: system.programs,
            lesson: parts.lesson,
        });
        Ok(result)
    }

    fn introspector(&self) -> Result<Introspector<'_>, JsError> {
        let parts = self.kernel.as_ref().ok_or_else(|| {
            JsError::new("this machine runs no kernel: boot a lesson or a program")
        })?;
        Ok(Introspector {
            kernel: &parts.kernel,
            programs: &parts.programs,
        })
    }

    fn process(&self, pid: u32) -> Result<osviz_kernel::introspect::ProcessView, JsError> {
        self.introspector()?
            .processes(&self.machine)
            .into_iter()
            .find(|p| p.pid == pid)
            .ok_or_else(|| JsError::new(&format!("no process with pid {pid}")))
    }
}

/// A lesson as JavaScript sees it (the questions without their answers).
#[derive(Serialize)]
struct LessonInfo {
    id: &'static str,
    title: &'static str,
    concept: &'static str,
    paragraphs: &'static [&'static str],
    programs: &'static [Program],
    breakpoints: &'static [osviz_kernel::lessons::Moment],
    questions: Vec<&'static str>,
    expected_output: &'static str,
}

/// The built-in lessons.
#[wasm_bindgen]
pub fn lessons() -> Result<JsValue, JsError> {
    let list: Vec<LessonInfo> = LESSONS
        .iter()
        .map(|l| LessonInfo {
            id: l.id,
            title: l.title,
            concept: l.concept,
            paragraphs: l.paragraphs,
            programs: l.programs,
            breakpoints: l.breakpoints,
            questions: l.questions.iter().map(|q| q.prompt).collect(),
            expected_output: l.expected_output,
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
        MachineHandle::plain(Machine::new(mem_size))
    }

    /// A machine running the kernel with the programs of lesson `id`.
    #[wasm_bindgen(js_name = fromLesson)]
    pub fn from_lesson(id: &str) -> Result<MachineHandle, JsError> {
        let l = lesson(id).ok_or_else(|| JsError::new(&format!("no lesson `{id}`")))?;
        let system = l.boot().map_err(|e| JsError::new(&e.to_string()))?;
        Ok(MachineHandle::from_system(system, Some(l.id)))
    }

    /// A machine running the kernel with one program from source. A source
    /// that does not assemble throws an array of `{file, line, column, message}`.
    #[wasm_bindgen(js_name = fromSource)]
    pub fn from_source(name: &str, source: &str) -> Result<MachineHandle, JsValue> {
        match System::boot_sources(&[(name, source)], MachineConfig::default()) {
            Ok(mut system) => {
                let _ = system
                    .machine
                    .load_disk(&osviz_kernel::lessons::disk_image());
                Ok(MachineHandle::from_system(system, None))
            }
            Err(osviz_kernel::BootError::Assembly { errors, .. }) => {
                Err(to_js(&errors).map_err(JsValue::from)?)
            }
            Err(other) => Err(JsError::new(&other.to_string()).into()),
        }
    }

    /// Runs to the moment of question `index` of the lesson this machine
    /// was booted from, and returns `{prompt, answer}` computed there.
    #[wasm_bindgen(js_name = answerQuestion)]
    pub fn answer_question(&mut self, index: usize, max_steps: f64) -> Result<JsValue, JsError> {
        let id = self
            .kernel
            .as_ref()
            .and_then(|k| k.lesson)
            .ok_or_else(|| JsError::new("this machine was not booted from a lesson"))?;
        let q = lesson(id)
            .and_then(|l| l.questions.get(index))
            .ok_or_else(|| JsError::new(&format!("lesson `{id}` has no question {index}")))?;
        let max = max_steps.max(0.0) as u64;
        let answer = self.with_system(|system| {
            system
                .run_to(q.moment, max)
                .map(|events| system.answer(q, &events))
        })?;
        let answer = answer.map_err(|e| JsError::new(&e.to_string()))?;
        #[derive(Serialize)]
        struct Answered<'a> {
            prompt: &'a str,
            answer: String,
        }
        to_js(&Answered {
            prompt: q.prompt,
            answer,
        })
    }

    /// The process table, each PCB decoded.
    pub fn processes(&self) -> Result<JsValue, JsError> {
        to_js(&self.introspector()?.processes(&self.machine))
    }

    /// A process's kernel stack: the trap frame (who pushed each field) and
    /// the context saved when it was switched out.
    #[wasm_bindgen(js_name = kernelStack)]
    pub fn kernel_stack(&self, pid: u32) -> Result<JsValue, JsError> {
        let p = self.process(pid)?;
        to_js(&self.introspector()?.kernel_stack(&self.machine, &p))
    }

    /// A process's user mappings: page, frame and flags.
    pub fn mappings(&self, pid: u32) -> Result<JsValue, JsError> {
        let p = self.process(pid)?;
        to_js(&self.introspector()?.mappings(&self.machine, &p))
    }

    /// The owner of every physical frame.
    pub fn frames(&self) -> Result<JsValue, JsError> {
        to_js(&self.introspector()?.frames(&self.machine))
    }

    /// The IDT, decoded, with handler symbols.
    pub fn idt(&self) -> Result<JsValue, JsError> {
        to_js(&self.introspector()?.idt(&self.machine))
    }

    /// Where an address is in the source: `{symbol, offset, file, line}`.
    pub fn place(&self, addr: u32) -> Result<JsValue, JsError> {
        to_js(&self.introspector()?.place(&self.machine, addr))
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
        Ok(MachineHandle::plain(Machine::with_config(config)))
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
        MachineHandle::plain(machine)
    }

    /// Copies `bytes` to physical address `addr` and points EIP at it.
    #[wasm_bindgen(js_name = loadProgram)]
    pub fn load_program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), JsError> {
        self.machine
            .load(addr, bytes)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.machine.set_eip(addr);
        Ok(())
    }

    /// Loads a multiboot image and enters it as a multiboot loader would.
    #[wasm_bindgen(js_name = loadMultiboot)]
    pub fn load_multiboot(&mut self, image: &[u8]) -> Result<(), JsError> {
        multiboot::load(&mut self.machine, image).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Executes one step; returns `{stop, events}` (stop is null while the
    /// machine can go on; events are empty unless recording).
    pub fn step(&mut self) -> Result<JsValue, JsError> {
        let outcome = self.machine.step();
        to_js(&StepResult {
            stop: &outcome.stop,
            events: &outcome.events,
        })
    }

    /// Executes up to `max_steps` steps and returns why it stopped.
    pub fn run(&mut self, max_steps: f64) -> Result<JsValue, JsError> {
        let stop = self.machine.run(max_steps.max(0.0) as u64);
        to_js(&stop)
    }

    /// Goes back `n` steps; returns the step reached.
    #[wasm_bindgen(js_name = stepBack)]
    pub fn step_back(&mut self, n: f64) -> Result<f64, JsError> {
        self.machine
            .step_back(n.max(0.0) as u64)
            .map(|s| s as f64)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Goes to the state after `step` steps, back or forward; returns the step reached.
    pub fn seek(&mut self, step: f64) -> Result<f64, JsError> {
        self.machine
            .seek(step.max(0.0) as u64)
            .map(|s| s as f64)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Steps over a `call` or an `int n` (to the instruction after it in
    /// the same address space), else one step; returns why it stopped
    /// early, or `null`.
    #[wasm_bindgen(js_name = stepOver)]
    pub fn step_over(&mut self, max_steps: f64) -> Result<JsValue, JsError> {
        let stop = self.machine.step_over(max_steps.max(0.0) as u64);
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
            .machine
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
        self.machine
            .last_change(pa, len.clamp(1, 4))
            .map(|s| s.map(|s| s as f64))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The whole machine state as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        self.machine.snapshot().to_bytes()
    }

    /// Returns to a state saved with `snapshot`.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let snapshot = Snapshot::from_bytes(bytes).map_err(|e| JsError::new(&e.to_string()))?;
        self.machine.restore(&snapshot);
        Ok(())
    }

    /// A hash of the whole state, as 16 hex digits: equal states, equal hashes.
    #[wasm_bindgen(js_name = stateHash)]
    pub fn state_hash(&self) -> String {
        format!("{:016x}", self.machine.state_hash())
    }

    /// Every register, as an object with one field per register.
    pub fn registers(&self) -> Result<JsValue, JsError> {
        to_js(&self.machine.registers())
    }

    /// `len` bytes of physical memory from `addr` (bytes past the end read 0xFF).
    #[wasm_bindgen(js_name = readPhysical)]
    pub fn read_physical(&self, addr: u32, len: u32) -> Vec<u8> {
        (0..len.min(1 << 20))
            .map(|i| self.machine.mem().read_u8(addr.wrapping_add(i)))
            .collect()
    }

    /// `len` bytes of virtual memory from `addr` through the page tables,
    /// without touching the TLB; an unmapped byte is null.
    #[wasm_bindgen(js_name = readVirtual)]
    pub fn read_virtual(&self, addr: u32, len: u32) -> Result<JsValue, JsError> {
        to_js(&self.machine.peek_virtual(addr, len.min(1 << 16) as usize))
    }

    /// The page walk for a virtual address: every entry read and the frame found.
    pub fn walk(&self, linear: u32) -> Result<JsValue, JsError> {
        to_js(&self.machine.walk(linear))
    }

    /// The TLB: its size and policy, its valid entries, and its counters.
    pub fn tlb(&self) -> Result<JsValue, JsError> {
        to_js(&self.machine.tlb_view())
    }

    /// Turns event recording on or off.
    #[wasm_bindgen(js_name = setRecording)]
    pub fn set_recording(&mut self, on: bool) {
        self.machine.set_recording(on);
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
        self.machine
            .set_unrecorded(osviz_machine::KindSet::of(&kinds));
        Ok(())
    }

    /// The retained events, oldest first, each `{step, event}`.
    pub fn events(&self) -> Result<JsValue, JsError> {
        let events: Vec<_> = self.machine.events().collect();
        to_js(&events)
    }

    /// Makes `run` stop before executing at `addr`.
    #[wasm_bindgen(js_name = addBreakpoint)]
    pub fn add_breakpoint(&mut self, addr: u32) {
        self.machine.add_breakpoint(addr);
    }

    #[wasm_bindgen(js_name = removeBreakpoint)]
    pub fn remove_breakpoint(&mut self, addr: u32) {
        self.machine.remove_breakpoint(addr);
    }

    /// Makes `run` stop after a step with an event of the named kind, for
    /// example `"page_fault"`, `"tlb_miss"`, `"trap_entry"`, `"cr3_write"`.
    #[wasm_bindgen(js_name = breakOn)]
    pub fn break_on(&mut self, kind_name: &str, on: bool) -> Result<(), JsError> {
        self.machine.break_on(kind(kind_name)?, on);
        Ok(())
    }

    /// Types a byte on the keyboard.
    #[wasm_bindgen(js_name = pressKey)]
    pub fn press_key(&mut self, byte: u8) {
        self.machine.press_key(byte);
    }

    /// Steps taken since power-on.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> f64 {
        self.machine.steps() as f64
    }

    /// Instructions retired since power-on.
    #[wasm_bindgen(getter)]
    pub fn retired(&self) -> f64 {
        self.machine.retired() as f64
    }

    /// The bytes the guest wrote to the console port 0x3F8, as text.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(self.machine.console()).into_owned()
    }

    /// The bytes the guest wrote to the debug port 0xE9, as text.
    #[wasm_bindgen(js_name = debugOutput)]
    pub fn debug_output(&self) -> String {
        String::from_utf8_lossy(self.machine.debug_output()).into_owned()
    }
}
