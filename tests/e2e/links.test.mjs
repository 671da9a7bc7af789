// End-to-end tests of share links far into an xv6 run, of a reload in the
// middle of a run, and of lessons as entries of the browser's history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx, openPage, chooseLesson, stepCount, watch, done } from './helpers.mjs';

/** How far the run goes before the link is made (the page passes about
 * 65 M steps a second at full speed; opening replays them all). */
const FAR = Number(process.env.OSVIZ_LINK_STEPS ?? 300_000_000);

/** What was typed is there: usertests runs. Far into the run its first line
 * has scrolled past the screen and the 500 lines kept below it, but the
 * lines it prints name it. */
async function typedIsThere(page, step) {
  const output = (await page.locator('.console .scrollback pre').allTextContents()).join('') + await screenText(page);
  assert.match(output, step > 500_000_000 ? /usertests/ : /usertests starting/, `what was typed is there at step ${step}`);
}
const TIMEOUT = 120_000;

const screenText = (page) => page.locator('.screen').innerText();
const registers = (page) => page.locator('[data-reg] .hex').allTextContents();
const notice = (page) => page.locator('.notice-text').textContent();

async function prompt(page) {
  await page.waitForFunction(() => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''),
    null, { timeout: TIMEOUT });
}

test('an xv6 link far into the run reopens its step and registers; a reload mid-run comes back; Back returns to the lesson', { timeout: 600_000 }, async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'xv6-idt');
  await prompt(page);
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.screen').click();
  // usertests keeps xv6 busy for billions of steps (an xv6 idle at its
  // prompt runs slowly, so that the host idles too).
  await page.keyboard.type('usertests\n');
  await page.waitForFunction(() => /usertests starting/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: TIMEOUT });
  const t0 = Date.now();
  await page.waitForFunction((far) => Number((document.querySelector('#status')?.textContent ?? '').match(/step (\d+)/)?.[1]) > far,
    FAR, { timeout: TIMEOUT, polling: 100 });
  const ranMs = Date.now() - t0;
  await page.getByRole('button', { name: 'Pause' }).click();
  const there = await stepCount(page);
  const regs = await registers(page);
  console.log(`ran to step ${there} at full speed (${ranMs} ms from the answer)`);

  // Share, and open the link in a new page: the same step, the same registers.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.server.url });
  await page.getByRole('button', { name: 'Share link' }).click();
  await page.locator('.notice', { hasText: `it opens step ${there}` }).waitFor();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(url, new RegExp(`step=${there}`));
  // The keys, each group the bytes typed at one step after its distance
  // from the one before.
  const keys = url.match(/&k=([0-9a-f.,]+)(?:&|$)/)[1].split(',').map((g) => g.split('.')[1]).join('');
  assert.equal(keys, Buffer.from('usertests\n').toString('hex'));
  const other = await ctx.browser.newPage({ viewport: { width: 1440, height: 900 } });
  const otherErrors = await watch(other);
  const t1 = Date.now();
  await other.goto(url);
  await other.locator('.notice', { hasText: 'opened a shared link' }).waitFor({ timeout: TIMEOUT });
  console.log(`opened the link at step ${there} in ${Date.now() - t1} ms (load, xv6's boot, replay)`);
  assert.equal(await notice(other), `opened a shared link to “xv6: the interrupt descriptor table (tvinit, idtinit)” at step ${there}`);
  assert.equal(await stepCount(other), there);
  assert.deepEqual(await registers(other), regs);
  await typedIsThere(other, there);
  await done(other, otherErrors);

  // Run on, reload in the middle of the run: the moment comes back, said.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction((s) => Number((document.querySelector('#status')?.textContent ?? '').match(/step (\d+)/)?.[1]) > s + 100_000_000,
    there, { timeout: TIMEOUT, polling: 100 });
  // The address is kept every half second while running: a second on, it
  // holds a step past these 100 M.
  await page.waitForTimeout(1000);
  const left = await stepCount(page);
  const t2 = Date.now();
  await page.reload();

  await page.locator('.notice-text', { hasText: /^reopened step \d+ of/ }).waitFor({ timeout: TIMEOUT });
  const back = await stepCount(page);
  console.log(`reloaded near step ${left}; reopened step ${back} in ${Date.now() - t2} ms`);
  assert.ok(back > there + 100_000_000, `${back} > ${there} + 100 M`);
  // The moment painted last, not the one the address was last given (every
  // half second): at most a few frames past what was read before the reload.
  assert.ok(back >= left && back - left < 35_000_000, `reopened ${back}, left at ${left}`);
  assert.equal(await notice(page), `reopened step ${back} of “xv6: the interrupt descriptor table (tvinit, idtinit)” where you were`);
  await typedIsThere(page, back);
  assert.equal(await page.getByLabel('Lesson picker').inputValue(), 'xv6-idt');

  // Another lesson, then Back: the xv6 lesson again, at its moment.
  await chooseLesson(page, 'memory-image');
  assert.equal(await page.getByLabel('Lesson picker').inputValue(), 'memory-image');
  await page.goBack();
  await page.locator('.notice', { hasText: 'back to “xv6' }).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByLabel('Lesson picker').inputValue(), 'xv6-idt');
  assert.equal(await stepCount(page), back);
  await typedIsThere(page, back);
  // Forward: the lesson chosen, at its start.
  await page.goForward();
  await page.locator('.notice', { hasText: 'back to “The memory image' }).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByLabel('Lesson picker').inputValue(), 'memory-image');
  await done(page, errors);
});

