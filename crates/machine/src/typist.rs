//! Typing into a running guest as a person would: a line at a time, when
//! the guest is waiting for one, each byte entering the serial port when it
//! can take it.
//!
//! When the prompt is known (`osviz pc`, whose `--prompt` is `$ ` unless told), the guest waits for a
//! line when the prompt has appeared since the last line was typed: a
//! person types the first command after the first prompt and each next one
//! after the prompt that follows the answer to the one before. Without a
//! prompt, "waiting" is read off the machine: no output on the serial port
//! for [`Typist::quiet_steps`] steps, interrupts enabled at some point in
//! that stretch (so the kernel is past its boot, where it runs with
//! interrupts off), and every byte typed before taken by the guest: the
//! screen shows nothing happening.

use crate::cpu::Flags;
use crate::machine::{Machine, StopReason};
use std::collections::VecDeque;

/// Steps with no output after which the guest counts as waiting: 100 ms of
/// device time at 10 ns a step (see `devices::apic`), ten of xv6's timer
/// ticks. xv6's boot and its commands compute silently for up to about 5
/// million steps (freeing every page, loading a program), so a shorter
/// wait would type into a guest that is still busy.
pub const QUIET_STEPS: u64 = 10_000_000;

/// Quiet stretches with no process running after which a guest that has
/// all its input counts as stalled (see `Typist::input_ended`).
pub const STALL_FACTOR: u64 = 30;

/// Steps run between looks at the machine.
const SLICE: u64 = 50_000;

/// Lines still to type, and what the guest has done since the last one.
#[derive(Clone, Debug)]
pub struct Typist {
    lines: VecDeque<Vec<u8>>,
    /// More lines may come (standard input not at its end yet).
    open: bool,
    pub quiet_steps: u64,
    /// The output's length and the step when it last grew.
    seen_output: usize,
    last_output_step: u64,
    interrupts_seen: bool,
    /// The machine's count of returns to ring 3 when last looked at, and
    /// the step when it last grew.
    seen_user_entries: u64,
    last_user_step: u64,
    /// Where the output stood when the last line was typed.
    output_at_last_line: usize,
    /// The prompt a line waits for, if known.
    prompt: Option<Vec<u8>>,
}

/// How a run with typed input ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypedEnd {
    /// The text waited for appeared after the last line typed.
    Found,
    /// Every line was typed and the guest is waiting for more.
    InputEnded,
    /// The machine stopped (limit, triple fault, exit).
    Stopped(StopReason),
}

impl Typist {
    /// A typist with `input` to type (split after each newline); `open`
    /// when more may be added with [`Typist::add`].
    pub fn new(input: &[u8], open: bool) -> Typist {
        let mut t = Typist {
            lines: VecDeque::new(),
            open,
            quiet_steps: QUIET_STEPS,
            seen_output: 0,
            last_output_step: 0,
            interrupts_seen: false,
            seen_user_entries: 0,
            last_user_step: 0,
            output_at_last_line: 0,
            prompt: None,
        };
        t.add(input);
        t
    }

    /// More input; `input` need not end in a newline.
    pub fn add(&mut self, input: &[u8]) {
        for line in input.split_inclusive(|&b| b == b'\n') {
            match self.lines.back_mut() {
                Some(last) if last.last() != Some(&b'\n') => last.extend_from_slice(line),
                _ => self.lines.push_back(line.to_vec()),
            }
        }
    }

    /// No more input will come.
    pub fn close(&mut self) {
        self.open = false;
    }

    /// Lines not typed yet.
    pub fn lines_left(&self) -> usize {
        self.lines.len()
    }

    /// Whether every line has been typed and no more can come.
    pub fn done(&self) -> bool {
        !self.open && self.lines.is_empty()
    }

