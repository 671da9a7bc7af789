// Browser tests of what makes the page trustworthy, each a student's
// sequence: what is typed survives, reveals answer from the right moment,
// the kernel stack tells the truth, step over means what it says,
// breakpoints survive, and the page runs under its security policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ctx, openPage, region, eip, status, step, stepCount, chooseLesson, done,
} from './helpers.mjs';

test('what a student types survives hovering, stepping, running, reloading and switching lessons', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'playground');
  const editor = page.getByLabel('Program editor');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n; my own line, typed by hand\n');
  const typed = await editor.inputValue();
  assert.match(typed, /my own line, typed by hand/);
  // Hover panels, step with the button, run at 10 / s for a while.
  await region(page, 'Physical frames').hover();
  await region(page, 'Processes').hover();
  await step(page);
  await page.getByLabel('Speed').selectOption({ label: '10 / s' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForTimeout(700);
  await page.getByRole('button', { name: 'Pause' }).click();
  assert.equal(await editor.inputValue(), typed);
  assert.match(await page.locator('.program-head').textContent(), /edited, not run yet/);
  // Reload: the draft is still there (saved as the student typed).
  await page.waitForTimeout(600);
  await page.reload();
  await page.getByRole('region', { name: 'Lesson' }).waitFor();
  assert.equal(await page.getByLabel('Program editor').inputValue(), typed);
  // Run it, switch lessons and back: the program that ran runs again.
  await page.getByRole('button', { name: 'Run my program' }).click();
  await chooseLesson(page, 'system-call');
  await chooseLesson(page, 'playground');
  assert.equal(await page.getByLabel('Program editor').inputValue(), typed);
  assert.doesNotMatch(await page.locator('.program-head').textContent(), /not run yet/);
  assert.match(await region(page, 'Code').textContent(), /my own line, typed by hand/);
  // Revert brings the lesson's own program back.
  await page.getByRole('button', { name: "Revert to the lesson's program" }).click();
  assert.doesNotMatch(await page.getByLabel('Program editor').inputValue(), /my own line/);
  await done(page, errors);
});

test('a prediction typed survives a reload and a trip to another lesson', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'two-level');
  const guess = page.getByLabel('Your answer to question 1');
  await guess.fill('3');
  await page.reload();
  await page.getByRole('region', { name: 'Lesson' }).waitFor();
  assert.equal(await page.getByLabel('Your answer to question 1').inputValue(), '3');
  await chooseLesson(page, 'system-call');
  await chooseLesson(page, 'two-level');
  assert.equal(await page.getByLabel('Your answer to question 1').inputValue(), '3');
  await done(page, errors);
});

test('the editor numbers its lines, marks errors on them, and sets breakpoints from the gutter', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'system-call');
  const gutter = page.getByLabel('Line numbers');
  const lines = (await page.getByLabel('Program editor').inputValue()).split('\n');
  const syscall = lines.findIndex((l) => l.includes('int 0x40')) + 1;
  await gutter.locator(`[data-line="${syscall}"]`).click();
  assert.match(await gutter.locator(`[data-line="${syscall}"]`).getAttribute('class'), /breakpoint/);
  assert.match(await page.getByLabel('Breakpoints').textContent(), new RegExp(`hello.asm:${syscall}`));
  // Reset keeps it, and running stops there.
  await page.getByRole('button', { name: 'Reset' }).click();
  assert.match(await page.locator('.notice').textContent(), /with your 1 breakpoint/);
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /Breakpoint at/.test(document.querySelector('#status').textContent));
  assert.equal(await region(page, 'Code').locator('.src.current').getAttribute('data-line'), String(syscall));
  assert.equal(await region(page, 'Code').locator('.src.current.breakpoint').count(), 1);
  // Two errors in different lines are listed together and marked in the gutter.
  const editor = page.getByLabel('Program editor');
  await editor.fill('%include "user.inc"\nstart: mov eax, [\n        bogus eax\n');
  await page.getByRole('button', { name: 'Run my program' }).click();
  const errs = page.getByLabel('Assembly errors');
  assert.match(await errs.textContent(), /line 2, column \d+/);
  assert.match(await errs.textContent(), /line 3, column \d+/);
  assert.match(await gutter.locator('[data-line="2"]').getAttribute('class'), /error/);
  assert.match(await gutter.locator('[data-line="3"]').getAttribute('class'), /error/);
  // The breakpoint list lets it go.
  await page.getByRole('button', { name: `Remove the breakpoint at hello.asm:${syscall}` }).click();
  assert.equal(await page.getByLabel('Breakpoints').count(), 0);
  await done(page, errors);
});

