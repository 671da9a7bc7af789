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
    let outcome = m.step().unwrap();
    assert!(field(&outcome, "stop").is_null());
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
    let stop = field(&m.step().unwrap(), "stop");
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

/// A machine whose page directory (at 0x1000) maps the first 4 MiB one to
/// one through the table at 0x2000, except page 0x300; the dword at 0x5000
/// holds 0x11223344; and this program at 0x8000:
///
/// ```text
/// mov eax, 0x1000      B8 00 10 00 00
/// mov cr3, eax         0F 22 D8
/// mov eax, cr0         0F 20 C0
/// or eax, 0x80000000   0D 00 00 00 80
/// mov cr0, eax         0F 22 C0
/// mov ebx, [0x5000]    8B 1D 00 50 00 00
/// hlt                  F4
/// ```
fn paging_machine() -> MachineHandle {
    let config = js_sys::JSON::parse(
        r#"{"mem_size": 4194304, "tlb": {"entries": 8, "replacement": "lru"},
            "disk_blocks": 8, "disk_latency": 100, "event_capacity": 1000,
            "checkpoint_interval": 4, "max_checkpoints": 16}"#,
    )
    .unwrap();
    let mut m = MachineHandle::with_config(config).unwrap();
    let mut pd = vec![0u8; 4096];
    pd[..4].copy_from_slice(&(0x2000u32 | 7).to_le_bytes());
    let mut pt = vec![0u8; 4096];
    for page in 0..1024u32 {
        if page != 0x300 {
            let pte = (page << 12) | 3;
            pt[page as usize * 4..page as usize * 4 + 4].copy_from_slice(&pte.to_le_bytes());
        }
    }
    m.load_program(0x1000, &pd).unwrap();
    m.load_program(0x2000, &pt).unwrap();
    m.load_program(0x5000, &0x1122_3344u32.to_le_bytes())
        .unwrap();
    let code = [
        0xB8, 0x00, 0x10, 0x00, 0x00, 0x0F, 0x22, 0xD8, 0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00,
        0x80, 0x0F, 0x22, 0xC0, 0x8B, 0x1D, 0x00, 0x50, 0x00, 0x00, 0xF4,
    ];
    m.load_program(0x8000, &code).unwrap();
    m
}

fn num(object: &JsValue, name: &str) -> f64 {
    field(object, name).as_f64().unwrap_or(f64::NAN)
}

#[wasm_bindgen_test]
fn paging_walk_tlb_and_virtual_reads_are_visible() {
    let mut m = paging_machine();
    let stop = m.run(100.0).unwrap();
    assert_eq!(
        field(&stop, "reason").as_string().as_deref(),
        Some("halted")
    );
    let regs = m.registers().unwrap();
    assert_eq!(num(&regs, "cr3"), f64::from(0x1000));
    assert_eq!(num(&regs, "ebx"), f64::from(0x1122_3344));

    let walk = m.walk(0x5123).unwrap();
    assert_eq!(num(&walk, "pde_addr"), f64::from(0x1000));
    assert_eq!(num(&walk, "pte_addr"), f64::from(0x2014));
    assert_eq!(num(&walk, "physical"), f64::from(0x5123));
    assert_eq!(field(&walk, "in_tlb").as_bool(), Some(true));
    let unmapped = m.walk(0x30_0000).unwrap();
    assert!(field(&unmapped, "physical").is_null());

    let tlb = m.tlb().unwrap();
    assert_eq!(num(&tlb, "size"), 8.0);
    let entries: js_sys::Array = field(&tlb, "entries").into();
    let pages: Vec<f64> = entries.iter().map(|e| num(&e, "page")).collect();
    assert!(pages.contains(&5.0) && pages.contains(&8.0), "{pages:?}");
    assert!(num(&tlb, "misses") >= 2.0);

    let bytes: js_sys::Array = m.read_virtual(0x5000, 4).unwrap().into();
    let bytes: Vec<f64> = bytes.iter().map(|b| b.as_f64().unwrap()).collect();
    assert_eq!(bytes, [68.0, 51.0, 34.0, 17.0]);
    let hole: js_sys::Array = m.read_virtual(0x30_0000, 1).unwrap().into();
    assert!(hole.get(0).is_null());
    assert_eq!(m.read_physical(0x5000, 2), vec![0x44, 0x33]);
}

