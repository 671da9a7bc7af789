// Prints osviz's MIPS beside two peers' on the benchmark guest, events off:
// native osviz beside native-v86-core, and osviz's wasm build in node beside
// v86 (its JIT off) in node, with node's default flags and with --no-liftoff.
// Each pair runs alternately, osviz then the peer, ROUNDS times, each run a
// fresh process; the table shows each loop's median and osviz/peer.
//
// usage: node bench/peers/compare.mjs CONFIG_JSON
// CONFIG_JSON (written by scripts/bench --peers) names:
//   rounds, osviz (the release CLI), multiboot and boot (the guest's builds),
//   nativeV86Core (its driver binary, or null to skip it with skipNative),
//   nodeRun (node-run.mjs), osvizPkg (wasm-bindgen output for node),
//   v86Dir (the npm package, or null to skip it with skipV86).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const NAMES = [
  'loop 1 (add/dec/jnz, paging off)',
  'loop 2 (paging on, a new page every iteration)',
  'loop 3 (paging on, 16 pages)',
];

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
}

// A driver's JSON line: { loops: [{ instructions, seconds, mips }] }.
function driver(cmd, args) {
  const line = run(cmd, args).split('\n').find((l) => l.startsWith('{"loops"'));
  if (!line) throw new Error(`${cmd} ${args.join(' ')} printed no result`);
  return JSON.parse(line).loops.map((l) => l.mips);
}

// `osviz bench --repeat 1`: the three figures under "events off:".
function osvizNative() {
  const out = run(cfg.osviz, ['bench', '--multiboot', cfg.multiboot, '--repeat', '1']);
  const off = out.split('events on:')[0].split('events off:')[1] ?? '';
  const xs = [...off.matchAll(/: ([0-9.]+) MIPS/g)].map((m) => Number(m[1]));
  if (xs.length !== 3) throw new Error(`unexpected osviz bench output:\n${out}`);
  return xs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(1).padStart(9);

function compare(title, peerName, ours, peer) {
  const runs = { ours: [], peer: [] };
  try {
    for (let i = 0; i < cfg.rounds; i++) {
      runs.ours.push(ours());
      runs.peer.push(peer());
    }
  } catch (e) {
    console.log(`${title}: skipped, a run failed: ${e.message.split('\n')[0]}`);
    return;
  }
  const w = 50;
  console.log(`${title.padEnd(w)}${'osviz'.padStart(9)}  ${peerName.padStart(17)}  osviz/peer`);
  NAMES.forEach((name, i) => {
    const a = median(runs.ours.map((r) => r[i]));
    const b = median(runs.peer.map((r) => r[i]));
    console.log(`  ${name.padEnd(w - 2)}${fmt(a)}  ${fmt(b).padStart(17)}  ${(a / b).toFixed(2).padStart(9)}x`);
  });
  const each = (rs) => rs.map((r) => r.map((x) => x.toFixed(0)).join('/')).join('  ');
  console.log(`  runs (loop 1/2/3): osviz ${each(runs.ours)}; ${peerName} ${each(runs.peer)}`);
}

console.log(
  `peers: the benchmark guest, events off, MIPS; median of ${cfg.rounds} runs, osviz and the peer alternating`,
);
if (cfg.nativeV86Core) {
  compare('native', 'native-v86-core', osvizNative, () => driver(cfg.nativeV86Core, [cfg.boot]));
} else {
  console.log(`native: native-v86-core skipped: ${cfg.skipNative}`);
}
for (const flags of [[], ['--no-liftoff']]) {
  const title = `wasm in node ${process.version}, ${flags.length ? flags.join(' ') : 'default flags'}`;
  if (!cfg.v86Dir) {
    console.log(`${title}: v86 skipped: ${cfg.skipV86}`);
    continue;
  }
  compare(
    title,
    'v86 (disable_jit)',
    () => driver(process.execPath, [...flags, cfg.nodeRun, 'osviz', cfg.osvizPkg, cfg.multiboot]),
    () => driver(process.execPath, [...flags, cfg.nodeRun, 'v86', cfg.v86Dir, cfg.multiboot]),
  );
}