    /// The output since the last line was typed.
    pub fn output_since_last_line<'a>(&self, output: &'a [u8]) -> &'a [u8] {
        &output[self.output_at_last_line.min(output.len())..]
    }

    /// Lines wait for `prompt` to appear (see the module comment).
    pub fn wait_for_prompt(&mut self, prompt: &[u8]) {
        self.prompt = Some(prompt.to_vec());
    }

    /// Whether the guest is waiting for input now (see the module comment).
    pub fn guest_waiting(&self, m: &Machine) -> bool {
        if m.serial_input_waiting() != 0 {
            return false;
        }
        match &self.prompt {
            Some(p) => contains(self.output_since_last_line(m.serial_output()), p),
            None => self.quiet_for(m, self.quiet_steps),
        }
    }

    /// No output for `steps` steps, with interrupts enabled in that time.
    fn quiet_for(&self, m: &Machine, steps: u64) -> bool {
        self.interrupts_seen && m.steps().saturating_sub(self.last_output_step) >= steps
    }

    /// Whether the guest waits for input that will not come: every line
    /// typed (or, with a prompt, the prompt not appearing for the next
    /// one), and the guest stalled. A command may compute silently for a
    /// long time, so silence is not enough: no process may have run either
    /// (no return to ring 3) for [`STALL_FACTOR`] quiet stretches, as when
    /// every process sleeps. (One xv6 system call can run for tens of
    /// millions of steps: `sbrk` of 100 MiB in usertests.)
    fn input_ended(&self, m: &Machine, idle: bool) -> bool {
        let stall = self.quiet_steps.saturating_mul(STALL_FACTOR);
        let stalled = idle
            || (self.quiet_for(m, stall)
                && m.steps().saturating_sub(self.last_user_step) >= stall
                && m.serial_input_waiting() == 0);
        stalled && (self.done() || (self.prompt.is_some() && !self.open))
    }

    /// Looks at the machine after some steps: notes output, and types the
    /// next whole line if the guest is waiting for it (`idle`: the CPU
    /// waits in `hlt` for input, which is waiting too).
    pub fn poll(&mut self, m: &mut Machine, idle: bool) {
        let len = m.serial_output().len();
        if len != self.seen_output {
            self.seen_output = len;
            self.last_output_step = m.steps();
            self.interrupts_seen = false;
        }
        if m.cpu().flag(Flags::IF) {
            self.interrupts_seen = true;
        }
        if m.user_entries() != self.seen_user_entries {
            self.seen_user_entries = m.user_entries();
            self.last_user_step = m.steps();
        }
        let complete = self.lines.front().is_some_and(|l| l.last() == Some(&b'\n'))
            || (!self.open && !self.lines.is_empty());
        if complete && (idle || self.guest_waiting(m)) {
            let line = self.lines.pop_front().unwrap_or_default();
            self.output_at_last_line = len;
            for b in line {
                m.send_serial(b);
            }
            // Typing is not output: the quiet stretch starts again, so the
            // next line waits for this one's answer.
            self.last_output_step = m.steps();
            self.interrupts_seen = false;
        }
    }

    /// Runs `m` for up to `max_steps`, typing each line after `prompt`
    /// appears (or when the guest is quiet, without one), until the goal:
    /// `until` appearing in the output from here on, or without it the
    /// prompt appearing after the last line typed; or until the input is
    /// used up with the guest waiting, or the machine stops. `on_output`
    /// sees each new piece of serial output as it is produced; `feed` may
    /// add input (and close it) between slices, and is told when the CPU is
    /// idle in `hlt`.
    pub fn run(
        &mut self,
        m: &mut Machine,
        max_steps: u64,
        prompt: Option<&[u8]>,
        until: Option<&[u8]>,
        mut on_output: impl FnMut(&[u8]),
        mut feed: impl FnMut(&mut Typist, bool),
    ) -> TypedEnd {
        if let Some(text) = prompt {
            self.wait_for_prompt(text);
        }
        let start = m.steps();
        let mut printed = m.serial_output().len();
        // Where the search for `until` starts: output from here on, less
        // what could hold the start of a match cut by a slice's end.
        let mut searched = printed;
        loop {
            let done = m.steps() - start;
            if done >= max_steps {
                return TypedEnd::Stopped(StopReason::InstructionLimit);
            }
            let stop = m.run(SLICE.min(max_steps - done));
            let out = m.serial_output();
            if out.len() > printed {
                on_output(&out[printed..]);
                printed = out.len();
            }
            match until {
                Some(text) => {
                    let out = m.serial_output();
                    if contains(&out[searched..], text) {
                        return TypedEnd::Found;
                    }
                    searched = searched.max(out.len().saturating_sub(text.len()));
                }
                None => {
                    if self.done()
                        && let Some(text) = prompt
                        && contains(self.output_since_last_line(m.serial_output()), text)
                    {
                        return TypedEnd::Found;
                    }
                }
            }
            let idle = match stop {
                StopReason::InstructionLimit | StopReason::Breakpoint { .. } => false,
                StopReason::Idle => true,
                other => return TypedEnd::Stopped(other),
            };
            // `idle` tells the feeder that nothing will run until input
            // comes, so it may wait for some.
            feed(self, idle);
            self.poll(m, idle);
            if self.input_ended(m, idle) {
                return TypedEnd::InputEnded;
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
