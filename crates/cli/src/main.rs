//! `osviz`: runs the osviz machine from the command line.

mod bench;
mod lesson;
mod pc;

use osviz_machine::{
    CodeSize, EventKind, MAX_INSTR_LEN, Machine, MachineConfig, Reg, Seg, StopReason, TlbConfig,
    decode_in, multiboot, programs,
};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage:
  osviz demo                       run the built-in sum-loop program and print its registers
  osviz run --multiboot FILE       load a multiboot image and run it
  osviz run --rom FILE             run a 64 KiB firmware ROM (at 0xF0000 and 0xFFFF0000)
                                   from the reset vector; each POST code written to
                                   port 0x190 goes to standard error as `post XX`
            [--mem-mib N]          physical memory in MiB (default 64)
            [--max-instructions N] stop after N steps (default: no limit)
            [--stats]              print instructions retired and MIPS to standard error
            [--trace N]            step one instruction at a time and, when the run
                                   stops, print the last N (CS:EIP, bytes, text)
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

/// What `run` loads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageKind {
    Multiboot,
    Rom,
}

struct RunOptions {
    image: String,
    kind: ImageKind,
    mem_mib: usize,
    max_instructions: u64,
    stats: bool,
    tlb_entries: u8,
    repeat: usize,
    recording: Option<String>,
    trace: usize,
}

fn parse_run(args: &[String]) -> Result<RunOptions, String> {
    let mut image = None;
    let mut opts = RunOptions {
        image: String::new(),
        kind: ImageKind::Multiboot,
        mem_mib: 64,
        max_instructions: u64::MAX,
        stats: false,
        tlb_entries: 64,
        repeat: 3,
        recording: None,
        trace: 0,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--multiboot" => {
                image = Some(value("--multiboot")?);
                opts.kind = ImageKind::Multiboot;
            }
            "--rom" => {
                image = Some(value("--rom")?);
                opts.kind = ImageKind::Rom;
            }
            "--mem-mib" => opts.mem_mib = number("--mem-mib", value("--mem-mib")?)?,
            "--max-instructions" => {
                opts.max_instructions = number("--max-instructions", value("--max-instructions")?)?
            }
            "--stats" => opts.stats = true,
            "--tlb-entries" => opts.tlb_entries = number("--tlb-entries", value("--tlb-entries")?)?,
            "--repeat" => opts.repeat = number("--repeat", value("--repeat")?)?,
            "--recording" => opts.recording = Some(value("--recording")?),
            "--trace" => opts.trace = number("--trace", value("--trace")?)?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    opts.image = image.ok_or_else(|| format!("needs --multiboot FILE or --rom FILE\n{USAGE}"))?;
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
    if opts.kind != ImageKind::Multiboot {
        return Err(format!("bench needs --multiboot FILE\n{USAGE}"));
    }
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
    let config = MachineConfig {
        mem_size: opts.mem_mib * 1024 * 1024,
        tlb: TlbConfig {
            entries: opts.tlb_entries,
            ..TlbConfig::default()
        },
        // A batch run needs no reverse stepping.
        checkpoint_interval: 0,
        ..MachineConfig::default()
    };
    let mut machine = match opts.kind {
        ImageKind::Multiboot => {
            let mut machine = Machine::with_config(config);
            multiboot::load(&mut machine, &image).map_err(|e| format!("{}: {e}", opts.image))?;
            machine
        }
        ImageKind::Rom => {
            Machine::with_rom(config, &image).map_err(|e| format!("{}: {e}", opts.image))?
        }
    };

    // The run stops at every port write, so that each byte the guest writes
    // to port 0xE9 reaches standard output at once (a harness timestamps
    // them), and each POST code standard error.
    machine.break_on(EventKind::PortOut, true);
    let start = Instant::now();
    let mut stdout = std::io::stdout().lock();
    let mut printed = 0;
    let mut posted = 0;
    let mut trace = Trace::new(opts.trace);
    let stop = loop {
        let left = opts.max_instructions.saturating_sub(machine.steps());
        let stop = if opts.trace > 0 {
            trace.run(&mut machine, left)
        } else {
            machine.run(left)
        };
        let debug = machine.debug_output();
        if debug.len() > printed {
            stdout
                .write_all(&debug[printed..])
                .and_then(|()| stdout.flush())
                .map_err(|e| e.to_string())?;
            printed = debug.len();
        }
        for code in &machine.post_codes()[posted..] {
            eprintln!("post {code:02X}");
        }
        posted = machine.post_codes().len();
        if !matches!(stop, StopReason::Event { .. }) {
            break stop;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    trace.print(&machine);
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

/// The latest instructions of a run taken one step at a time (`--trace`):
/// where each was (CS, EIP, linear address) and the code size it ran in.
struct Trace {
    keep: usize,
    steps: std::collections::VecDeque<(u16, u32, u32, CodeSize)>,
}

impl Trace {
    fn new(keep: usize) -> Trace {
        Trace {
            keep,
            steps: std::collections::VecDeque::with_capacity(keep),
        }
    }

    /// Single steps until the machine stops or `max` steps are taken, as
    /// `Machine::run` would stop.
    fn run(&mut self, machine: &mut Machine, max: u64) -> StopReason {
        for _ in 0..max {
            let cpu = machine.cpu();
            let at = (
                cpu.sreg(Seg::Cs),
                cpu.eip,
                cpu.seg_base(Seg::Cs).wrapping_add(cpu.eip),
                cpu.code_size(),
            );
            if self.steps.len() == self.keep {
                self.steps.pop_front();
            }
            self.steps.push_back(at);
            let before = (machine.debug_output().len(), machine.post_codes().len());
            let outcome = machine.step();
            if let Some(stop) = outcome.stop {
                return stop;
            }
            if (machine.debug_output().len(), machine.post_codes().len()) != before {
                return StopReason::Event {
                    kind: EventKind::PortOut,
                };
            }
        }
        StopReason::InstructionLimit
    }

    /// Prints the kept instructions to standard error, oldest first.
    fn print(&self, machine: &Machine) {
        for &(cs, eip, linear, size) in &self.steps {
            let bytes: Vec<u8> = machine
                .peek_virtual(linear, MAX_INSTR_LEN)
                .into_iter()
                .map(|b| b.unwrap_or(0))
                .collect();
            let (hex, text) = match decode_in(&bytes, size) {
                Ok(i) => (
                    bytes[..usize::from(i.len)]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                    i.disassemble_in(eip, size),
                ),
                Err(e) => (String::new(), e.to_string()),
            };
            eprintln!("{cs:04x}:{eip:08x} {linear:08x} {hex:<24} {text}");
        }
    }
}
