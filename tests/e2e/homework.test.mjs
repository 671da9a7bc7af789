// End-to-end tests with a course's own xv6 builds (tests/xv6-variants.md,
// built by scripts/xv6-variant), opened in the page as a student opens their
// homework. Lazy allocation: C stepping over a line whose store faults comes
// back to the next line of the same program, each fault is in the Events
// panel, and the faults are still there after the machine idles a minute.
// The date system call: it reads the CMOS clock, which starts at the host's
// time, and a share link carries that start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shots, openPage, region, chooseLesson, done, ctx } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const lazy = resolve(here, '../../target/xv6-lazy');
const dated = resolve(here, '../../target/xv6-date');
const prompt = () => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? '');

/** The 1-based line of lazytest.c that holds `text`. */
function lineOf(text) {
  const lines = readFileSync(join(lazy, 'src/lazytest.c'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === text);
  assert.ok(at >= 0, `${text} in lazytest.c`);
  return at + 1;
}

test('Next line over a store that page-faults under lazy allocation comes back to the next line; the faults outlast an idle minute', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'xv6-demand-paging');
  await page.waitForFunction(prompt, null, { timeout: 30000 });
  // The student opens their homework: kernel, fs.img and the C it was built from.
  await page.getByLabel('xv6 build files').setInputFiles([
    join(lazy, 'kernel'), join(lazy, 'fs.img'),
    ...['lazytest.c', 'trap.c', 'sysproc.c', 'vm.c'].map((f) => join(lazy, 'src', f)),
  ]);
  await page.waitForFunction(() => /opened your build/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 30000 });
  await page.waitForFunction(prompt, null, { timeout: 30000 });
  assert.match(await page.locator('.start-note').textContent(), /your build \(kernel and fs\.img, 4 source files\)/);

  // A breakpoint on the first store into the heap sbrk grew (no frame yet).
  const first = lineOf('heap[0] = 1;');
  const code = region(page, 'Code');
  await code.getByLabel('Break at a function or file:line').fill(`lazytest.c:${first}`);
  await code.getByLabel('Break at a function or file:line').press('Enter');
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.screen').click();
  await page.keyboard.type('lazytest\n');
  await page.waitForFunction(() => /breakpoint/i.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 30000 });
  const line = async () => Number(await code.locator('.src.current .lineno').textContent());
  assert.equal(await line(), first);
  assert.match(await code.locator('.where').textContent(), /lazytest\.c/);
  assert.match(await region(page, 'Processes').textContent(), /\d+\s*lazytest\s*RUNNING/);

  // Each store faults (write, user, not present: error code 0x6) on the next
  // page of the heap; the kernel maps a frame and the store runs again, so
  // Next line lands on the next line of lazytest, not in the kernel.
  const events = region(page, 'Events');
  await page.getByLabel('Event filter').selectOption('page_fault');
  const faults = async () => (await events.locator('li.ev').allTextContents())
    .map((t) => t.match(/page fault at ([0-9a-f]{8}), error code 0x6/)).filter(Boolean).map((m) => parseInt(m[1], 16));
  const seen = [];
  for (const [from, to] of [['heap[0] = 1;', 'heap[4096] = 2;'], ['heap[4096] = 2;', 'heap[8192] = 3;'], ['heap[8192] = 3;', 'printf(1, "lazytest: %d %d %d\\n", heap[0], heap[4096], heap[8192]);']]) {
    assert.equal(await line(), lineOf(from));
    await code.getByRole('button', { name: 'Next line' }).click();
    await page.waitForFunction((l) => Number(document.querySelector('.code .src.current .lineno')?.textContent) !== l, lineOf(from), { timeout: 30000 });
    assert.equal(await line(), lineOf(to), `Next line from “${from}”`);
    assert.match(await code.locator('.where').textContent(), /lazytest\.c/);
    assert.doesNotMatch(await page.locator('#status').textContent(), /ended|exited/);
    const now = await faults();
    assert.ok(now.length > seen.length, `a page fault for “${from}”: ${now}`);
    seen.push(now[0]);
  }
  // The three faults are one page apart, from the page-aligned start of the heap.
  assert.equal(seen[0] % 4096, 0);
  assert.deepEqual(seen, [seen[0], seen[0] + 4096, seen[0] + 8192]);
  await page.screenshot({ path: join(shots, 'xv6-lazy-next-line.png') });

  // Let it finish: the values it stored are read back.
  await region(page, 'Lesson').getByRole('button', { name: /Remove the breakpoint/ }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /lazytest: 1 2 3\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 30000 });

  // A minute at the prompt with the machine running: the idle loop's device
  // reads are counted, not logged, so lazytest's faults are still there.
  await page.waitForTimeout(60_000);
  await page.getByRole('button', { name: 'Pause' }).click();
  const counted = Number((await events.textContent()).match(/(\d+) memory-mapped device accesses so far, counted, not listed/)[1]);
  assert.ok(counted > 100_000, `${counted} memory-mapped accesses counted`);
  const kept = await faults();
  for (const addr of seen) assert.ok(kept.includes(addr), `the fault at ${addr.toString(16)} is still in Events (${kept.map((a) => a.toString(16))})`);
  await done(page, errors);
});

test('a date system call added to xv6 reads the host\'s date from the CMOS clock; a share link carries the clock', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'xv6-idt');
  await page.waitForFunction(prompt, null, { timeout: 30000 });
  await page.getByLabel('xv6 build files').setInputFiles([join(dated, 'kernel'), join(dated, 'fs.img'), join(dated, 'src', 'date.c')]);
  await page.waitForFunction(() => /opened your build/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 30000 });
  await page.waitForFunction(prompt, null, { timeout: 30000 });
  const opened = new Date();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.screen').click();
  await page.keyboard.type('date\n');
  const line = /\$ date\s*\n(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+) UTC\s*\n\$ /;
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.screen')?.innerText ?? ''), line.source, { timeout: 30000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  const text = await page.locator('.screen').innerText();
  const [, y, mo, d, h, mi] = text.match(line).map(Number);
  // The guest's clock started at the host's time when the build was opened
  // (a fraction of a second of its own time has passed since).
  const guest = Date.UTC(y, mo - 1, d, h, mi);
  assert.ok(Math.abs(guest - opened.getTime()) < 5 * 60_000, `the guest says ${y}-${mo}-${d} ${h}:${mi}, the host ${opened.toISOString()}`);

  // The share link carries the clock's start, so a replay reads the same
  // time (the reopening itself is tested natively in session/tests.rs).
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.server.url });
  await page.getByRole('button', { name: 'Share link' }).click();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(url, /&clock=\d+/);
  await done(page, errors);
});
