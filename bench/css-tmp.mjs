// xv6 in the page, measured in headless Chromium at 1440x900 with every
// panel open: how long after the page loads xv6 shows its `$ ` prompt,
// how long `ls` takes to answer after Enter, frames and steps per second
// while xv6 runs at full speed (usertests), and the tab's memory (the
// renderer process's resident size, from /proc) with reverse stepping on.
// A benchmark, not a test: it prints figures.
//
// usage: node bench/xv6-page.mjs DIST_DIR [SECONDS]
import { resolve } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const seconds = Number(process.argv[3] ?? 5);
const server = await serveDist(dist);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
page.on('pageerror', (e) => console.log('pageerror:', e.message));

const screen = () => page.locator('.screen').innerText().catch(() => '');
const stepNow = () => page.evaluate(() => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]));

// 1. A link to an xv6 lesson that types nothing: page load to the prompt.
if (process.env.CSS) await page.addInitScript((css) => { document.addEventListener('DOMContentLoaded', () => { const s = document.createElement('style'); s.textContent = css; document.head.appendChild(s); }); }, process.env.CSS);
const t0 = Date.now();
await page.goto(`${server.url}#lesson=xv6-idt`);
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
const { frames, steps } = await page.evaluate(async (ms) => {
  const status = () => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]);
  const start = status();
  let frames = 0;
  const t = performance.now();
  await new Promise((done) => {
    const tick = () => { frames += 1; if (performance.now() - t < ms) requestAnimationFrame(tick); else done(); };
    requestAnimationFrame(tick);
  });
  return { frames, steps: status() - start };
}, seconds * 1000);
const after = await metrics();
const per = (k) => ((after[k] - before[k]) * 1000) / frames;

// 4. The tab's memory: the largest Chromium renderer's resident set.
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
const memory = rendererRssMiB();
// Reverse stepping works at this point (a step back replays from a checkpoint).
const here = await stepNow();
await page.getByRole('button', { name: 'Pause' }).click();
const paused = await stepNow();
const backAt = Date.now();
await page.getByRole('button', { name: 'Step back' }).click();
await page.waitForFunction((s) => new RegExp(`step ${s - 1} `).test(document.querySelector('#status')?.textContent ?? ''), paused, { timeout: 30000 });
const backMs = Date.now() - backAt;
const memoryAfter = rendererRssMiB();

console.log('osviz xv6 page benchmark: headless Chromium, 1440x900, every panel open');
console.log(`  page load to xv6's $ prompt: ${promptMs} ms (goal ≤ 3000)`);
console.log(`  ls: Enter to the listing and the next prompt: ${lsMs} ms (goal ≤ 1000)`);
console.log(`  usertests at full speed: ${(frames / seconds).toFixed(1)} frames/s (goal ≥ 50), ${(steps / seconds / 1e6).toFixed(2)} M steps/s`);
console.log(`    per frame: script ${per('ScriptDuration').toFixed(1)} ms, style ${per('RecalcStyleDuration').toFixed(1)} ms, layout ${per('LayoutDuration').toFixed(1)} ms, all tasks ${per('TaskDuration').toFixed(1)} ms`);
console.log(`  tab memory (renderer RSS) at step ${here}: ${memory.toFixed(0)} MiB, after a step back (${backMs} ms): ${memoryAfter.toFixed(0)} MiB (goal ≤ 700 MB)`);
await browser.close();
server.close();
