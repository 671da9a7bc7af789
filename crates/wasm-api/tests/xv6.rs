//! xv6 headless in headless Chromium: booted from the bytes of its kernel
//! and fs.img (the build `scripts/xv6` writes, embedded at compile time as
//! `build.rs` says), driven from the wasm API as a JavaScript checker
//! would: type a command, run until its output, read the process table.
#![cfg(target_arch = "wasm32")]

use osviz_wasm::MachineHandle;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

static KERNEL: &[u8] = include_bytes!(env!("OSVIZ_XV6_KERNEL"));
static DISK: &[u8] = include_bytes!(env!("OSVIZ_XV6_DISK"));
static BOOT_BLOCK: &[u8] = include_bytes!(env!("OSVIZ_XV6_BOOT_BLOCK"));
static HYPERVISOR: &[u8] = include_bytes!(env!("OSVIZ_VMM"));

/// xv6's boot to the prompt takes about 14 M steps.
const BOOT: f64 = 60_000_000.0;

fn build() -> (&'static [u8], &'static [u8]) {
    assert!(
        !KERNEL.is_empty() && !DISK.is_empty(),
        "no xv6 build in {}: run `bash scripts/xv6` (it writes target/xv6) before `wasm-pack test`",
        env!("OSVIZ_XV6_DIR")
    );
    (KERNEL, DISK)
}

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).expect("field exists")
}

fn text(object: &JsValue, name: &str) -> Option<String> {
    field(object, name).as_string()
}

fn num(object: &JsValue, name: &str) -> f64 {
    field(object, name).as_f64().unwrap_or(f64::NAN)
}

fn list(value: JsValue) -> Vec<JsValue> {
    js_sys::Array::from(&value).iter().collect()
}

/// The processes as `(pid, name)`.
fn processes(m: &MachineHandle) -> Vec<(u32, String)> {
    list(m.processes().unwrap())
        .iter()
        .map(|p| (num(p, "pid") as u32, text(p, "name").unwrap()))
        .collect()
}

fn booted() -> MachineHandle {
    let (kernel, disk) = build();
    let mut m = MachineHandle::xv6(kernel, disk, None).unwrap();
    assert_eq!(m.kernel().as_deref(), Some("xv6"));
    let until = m.run_to_prompt(BOOT).unwrap();
    assert_eq!(
        field(&until, "found").as_bool(),
        Some(true),
        "{}",
        m.console()
    );
    assert!(field(&until, "stop").is_null());
    assert!(
        m.console().ends_with("init: starting sh\n$ "),
        "{}",
        m.console()
    );
    m
}

#[wasm_bindgen_test]
fn xv6_boots_from_bytes_and_ls_shows_in_the_process_table() {
    let mut m = booted();
    assert_eq!(processes(&m), [(1, "init".into()), (2, "sh".into())]);

    // Enter makes sh fork a child that execs ls: stop at exec.
    m.type_keys("ls\n");
    let exec = m.symbol_address("exec").unwrap().expect("xv6 has exec");
    m.add_breakpoint(exec);
    let stop = m.run(50_000_000.0).unwrap();
    assert_eq!(text(&stop, "reason").as_deref(), Some("breakpoint"));
    let current = m.current().unwrap();
    // The child still runs sh's image (exec renames it at the end).
    assert_eq!(num(&current, "pid"), 3.0);
    assert_eq!(num(&current, "parent"), 2.0);
    let stack = list(m.call_stack(None).unwrap());
    let symbols: Vec<Option<String>> = stack.iter().map(|p| text(p, "symbol")).collect();
    assert_eq!(symbols[0].as_deref(), Some("exec"), "{symbols:?}");
    assert_eq!(symbols[1].as_deref(), Some("sys_exec"), "{symbols:?}");
    let place = m.place(exec).unwrap();
    assert_eq!(text(&place, "file").as_deref(), Some("exec.c"));
    assert_eq!(text(&place, "symbol").as_deref(), Some("exec"));
    let frame = list(field(&m.kernel_stack(3).unwrap(), "trap_frame"));
    let trapno = frame
        .iter()
        .find(|f| text(f, "name").as_deref() == Some("trapno"))
        .expect("the system call's trap frame");
    assert_eq!(num(trapno, "value"), 64.0);
    m.remove_breakpoint(exec);

    // Run on in small pieces until the process table has ls.
    let mut ls = None;
    for _ in 0..400 {
        m.run(50_000.0).unwrap();
        ls = processes(&m).into_iter().find(|(_, name)| name == "ls");
        if ls.is_some() {
            break;
        }
    }
    let (pid, _) = ls.expect("ls in the process table");
    assert_eq!(pid, 3);

    // The views of ls's image exec made: code from 0, the guard page, the
    // stack page.
    let kinds: Vec<String> = list(m.memory_image(pid).unwrap())
        .iter()
        .map(|r| text(r, "kind").unwrap())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "guard") && kinds.iter().any(|k| k == "stack"),
        "{kinds:?}"
    );
    assert_eq!(list(m.page_tables(pid).unwrap()).len(), 1);
    assert!(list(m.mappings(pid).unwrap()).len() >= 3);
    assert_eq!(list(m.frames().unwrap()).len(), 57_344);
    let idt = list(m.idt().unwrap());
    assert_eq!(num(&idt[64], "dpl"), 3.0);
    assert_eq!(num(&idt[32], "dpl"), 0.0);
    assert!(m.kernel_stack(99).is_err());
}