#[wasm_bindgen_test]
fn reverse_stepping_and_snapshots() {
    let mut m = paging_machine();
    m.step().unwrap();
    m.step().unwrap();
    let after_two = m.state_hash();
    let saved = m.snapshot();
    m.run(100.0).unwrap();
    assert_ne!(m.state_hash(), after_two);
    assert_eq!(m.step_back(5.0).unwrap(), 2.0);
    assert_eq!(m.state_hash(), after_two);
    assert_eq!(num(&m.registers().unwrap(), "cr3"), f64::from(0x1000));
    m.seek(7.0).unwrap();
    assert_eq!(num(&m.registers().unwrap(), "ebx"), f64::from(0x1122_3344));
    m.restore(&saved).unwrap();
    assert_eq!(m.state_hash(), after_two);
    assert!(m.restore(&saved[..10]).is_err());
}

#[wasm_bindgen_test]
fn break_on_event_kinds_and_recorded_events() {
    let mut m = paging_machine();
    m.set_recording(true);
    m.break_on("cr3_write", true).unwrap();
    let stop = m.run(100.0).unwrap();
    assert_eq!(field(&stop, "reason").as_string().as_deref(), Some("event"));
    assert_eq!(
        field(&stop, "kind").as_string().as_deref(),
        Some("cr3_write")
    );
    assert_eq!(m.steps(), 2.0);
    m.break_on("cr3_write", false).unwrap();
    m.run(100.0).unwrap();
    let events: js_sys::Array = m.events().unwrap().into();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| field(&field(&e, "event"), "kind").as_string().unwrap())
        .collect();
    assert!(kinds.iter().any(|k| k == "page_walk"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "tlb_fill"), "{kinds:?}");
    assert!(m.break_on("no_such_kind", true).is_err());
}

