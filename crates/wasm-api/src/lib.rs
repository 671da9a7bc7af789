//! The osviz machine as a JavaScript object.
//!
//! A thin adapter: every method forwards to [`osviz_machine::Machine`] and
//! converts its plain data to JavaScript values with serde-wasm-bindgen.

use osviz_machine::{Machine, Reg, StopReason, programs};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The registers as JavaScript sees them: named fields, all numbers.
#[derive(Debug, Serialize)]
pub struct RegisterSnapshot {
    pub eax: u32,
    pub ecx: u32,
    pub edx: u32,
    pub ebx: u32,
    pub esp: u32,
    pub ebp: u32,
    pub esi: u32,
    pub edi: u32,
    pub eip: u32,
    pub eflags: u32,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cpl: u8,
}

impl RegisterSnapshot {
    /// The registers of `machine`.
    pub fn of(machine: &Machine) -> Self {
        let c = &machine.cpu;
        RegisterSnapshot {
            eax: c.reg(Reg::Eax),
            ecx: c.reg(Reg::Ecx),
            edx: c.reg(Reg::Edx),
            ebx: c.reg(Reg::Ebx),
            esp: c.reg(Reg::Esp),
            ebp: c.reg(Reg::Ebp),
            esi: c.reg(Reg::Esi),
            edi: c.reg(Reg::Edi),
            eip: c.eip,
            eflags: c.eflags(),
            cr0: c.cr0,
            cr2: c.cr2,
            cr3: c.cr3,
            cpl: c.cpl(),
        }
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(value).map_err(|e| JsError::new(&e.to_string()))
}

/// A handle on one emulated machine.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MachineHandle {
    machine: Machine,
}

#[wasm_bindgen]
impl MachineHandle {
    /// A machine with `mem_size` bytes of RAM and nothing loaded.
    #[wasm_bindgen(constructor)]
    pub fn new(mem_size: usize) -> MachineHandle {
        MachineHandle {
            machine: Machine::new(mem_size),
        }
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

    /// Executes one instruction; returns the stop reason as an object, or
    /// `undefined` when the machine can go on.
    pub fn step(&mut self) -> Result<JsValue, JsError> {
        match self.machine.step().stop {
            Some(stop) => to_js(&stop),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Executes up to `max_instructions` instructions and returns why it stopped.
    pub fn run(&mut self, max_instructions: f64) -> Result<JsValue, JsError> {
        let stop: StopReason = self.machine.run(max_instructions.max(0.0) as u64);
        to_js(&stop)
    }

    /// The registers, as an object with one numeric field per register.
    pub fn registers(&self) -> Result<JsValue, JsError> {
        to_js(&RegisterSnapshot::of(&self.machine))
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
