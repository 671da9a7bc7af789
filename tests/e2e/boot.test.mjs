// End-to-end test of the boot lesson, as a student takes it: xv6 booted
// from its disk starts at the boot sector in real mode; the Code panel shows
// bootasm.S and a line step stays in it; the Registers panel says real mode
// and shows the segments; a reveal gives the far jump's CS as the GDT in
// bootasm.S implies; a breakpoint on bootmain stops in bootmain.c, in
// protected mode with paging off; at main paging is on; a share link of
// that moment reopens it in a new page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { shots, openPage, region, chooseLesson, done, ctx, watch, stepCount } from './helpers.mjs';

const realMode = () => /real mode/.test(document.querySelector('.cpu-mode')?.textContent ?? '');

test('the boot lesson: real mode at the boot sector, the far jump into 32-bit code, bootmain, main, and a link back', { timeout: 300_000 }, async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'xv6-boot');
  await page.waitForFunction(realMode, null, { timeout: 60000 });
  const code = region(page, 'Code');
  const line = async () => Number(await code.locator('.src.current .lineno').textContent());
  const where = () => code.locator('.where').textContent();
  assert.match(await where(), /^real mode bootasm\.S · eip 00007c00 · start/);
  assert.equal(await line(), 13);
  assert.match(await page.locator('.start-note').textContent(), /step 0, the boot sector's first instruction at 0000:7C00, in real mode/);
  const regs = region(page, 'Registers');
  assert.match(await regs.locator('.cpu-mode').textContent(), /^real mode · 16-bit code · CS:IP 0000:7C00 = linear 0x7c00/);
  assert.deepEqual(await regs.getByLabel('Segment registers').locator('tbody tr').allTextContents(),
    ['CS000000000000FFFF16', 'DS000000000000FFFF16', 'ES000000000000FFFF16', 'SS000000000000FFFF16']);
  assert.match(await region(page, 'Page walk').locator('.verdict').textContent(), /segment × 16 \+ offset/);
  // The panels of the kernel's memory say that paging is off, not that
  // the kernel owns every frame.
  assert.match(await region(page, 'Page tables').textContent(), /paging is off \(CR0\.PG = 0, the boot\)/);
  assert.match(await region(page, 'Physical frames').textContent(), /paging is off \(the boot\)/);
  assert.match(await region(page, 'IDT').textContent(), /real mode: an interrupt goes through the vector table at IDTR's base 0x0/);

  // `cli` is one line: Next line stops at `xorw %ax,%ax`, then the three
  // segment loads, then the A20 loop reads the controller's status.
  await code.getByRole('button', { name: 'Next line' }).click();
  await page.waitForFunction(() => Number(document.querySelector('.code .src.current .lineno')?.textContent) === 16);
  for (const next of [17, 18, 19, 24, 25]) {
    await code.getByRole('button', { name: 'Next line' }).click();
    await page.waitForFunction((l) => Number(document.querySelector('.code .src.current .lineno')?.textContent) === l, next, { timeout: 5000 })
      .catch(async (e) => { throw new Error(`Next line to ${next}: at ${await line()} (${await where()})`); });
  }
  assert.match(await region(page, 'Events').textContent(), /port input 0x64 → 0x0/);
  await page.screenshot({ path: join(shots, 'xv6-boot-real-mode.png') });

  // The far jump's CS, revealed: bootasm.S's GDT entry 1 is flat 32-bit code.
  const q = region(page, 'Lesson').locator('.question').nth(1);
  await q.getByRole('button', { name: 'Run to it and reveal' }).click();
  await q.locator('.answer').waitFor({ timeout: 60000 });
  assert.match(await q.locator('.answer').textContent(),
    /The machine says: 0x8 \(GDT entry 1\): 32-bit code, flat \(it spans all 4 GiB from address zero\) \(step \d+\)/);
  await page.getByRole('button', { name: /back to where you were/i }).click().catch(() => {});

  // A breakpoint on bootmain: its C, in protected mode, paging off.
  await code.getByLabel('Break at a function or file:line').fill('bootmain');
  await code.getByLabel('Break at a function or file:line').press('Enter');
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /bootmain\.c/.test(document.querySelector('.code .where')?.textContent ?? ''), null, { timeout: 60000 });
  assert.match(await where(), /^kernel bootmain\.c · eip 00007d[0-9a-f]{2} · bootmain/);
  assert.equal(await regs.locator('.cpu-mode').textContent(), 'protected mode · 32-bit code · paging off');
  assert.equal(await regs.getByLabel('Segment registers').count(), 0);

  // On to main: paging is on, and the Page walk splits the address 10/10/12.
  await code.getByLabel('Break at a function or file:line').fill('main');
  await code.getByLabel('Break at a function or file:line').press('Enter');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /^kernel main\.c /.test(document.querySelector('.code .where')?.textContent ?? ''), null, { timeout: 60000 });
  assert.equal(await regs.locator('.cpu-mode').textContent(), 'protected mode · 32-bit code · paging on');
  assert.equal(await region(page, 'Page walk').getByLabel('Address bits').count(), 1);
  const there = await stepCount(page);
  const at = await where();
  await page.screenshot({ path: join(shots, 'xv6-boot-main.png') });

  // The moment shared opens in a new page: the same step and place.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.server.url });
  await page.getByRole('button', { name: 'Share link' }).click();
  await page.locator('.notice', { hasText: `it opens step ${there}` }).waitFor();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(url, /lesson=xv6-boot/);
  const other = await ctx.browser.newPage({ viewport: { width: 1440, height: 900 } });
  const otherErrors = await watch(other);
  await other.goto(url);
  await other.locator('.notice', { hasText: 'opened a shared link' }).waitFor({ timeout: 60000 });
  assert.equal(await stepCount(other), there);
  assert.equal(await region(other, 'Code').locator('.where').textContent(), at);
  await done(other, otherErrors);
  await done(page, errors);
});
