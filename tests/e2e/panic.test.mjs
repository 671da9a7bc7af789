// When osviz stops: a panic shows a notice over the page (never a blank
// page) with a Reload button that brings the student's draft back, and a
// page served without xv6 says how to get it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { shots, openPage, chooseLesson, done } from './helpers.mjs';

const DRAFT = '%include "user.inc"\n; my draft, typed before the panic\nstart: inc eax\n jmp start\n';

test('a panic shows what stopped and a Reload button, and the draft survives the reload', async () => {
  // ?panic-test is the test-only way in: window.osvizForcePanic exists only with it.
  const { page, errors } = await openPage(1440, 900, '?panic-test');
  await chooseLesson(page, 'playground');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  const editor = page.getByLabel('Program editor');
  await editor.fill(DRAFT);
  // The draft is saved as it is typed (a moment after the last key).
  await page.waitForFunction(
    (d) => (localStorage.getItem('osviz.settings') ?? '').includes(JSON.stringify(d).slice(1, -1)),
    DRAFT, { timeout: 5000 },
  );
  // The machine runs while it stops: its timer must not call into the dead page.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const thrown = await page.evaluate(() => {
    try {
      window.osvizForcePanic('forced by the panic test');
      return 'no panic';
    } catch (e) {
      return String(e);
    }
  });
  assert.match(thrown, /unreachable|RuntimeError/);
  const notice = page.getByRole('alertdialog', { name: 'osviz stopped' });
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /The emulator panicked: forced by the panic test \(at web\/src\/panic\.rs:\d+\)/);
  assert.match(text, /lesson playground at step \d+/);
  assert.match(text, /drafts and settings are saved/);
  await page.screenshot({ path: join(shots, 'panic-notice.png') });
  // A while later the page is as the panic left it (no error from its timers).
  await page.waitForTimeout(300);
  assert.equal(await page.locator('.panic-notice').count(), 1);
  // Yew is dead: the button's listener comes from Rust (no inline handler, CSP holds).
  await notice.getByRole('button', { name: 'Reload' }).click();
  await page.waitForFunction(() => !document.getElementById('panic-notice')
    && document.querySelector('[aria-label="Program editor"]'), null, { timeout: 10000 });
  assert.equal(await page.getByLabel('Program editor').inputValue(), DRAFT);
  assert.equal(await page.locator('.lesson-title').count(), 1);
  await done(page, errors);
});

test('without ?panic-test there is no way to force a panic', async () => {
  const { page, errors } = await openPage();
  assert.equal(await page.evaluate(() => typeof window.osvizForcePanic), 'undefined');
  await done(page, errors);
});

test('a page served without xv6 says how to get it and offers to open a build', async () => {
  const { page, errors } = await openPage();
  // The server of a page built without xv6: its files are not there.
  await page.route('**/xv6/*', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await chooseLesson(page, 'xv6-idt');
  const notice = page.locator('.notice-text');
  await page.waitForFunction(() => /could not be loaded/.test(document.querySelector('.notice-text')?.textContent ?? ''));
  const text = await notice.textContent();
  assert.match(text, /this page was built without xv6 \(xv6\/kernel: HTTP 404\)/);
  assert.match(text, /XV6_SRC=\/path\/to\/xv6-public make serve/);
  assert.equal(await page.getByLabel('Open your own xv6 build').count(), 1);
  await page.screenshot({ path: join(shots, 'no-xv6-notice.png') });
  // The 404s were this test's own.
  await done(page, errors.filter((e) => !/^HTTP 404: .*\/xv6\//.test(e)));
});
