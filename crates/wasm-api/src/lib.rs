//! The osviz machine as a JavaScript object.
//!
//! A thin adapter: every method forwards to [`osviz_machine::Machine`] and
//! converts its plain data to JavaScript values with serde-wasm-bindgen.
//! Errors become JavaScript exceptions with a message; nothing panics on
//! bad input.

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

/// A handle on one emulated machine.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MachineHandle {
    machine: Machine,
}

#[wasm_bindgen]
impl MachineHandle {
    /// A machine with `mem_size` bytes of RAM, the other settings at their
    /// defaults, and nothing loaded.
    #[wasm_bindgen(constructor)]
    pub fn new(mem_size: usize) -> MachineHandle {
        MachineHandle {
            machine: Machine::new(mem_size),
        }
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
        Ok(MachineHandle {
            machine: Machine::with_config(config),
        })
    }

    /// A machine with the built-in sum-loop program loaded and EIP at its start.
    #[wasm_bindgen(js_name = withDemo)]
    pub fn with_demo() -> MachineHandle {
        let program = programs::SUM_LOOP;
        let mut machine = Machine::new(64 * 1024);
        machine
            .load(program.load_addr, program.bytes)
            .expect("the demo program fits in 64 KiB");
        machine.cpu.eip = program.load_addr;
        MachineHandle { machine }
    }

    /// Copies `bytes` to physical address `addr` and points EIP at it.
    #[wasm_bindgen(js_name = loadProgram)]
    pub fn load_program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), JsError> {
        self.machine
            .load(addr, bytes)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.machine.cpu.eip = addr;
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
            .map_err(|e| JsError::new(&e))
    }

    /// Goes to the state after `step` steps, back or forward; returns the step reached.
    pub fn seek(&mut self, step: f64) -> Result<f64, JsError> {
        self.machine
            .seek(step.max(0.0) as u64)
            .map(|s| s as f64)
            .map_err(|e| JsError::new(&e))
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
            .map(|i| self.machine.mem.read_u8(addr.wrapping_add(i)))
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
        self.machine.steps as f64
    }

    /// Instructions retired since power-on.
    #[wasm_bindgen(getter)]
    pub fn retired(&self) -> f64 {
        self.machine.retired as f64
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
