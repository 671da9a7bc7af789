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
