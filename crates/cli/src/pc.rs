//! `osviz pc`: a PC board running a multiboot kernel (xv6), or booting its
//! first disk from the boot sector as a BIOS does (xv6.img), its serial
//! console on standard output, standard input typed into it line by line
//! as a person would (see `osviz_machine::typist`).

use osviz_machine::pc::MIN_MEM_MIB;
use osviz_machine::typist::{TypedEnd, Typist};
use osviz_machine::{Machine, PcConfig, StopReason};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

pub const USAGE: &str = "\
  osviz pc [--kernel FILE]         boot a multiboot kernel (such as xv6) on the PC board;
                                   without it, boot the IDE master from its boot sector
                                   (at 0000:7C00 in real mode, as a BIOS does: xv6.img)
            [--module 'FILE [ARGS]']...
                                   with --kernel, a multiboot module (as qemu -initrd
                                   FILE,...): each is placed after the kernel on a page
                                   boundary, in order, its string all that was given
            [--disk FILE]...       IDE drives: with --kernel one file is the slave (xv6's
                                   fs.img, as qemu -drive index=1); without it, the master
                                   (the boot disk); two are master and slave
            [--mem-mib N]          RAM in MiB (default and least 224)
            [--max-instructions N] stop after N steps (default: no limit)
            [--prompt TEXT]        each line of standard input is typed after TEXT
                                   appears (default `$ `, xv6's shell prompt); without
                                   --until, osviz exits 0 at the prompt after the last
                                   line's answer. An empty TEXT: no prompt, a line is
                                   typed when the guest is quiet
            [--until TEXT]         exit 0 as soon as TEXT appears in the output
            [--quiet-steps N]      with --prompt '', a line is typed when the guest has
                                   printed nothing for N steps (default 10,000,000: 100 ms)
            [--date WHEN]          what the CMOS clock reads at boot: Unix seconds or
                                   YYYY-MM-DDTHH:MM:SS (UTC); default the host's clock.
                                   The guest's time then runs with its steps (10 ns each)
            [--stats]              when the run ends, print the steps it ran and its wall
                                   time to standard error, and with the teaching
                                   hypervisor as --kernel its guest's virtual CPU and its
                                   exits by reason (read through the hypervisor's DWARF)
            [--checkpoints N]      keep a checkpoint for reverse stepping every N steps
                                   (as the page does, 1,000,000; default none), to measure
                                   the history's memory
                                   the serial console goes to standard output as it comes
";

struct PcOptions {
    /// The multiboot kernel; none boots the first disk.
    kernel: Option<String>,
    modules: Vec<String>,
    disks: Vec<String>,
    mem_mib: usize,
    max_instructions: u64,
    prompt: Option<String>,
    until: Option<String>,
    quiet_steps: u64,
    checkpoints: u64,
    date: Option<u64>,
    stats: bool,
}

fn parse(args: &[String]) -> Result<PcOptions, String> {
    let mut o = PcOptions {
        kernel: None,
        modules: Vec::new(),
        disks: Vec::new(),
        mem_mib: MIN_MEM_MIB,
        max_instructions: u64::MAX,
        prompt: Some("$ ".into()),
        until: None,
        quiet_steps: osviz_machine::typist::QUIET_STEPS,
        checkpoints: 0,
        stats: false,
        date: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--kernel" => o.kernel = Some(value("--kernel")?),
            "--module" => o.modules.push(value("--module")?),
            "--disk" => o.disks.push(value("--disk")?),
            "--mem-mib" => o.mem_mib = crate::number("--mem-mib", value("--mem-mib")?)?,
            "--max-instructions" => {
                o.max_instructions =
                    crate::number("--max-instructions", value("--max-instructions")?)?
            }
            "--prompt" => {
                let text = value("--prompt")?;
                o.prompt = (!text.is_empty()).then_some(text);
            }
            "--until" => {
                let text = value("--until")?;
                if text.is_empty() {
                    return Err("--until needs a text to wait for".into());
                }
                o.until = Some(text);
            }
            "--stats" => o.stats = true,
            "--quiet-steps" => {
                o.quiet_steps = crate::number("--quiet-steps", value("--quiet-steps")?)?
            }
            "--checkpoints" => {
                o.checkpoints = crate::number("--checkpoints", value("--checkpoints")?)?
            }
            "--date" => o.date = Some(date(&value("--date")?)?),
            other => return Err(format!("unknown option {other}\nusage:\n{USAGE}")),
        }
    }
    if o.kernel.is_none() && o.disks.is_empty() {
        return Err(format!(
            "needs --kernel FILE, or a --disk to boot from\nusage:\n{USAGE}"
        ));
    }
    if o.kernel.is_none() && !o.modules.is_empty() {
        return Err(
            "--module needs --kernel: modules are given to a multiboot kernel, not a disk boot"
                .into(),
        );
    }
    if o.disks.len() > 2 {
        return Err("at most two --disk files (the IDE master and slave)".into());
    }
    Ok(o)
}

/// A moment given on the command line: Unix seconds, or a UTC date and time
/// as `YYYY-MM-DDTHH:MM:SS` (a space instead of the `T`, or no time, also do).
fn date(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "--date {text}: give Unix seconds or a UTC date and time such as 2026-12-07T12:34:56"
        )
    };
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    let (day, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let d: Vec<&str> = day.split('-').collect();
    let t: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
    let ([y, mo, dd], [h, mi, se]) = (d.as_slice(), t.as_slice()) else {
        return Err(bad());
    };
    let civil = osviz_machine::devices::Civil {
        year: i64::from(num(y)?),
        month: num(mo)?,
        day: num(dd)?,
        hour: num(h)?,
        minute: num(mi)?,
        second: num(se)?,
        weekday: 0,
    };
    civil
        .to_unix()
        .and_then(|secs| u64::try_from(secs).ok())
        .ok_or_else(bad)
}

