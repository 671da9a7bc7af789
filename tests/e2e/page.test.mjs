// End-to-end tests of the release page in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDist } from './serve-dist.mjs';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../../dist');
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

let server;
let browser;

before(async () => {
  server = await serveDist(dist);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.getByRole('region', { name: 'Registers' }).waitFor();
  return { page, errors };
}

const eip = (page) => page.locator('[data-reg="eip"] .hex').textContent();

test('Step executes one instruction and EIP moves on', async () => {
  const { page, errors } = await openPage();
  assert.equal(await eip(page), '00001000');
  await page.getByRole('button', { name: 'Step' }).click();
  assert.equal(await eip(page), '00001005');
  // mov ecx, 5 changed ECX, and the panel marks it.
  const ecx = page.locator('[data-reg="ecx"]');
  assert.equal(await ecx.locator('.hex').textContent(), '00000005');
  assert.match(await ecx.getAttribute('class'), /changed/);
  await page.screenshot({ path: join(shots, 'step.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('Run goes to the halt and the console shows the output', async () => {
  const { page, errors } = await openPage();
  await page.getByRole('button', { name: 'Run' }).click();
  const console = page.getByRole('region', { name: 'Console' });
  assert.equal((await console.locator('pre').textContent()).trim(), '15');
  assert.match(await page.locator('#status').textContent(), /Halted/);
  assert.equal(await page.getByRole('button', { name: 'Step' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Reset' }).click();
  assert.equal(await eip(page), '00001000');
  assert.deepEqual(errors, []);
  await page.close();
});
