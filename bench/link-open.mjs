// Opening a share link far into an xv6 run, in headless Chromium at
// 1440x900: when the page shows the opening's progress, when the replay's
// percentage starts, when the link's moment is shown, and the longest task
// on the page's thread meanwhile (the replay runs in the worker). Each link
// is opened RUNS times in fresh pages. A benchmark, not a test: it prints
// figures.
//
// usage: node bench/link-open.mjs DIST_DIR [RUNS]
import { resolve } from 'node:path';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const runs = Number(process.argv[3] ?? 3);
const server = await serveDist(dist);
const browser = await launch();

// xv6 types `echo hi` at its prompt and idles (its idle loop is skipped
// in the replay), or runs usertests (nothing to skip).
const LINKS = [
  ['idle, step 1,000,000,000', 'lesson=xv6-idt&step=1000000000&k=14100000.6563686f2068690a&clock=1796646896'],
  ['usertests, step 300,000,000', 'lesson=xv6-idt&step=300000000&k=14100000.7573657274657374730a&clock=1796646896'],
];

async function open(fragment) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const t0 = Date.now();
  await page.goto(`${server.url}#${fragment}`);
  const at = {};
  for (;;) {
    const [job, notice] = await page.evaluate(() => [
      document.querySelector('#job .job-text')?.textContent ?? '',
      document.querySelector('.notice-text')?.textContent ?? '',
    ]);
    const now = Date.now() - t0;
    if (job && at.bar === undefined) at.bar = now;
    if (/^replaying/.test(job) && at.replay === undefined) {
      at.replay = now;
      await page.evaluate(() => { window.__longest = 0; });
    }
    if (/^opened a shared link/.test(notice)) {
      at.opened = now;
      break;
    }
    if (now > 120_000) throw new Error(`not opened after 2 minutes: ${job} ${notice}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  at.longest = await page.evaluate(() => window.__longest);
  await page.close();
  return at;
}

for (const [name, fragment] of LINKS) {
  for (let k = 0; k < runs; k++) {
    const at = await open(fragment);
    console.log(`${name}: bar at ${at.bar} ms, replay's percentage at ${at.replay} ms, opened at ${at.opened} ms; longest page-thread task during the replay ${at.longest.toFixed(0)} ms`);
  }
}
await browser.close();
server.close?.();