/// The host's clock now, in Unix seconds.
fn host_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let kernel = o.kernel.as_deref().map(read).transpose()?;
    let modules = o
        .modules
        .iter()
        .map(|given| {
            // As QEMU's -initrd: the file is the first word, and the module's
            // string is all that was given ("kernel pure log=40").
            let path = given.split(' ').next().unwrap_or_default();
            Ok(osviz_machine::multiboot::Module {
                bytes: read(path)?,
                string: given.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut images = o
        .disks
        .iter()
        .map(|d| read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let (master, slave) = match images.len() {
        0 => (None, None),
        1 if kernel.is_some() => (None, images.pop()),
        1 => (images.pop(), None),
        _ => {
            let slave = images.pop();
            (images.pop(), slave)
        }
    };
    let config = PcConfig {
        mem_mib: o.mem_mib,
        master,
        slave,
        checkpoint_interval: o.checkpoints,
        rtc_start: o.date.unwrap_or_else(host_now),
        modules,
    };
    let started = std::time::Instant::now();
    let mut m = match (&kernel, &o.kernel) {
        (Some(kernel), Some(path)) => {
            Machine::pc(config, kernel).map_err(|e| format!("{path}: {e}"))?
        }
        _ => Machine::pc_boot_disk(config).map_err(|e| format!("{}: {e}", o.disks[0]))?,
    };

    // Standard input is read on its own thread, so that a terminal's lines
    // reach the guest while it runs.
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let mut typist = Typist::new(&[], true);
    typist.quiet_steps = o.quiet_steps;
    let mut stdout = std::io::stdout().lock();
    let end = typist.run(
        &mut m,
        o.max_instructions,
        o.prompt.as_deref().map(str::as_bytes),
        o.until.as_deref().map(str::as_bytes),
        |out| {
            let _ = stdout.write_all(out);
            let _ = stdout.flush();
        },
        |t, idle| {
            let wait = if idle {
                Duration::from_millis(20)
            } else {
                Duration::ZERO
            };
            let mut next = if wait.is_zero() {
                rx.try_recv().ok()
            } else {
                rx.recv_timeout(wait).ok()
            };
            while let Some(chunk) = next {
                match chunk {
                    Some(bytes) => t.add(&bytes),
                    None => t.close(),
                }
                next = rx.try_recv().ok();
            }
        },
    );
    drop(stdout);
    if o.stats {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "osviz: {} steps in {seconds:.3} s ({:.1} M steps/s)",
            m.steps(),
            m.steps() as f64 / seconds / 1e6
        );
        if let Some(kernel) = &kernel
            && osviz_xv6::vmm::Hypervisor::from_elf(kernel)
                .ok()
                .flatten()
                .is_some()
        {
            print_vm_stats(&m, kernel)?;
        }
    }
    match end {
        TypedEnd::Found => Ok(()),
        TypedEnd::InputEnded => Err(match (&o.until, &o.prompt) {
            (Some(text), _) if typist.done() => format!(
                "every line was typed and the guest is waiting, but {text:?} did not appear (after {} instructions)",
                m.retired()
            ),
            (_, Some(prompt)) if !typist.done() => format!(
                "the guest is waiting, but the prompt {prompt:?} has not appeared since the last line typed, so {} more line(s) were not typed (after {} instructions)",
                typist.lines_left(),
                m.retired()
            ),
            (_, Some(prompt)) => format!(
                "input ended with the guest waiting, and the prompt {prompt:?} did not appear after the last line typed (after {} instructions)",
                m.retired()
            ),
            (_, None) => format!(
                "input ended with the guest waiting (after {} instructions)",
                m.retired()
            ),
        }),
        TypedEnd::Stopped(StopReason::InstructionLimit) => Err(format!(
            "stopped at the instruction limit ({} steps){}",
            m.steps(),
            o.until
                .as_ref()
                .map_or(String::new(), |t| format!(" before {t:?} appeared"))
        )),
        TypedEnd::Stopped(other) => Err(format!(
            "the machine stopped: {other} (after {} steps)",
            m.steps()
        )),
    }
}

/// `--stats`: the hypervisor's virtual CPU and exits, as its DWARF
/// describes them.
fn print_vm_stats(m: &Machine, kernel: &[u8]) -> Result<(), String> {
    use osviz_xv6::vmm::Hypervisor;
    let h = Hypervisor::from_elf(kernel)
        .map_err(|e| format!("--stats: {e}"))?
        .ok_or("--stats: the kernel is not the teaching hypervisor (it has no vcpu and exitlog)")?;
    let v = h.vcpu(m).map_err(|e| format!("--stats: {e}"))?;
    let guest = m.steps().saturating_sub(v.vmm_steps);
    eprintln!(
        "vm: {} exits in {} steps ({} the hypervisor's handling exits, {guest} the guest's own: {:.2} exits per 1,000 of the guest's steps); {} interrupts and exceptions delivered into the guest",
        v.exits,
        m.steps(),
        v.vmm_steps,
        f64::from(v.exits) * 1000.0 / guest.max(1) as f64,
        v.injected
    );
    eprintln!(
        "vm: the guest's cr0 {:#x}, cr2 {:#x}, cr3 {:#x}, cr4 {:#x}, IF {}, gdtr base {:#x}, idtr base {:#x}, tr {:#x} (its TSS at {:#x})",
        v.cr0,
        v.cr2,
        v.cr3,
        v.cr4,
        u8::from(v.interrupts_enabled),
        v.gdt_base,
        v.idt_base,
        v.tr,
        v.tss_base
    );
    let counts: Vec<String> = v
        .by_reason
        .iter()
        .map(|(name, n)| format!("{} {n}", name.trim_start_matches("X_").to_lowercase()))
        .collect();
    eprintln!("vm: exits by reason: {}", counts.join(", "));
    Ok(())
}
