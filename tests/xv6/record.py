#!/usr/bin/env python3
"""Records xv6's console transcripts from QEMU, the reference osviz's PC
board must equal.

For each tests/xv6/<name>.in (lines to type), QEMU boots target/xv6/kernel
with target/xv6/fs.img as the IDE slave, and this script types the lines as
`osviz pc` does (`--prompt '$ '`): each line after the prompt has appeared since
the line before, and the run ends at the prompt after the last line's
answer. The serial output from the kernel's first line ("xv6...") on is
written to <name>.out (what QEMU's firmware prints before is not the
kernel's). Each transcript is recorded --runs times; if the runs differ,
xv6 is nondeterministic there under QEMU and <name>.out gets every distinct
output, separated by a line "=== or ===". Runs are made under several
timings (see `timings` below), since xv6's output may depend on when the
timer and the disk interrupt.

With --boot-disk, KERNEL is xv6.img instead (xv6's boot sector and kernel,
`make xv6.img`), the IDE master QEMU's BIOS boots from, as `make qemu` runs
xv6: the kernel's output is the same, so the same transcripts hold for
`osviz pc --disk xv6.img --disk fs.img`.

usage: record.py KERNEL FSIMG DIR [--runs N] [--boot-disk] [--qemu-arg ARG]... [NAME...]
  --qemu-arg  passes ARG to QEMU (for example -icount shift=4: another
              timing, to see whether an output depends on it)
"""
import os
import select
import subprocess
import sys
import time

PROMPT = b"$ "
TIMEOUT = 600


BOOT_DISK = False


def run_once(kernel, fsimg, lines, extra=()):
    if BOOT_DISK:
        boot = ["-drive", f"file={kernel},index=0,media=disk,format=raw,snapshot=on"]
    else:
        boot = ["-kernel", kernel]
    qemu = subprocess.Popen(
        ["qemu-system-i386", "-nographic", "-no-reboot", "-smp", "1", "-m", "512",
         *boot, "-drive", f"file={fsimg},index=1,media=disk,format=raw,snapshot=on",
         *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = b""
    since = 0  # where the output stood when the last line was typed
    pending = list(lines)
    start = time.time()
    try:
        while True:
            if time.time() - start > TIMEOUT:
                raise RuntimeError("QEMU run timed out; output so far:\n" + out.decode(errors="replace"))
            ready, _, _ = select.select([qemu.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(qemu.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError("QEMU exited; output:\n" + out.decode(errors="replace"))
                out += chunk
            boot = out.find(b"xv6...")
            if boot < 0 or PROMPT not in out[max(since, boot):]:
                continue
            if not pending:
                return out[boot:]
            line = pending.pop(0)
            since = len(out)
            qemu.stdin.write(line)
            qemu.stdin.flush()
    finally:
        qemu.kill()
        qemu.wait()


def main():
    args = sys.argv[1:]
    runs = 2
    extra = []
    while "--qemu-arg" in args:
        i = args.index("--qemu-arg")
        extra.append(args[i + 1])
        del args[i:i + 2]
    if "--boot-disk" in args:
        global BOOT_DISK
        BOOT_DISK = True
        args.remove("--boot-disk")
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    kernel, fsimg, folder, names = args[0], args[1], args[2], args[3:]
    if not names:
        names = sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".in"))
    for name in names:
        with open(os.path.join(folder, name + ".in"), "rb") as f:
            lines = [l for l in f.read().splitlines(keepends=True)]
        outputs = []
        # Each timing runs `runs` times: QEMU's own (instructions at wall
        # speed) and -icount at 1, 4, 16 and 64 ns an instruction. An
        # output that changes with the timing depends on when interrupts
        # come, which xv6 leaves to the hardware; every output QEMU gives
        # is then an acceptable one.
        timings = [[]] if extra else [[]] + [
            ["-icount", f"shift={s},sleep=off"] for s in (0, 2, 4, 6)]
        for timing in timings:
            for _ in range(runs):
                o = run_once(kernel, fsimg, lines, [*extra, *timing])
                if o not in outputs:
                    outputs.append(o)
        with open(os.path.join(folder, name + ".out"), "wb") as f:
            f.write(b"\n=== or ===\n".join(outputs))
        note = "the same every time" if len(outputs) == 1 else f"{len(outputs)} distinct outputs"
        print(f"[xv6-record] {name}: {runs * len(timings)} runs, {note}", flush=True)


if __name__ == "__main__":
    main()
