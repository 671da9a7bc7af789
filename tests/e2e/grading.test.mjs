// End-to-end test of predict-then-reveal grading in the release page: in
// every xv6 lesson, each question's answer as the machine reveals it, typed
// back as the prediction, is marked right; a wrong prediction is marked
// wrong and one part of a two-part answer partly right. Nothing here knows
// an answer: each is read from the page after the machine computed it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, region, done, reveal, predict, question } from './helpers.mjs';

/** Chooses an xv6 lesson and waits for its title and xv6's prompt. */
async function openXv6Lesson(page, id, title) {
  await page.getByLabel('Lesson picker').selectOption(id);
  await page.waitForFunction((t) => document.querySelector('.lesson-title')?.textContent === t,
    title, { timeout: 60000 });
  // The boot lesson starts at the boot sector, the others at the prompt.
  if (id === 'xv6-boot') {
    await page.waitForFunction(() => /real mode/.test(document.querySelector('.cpu-mode')?.textContent ?? ''), null, { timeout: 60000 });
    return;
  }
  await page.waitForFunction(
    () => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''),
    null, { timeout: 60000 },
  );
}

test('in every xv6 lesson, the machine\'s own answer typed as the prediction is marked right', async () => {
  const { page, errors } = await openPage();
  const lessons = await page.locator('select[aria-label="Lesson picker"] optgroup[label="xv6"] option')
    .evaluateAll((os) => os.map((o) => ({ id: o.value, title: o.textContent.replace(/^x\d+\. /, '') })));
  assert.ok(lessons.length >= 12, `xv6 lessons: ${lessons.length}`);
  let graded = 0;
  for (const { id, title } of lessons) {
    await openXv6Lesson(page, id, title);
    const count = await region(page, 'Lesson').locator('.question').count();
    for (let i = 0; i < count; i++) {
      const answer = await reveal(page, i);
      console.log(`${id} Q${i + 1}: ${answer}`);
      assert.match(await predict(page, i, answer), /^✓ your prediction was right$/, `${id} Q${i + 1}: ${answer}`);
      // Retyped in capitals, with its spacing doubled: still right.
      assert.match(await predict(page, i, answer.toUpperCase().replaceAll(' ', '  ')), /^✓/, `${id} Q${i + 1}: ${answer}`);
      graded++;
    }
    console.log(`${id}: ${count} question(s) graded right`);
  }
  assert.ok(graded >= 13, `questions graded: ${graded}`);
  await done(page, errors);
});

test('a wrong prediction is marked wrong, one part of two partly right', async () => {
  const { page, errors } = await openPage();
  await openXv6Lesson(page, 'xv6-idt',
    await page.locator('option[value="xv6-idt"]').evaluate((o) => o.textContent.replace(/^x\d+\. /, '')));
  const answer = await reveal(page, 0);
  // The machine's two parts, "A for 64, B for 32": the first alone, then
  // the first with its number off by one.
  const [first] = answer.split(',');
  assert.match(await predict(page, 0, first), /^◐ partly right: 1 of 2 parts$/, answer);
  const off = first.replace(/^\d+/, (n) => String(Number(n) + 1));
  assert.match(await predict(page, 0, off), /^✗ your prediction differs$/, `${off} for ${answer}`);
  assert.equal(await question(page, 0).locator('.answer.wrong').count(), 1);
  await done(page, errors);
});
