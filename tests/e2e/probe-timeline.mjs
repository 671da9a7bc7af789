// One-off timeline of opening a far link (not a test).
import { serveDist } from './serve-dist.mjs';
import { launch } from './browser.mjs';
const server = await serveDist(new URL('../../dist', import.meta.url).pathname);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const t0 = Date.now();
const seen = new Map();
page.on('requestfinished', (r) => { const u = r.url(); if (!seen.has(u)) seen.set(u, Date.now() - t0); }); page.on('worker', (w) => console.log('worker at', Date.now() - t0));
await page.goto(server.url + (process.argv[2] ?? '#lesson=xv6-idt&step=1000000000&k=14100000.6563686f2068690a&clock=1796646896'));
const marks = [];
let last = '';
for (let i = 0; i < 600; i++) {
  const s = await page.evaluate(() => [document.querySelector('.notice-text')?.textContent ?? '', document.querySelector('#job .job-text')?.textContent ?? '', document.querySelector('#status')?.textContent ?? ''].join(' | '));
  if (s !== last) { marks.push(`${Date.now() - t0} ms: ${s.slice(0, 160)}`); last = s; }
  if (/opened a shared link/.test(s)) break;
  await new Promise((r) => setTimeout(r, 20));
}
console.log(marks.join('\n'));
for (const [u, t] of seen) console.log(`${t} ms ${u.replace(server.url, '')}`);
await browser.close();
server.close?.();
process.exit(0);
