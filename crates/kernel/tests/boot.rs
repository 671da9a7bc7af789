//! The kernel boots, runs its programs, and cleans up after them.

use osviz_kernel::{System, programs};
use osviz_machine::StopReason;

fn console(system: &System) -> String {
    String::from_utf8_lossy(system.machine.console()).into_owned()
}

#[test]
fn the_kernel_assembles() {
    if let Err(errors) = osviz_kernel::build_kernel() {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!("{}", list.join("\n"));
    }
}

#[test]
fn two_programs_say_hello_and_every_frame_comes_back() {
    let mut system = System::boot(&[programs::HELLO, programs::HELLO]).unwrap();
    let stop = system.machine.run(5_000_000);
    let text = console(&system);
    assert_eq!(stop, StopReason::Halted, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("osviz kernel: "), "{text}");
    assert_eq!(
        &lines[1..3],
        ["hello from pid 1", "hello from pid 2"],
        "{text}"
    );
    // The free-frame count at the end equals the one at boot: no leaks.
    let free_at_boot = lines[0].trim_start_matches("osviz kernel: ");
    assert_eq!(
        lines[3],
        format!("all processes have exited; {free_at_boot}"),
        "{text}"
    );
}

/// Boots `programs`, runs until the machine stops (typing `keys` once the
/// console shows a prompt ending in ": "), and returns the console text
/// after the boot line.
fn run(programs: &[osviz_kernel::Program], keys: &[u8], disk: &[u8]) -> (String, StopReason) {
    let mut system = System::boot(programs).unwrap();
    system.machine.load_disk(disk).unwrap();
    let mut typed = keys.is_empty();
    let mut budget = 200u32;
    let stop = loop {
        let stop = system.machine.run(100_000);
        if !typed && console(&system).ends_with(": ") {
            for &k in keys {
                system.machine.press_key(k);
            }
            typed = true;
        }
        budget -= 1;
        if stop != StopReason::InstructionLimit || budget == 0 {
            break stop;
        }
    };
    let text = console(&system);
    let body = text
        .split_once('\n')
        .map_or(String::new(), |(_, b)| b.to_string());
    (body, stop)
}

/// Whether the kernel's last words say every process exited and every frame
/// came back (761 are free after boot with the lessons' 4 MiB).
fn ends_clean(text: &str) -> bool {
    text.trim_end()
        .ends_with("all processes have exited; 761 frames free")
}

#[test]
fn the_timer_interleaves_two_busy_processes() {
    let (text, stop) = run(&[programs::SPIN, programs::SPIN], b"", b"");
    assert_eq!(stop, StopReason::Halted, "{text}");
    let marks: String = text.chars().take(10).collect();
    assert_eq!(marks.matches('1').count(), 5, "{text}");
    assert_eq!(marks.matches('2').count(), 5, "{text}");
    assert!(!marks.starts_with("11111"), "no preemption: {text}");
    assert!(ends_clean(&text), "{text}");
}

#[test]
fn heap_and_stack_pages_arrive_on_demand() {
    let (text, stop) = run(&[programs::HEAP], b"", b"");
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(text.starts_with("heap sum 7\nstack ok\n"), "{text}");
    assert!(ends_clean(&text), "{text}");
}

#[test]
fn faults_kill_the_process_with_a_message() {
    let (text, stop) = run(
        &[programs::SEGV, programs::PRIVILEGED, programs::DIVIDE],
        b"",
        b"",
    );
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(
        text.contains("segmentation fault: pid 1 touched 0x50000000 at eip 0x00001000"),
        "{text}"
    );
    assert!(
        text.contains("general protection fault: pid 2 at eip 0x00001000"),
        "{text}"
    );
    assert!(
        text.contains("divide error: pid 3 at eip 0x00001009"),
        "{text}"
    );
    assert!(!text.contains("still alive"), "{text}");
    assert!(ends_clean(&text), "{text}");
}

#[test]
fn fork_and_wait() {
    let (text, stop) = run(&[programs::FORKER], b"", b"");
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(
        text.starts_with("child running\nparent: child 2 exited with status 7\n"),
        "{text}"
    );
    assert!(ends_clean(&text), "{text}");
}

#[test]
fn sleeping_and_blocking_reads() {
    let mut disk = vec![0u8; 1024];
    disk[512..512 + 14].copy_from_slice(b"from the disk\n");
    let (text, stop) = run(&[programs::SLEEPER, programs::DISKREAD], b"", &disk);
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(text.contains("slept 3 ticks\n"), "{text}");
    assert!(text.contains("from the disk\n"), "{text}");
    assert!(ends_clean(&text), "{text}");
}

#[test]
fn the_keyboard_wakes_a_reader() {
    let (text, stop) = run(&[programs::ECHO], b"hi there\n", b"");
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(
        text.starts_with("type a line: you typed: hi there\n"),
        "{text}"
    );
    assert!(ends_clean(&text), "{text}");
}

/// Pids fit the core map's byte: a system that has made more processes than
/// that reuses them, and every child's pages still come back.
#[test]
fn pids_are_reused_after_maxpid_and_every_frame_comes_back() {
    let source = r#"%include "user.inc"
start:  mov esi, 300
.again: mov eax, SYS_fork
        int 0x40
        test eax, eax
        jz child
        mov eax, SYS_wait
        int 0x40
        dec esi
        jnz .again
        mov eax, SYS_getpid
        int 0x40
        mov eax, SYS_exit
        xor ebx, ebx
        int 0x40
child:  mov eax, SYS_sbrk
        mov ebx, 4096
        int 0x40
        mov dword [eax], 1
        mov eax, SYS_exit
        xor ebx, ebx
        int 0x40
"#;
    let mut system = System::boot_sources(&[("forks", source)], Default::default()).unwrap();
    let stop = system.machine.run(50_000_000);
    let text = console(&system);
    assert_eq!(stop, StopReason::Halted, "{text}");
    assert!(ends_clean(&text), "{text}");
    let nextpid = system.kernel.symbol("nextpid").unwrap() - osviz_kernel::KERNBASE;
    let next = system.machine.mem().read(nextpid, 4);
    // The parent is pid 1; children took 2 to 253, then wrapped past the
    // parent's 1 to 2..=49: the next one is 50.
    assert_eq!(next, 50, "the pids wrapped");
}