/** Reveals question `i` (from 0) and returns the answer's text. */
async function reveal(page, i) {
  await page.getByRole('button', { name: 'Run to it and reveal' }).nth(i).click();
  const answer = page.locator('.question').nth(i).locator('.answer');
  await answer.waitFor();
  return (await answer.textContent()).replace(/ ✓.*| ✗.*/, '');
}

test('each question is answered from the lesson start, in any order; guesses are graded', async () => {
  for (const id of ['memory-image', 'demand-paging']) {
    const { page, errors } = await openPage();
    await chooseLesson(page, id);
    const second = await reveal(page, 1);
    await page.reload();
    await page.getByRole('region', { name: 'Lesson' }).waitFor();
    for (let i = 0; i < 30; i++) await step(page);
    const here = await stepCount(page);
    const first = await reveal(page, 0);
    assert.match(first, /The machine says: 0x/, id);
    assert.equal(await reveal(page, 1), second, `${id}: Q2 after Q1 is Q2 alone`);
    assert.doesNotMatch(second, /run ended/, id);
    // Back to where the student was.
    await page.getByRole('button', { name: /where you were/ }).click();
    assert.equal(await stepCount(page), here, id);
    await done(page, errors);
  }
  const { page, errors } = await openPage();
  await chooseLesson(page, 'demand-paging');
  await page.getByLabel('Your answer to question 2').fill('6');
  await reveal(page, 1);
  assert.match(await page.locator('.question').nth(1).locator('.answer').textContent(), /✓ your prediction was right/);
  await page.getByLabel('Your answer to question 1').fill('0x1234');
  await reveal(page, 0);
  assert.match(await page.locator('.question').nth(0).locator('.answer').textContent(), /✗ your prediction differs/);
  await done(page, errors);
});

test('at the first page fault the kernel stack shows what the CPU pushed, down to ESP', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'demand-paging');
  await reveal(page, 0);
  const stack = region(page, 'Kernel stack');
  const err = stack.locator('tr', { has: page.locator('td', { hasText: /^err$/ }) });
  assert.equal(await err.locator('td.by').textContent(), 'CPU');
  assert.match(await err.getAttribute('class'), /at-esp/);
  assert.equal(await err.locator('.esp-mark').textContent(), '← ESP');
  // Nothing below ESP is a field: no trap number yet, nothing from the entry code.
  assert.equal(await stack.locator('td', { hasText: /^trapno$/ }).count(), 0);
  assert.equal(await stack.locator('tr.by-entry').count(), 0);
  assert.match(await stack.textContent(), /below ESP [0-9a-f]{8}: free/);
  assert.match(await stack.textContent(), /trap frame \(vector 0xe, page fault\)/);
  // Two steps into the handler: the stub has pushed the vector.
  await step(page);
  assert.equal(await stack.locator('td', { hasText: /^trapno$/ }).count(), 1);
  assert.equal(await stack.locator('tr', { has: page.locator('td', { hasText: /^trapno$/ }) }).locator('td.by').textContent(), 'vector stub');
  await done(page, errors);
});

