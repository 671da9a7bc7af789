// Runs the benchmark guest's floppy boot sector (bench.asm built with -DBOOT)
// once on the crate native-v86-core and prints one JSON line: for each of the
// three timed loops the instructions executed, the seconds, and the MIPS.
//
// usage: native-v86-core-bench BOOT_SECTOR
//
// scripts/bench --peers copies this file into a scratch cargo project under
// target/peers/ and builds it there; it is not part of the workspace.
//
// The crate has no loader and no port 0xE9: NativeCpu::new resets the CPU to
// real mode at 0xFFFF0, so the driver writes the boot sector to 0x7C00 and a
// far jump to 0000:7C00 at the reset vector, as a BIOS would. COM1 (0x3F8)
// bytes go to the process's standard output, so the driver points file
// descriptor 1 at a pipe and reads it after each slice of NativeCpu::step; a
// marker ("@@" and a letter) seen there notes the instructions executed so far
// (the sum of what step returned) and the time. A loop's MIPS is the
// instructions between its two markers over the time between them, the same
// rule `osviz bench` uses.

use native_v86_core::native_runtime::NativeCpu;
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::time::Instant;

/// Instructions per call of NativeCpu::step between looks at the pipe.
const SLICE: u32 = 1 << 16;

const LOOPS: [(u8, u8); 3] = [(b'A', b'B'), (b'C', b'D'), (b'E', b'F')];

fn main() {
    let path = std::env::args().nth(1).expect("usage: native-v86-core-bench BOOT_SECTOR");
    let boot = std::fs::read(&path).expect("read the boot sector");
    assert_eq!(boot.len(), 512, "expected a 512-byte boot sector (bench.asm -DBOOT)");

    // Keep the real standard output for the result; COM1 goes to a pipe.
    let (result_out, pipe_read) = unsafe {
        let saved = libc::dup(1);
        let mut fds = [0; 2];
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe");
        assert_eq!(libc::dup2(fds[1], 1), 1, "dup2");
        libc::close(fds[1]);
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, flags | libc::O_NONBLOCK);
        (File::from_raw_fd(saved), fds[0])
    };

    let mut cpu = NativeCpu::new(64 * 1024 * 1024, 2 * 1024 * 1024);
    assert!(cpu.write_memory(0x7C00, &boot));
    // jmp 0x0000:0x7C00
    assert!(cpu.write_memory(0xFFFF0, &[0xEA, 0x00, 0x7C, 0x00, 0x00]));

    let start = Instant::now();
    let mut executed: u64 = 0;
    let mut com1: Vec<u8> = Vec::new();
    let mut marks: Vec<(u8, u64, f64)> = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = cpu.step(SLICE);
        executed += u64::from(n);
        let got = unsafe { libc::read(pipe_read, buf.as_mut_ptr().cast(), buf.len()) };
        if got > 0 {
            let seconds = start.elapsed().as_secs_f64();
            for &b in &buf[..got as usize] {
                com1.push(b);
                let k = com1.len();
                if k >= 3 && com1[k - 3] == b'@' && com1[k - 2] == b'@' {
                    marks.push((b, executed, seconds));
                }
            }
        }
        if cpu.halted() || n == 0 || marks.iter().any(|m| m.0 == b'F') {
            break;
        }
    }

    let mut loops = Vec::new();
    for (open, close) in LOOPS {
        let a = marks.iter().find(|m| m.0 == open);
        let b = marks.iter().find(|m| m.0 == close);
        let (Some(a), Some(b)) = (a, b) else {
            panic!(
                "the guest did not write every marker (COM1: {:?}, ip {:#x})",
                String::from_utf8_lossy(&com1),
                cpu.instruction_pointer()
            );
        };
        let instructions = b.1 - a.1;
        let seconds = b.2 - a.2;
        loops.push(format!(
            "{{\"instructions\":{instructions},\"seconds\":{seconds},\"mips\":{}}}",
            instructions as f64 / seconds / 1e6
        ));
    }
    let mut out = result_out;
    writeln!(out, "{{\"loops\":[{}]}}", loops.join(",")).expect("write the result");
}
