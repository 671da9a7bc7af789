// xv6 in the page, measured in headless Chromium at 1440x900 with every
// panel open: how long after the page loads xv6 shows its `$ ` prompt,
// how long `ls` takes to answer after Enter, frames and steps per second
// while xv6 runs at full speed (usertests), and the tab's memory (the
// renderer process's resident size, from /proc) with reverse stepping on.
// The same figures for xv6 as the teaching hypervisor's guest (the
// virtualization lessons), measured in the same run beside xv6 alone. A
// benchmark, not a test: it prints figures.
//
// usage: node bench/xv6-page.mjs DIST_DIR [SECONDS] [alone|vm|both]
import { resolve } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';
import { measureWindow, settled, watchMessages } from './window.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const seconds = Number(process.argv[3] ?? 5);
const which = process.argv[4] ?? 'both';
const server = await serveDist(dist);
const browser = await launch();

/** The largest Chromium renderer's resident set: the tab's memory. */
function rendererRssMiB() {
  let best = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      const rss = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
      best = Math.max(best, rss);
    } catch { /* gone */ }
  }
  return best;
}

/** Every figure for one lesson that types nothing, in a fresh page. */
async function measure(lesson) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await watchMessages(page);
  const stepNow = () => page.evaluate(() => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]));

  // 1. A link to the lesson: page load to the prompt.
  const t0 = Date.now();
  await page.goto(`${server.url}#lesson=${lesson}`);
  await page.waitForFunction(() => /\$ $/m.test(document.querySelector('.screen')?.innerText.trimEnd() + ' '), null, { timeout: 60000 });
  const promptMs = Date.now() - t0;

  // 2. `ls` typed on the screen while running at full speed, Enter to the
  // listing's last entry and the next prompt.
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.screen').click();
  await page.keyboard.type('ls');
  const enterAt = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /console +3 \d+ 0\s*\n\$/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 60000 });
  const lsMs = Date.now() - enterAt;

  // 3. usertests at full speed: frames and steps per second over a window.
  await page.keyboard.type('usertests\n');
  await page.waitForTimeout(1000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  const { frames, painted, steps, longest, messages, chars } = await measureWindow(page, seconds * 1000);
  const after = await metrics();
  const per = (k) => ((after[k] - before[k]) * 1000) / frames;

  // 4. The tab's memory, and reverse stepping at this point (a step back
  // replays from a checkpoint).
  const memory = rendererRssMiB();
  const here = await stepNow();
  await page.getByRole('button', { name: 'Pause' }).click();
  await settled(page);
  const paused = await stepNow();
  const backAt = Date.now();
  await page.getByRole('button', { name: 'Step back' }).click();
  await page.waitForFunction((s) => new RegExp(`step ${s - 1} `).test(document.querySelector('#status')?.textContent ?? ''), paused, { timeout: 30000 });
  const backMs = Date.now() - backAt;
  const memoryAfter = rendererRssMiB();
  await page.close();
  return { promptMs, lsMs, frames, painted, longest, perMessage: messages ? chars / messages : 0, steps, per, memory, here, backMs, memoryAfter };
}

const cases = [
  ['xv6 alone', 'xv6-idt', { prompt: 3000, ls: 1000 }],
  ['xv6 under the teaching hypervisor', 'vm-interrupts', { prompt: 5000, ls: 2000 }],
].filter(([, lesson]) => which === 'both' || (which === 'vm') === lesson.startsWith('vm-'));
console.log('osviz xv6 page benchmark: headless Chromium, 1440x900, every panel open');
for (const [name, lesson, goal] of cases) {
  const r = await measure(lesson);
  console.log(`${name} (lesson ${lesson}):`);
  console.log(`  page load to xv6's $ prompt: ${r.promptMs} ms (goal ≤ ${goal.prompt})`);
  console.log(`  ls: Enter to the listing and the next prompt: ${r.lsMs} ms (goal ≤ ${goal.ls})`);
  console.log(`  usertests at full speed: ${(r.frames / seconds).toFixed(1)} frames/s (goal ≥ 50; ${(r.painted / seconds).toFixed(1)} with new views), ${(r.steps / seconds / 1e6).toFixed(2)} M steps/s, longest main-thread task ${r.longest ? `${r.longest.toFixed(0)} ms` : 'under 50 ms'}`);
  console.log(`    per frame: script ${r.per('ScriptDuration').toFixed(1)} ms, style ${r.per('RecalcStyleDuration').toFixed(1)} ms, layout ${r.per('LayoutDuration').toFixed(1)} ms, all tasks ${r.per('TaskDuration').toFixed(1)} ms`);
  console.log(`  tab memory (renderer RSS) at step ${r.here}: ${r.memory.toFixed(0)} MiB, after a step back (${r.backMs} ms): ${r.memoryAfter.toFixed(0)} MiB (goal ≤ 700 MB)`);
}
await browser.close();
server.close();