test('step over int 0x40 lands after it in user mode; step back undoes it whole', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'system-call');
  const current = () => region(page, 'Code').getByLabel('Disassembly').locator('li.current').textContent();
  while (!/int 0x40/.test(await current())) await step(page);
  const at = parseInt(await eip(page), 16);
  const before = await stepCount(page);
  await page.getByRole('button', { name: 'Step over' }).click();
  assert.equal(parseInt(await eip(page), 16), at + 2);
  assert.match(await region(page, 'Registers').textContent(), /ring 3/);
  assert.ok((await stepCount(page)) > before + 10, 'the whole system call ran');
  await page.getByRole('button', { name: 'Step back' }).click();
  assert.equal(await stepCount(page), before);
  assert.equal(parseInt(await eip(page), 16), at);
  await done(page, errors);
});

test('a newcomer opens lesson 1 at its program with a hint; the lesson text shows code, not backticks', async () => {
  const { page, errors } = await openPage();
  assert.equal(await page.locator('.lesson-title').textContent(), 'The memory image and the CPU context');
  assert.match(await page.locator('.notice').textContent(), /Welcome/);
  assert.equal(await eip(page), '00001000');
  assert.match(await region(page, 'Registers').textContent(), /ring 3/);
  await chooseLesson(page, 'system-call');
  assert.equal(await page.locator('.lesson .concept code').first().textContent(), 'int 0x40');
  assert.doesNotMatch(await page.locator('.lesson').textContent(), /`/);
  // The page runs under its Content-Security-Policy: no inline script at all.
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.equal(await page.locator('script:not([src])').count(), 0);
  await done(page, errors);
});

test('projector mode: the instructor picks the panels, kept across reloads and in the share link', async () => {
  const { page, errors } = await openPage(1280, 720);
  await chooseLesson(page, 'system-call');
  await page.getByRole('button', { name: 'Projector' }).click();
  const shown = () => page.locator('main.panels > section').evaluateAll((ss) => ss.map((s) => s.getAttribute('aria-label')));
  assert.deepEqual(await shown(), ['IDT', 'Kernel stack', 'Code', 'Console']);
  await page.getByLabel('Panels shown').getByRole('button', { name: 'Registers' }).click();
  await page.getByLabel('Panels shown').getByRole('button', { name: 'Code' }).click();
  assert.deepEqual(await shown(), ['IDT', 'Kernel stack', 'Registers', 'Console']);
  await page.reload();
  await page.getByRole('region', { name: 'Lesson' }).waitFor();
  assert.deepEqual(await shown(), ['IDT', 'Kernel stack', 'Registers', 'Console']);
  await page.getByRole('button', { name: 'Share link' }).click();
  await page.locator('.notice', { hasText: /share link/ }).waitFor();
  const url = page.url();
  const other = await ctx.browser.newPage({ viewport: { width: 1280, height: 720 } });
  await other.goto(url);
  await other.getByRole('region', { name: 'Lesson' }).waitFor();
  assert.deepEqual(await other.locator('main.panels > section').evaluateAll((ss) => ss.map((s) => s.getAttribute('aria-label'))),
    ['IDT', 'Kernel stack', 'Registers', 'Console']);
  await other.close();
  await done(page, errors);
});

test('break on context switch stops only where one process gives way to another', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'context-switch');
  await page.getByRole('button', { name: 'show the boot' }).click();
  await page.getByLabel('Break on').selectOption({ label: 'break on: context switch' });
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  const cr3s = [];
  for (let i = 0; i < 3; i++) {
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForFunction(() => /Stopped at a context switch/.test(document.querySelector('#status').textContent));
    cr3s.push(await page.locator('[data-reg="cr3"] .hex').textContent());
  }
  assert.notEqual(cr3s[0], cr3s[1]);
  assert.notEqual(cr3s[1], cr3s[2]);
  assert.ok((await stepCount(page)) > 8000, 'the boot is past: its CR3 writes did not stop it');
  await done(page, errors);
});
