// Frames per second of the page while it runs a lesson at full speed with
// every panel open, measured in headless Chromium with requestAnimationFrame.
// A benchmark, not a test: it prints figures.
//
// usage: node bench/page-fps.mjs DIST_DIR [SECONDS]
import { resolve } from 'node:path';
import { serveDist } from '../tests/e2e/serve-dist.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const seconds = Number(process.argv[3] ?? 5);
const server = await serveDist(dist);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(server.url);
await page.getByRole('region', { name: 'Registers' }).waitFor();
// A program that never ends, so the page runs for the whole measurement:
// a busy loop, and one that keeps touching new heap pages (page faults).
const PROGRAMS = {
  'busy loop': '%include "user.inc"\nstart: mov ecx, 1000000\n.l: dec ecx\n jnz .l\n jmp start\n',
  'page faults': '%include "user.inc"\nstart: mov eax, SYS_sbrk\n mov ebx, 4096\n int 0x40\n mov dword [eax], 1\n jmp start\n',
};
const results = [];
for (const [lesson, source] of Object.entries(PROGRAMS)) {
  await page.getByLabel('Lesson picker').selectOption('playground');
  await page.getByLabel('Program editor').fill(source);
  await page.getByRole('button', { name: 'Run my program' }).click();
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const { frames, steps } = await page.evaluate(async (ms) => {
    const status = () => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]);
    const start = status();
    let frames = 0;
    const t0 = performance.now();
    await new Promise((done) => {
      const tick = () => {
        frames += 1;
        if (performance.now() - t0 < ms) requestAnimationFrame(tick); else done();
      };
      requestAnimationFrame(tick);
    });
    return { frames, steps: status() - start };
  }, seconds * 1000);
  const running = await page.getByRole('button', { name: 'Pause' }).count();
  if (running) await page.getByRole('button', { name: 'Pause' }).click();
  results.push({ lesson, fps: frames / seconds, stepsPerSecond: steps / seconds, stillRunning: running > 0 });
}
console.log(`osviz page benchmark: headless Chromium, 1440x900, every panel open, full speed, ${seconds} s each`);
for (const r of results) {
  console.log(`  ${r.lesson}: ${r.fps.toFixed(1)} frames/s, ${Math.round(r.stepsPerSecond)} steps/s${r.stillRunning ? '' : ' (the program ended during the measurement)'}`);
}
await browser.close();
server.close();