#[wasm_bindgen_test]
fn a_bad_configuration_is_an_error() {
    let config = js_sys::JSON::parse(r#"{"mem_size": "lots"}"#).unwrap();
    assert!(MachineHandle::with_config(config).is_err());
}

#[wasm_bindgen_test]
fn every_lesson_runs_to_completion_in_the_browser() {
    let list: js_sys::Array = osviz_wasm::lessons().unwrap().into();
    let kernel_of = |l: &JsValue| field(l, "kernel").as_string().unwrap();
    let (teaching, xv6): (Vec<JsValue>, Vec<JsValue>) =
        list.iter().partition(|l| kernel_of(l) == "teaching");
    assert_eq!(teaching.len(), 9);
    assert!(xv6.iter().all(|l| kernel_of(l) == "xv6"));
    // xv6's own thirteen, and nine with xv6 as the hypervisor's guest.
    let (vm, xv6): (Vec<JsValue>, Vec<JsValue>) = xv6
        .into_iter()
        .partition(|l| field(l, "hypervisor").as_bool() == Some(true));
    assert_eq!(xv6.len(), 13);
    assert_eq!(vm.len(), 9);
    assert!(
        vm.iter()
            .all(|l| field(l, "id").as_string().unwrap().starts_with("vm-"))
    );
    // xv6's lessons say what they type; none boots without a build.
    let shell = xv6
        .iter()
        .find(|l| field(l, "id").as_string().as_deref() == Some("xv6-shell"))
        .unwrap();
    assert_eq!(field(shell, "typed").as_string().as_deref(), Some("ls\n"));
    assert!(field(shell, "expected_output").is_null());
    let panels: js_sys::Array = field(shell, "panels").into();
    assert_eq!(panels.get(0).as_string().as_deref(), Some("Processes"));
    let questions: js_sys::Array = field(shell, "questions").into();
    assert!(questions.get(0).as_string().unwrap().contains("exec"));
    let err = MachineHandle::from_lesson("xv6-shell").unwrap_err();
    let message = js_sys::Error::from(JsValue::from(err)).message();
    assert!(
        String::from(message).contains("xv6Lesson"),
        "an xv6 lesson without a build says how to give one"
    );
    for l in teaching {
        let id = field(&l, "id").as_string().unwrap();
        assert!(field(&l, "typed").is_null());
        let expected = field(&l, "expected_output").as_string().unwrap();
        let mut m = MachineHandle::from_lesson(&id).unwrap();
        let stop = m.run(50_000_000.0).unwrap();
        assert_eq!(
            field(&stop, "reason").as_string().as_deref(),
            Some("halted"),
            "{id}"
        );
        let console = m.console();
        assert!(console.contains(&expected), "{id}: {console}");
        assert!(
            console
                .trim_end()
                .ends_with("all processes have exited; 761 frames free"),
            "{id}: {console}"
        );
    }
}

#[wasm_bindgen_test]
fn kernel_views_and_questions_in_the_browser() {
    let mut m = MachineHandle::from_lesson("demand-paging").unwrap();
    let answered = m.answer_question(1, 5_000_000.0).unwrap();
    assert_eq!(
        field(&answered, "answer").as_string().as_deref(),
        Some("0x6")
    );
    let procs: js_sys::Array = m.processes().unwrap().into();
    assert_eq!(procs.length(), 1);
    let pid = num(&procs.get(0), "pid") as u32;
    assert_eq!(
        field(&procs.get(0), "name").as_string().as_deref(),
        Some("heap")
    );
    let stack = m.kernel_stack(pid).unwrap();
    let frame: js_sys::Array = field(&stack, "trap_frame").into();
    // At the moment of the fault the CPU has pushed its part of the frame
    // (the error code among it); the stub and the entry code come next.
    let err = frame
        .iter()
        .find(|f| field(f, "name").as_string().as_deref() == Some("err"))
        .unwrap();
    assert_eq!(num(&err, "value"), 6.0);
    let frames: js_sys::Array = m.frames().unwrap().into();
    assert_eq!(frames.length(), 1024);
    let idt: js_sys::Array = m.idt().unwrap().into();
    assert_eq!(
        field(&idt.get(0x40), "handler_symbol")
            .as_string()
            .as_deref(),
        Some("vector64")
    );
    let place = m.place(0x1000).unwrap();
    assert_eq!(
        field(&place, "file").as_string().as_deref(),
        Some("heap.asm")
    );
    assert!(m.mappings(pid).is_ok());
    assert!(m.kernel_stack(99).is_err());
    // The same views as on xv6: the memory image, the page tables, the
    // running process and the call stack.
    let regions: js_sys::Array = m.memory_image(pid).unwrap().into();
    assert!(
        regions
            .iter()
            .any(|r| field(&r, "kind").as_string().as_deref() == Some("heap"))
    );
    let tables: js_sys::Array = m.page_tables(pid).unwrap().into();
    assert!(tables.length() >= 1);
    assert_eq!(num(&m.current().unwrap(), "pid"), f64::from(pid));
    let stack: js_sys::Array = m.call_stack(Some(4)).unwrap().into();
    assert!(stack.length() >= 1 && stack.length() <= 4);
    assert_eq!(m.lesson().as_deref(), Some("demand-paging"));
    assert!(m.answer_question(7, 1000.0).is_err());
}

#[wasm_bindgen_test]
fn a_program_that_does_not_assemble_reports_line_and_column() {
    let err = MachineHandle::from_source("mine", "start: mov eax, [\n").unwrap_err();
    let list: js_sys::Array = err.into();
    let first = list.get(0);
    assert_eq!(num(&first, "line"), 1.0);
    assert_eq!(num(&first, "column"), 18.0);
    let mut ok = MachineHandle::from_source(
        "mine",
        "%include \"user.inc\"\nstart: mov eax, SYS_exit\n xor ebx, ebx\n int 0x40\n",
    )
    .unwrap();
    let stop = ok.run(5_000_000.0).unwrap();
    assert_eq!(
        field(&stop, "reason").as_string().as_deref(),
        Some("halted")
    );
    let plain = MachineHandle::new(4096);
    assert!(plain.processes().is_err());
    assert_eq!(plain.kernel(), None);
    assert_eq!(ok.kernel().as_deref(), Some("teaching"));
}

#[wasm_bindgen_test]
fn the_debugger_queries_step_over_disassemble_and_trace_a_write() {
    // The demo: mov ecx, 5 / the loop that writes digits to the console.
    let mut m = MachineHandle::with_demo();
    let lines = m.disassemble(0x1000, 2).unwrap();
    let first = js_sys::Reflect::get(&lines, &JsValue::from(0)).unwrap();
    assert_eq!(
        field(&first, "text").as_string().as_deref(),
        Some("mov ecx, 0x5")
    );
    assert!(
        m.step_over(1000.0).unwrap().is_null(),
        "one step, nothing stopped it"
    );
    assert_eq!(m.steps(), 1.0);
    // ECX is not memory: nothing at physical 0 changed since the start.
    m.run(10.0).unwrap();
    let before = m.steps();
    assert_eq!(m.last_change(0, 4).unwrap(), None);
    assert_eq!(m.steps(), before, "the machine stays where it was");
}
