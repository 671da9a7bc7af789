// The page's speed, measured in headless Chromium at 1440x900 with every
// panel open, running at full speed: frames per second and steps per second
// over a window, how long Pause and a hover take to show, how close each
// slow speed setting comes to its rate, and how long a share link to step
// 4.5 M takes to open. A benchmark, not a test: it prints figures.
//
// usage: node bench/page-fps.mjs DIST_DIR [SECONDS]
import { resolve } from 'node:path';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';
import { measureWindow, watchMessages } from './window.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const seconds = Number(process.argv[3] ?? 5);
const server = await serveDist(dist);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await watchMessages(page);
const t0Load = Date.now();
await page.goto(server.url);
await page.getByRole('region', { name: 'Registers' }).waitFor();
const firstPaintMs = Date.now() - t0Load;

// Programs that never end, so the page runs for the whole window: a busy
// loop, and a parent that forks children which each touch new heap pages
// (a page fault per page) and exit, for ever.
const PROGRAMS = {
  'busy loop': '%include "user.inc"\nstart: mov ecx, 1000000\n.l: dec ecx\n jnz .l\n jmp start\n',
  'page faults': [
    '%include "user.inc"',
    'start:  mov eax, SYS_fork', '        int 0x40', '        test eax, eax', '        jz child',
    '        mov eax, SYS_wait', '        int 0x40', '        jmp start',
    'child:  mov eax, SYS_sbrk', '        mov ebx, 8 * 4096', '        int 0x40', '        mov ecx, 8',
    '.touch: mov dword [eax], 1', '        add eax, 4096', '        dec ecx', '        jnz .touch',
    '        mov eax, SYS_exit', '        xor ebx, ebx', '        int 0x40', '',
  ].join('\n'),
};

const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
async function metrics() {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

const stepNow = () => page.evaluate(() => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]));

async function load(source) {
  await page.getByLabel('Lesson picker').selectOption('playground');
  await page.getByLabel('Program editor').fill(source);
  await page.getByRole('button', { name: 'Run my program' }).click();
}

/**
 * Milliseconds from the moment the browser received a real input event
 * (its timeStamp: any wait behind a running frame counts) to the DOM
 * showing its effect. The input comes from the test driver; the time is
 * measured in the page, so the driver's own round trips do not count.
 */
async function latency(locator, event, act, shown) {
  const measured = page.evaluate(([event, shown]) => {
    const check = new Function(`return (${shown})`);
    return new Promise((resolve) => {
      document.addEventListener(event, (e) => {
        const t0 = e.timeStamp;
        const done = () => resolve(performance.now() - t0);
        if (check()) return done();
        const observer = new MutationObserver(() => {
          if (check()) {
            observer.disconnect();
            done();
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      }, { capture: true, once: true });
    });
  }, [event, shown]);
  await page.waitForTimeout(50);
  await act(locator);
  return measured;
}

const results = [];
for (const [name, source] of Object.entries(PROGRAMS)) {
  await load(source);
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForTimeout(500);
  const before = await metrics();
  const { frames, painted, steps, longest, messages, chars } = await measureWindow(page, seconds * 1000);
  const after = await metrics();
  // What the main thread spent its time on, in ms per frame: script (the
  // machine and the render), style, layout; the rest of a 16.7 ms frame is
  // paint, compositing and idle.
  const per = (k) => ((after[k] - before[k]) * 1000) / frames;
  const split = `per frame: script ${per('ScriptDuration').toFixed(1)} ms, style ${per('RecalcStyleDuration').toFixed(1)} ms, layout ${per('LayoutDuration').toFixed(1)} ms, all tasks ${per('TaskDuration').toFixed(1)} ms`;
  const hover = await latency(page.locator('[data-frame="300"]'), 'mouseover', (l) => l.hover(),
    `/pointing at: frame 0x12c/.test(document.querySelector('#status').textContent)`);
  await page.locator('header.top').hover();
  const stillRunning = (await page.getByRole('button', { name: 'Pause' }).count()) > 0;
  const pause = stillRunning
    ? await latency(page.locator('#run'), 'click', (l) => l.click(),
      `document.querySelector('#run').textContent === 'Run'`)
    : NaN;
  results.push({ name, split, fps: frames / seconds, views: painted / seconds, longest, perMessage: messages ? chars / messages : 0, stepsPerSecond: steps / seconds, hover, pause, stillRunning });
}

// Each slow speed: steps counted in the page over two seconds of running.
await load(PROGRAMS['busy loop']);
const rates = [];
for (const label of ['10 / s', '100 / s', '10 k / s']) {
  await page.getByLabel('Speed').selectOption({ label });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForTimeout(500);
  const rate = await page.evaluate(async () => {
    const status = () => Number(document.querySelector('#status').textContent.match(/step (\d+)/)[1]);
    const [s0, t0] = [status(), performance.now()];
    await new Promise((r) => setTimeout(r, 2000));
    return (status() - s0) / ((performance.now() - t0) / 1000);
  });
  await page.getByRole('button', { name: 'Pause' }).click();
  rates.push(`${label}: ${rate.toFixed(rate < 100 ? 1 : 0)} steps/s`);
}

// A share link to step 4.5 M of the busy loop.
const src = Buffer.from(PROGRAMS['busy loop']).toString('base64url');
const linkPage = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const t0 = Date.now();
await linkPage.goto(`${server.url}#lesson=playground&src=${src}&step=4500000`);
await linkPage.waitForFunction(() => /step 4500000 /.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60000 });
const linkMs = Date.now() - t0;

console.log(`osviz page benchmark: headless Chromium, 1440x900, every panel open, full speed, ${seconds} s each`);
console.log(`  first panel shown ${firstPaintMs} ms after navigation`);
for (const r of results) {
  console.log(`  ${r.name}: ${r.fps.toFixed(1)} frames/s (${r.views.toFixed(1)} with new views), ${(r.stepsPerSecond / 1e6).toFixed(2)} M steps/s, longest main-thread task ${r.longest ? `${r.longest.toFixed(0)} ms` : 'under 50 ms'}, hover shown in ${r.hover.toFixed(0)} ms, Pause shown in ${r.pause.toFixed(0)} ms${r.stillRunning ? '' : ' (the program ended during the window: not a valid measurement)'}`);
  console.log(`    ${r.split}${r.perMessage ? `; ${(r.perMessage / 1000).toFixed(1)} kB from the machine's thread a message` : ''}`);
}
console.log(`  speed settings: ${rates.join(', ')}`);
console.log(`  share link to step 4,500,000 opened in ${linkMs} ms (page load, boot, replay, first render)`);
await browser.close();
server.close();
