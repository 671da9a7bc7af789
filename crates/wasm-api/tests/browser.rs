//! The wasm API, exercised in headless Chromium.
#![cfg(target_arch = "wasm32")]

use osviz_wasm::MachineHandle;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).expect("field exists")
}

#[wasm_bindgen_test]
fn step_moves_eip_and_loads_a_register() {
    let mut m = MachineHandle::with_demo();
    let before = m.registers().unwrap();
    assert_eq!(field(&before, "eip").as_f64(), Some(f64::from(0x1000)));
    assert!(m.step().unwrap().is_undefined());
    let after = m.registers().unwrap();
    // mov ecx, 5 is five bytes long.
    assert_eq!(field(&after, "eip").as_f64(), Some(f64::from(0x1005)));
    assert_eq!(field(&after, "ecx").as_f64(), Some(5.0));
    assert_eq!(m.retired(), 1.0);
}

#[wasm_bindgen_test]
fn run_to_halt_reports_the_reason_and_the_console() {
    let mut m = MachineHandle::with_demo();
    let stop = m.run(1000.0).unwrap();
    assert_eq!(
        field(&stop, "reason").as_string().as_deref(),
        Some("halted")
    );
    // The loop counted ECX down to zero; the last byte written was '5'.
    assert_eq!(field(&m.registers().unwrap(), "ecx").as_f64(), Some(0.0));
    assert_eq!(
        field(&m.registers().unwrap(), "eax").as_f64(),
        Some(f64::from(b'5'))
    );
    assert_eq!(m.debug_output(), "15");
}

#[wasm_bindgen_test]
fn an_unknown_opcode_without_an_idt_triple_faults_and_names_the_bytes() {
    let mut m = MachineHandle::new(4096);
    m.load_program(0x100, &[0x0F, 0xFF]).unwrap();
    // No IDT: #UD cannot be delivered, nor the #GP and #DF that follow.
    let stop = m.step().unwrap();
    assert_eq!(
        field(&stop, "reason").as_string().as_deref(),
        Some("triple_fault")
    );
    let cause = field(&stop, "cause").as_string().unwrap();
    assert!(cause.contains("0F FF"), "{cause}");
}

#[wasm_bindgen_test]
fn loading_past_memory_is_an_error() {
    let mut m = MachineHandle::new(4096);
    assert!(m.load_program(4000, &[0; 200]).is_err());
}
