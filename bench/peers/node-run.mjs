// Runs the benchmark guest once in node, with events off, on osviz's wasm
// build or on v86 (the npm package, its JIT turned off), and prints one JSON
// line: for each of the three timed loops the instructions executed, the
// seconds, and the MIPS.
//
// usage: node bench/peers/node-run.mjs osviz PKG_DIR MULTIBOOT_IMAGE
//        node bench/peers/node-run.mjs v86 V86_PACKAGE_DIR MULTIBOOT_IMAGE
//
// Both load the guest's multiboot build and time it the way `osviz bench`
// does: when the letter after "@@" arrives, note the instructions the
// emulator has retired and the time; a loop's MIPS is the instructions
// between its two markers over the time between them. osviz stops on every
// port write; v86 calls its serial0-output-byte listener inside the guest's
// write to COM1, and counts instructions in cpu.instruction_counter
// (get_instruction_counter(), 32 bits, so differences are taken mod 2^32).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [which, dir, imagePath] = process.argv.slice(2);
if (!['osviz', 'v86'].includes(which) || !dir || !imagePath) {
  console.error('usage: node bench/peers/node-run.mjs osviz|v86 DIR MULTIBOOT_IMAGE');
  process.exit(2);
}
const image = readFileSync(imagePath);
const LOOPS = [['A', 'B'], ['C', 'D'], ['E', 'F']];

function result(marks, wrap) {
  const loops = LOOPS.map(([open, close]) => {
    const a = marks.get(open);
    const b = marks.get(close);
    if (!a || !b) throw new Error(`the guest did not write every marker: ${[...marks.keys()].join('')}`);
    const instructions = wrap ? (b.retired - a.retired) >>> 0 : b.retired - a.retired;
    const seconds = (b.ms - a.ms) / 1000;
    return { instructions, seconds, mips: instructions / seconds / 1e6 };
  });
  console.log(JSON.stringify({ loops }));
}

function runOsviz() {
  const require = createRequire(import.meta.url);
  const { MachineHandle } = require(resolve(dir, 'osviz_wasm.js'));
  const m = MachineHandle.withConfig({
    mem_size: 64 * 1024 * 1024,
    tlb: { entries: 64, replacement: 'lru' },
    checkpoint_interval: 0,
    event_capacity: 10000,
  });
  m.loadMultiboot(image);
  m.setRecording(false);
  m.breakOn('port_out', true);
  const start = performance.now();
  const marks = new Map();
  let seen = 0;
  for (;;) {
    const stop = m.run(1e15);
    const out = m.debugOutput();
    for (; seen < out.length; seen++) {
      if (seen >= 2 && out[seen - 2] === '@' && out[seen - 1] === '@') {
        marks.set(out[seen], { retired: m.retired, ms: performance.now() - start });
      }
    }
    if (stop.reason === 'event') continue;
    if (stop.reason === 'halted' || stop.reason === 'debug_exit') break;
    throw new Error(`the benchmark guest stopped: ${JSON.stringify(stop)}`);
  }
  m.free();
  result(marks, false);
}

async function runV86() {
  const { V86 } = await import(pathToFileURL(resolve(dir, 'build/libv86.mjs')).href);
  const buffer = image.buffer.slice(image.byteOffset, image.byteOffset + image.byteLength);
  // No BIOS: v86 loads a multiboot image without one ("loaded multiboot
  // without bios") and starts the CPU at the image's entry point.
  const emulator = new V86({
    wasm_path: resolve(dir, 'build/v86.wasm'),
    memory_size: 64 * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    multiboot: { buffer },
    disable_jit: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    autostart: true,
  });
  const start = performance.now();
  const marks = new Map();
  const com1 = [];
  setTimeout(() => {
    console.error(`v86 did not finish the guest in 10 minutes; COM1: ${String.fromCharCode(...com1)}`);
    process.exit(1);
  }, 600_000);
  emulator.add_listener('serial0-output-byte', (byte) => {
    com1.push(byte);
    const k = com1.length;
    if (k >= 3 && com1[k - 3] === 64 && com1[k - 2] === 64) {
      const letter = String.fromCharCode(byte);
      marks.set(letter, { retired: emulator.get_instruction_counter(), ms: performance.now() - start });
      // Done at the last marker: the guest's next write, to port 0xF4, makes
      // v86 throw "HALT" out of its main loop, so exit before it runs.
      if (letter === 'F') {
        result(marks, true);
        process.exit(0);
      }
    }
  });
}

if (which === 'osviz') runOsviz();
else await runV86();
