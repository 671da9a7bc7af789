//! The process table of a running xv6, read through its DWARF: after the
//! boot, init and sh asleep; while `ls` runs, ls too; and a build of xv6
//! with a field added to `struct proc` is read just as right. (The trap
//! frame and C lines at a system call are in `view.rs`.)

use osviz_machine::{Machine, PcConfig};
use osviz_xv6::Xv6;
use std::path::{Path, PathBuf};
use std::process::Command;

fn build(src: Option<&Path>, out: &Path) -> PathBuf {
    osviz_xv6::build::build(src, Some(out)).unwrap_or_else(|e| panic!("{e}"))
}

fn boot(dir: &Path) -> (Machine, Xv6) {
    osviz_xv6::boot_build(dir, PcConfig::default()).unwrap()
}

fn to_prompt(m: &mut Machine) {
    while !m.serial_output().ends_with(b"$ ") {
        assert!(m.steps() < 30_000_000, "no prompt");
        m.run(100_000);
    }
}

fn table(m: &Machine, xv6: &Xv6) -> Vec<(i32, String, String)> {
    xv6.process_table(m)
        .unwrap()
        .into_iter()
        .map(|p| (p.pid, p.name, p.state))
        .collect()
}

fn sleeping_init_and_sh() -> Vec<(i32, String, String)> {
    vec![
        (1, "init".into(), "SLEEPING".into()),
        (2, "sh".into(), "SLEEPING".into()),
    ]
}

#[test]
fn after_the_boot_init_and_sh_sleep_and_ls_runs_when_typed() {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let (mut m, xv6) = boot(&dir);
    to_prompt(&mut m);
    assert_eq!(table(&m, &xv6), sleeping_init_and_sh());
    let procs = xv6.process_table(&m).unwrap();
    assert_eq!(procs[1].parent, procs[0].addr, "sh's parent is init");
    assert!(procs.iter().all(|p| p.kstack >= 0x8000_0000 && p.sz > 0));
    for b in b"ls\n" {
        m.send_serial(*b);
    }
    let mut seen_ls = None;
    for _ in 0..400 {
        m.run(10_000);
        if let Some(p) = xv6
            .process_table(&m)
            .unwrap()
            .into_iter()
            .find(|p| p.name == "ls")
        {
            seen_ls = Some(p);
            break;
        }
    }
    let ls = seen_ls.expect("ls in the process table while it runs");
    assert_eq!(ls.pid, 3);
    assert!(
        ["RUNNING", "RUNNABLE", "SLEEPING"].contains(&ls.state.as_str()),
        "{ls:?}"
    );
}

#[test]
fn a_field_added_to_struct_proc_moves_the_others_and_the_view_follows() {
    // The tree scripts/xv6 builds: $XV6_SRC, else ../shared/xv6-public, else
    // the clone it made into target/xv6-src.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared/xv6-public");
    let src = std::env::var_os("XV6_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            if shared.join("Makefile").exists() {
                shared
            } else {
                root.join("target/xv6-src")
            }
        });
    let tmp = std::env::temp_dir().join(format!("osviz-xv6-extra-{}", std::process::id()));
    let copy = tmp.join("src");
    std::fs::create_dir_all(&copy).unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", src.display()))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success(), "no xv6 tree at {}", src.display());
    // A lab's change: a field before all the others.
    let proc_h = copy.join("proc.h");
    let text = std::fs::read_to_string(&proc_h).unwrap();
    let changed = text.replacen(
        "struct proc {\n",
        "struct proc {\n  int tickets[3];              // a lab's addition\n",
        1,
    );
    assert_ne!(text, changed, "struct proc not found in proc.h");
    std::fs::write(&proc_h, changed).unwrap();
    let dir = build(Some(&copy), &tmp.join("out"));
    let (mut m, xv6) = boot(&dir);
    let proc = &xv6.layout().structs["proc"];
    assert_eq!(proc.field("tickets").map(|f| f.offset), Some(0));
    assert_eq!(proc.field("sz").map(|f| f.offset), Some(12));
    to_prompt(&mut m);
    assert_eq!(table(&m, &xv6), sleeping_init_and_sh());
    let _ = std::fs::remove_dir_all(&tmp);
}
