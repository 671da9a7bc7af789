//! The `osviz` binary, run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The benchmark guest beside the project, assembled small with nasm.
fn small_bench_image() -> Option<PathBuf> {
    let asm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/bench.asm");
    if !asm.exists() {
        eprintln!("skipping: {} is not there", asm.display());
        return None;
    }
    let out = std::env::temp_dir().join(format!("osviz-cli-bench-{}.bin", std::process::id()));
    let status = Command::new("nasm")
        .args([
            "-f",
            "bin",
            "-DMULTIBOOT",
            "-DITER1=30000",
            "-DITER2=3000",
            "-DITER3=3000",
            "-o",
        ])
        .arg(&out)
        .arg(&asm)
        .status()
        .expect("nasm runs (scripts/bootstrap installs it)");
    assert!(status.success());
    Some(out)
}

fn osviz(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_osviz"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn run_prints_the_guest_debug_output_and_exits_zero() {
    let Some(image) = small_bench_image() else {
        return;
    };
    let out = osviz(&["run", "--multiboot", image.to_str().unwrap(), "--stats"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "@@A@@B@@C@@D@@E@@F");
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.contains("MIPS:"), "{stats}");
    // 3 instructions per loop-1 iteration and 7 per loop-2 and loop-3 iteration.
    let retired: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("instructions: "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(retired > 3 * 30_000 + 7 * 6_000, "{retired}");
    let _ = std::fs::remove_file(image);
}

#[test]
fn bench_prints_mips_for_each_loop() {
    let Some(image) = small_bench_image() else {
        return;
    };
    let out = osviz(&[
        "bench",
        "--multiboot",
        image.to_str().unwrap(),
        "--repeat",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Three loops under each of the three recordings, in that order.
    let headings = [
        "events off:",
        "events on:",
        "events on as the page records them (TLB hits left out):",
    ];
    let mut rest = text.as_ref();
    for (i, heading) in headings.iter().enumerate() {
        let at = rest
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading:?}: {text}"));
        rest = &rest[at + heading.len()..];
        let section = headings
            .get(i + 1)
            .and_then(|next| rest.find(next))
            .map_or(rest, |end| &rest[..end]);
        assert_eq!(section.matches(" MIPS").count(), 3, "{heading} {text}");
    }
    let _ = std::fs::remove_file(image);
}

#[test]
fn errors_are_clear() {
    let out = osviz(&["run", "--multiboot", "/no/such/file"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file"));
    let out = osviz(&["run"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--multiboot"));
    let not_multiboot =
        std::env::temp_dir().join(format!("osviz-cli-zeros-{}", std::process::id()));
    std::fs::write(&not_multiboot, [0u8; 100]).unwrap();
    let out = osviz(&["run", "--multiboot", not_multiboot.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no multiboot header"));
    // A module is for a multiboot kernel; a missing one is named.
    let path = not_multiboot.to_str().unwrap();
    let out = osviz(&["pc", "--disk", path, "--module", path]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--module needs --kernel"));
    let out = osviz(&["pc", "--kernel", path, "--module", "/no/such/module"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/module"));
    let _ = std::fs::remove_file(not_multiboot);
}

#[test]
fn lessons_list_and_run() {
    let out = osviz(&["lesson", "list"]);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("demand-paging"), "{list}");
    assert!(list.contains("xv6-syscall"), "{list}");
    assert!(
        list.contains("vm-shadow            xv6 under the hypervisor"),
        "{list}"
    );
    assert_eq!(
        list.lines().count(),
        9 + 13 + 9,
        "both kernels' lessons, and xv6's under the hypervisor: {list}"
    );

    let out = osviz(&["lesson", "run", "system-call"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hello from pid 1\n"), "{text}");
    // The question, with the machine's answer at its moment: pid 1's
    // kernel stack top, as the lesson's test works it out.
    assert!(
        text.contains("to which ESP does the CPU switch (the TSS's ESP0)?\n    at trap 64"),
        "{text}"
    );
    assert!(text.contains("): 0x80108000\n"), "{text}");

    let out = osviz(&["lesson", "run", "demand-paging", "--events"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let first_fault = text
        .lines()
        .find(|l| l.contains("\"kind\":\"page_fault\""))
        .expect("a page fault event");
    assert!(first_fault.contains("\"error_code\":6"), "{first_fault}");
    assert!(text.contains("heap sum 7"));

    let out = osviz(&["lesson", "run", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the lessons are: memory-image"));
}

#[test]
fn run_rom_starts_at_the_reset_vector_and_prints_post_codes_and_debug_output() {
    // At F000:0000: mov al, 0x12 / mov dx, 0x190 / out dx, al /
    // mov al, 'h' / out 0xe9, al / mov al, 0xff / out dx, al / cli / hlt;
    // the reset vector (FFFF:FFF0 as the CPU starts) jumps there.
    let mut rom = vec![0x90u8; 64 * 1024];
    let code = [
        0xB0, 0x12, 0xBA, 0x90, 0x01, 0xEE, 0xB0, b'h', 0xE6, 0xE9, 0xB0, 0xFF, 0xEE, 0xFA, 0xF4,
    ];
    rom[..code.len()].copy_from_slice(&code);
    rom[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    let path = std::env::temp_dir().join(format!("osviz-cli-rom-{}.bin", std::process::id()));
    std::fs::write(&path, &rom).unwrap();
    let out = osviz(&["run", "--rom", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "h");
    assert_eq!(stderr, "post 12\npost FF\n");

    // A file that is not 64 KiB is refused with a message.
    let short = std::env::temp_dir().join(format!("osviz-cli-short-{}.bin", std::process::id()));
    std::fs::write(&short, [0u8; 16]).unwrap();
    let out = osviz(&["run", "--rom", short.to_str().unwrap()]);
    let _ = std::fs::remove_file(&short);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("65536 bytes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
