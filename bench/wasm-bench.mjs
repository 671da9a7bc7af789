// Runs the benchmark guest on the wasm build of the machine in node and
// prints MIPS for each of its three timed loops, with events off, on, and
// as the page records them at full speed.
//
// usage: node bench/wasm-bench.mjs PKG_DIR IMAGE [REPEAT]
// PKG_DIR holds the wasm-bindgen output for node (osviz_wasm.js).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [pkgDir, imagePath, repeatArg] = process.argv.slice(2);
if (!pkgDir || !imagePath) {
  console.error('usage: node bench/wasm-bench.mjs PKG_DIR IMAGE [REPEAT]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { MachineHandle } = require(resolve(pkgDir, 'osviz_wasm.js'));
const image = readFileSync(imagePath);
const repeat = Number(repeatArg ?? 3);

const LOOPS = [
  ['loop 1 (add/dec/jnz, paging off)', 'A', 'B'],
  ['loop 2 (paging on, a new page every iteration)', 'C', 'D'],
  ['loop 3 (paging on, 16 pages)', 'E', 'F'],
];

// What a run records: nothing, every kind, or every kind but TLB hits (as
// the page does at full speed).
const RECORDINGS = [
  ['events off', false, []],
  ['events on', true, []],
  ['events on as the page records them (TLB hits left out)', true, ['tlb_hit']],
];

function runOnce(events, unrecorded) {
  const m = MachineHandle.withConfig({
    mem_size: 64 * 1024 * 1024,
    tlb: { entries: 64, replacement: 'lru' },
    checkpoint_interval: 0,
    event_capacity: 10000,
  });
  m.loadMultiboot(image);
  m.setRecording(events);
  m.setUnrecorded(unrecorded);
  // Break on every port write, to timestamp each marker as it appears.
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
  return LOOPS.map(([, open, close]) => {
    const a = marks.get(open);
    const b = marks.get(close);
    return (b.retired - a.retired) / ((b.ms - a.ms) / 1000) / 1e6;
  });
}

console.log(`osviz bench: wasm in node ${process.version}, 64 MiB, 64-entry TLB, median of ${repeat}`);
for (const [label, events, unrecorded] of RECORDINGS) {
  const runs = [];
  for (let i = 0; i < repeat; i++) runs.push(runOnce(events, unrecorded));
  console.log(`${label}:`);
  LOOPS.forEach(([name], i) => {
    const xs = runs.map((r) => r[i]).sort((a, b) => a - b);
    console.log(`  ${name}: ${xs[Math.floor(xs.length / 2)].toFixed(1)} MIPS`);
  });
}
