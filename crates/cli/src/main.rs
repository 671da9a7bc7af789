//! `osviz`: runs the osviz machine from the command line.

mod bench;
mod lesson;
mod pc;

use osviz_machine::{
    EventKind, Machine, MachineConfig, Reg, StopReason, TlbConfig, multiboot, programs,
};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage:
  osviz demo                       run the built-in sum-loop program and print its registers
  osviz run --multiboot FILE       load a multiboot image and run it
            [--mem-mib N]          physical memory in MiB (default 64)
            [--max-instructions N] stop after N steps (default: no limit)
            [--stats]              print instructions retired and MIPS to standard error
  osviz bench --multiboot FILE     run the benchmark guest and print MIPS per loop
            [--mem-mib N] [--tlb-entries N] [--repeat N]
            [--recording off|all|page]  only that recording (to profile
                                   one): events off, every kind, or as the page
  osviz lesson list                list every lesson (the teaching kernel's and xv6's)
  osviz lesson run ID              run a lesson from its start: each question with the
                                   machine's answer at its moment (exit 1 if one is not
                                   reached), then, on the teaching kernel, its console
            [--xv6 DIR]            the xv6 build for xv6's lessons (`kernel`, `fs.img`;
                                   default $XV6_OUT, else target/xv6, as scripts/xv6 builds)
            [--max-instructions N] at most N steps to each moment (default 50,000,000)
            [--events]             print each event of the teaching kernel's run to its
                                   end, one JSON object per line
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("run") => run(&args[1..]),
        Some("bench") => run_bench(&args[1..]),
        Some("lesson") => lesson_command(&args[1..]),
        Some("pc") => pc::run(&args[1..]),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}{}", pc::USAGE);
            Ok(())
        }
        _ => Err(format!("expected a command\n{USAGE}{}", pc::USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("osviz: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An option's value as a number, or a message naming the option.
fn number<T: std::str::FromStr>(option: &str, value: String) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| format!("{option}: {e}"))
}

fn demo() -> Result<(), String> {
    let program = programs::SUM_LOOP;
    let mut machine = Machine::new(64 * 1024);
    machine
        .load(program.load_addr, program.bytes)
        .map_err(|e| e.to_string())?;
    machine.set_eip(program.load_addr);
    let stop = machine.run(10_000);
    println!("program: {}", program.name);
    println!("stopped: {stop:?} after {} instructions", machine.retired());
    println!(
        "debug output: {}",
        String::from_utf8_lossy(machine.debug_output())
    );
    for r in Reg::ALL {
        println!("{:>4} = {:#010x}", r.name(), machine.cpu().reg(r));
    }
    println!(" eip = {:#010x}", machine.cpu().eip);
    Ok(())
}

struct RunOptions {
    image: String,
    mem_mib: usize,
    max_instructions: u64,
    stats: bool,
    tlb_entries: u8,
    repeat: usize,
    recording: Option<String>,
}

fn parse_run(args: &[String]) -> Result<RunOptions, String> {
    let mut image = None;
    let mut opts = RunOptions {
        image: String::new(),
        mem_mib: 64,
        max_instructions: u64::MAX,
        stats: false,
        tlb_entries: 64,
        repeat: 3,
        recording: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--multiboot" => image = Some(value("--multiboot")?),
            "--mem-mib" => opts.mem_mib = number("--mem-mib", value("--mem-mib")?)?,
            "--max-instructions" => {
                opts.max_instructions = number("--max-instructions", value("--max-instructions")?)?
            }
            "--stats" => opts.stats = true,
            "--tlb-entries" => opts.tlb_entries = number("--tlb-entries", value("--tlb-entries")?)?,
            "--repeat" => opts.repeat = number("--repeat", value("--repeat")?)?,
            "--recording" => opts.recording = Some(value("--recording")?),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    opts.image = image.ok_or_else(|| format!("needs --multiboot FILE\n{USAGE}"))?;
    Ok(opts)
}

fn lesson_command(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("list") => lesson::list(),
        Some("run") => {
            let name = args
                .get(1)
                .ok_or_else(|| format!("lesson run needs a lesson ID\n{USAGE}"))?;
            let mut o = lesson::RunOptions {
                max: 50_000_000,
                events: false,
                xv6: None,
            };
            let mut rest = args[2..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--events" => o.events = true,
                    "--max-instructions" => {
                        let value = rest.next().ok_or("--max-instructions needs a value")?;
                        o.max = number("--max-instructions", value.clone())?;
                    }
                    "--xv6" => {
                        let value = rest.next().ok_or("--xv6 needs a folder")?;
                        o.xv6 = Some(value.into());
                    }
                    other => return Err(format!("unknown option {other}\n{USAGE}")),
                }
            }
            lesson::run(name, o)
        }
        _ => Err(format!(
            "expected `lesson list` or `lesson run ID`\n{USAGE}"
        )),
    }
}

fn run_bench(args: &[String]) -> Result<(), String> {
    let opts = parse_run(args)?;
    let image = std::fs::read(&opts.image).map_err(|e| format!("{}: {e}", opts.image))?;
    bench::bench(
        &image,
        opts.mem_mib,
        opts.tlb_entries,
        opts.repeat.max(1),
        opts.recording.as_deref(),
    )
}

fn run(args: &[String]) -> Result<(), String> {
    let opts = parse_run(args)?;
    let image = std::fs::read(&opts.image).map_err(|e| format!("{}: {e}", opts.image))?;
    let mut machine = Machine::with_config(MachineConfig {
        mem_size: opts.mem_mib * 1024 * 1024,
        tlb: TlbConfig {
            entries: opts.tlb_entries,
            ..TlbConfig::default()
        },
        // A batch run needs no reverse stepping.
        checkpoint_interval: 0,
        ..MachineConfig::default()
    });
    multiboot::load(&mut machine, &image).map_err(|e| format!("{}: {e}", opts.image))?;

    // The run stops at every port write, so that each byte the guest writes
    // to port 0xE9 reaches standard output at once (a harness timestamps them).
    machine.break_on(EventKind::PortOut, true);
    let start = Instant::now();
    let mut stdout = std::io::stdout().lock();
    let mut printed = 0;
    let stop = loop {
        let stop = machine.run(opts.max_instructions.saturating_sub(machine.steps()));
        let debug = machine.debug_output();
        if debug.len() > printed {
            stdout
                .write_all(&debug[printed..])
                .and_then(|()| stdout.flush())
                .map_err(|e| e.to_string())?;
            printed = debug.len();
        }
        if !matches!(stop, StopReason::Event { .. }) {
            break stop;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    if opts.stats {
        eprintln!(
            "instructions: {}\nseconds: {seconds:.3}\nMIPS: {:.1}\nstopped: {stop:?}",
            machine.retired(),
            machine.retired() as f64 / seconds / 1e6
        );
    }
    match stop {
        StopReason::Halted | StopReason::DebugExit { .. } => Ok(()),
        StopReason::InstructionLimit => Err(format!(
            "stopped after {} instructions without halting",
            machine.retired()
        )),
        other => Err(other.to_string()),
    }
}