/** The longest task the page's thread ran since the last call (the
 * browser's long-task entries: 50 ms and more). */
async function longestTask(page) {
  return page.evaluate(() => {
    const t = window.__longest ?? 0;
    window.__longest = 0;
    return t;
  });
}

async function watchLongTasks(page) {
  await page.addInitScript(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

const IDLE_LINK = '#lesson=xv6-idt&step=1000000000&k=14100000.6563686f2068690a&clock=1796646896';
const BUSY_LINK = '#lesson=xv6-idt&step=3000000000&k=14100000.7573657274657374730a&clock=1796646896';

test('a link at step 1,000,000,000 shows its replay\'s progress while the page answers, then opens its moment', { timeout: 300_000 }, async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = await watch(page);
  await watchLongTasks(page);
  const t0 = Date.now();
  await page.goto(ctx.server.url + IDLE_LINK);
  const job = page.locator('#job');
  await job.waitFor({ timeout: TIMEOUT });
  const firstProgress = Date.now() - t0;
  // First the machine's thread starts and xv6 loads (how long cannot be
  // told), then the replay counts.
  assert.match(await job.locator('.job-text').textContent(),
    /^(starting the machine to open the link…|loading xv6 to open the link…|replaying to step 1,000,000,000: \d+%)$/);
  await job.locator('.job-text', { hasText: /^replaying to step 1,000,000,000: \d+%$/ }).waitFor({ timeout: TIMEOUT });
  const replayShown = Date.now() - t0;
  await longestTask(page);
  // The page answers while the worker replays: the theme toggles at once.
  await page.getByRole('button', { name: 'Dark' }).click();
  await page.getByRole('button', { name: 'Light' }).waitFor({ timeout: 1000 });
  await page.locator('.notice', { hasText: 'opened a shared link' }).waitFor({ timeout: TIMEOUT });
  const opened = Date.now() - t0;
  const longest = await longestTask(page);
  console.log(`link at step 1,000,000,000: progress shown ${firstProgress} ms after load (the replay's ${replayShown} ms), opened in ${opened} ms; longest main-thread task during the replay ${longest.toFixed(0)} ms`);
  assert.equal(await stepCount(page), 1_000_000_000);
  assert.equal(await job.count(), 0, 'the progress is gone');
  assert.match(await page.locator('.screen').innerText(), /\$ echo hi\s*\nhi\s*\n\$ /);
  assert.ok(longest < 50, `the page's thread never blocked for 50 ms (${longest} ms)`);
  await done(page, errors);
});

test('a busy replay is cancelled from its progress bar: the machine goes back to where it began and steps on', { timeout: 300_000 }, async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = await watch(page);
  await page.goto(ctx.server.url + BUSY_LINK);
  const job = page.locator('#job');
  await job.waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => Number(document.querySelector('#job progress')?.value) > 1, null, { timeout: TIMEOUT });
  await page.getByRole('button', { name: 'Cancel' }).click();
  const said = page.locator('.notice-text', { hasText: /^cancelled replaying to step 3,000,000,000 at \d+%: back at step \d+, where it began$/ });
  await said.waitFor({ timeout: 5000 });
  const text = await said.textContent();
  const back = Number(text.match(/back at step (\d+)/)[1]);
  assert.equal(await job.count(), 0);
  assert.equal(await stepCount(page), back);
  assert.ok(back <= 14_100_000, `back at the lesson's start (${back})`);
  // Nothing of the link's typing is left to happen: the screen shows the prompt alone.
  assert.doesNotMatch(await page.locator('.screen').innerText(), /usertests/);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await page.waitForFunction((b) => Number((document.querySelector('#status')?.textContent ?? '').match(/step (\d+)/)?.[1]) === b + 1, back, { timeout: 5000 });
  await done(page, errors);
});
