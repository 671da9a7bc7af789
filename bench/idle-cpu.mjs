// xv6 idle at its prompt, running at full speed in the page (headless
// Chromium, 1440x900): how busy the page's main thread is while nothing
// happens (the share of wall time spent in tasks and in script, from the
// DevTools performance metrics), and how many steps it ran. A benchmark, not
// a test: it prints figures.
//
// usage: node bench/idle-cpu.mjs DIST_DIR [SECONDS]
import { resolve } from 'node:path';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const seconds = Number(process.argv[3] ?? 10);
const server = await serveDist(dist);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
page.on('pageerror', (e) => console.log('pageerror:', e.message));

await page.goto(`${server.url}#lesson=xv6-idt`);
await page.waitForFunction(() => /\$ /.test(document.querySelector('.screen')?.textContent ?? ''), null, { timeout: 60000 });
await page.getByLabel('Speed').selectOption({ label: 'full speed' });
await page.getByRole('button', { name: 'Run', exact: true }).click();
await page.waitForTimeout(1000);
const status = () => page.evaluate(() => document.querySelector('#status')?.textContent ?? '');
const stepOf = (text) => Number((text.match(/step (\d+)/) ?? [0, 0])[1]);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const before = await metrics();
const stepsBefore = stepOf(await status());
const t0 = Date.now();
await page.waitForTimeout(seconds * 1000);
const wall = (Date.now() - t0) / 1000;
const after = await metrics();
const line = await status();
const share = (k) => (100 * (after[k] - before[k])) / wall;
console.log(`idle xv6 at full speed for ${wall.toFixed(1)} s: main thread busy ${share('TaskDuration').toFixed(1)}% (script ${share('ScriptDuration').toFixed(1)}%), ${((stepOf(line) - stepsBefore) / wall / 1e6).toFixed(2)} M steps/s`);
console.log(`status: ${line.trim()}`);
await browser.close();
server.close();
