//! Every xv6 lesson runs to each of its moments headless, from its own
//! start (the prompt, with the lesson's command typed), and each question's
//! answer is the one xv6's source implies, written here.

mod common;

use osviz_course::{Guest, XV6_LESSONS};
use osviz_xv6::Xv6Build;
use std::rc::Rc;

fn build() -> Rc<Xv6Build> {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    Rc::new(Xv6Build::from_dir(&dir).unwrap())
}

#[test]
fn every_xv6_lesson_reaches_its_moments_and_answers_as_the_source_implies() {
    let build = build();
    // Booted once to the prompt; each lesson types its command on a copy.
    let mut at_prompt = Guest::for_lesson(&XV6_LESSONS[0], Some(&build), None).unwrap();
    let blank = osviz_course::Lesson {
        setup: osviz_course::Setup::Xv6 { typed: "" },
        ..XV6_LESSONS[0]
    };
    at_prompt.go_to_start(&blank).unwrap();
    let expected: &[(&str, &[&str])] = &[
        // sh forks (pid 3, still called sh: exec names it after the switch).
        ("xv6-shell", &["pid 3 (sh)"]),
        // echo's text and data fit in a page; exec adds a guard page and
        // the stack page above it: sz 3 pages, the stack from 0x2000.
        ("xv6-memory-image", &["0x3000", "0x2000"]),
        // The process switched to had called sched, which called swtch:
        // its context returns into sched (offset as Debian's gcc compiles it).
        ("xv6-context", &["sched+104"]),
        // sh wakes with the line, forks, and waits: it sleeps first.
        ("xv6-context-switch", &["pid 2 (sh)"]),
        // fork clears the child's trap-frame eax: fork returns 0 there.
        ("xv6-pcb", &["0"]),
        // ls's image, guard and stack lie in the first 4 MiB: one table.
        ("xv6-paging", &["1"]),
        // The scheduler's switchuvm loads the woken sh's directory
        // (physical address of the frame kalloc gave it).
        ("xv6-cr3-tlb", &["pid 2 (sh): directory 0xdf73000"]),
        // A system call comes from user code: the saved CS's RPL is 3.
        ("xv6-rings", &["ring 3"]),
        // SYS_write is 16 in syscall.h.
        ("xv6-syscall", &["16"]),
        // tvinit: SETGATE(idt[T_SYSCALL], 1, SEG_KCODE<<3, vectors[T_SYSCALL],
        // DPL_USER); every other gate DPL 0.
        ("xv6-idt", &["3 for 64, 0 for 32"]),
        // sh's child (pid 3, still named sh) execs cat: exec reads cat's
        // ELF through bread, and iderw sleeps on the buffer until the disk
        // interrupt.
        ("xv6-blocking-io", &["pid 3 (sh) on bcache.buf[29]"]),
        // Before exec, the child sh's malloc grows its heap: sbrk ->
        // growproc -> allocuvm, which allocates every page at once.
        (
            "xv6-demand-paging",
            &["pid 3 (sh), from growproc ← sys_sbrk; in the kernel (CPL 0)"],
        ),
        // bootasm.S: `movb $0xdf,%al; outb %al,$0x60` after 0xd1 at 0x64;
        // `ljmp $(SEG_KCODE<<3), $start32` with SEG_KCODE 1 and the GDT's
        // SEG_ASM(STA_X|STA_R, 0x0, 0xffffffff) (D set: 32-bit); bootmain
        // reads the ELF header with readseg(elf, 4096, 0), whose sector is
        // offset/512 + 1; the ELF's entry is _start = V2P_WO(entry), with
        // paging still off; entry.S loads V2P_WO(entrypgdir) into CR3 and
        // sets CR4.PSE (kernel.ld puts entrypgdir at 0x80109000 in this build).
        (
            "xv6-boot",
            &[
                "0xdf: it sets the output port's A20 bit, and keeps its reset line high",
                "0x8 (GDT entry 1): 32-bit code, flat (it spans all 4 GiB from address zero)",
                "1 (on the boot disk, the IDE master, one sector per command): the kernel's ELF starts right after the boot sector",
                "0x10000c: paging off (CR0.PG = 0), so that is a physical address, where bootmain loaded the kernel",
                "0x109000 (entrypgdir, physical): 4 MiB pages (CR4.PSE), mapping both 0 and KERNBASE to the first 4 MiB",
            ],
        ),
    ];
    let wrong = common::wrong_answers(XV6_LESSONS, expected, 30_000_000, |l| {
        // The boot lesson starts from the disk's boot sector, not the prompt.
        let mut start = if let osviz_course::Setup::Xv6Boot = l.setup {
            Guest::for_lesson(l, Some(&build), None).unwrap()
        } else {
            at_prompt.fork()
        };
        for b in l.typed().bytes() {
            start.machine_mut().press_key(b);
        }
        for moment in l.breakpoints {
            start
                .fork()
                .run_to(*moment, 30_000_000)
                .unwrap_or_else(|e| panic!("{}: {moment}: {e}", l.id));
        }
        start
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A build's files as a student might open them, read as the page reads
/// them.
fn open(kernel: Vec<u8>, disk: Vec<u8>) -> Result<Xv6Build, osviz_xv6::OpenError> {
    Xv6Build::new("test", kernel, disk, Default::default())
}

#[test]
fn broken_files_are_refused_with_what_is_wrong_and_a_kernel_panic_at_boot_is_reported() {
    let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
    let kernel = std::fs::read(dir.join("kernel")).unwrap();
    let disk = std::fs::read(dir.join("fs.img")).unwrap();
    let why = |r: Result<Xv6Build, osviz_xv6::OpenError>| r.err().map(|e| e.to_string()).unwrap();

    let w = why(open(kernel.clone(), vec![0; 100]));
    assert!(w.contains("100 bytes is too small"), "{w}");
    let w = why(open(kernel.clone(), vec![0; disk.len()]));
    assert!(
        w.contains("superblock says the file system has 0 blocks"),
        "{w}"
    );
    let w = why(open(kernel.clone(), disk[..disk.len() / 2].to_vec()));
    assert!(w.contains("cut short"), "{w}");
    let w = why(open(kernel[..kernel.len() - 100].to_vec(), disk.clone()));
    assert!(w.contains("the kernel file is cut short"), "{w}");

    // The root directory's inode with its type cleared: its entries read
    // as before, and the kernel panics in ilock mounting it. The boot says
    // so with the panic's line, well before the boot's step limit.
    let good = open(kernel.clone(), disk.clone()).unwrap();
    let layout = good.xv6.layout();
    let field = |s: &str, f: &str| layout.structs[s].field(f).unwrap().offset as usize;
    let inodestart = u32::from_le_bytes(
        disk[512 + field("superblock", "inodestart")..][..4]
            .try_into()
            .unwrap(),
    ) as usize;
    let root_type =
        inodestart * 512 + layout.structs["dinode"].size as usize + field("dinode", "type");
    let mut no_type = disk.clone();
    no_type[root_type..root_type + 2].copy_from_slice(&[0, 0]);
    let build = std::rc::Rc::new(open(kernel, no_type).expect("the root's entries still read"));
    let mut guest = Guest::boot_xv6(build).unwrap();
    let e = guest.go_to_start(&XV6_LESSONS[0]).unwrap_err().to_string();

    assert!(e.contains("panic: ilock: no type"), "{e}");
    assert!(
        guest.machine().steps() < 30_000_000,
        "{}",
        guest.machine().steps()
    );
}
