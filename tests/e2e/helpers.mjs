// What the browser tests share: the server and browser, opening the page
// the way a student does, and the checks every test ends with (no page
// error, no Content-Security-Policy violation, no request that failed).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDist } from './serve-dist.mjs';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../../dist');
export const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

export const ctx = { server: null, browser: null };

before(async () => {
  ctx.server = await serveDist(dist);
  ctx.browser = await launch();
});

/**
 * Waits until the page shows every action sent: the machine runs in the
 * page's worker, so what a click asks is painted a frame (or, for long
 * work, its length) later. The page counts the actions it sent and the
 * last one its painted frame shows (`data-sent`, `data-applied` on the
 * body); once the frame shows every action sent up to the input's, the
 * page has answered it.
 */
export async function settled(page) {
  try {
    // The actions sent so far (the input's among them): later ones, such
    // as a hover the moving layout causes, are not waited for.
    const sent = await page.evaluate(() => Number(document.body?.getAttribute('data-sent') ?? 0));
    await page.waitForFunction((sent) => {
      const b = document.body;
      return !b || Number(b.getAttribute('data-applied') ?? 0) >= sent;
    }, sent, { timeout: 180000, polling: 'raf' });
  } catch (e) {
    // A page closed or navigated away has nothing left to show.
    if (!/closed|navigat|destroyed|context/i.test(String(e))) throw e;
  }
}

// Every input a test gives the page waits for the page to show its effect,
// as a student's next look at the page would.
const INPUTS = ['click', 'dblclick', 'fill', 'press', 'pressSequentially', 'type', 'selectOption', 'hover', 'check', 'uncheck', 'setInputFiles', 'dispatchEvent', 'tap'];
let patched = false;
const pageOfKeyboard = new WeakMap();
function settleAfterInputs(page) {
  pageOfKeyboard.set(page.keyboard, page);
  if (patched) return;
  patched = true;
  const wrap = (proto, pageOf) => {
    for (const name of INPUTS) {
      const original = proto[name];
      if (typeof original !== 'function') continue;
      proto[name] = async function (...args) {
        const result = await original.apply(this, args);
        const p = pageOf(this);
        if (p) await settled(p);
        return result;
      };
    }
  };
  wrap(Object.getPrototypeOf(page.locator('body')), (l) => l.page());
  wrap(Object.getPrototypeOf(page), (p) => p);
  wrap(Object.getPrototypeOf(page.keyboard), (k) => pageOfKeyboard.get(k));
}

after(async () => {
  await ctx.browser?.close();
  ctx.server?.close();
});

/** Watches a page for errors and CSP violations; `problems()` lists them. */
export async function watch(page) {
  settleAfterInputs(page);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Everything the page asks the server for exists (the icon included).
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

/** A new page (its own storage) at the page's address, ready. */
export async function openPage(width = 1440, height = 900, hash = '') {
  const page = await ctx.browser.newPage({ viewport: { width, height } });
  const errors = await watch(page);
  await page.goto(ctx.server.url + hash);
  await page.getByRole('region', { name: 'Registers' }).waitFor();
  return { page, errors };
}

export const region = (page, name) => page.getByRole('region', { name, exact: true });
export const eip = (page) => page.locator('[data-reg="eip"] .hex').textContent();
export const status = (page) => page.locator('#status').textContent();
export const step = (page) => page.getByRole('button', { name: 'Step', exact: true }).click();

/** The step count the status line shows. */
export async function stepCount(page) {
  return Number((await status(page)).match(/step (\d+)/)[1]);
}

/** Runs at full speed until the kernel says every process has exited. */
export async function runToEnd(page) {
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(
    () => document.querySelector('.console-text')?.textContent.includes('all processes have exited'),
    null,
    { timeout: 20000 },
  );
}

/** Runs at full speed until the status line matches `pattern`. */
export async function runUntilStatus(page, pattern) {
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction((p) => new RegExp(p).test(document.querySelector('#status')?.textContent ?? ''),
    pattern.source, { timeout: 20000 });
}

export async function chooseLesson(page, id) {
  await page.getByLabel('Lesson picker').selectOption(id);
  await page.locator('.lesson-title').waitFor();
}

/** Ends a test: no page errors and no CSP violations happened. */
export async function done(page, errors) {
  assert.deepEqual(errors, []);
  await page.close();
}

/** The lesson panel's question `i` (from 0). */
export const question = (page, i) => region(page, 'Lesson').locator('.question').nth(i);

/** Reveals question `i` (from 0) and returns the machine's answer as the page words it. */
export async function reveal(page, i) {
  await question(page, i).getByRole('button', { name: 'Run to it and reveal' }).click();
  const answer = question(page, i).locator('.answer');
  await answer.waitFor({ timeout: 60000 });
  const text = await answer.textContent();
  const m = text.match(/^The machine says: (.*?) \(step \d+\)/);
  assert.ok(m, `an answer reached at a step: ${text}`);
  return m[1];
}

/**
 * Types `prediction` for question `i` and returns the verdict the page shows.
 * The field is emptied first and the old verdict seen gone (an empty
 * prediction is not graded), so the verdict read is the new one's.
 */
export async function predict(page, i, prediction) {
  const field = page.getByLabel(`Your answer to question ${i + 1}`);
  const verdict = question(page, i).locator('.answer .verdict');
  await field.fill('');
  await verdict.waitFor({ state: 'detached' });
  await field.fill(prediction);
  await verdict.waitFor();
  return (await verdict.textContent()).trim();
}