#[wasm_bindgen_test]
fn typing_ls_prints_the_listing_and_the_next_prompt() {
    let mut m = booted();
    m.type_keys("ls\n");
    let until = m.run_until_text("README", 50_000_000.0).unwrap();
    assert_eq!(
        field(&until, "found").as_bool(),
        Some(true),
        "{}",
        m.console()
    );
    assert!(field(&until, "stop").is_null());
    assert!(num(&until, "step") > 0.0);
    assert!(m.console().contains("README"), "{}", m.console());
    let until = m.run_to_prompt(50_000_000.0).unwrap();
    assert_eq!(field(&until, "found").as_bool(), Some(true));
    let console = m.console();
    assert!(console.ends_with("$ "), "{console}");
    assert!(console.contains("usertests"), "{console}");
    // What was already printed does not count again: nothing new comes.
    let until = m.run_until_text("README", 2_000_000.0).unwrap();
    assert_eq!(field(&until, "found").as_bool(), Some(false));
    assert_eq!(
        text(&field(&until, "stop"), "reason").as_deref(),
        Some("instruction_limit")
    );
}

#[wasm_bindgen_test]
fn an_xv6_lesson_starts_with_its_command_typed_and_answers_its_question() {
    let (kernel, disk) = build();
    let mut m = MachineHandle::xv6_lesson("xv6-shell", kernel, disk, None, None).unwrap();
    assert_eq!(m.lesson().as_deref(), Some("xv6-shell"));
    assert!(m.console().ends_with("$ "), "{}", m.console());
    let answered = m.answer_question(0, 50_000_000.0).unwrap();
    assert_eq!(text(&answered, "answer").as_deref(), Some("pid 3 (sh)"));
    assert!(m.answer_question(1, 1000.0).is_err());
    assert!(MachineHandle::xv6_lesson("memory-image", kernel, disk, None, None).is_err());
    assert!(MachineHandle::xv6(b"not an elf", disk, None).is_err());
}

/// The boot lesson from JavaScript: with the build's boot block it starts
/// at the boot sector in real mode, and its question about the far jump is
/// answered as bootasm.S's GDT implies; without the boot block it says
/// what is missing.
#[wasm_bindgen_test]
fn the_boot_lesson_starts_at_the_boot_sector_and_answers_from_the_gdt() {
    let (kernel, disk) = build();
    assert!(!BOOT_BLOCK.is_empty(), "no bootblock.o beside the build");
    let mut m =
        MachineHandle::xv6_lesson("xv6-boot", kernel, disk, Some(BOOT_BLOCK.to_vec()), None)
            .unwrap();
    let regs = m.registers().unwrap();
    assert_eq!(num(&regs, "eip"), f64::from(0x7C00));
    assert_eq!(num(&regs, "cs"), 0.0);
    let answered = m.answer_question(1, 50_000_000.0).unwrap();
    assert_eq!(
        text(&answered, "answer").as_deref(),
        Some("0x8 (GDT entry 1): 32-bit code, flat (it spans all 4 GiB from address zero)")
    );
    let err = MachineHandle::xv6_lesson("xv6-boot", kernel, disk, None, None).unwrap_err();
    let message = String::from(js_sys::Error::from(JsValue::from(err)).message());
    assert!(message.contains("bootblock.o"), "{message}");
}

/// xv6 as the teaching hypervisor's guest, from JavaScript: the lesson
/// boots to the prompt under the hypervisor, the virtual machine says the
/// guest's kernel runs in ring 1 believing ring 0 with its exits counted,
/// the three tables follow an address, a question is answered; without
/// the hypervisor's ELF the lesson says what is missing.
#[wasm_bindgen_test]
fn a_virtualization_lesson_runs_xv6_under_the_hypervisor() {
    let (kernel, disk) = build();
    assert!(
        !HYPERVISOR.is_empty(),
        "no hypervisor: run `bash scripts/vmm` (it writes target/vmm/vmm) before `wasm-pack test`"
    );
    let mut m =
        MachineHandle::xv6_lesson("vm-guest", kernel, disk, None, Some(HYPERVISOR.to_vec()))
            .unwrap();
    assert!(m.console().ends_with("$ "), "{}", m.console());
    let vm = m.virtual_machine().unwrap();
    let real = field(&vm, "real");
    let believed = field(&vm, "virtual_cpu");
    assert_eq!(num(&believed, "ring"), 0.0);
    assert_eq!(num(&vm, "guest_size"), f64::from(224u32 << 20));
    assert!(num(&vm, "exits") > 1000.0);
    assert!(
        num(&real, "cr3") != num(&believed, "cr3"),
        "the shadow is not xv6's own"
    );
    let three = m.three_tables().unwrap();
    assert_eq!(num(&three, "guest_dir"), num(&believed, "cr3"));
    let answered = m.answer_question(0, 100_000_000.0).unwrap();
    assert_eq!(
        text(&answered, "answer").as_deref(),
        Some(
            "ring 1, ring 0: the hypervisor runs xv6's kernel deprivileged, and the virtual CPU it shows xv6 says ring 0"
        )
    );
    let err = MachineHandle::xv6_lesson("vm-guest", kernel, disk, None, None).unwrap_err();
    let message = String::from(js_sys::Error::from(JsValue::from(err)).message());
    assert!(message.contains("hypervisor"), "{message}");
}
