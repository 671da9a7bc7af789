// End-to-end tests of the virtualization lessons in the release page, as a
// student goes through them: xv6 boots to its prompt under the teaching
// hypervisor, `ls` answers, the Virtual machine panel shows the real CPU
// beside the virtual one, the VM exits panel the exits of a typed command,
// the Three page tables panel one address through the guest's tables, the
// hypervisor's map and the shadow; the pure trap-and-emulate lesson ends in
// xv6's panic; each answer is revealed and graded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { shots, openPage, region, chooseLesson, done, reveal, predict } from './helpers.mjs';

const screenText = (page) => page.locator('.screen').innerText();
/** Chooses a virtualization lesson and waits for xv6's prompt under the hypervisor. */
async function openVm(page, lesson) {
  await chooseLesson(page, lesson);
  await page.waitForFunction(
    () => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''),
    null, { timeout: 60000 },
  );
}

test('xv6 boots to its prompt under the hypervisor, ls works, and the panels show the virtual machine', async () => {
  const { page, errors } = await openPage();
  const started = Date.now();
  await openVm(page, 'vm-guest');
  console.log(`vm-guest: the prompt ${Date.now() - started} ms after choosing the lesson`);
  assert.match(await page.locator('.start-note').textContent(), /as the guest of the teaching hypervisor/);
  // The virtualization panels are there, and say what the guest believes.
  const vm = region(page, 'Virtual machine');
  const sides = vm.getByLabel('Real and virtual CPU');
  assert.match(await sides.locator('tr', { hasText: 'ring (CPL)' }).textContent(), /ring 1\s*ring 0/);
  assert.match(await sides.locator('tr', { hasText: 'CR3' }).textContent(), /host-physical.*guest-physical/);
  assert.match(await vm.textContent(), /224 MiB at host-physical 0x10000000/);
  // Predict, then reveal: the machine's answer typed back is right.
  const a1 = await reveal(page, 0);
  assert.match(a1, /^ring 1, ring 0:/);
  assert.match(await predict(page, 0, '1, 0'), /^✓/);
  assert.match(await predict(page, 0, '0, 0'), /^◐|^✗/);
  // Run: ls lists the disk, as xv6 alone does.
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  const ran = Date.now();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /console +3 \d+ 0\s*\n\$/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 60000 });
  console.log(`vm-guest: ls answered ${Date.now() - ran} ms after Run`);
  const listing = await screenText(page);
  for (const name of ['README', 'cat', 'usertests']) assert.match(listing, new RegExp(`\\n${name} +2 `));
  await page.getByRole('button', { name: 'Pause' }).click();
  // The exits: counted by reason, the last ones listed with the guest's
  // instruction and its C line.
  const counts = vm.getByLabel('Exits by reason');
  const count = async (reason) => Number((await counts.locator(`tr[data-reason="${reason}"] .count`).textContent()).trim());
  assert.ok(await count('Patched') > 1000, 'patched pushfl/popfl exits');
  assert.ok(await count('PortIo') > 10, 'port I/O exits');
  assert.ok(await count('ShadowFill') > 100, 'hidden page faults');
  const exits = region(page, 'VM exits');
  assert.ok(await exits.locator('tr.exit').count() > 10);
  await exits.getByLabel(/hide the patched/).check();
  assert.equal(await exits.locator('tr.exit[data-reason="Patched"]').count(), 0);
  assert.ok(await exits.locator('tr.exit').count() > 0, 'exits other than the patched ones');
  await page.screenshot({ path: join(shots, 'vm-guest-ls.png') });
  await done(page, errors);
});

test('the shadow lesson follows an address through the three page tables', async () => {
  const { page, errors } = await openPage();
  await openVm(page, 'vm-shadow');
  const a = await reveal(page, 0);
  const [mapped, filled] = a.split(':')[0].split(',').map((n) => Number(n.trim()));
  assert.ok(mapped > filled && filled > 0, a);
  const three = region(page, 'Three page tables');
  const rows = three.getByLabel('User pages in the three tables').locator('tbody tr');
  // Every page of the table is a row (exec's guard page too, which is no
  // user page: the answer counts only user pages); the shadow holds the
  // ones the answer says.
  assert.equal(await rows.count(), mapped + 1);
  assert.match(await rows.filter({ hasText: 'not a user page' }).textContent(), /missing/);
  assert.equal(await rows.count() - await rows.locator('text=missing').count(), filled);
  // The Page walk panel says the MMU walked the shadow, not xv6's tables.
  assert.match(await region(page, 'Page walk').textContent(), /shadow page directory/);
  // A typed address is followed through all three.
  await region(page, 'Page walk').getByLabel('Virtual address to walk').fill('0');
  await region(page, 'Page walk').getByLabel('Virtual address to walk').press('Enter');
  const follow = three.getByLabel('One address through the three tables');
  await follow.waitFor();
  assert.match(await follow.textContent(), /guest-physical 0x[0-9a-f]+ \+ base 0x10000000 = host-physical 0x[0-9a-f]+/);
  await page.screenshot({ path: join(shots, 'vm-shadow.png') });
  await done(page, errors);
});

test('pure trap and emulate: xv6 panics where pushfl reads the real interrupt flag', async () => {
  const { page, errors } = await openPage();
  await chooseLesson(page, 'vm-popek-goldberg');
  await page.waitForFunction(() => /hypervisor's first instruction/.test(document.querySelector('.start-note')?.textContent ?? ''), null, { timeout: 60000 });
  const chain = await reveal(page, 0);
  assert.match(chain, /^mycpu ← cpuid ← seginit ← main:/);
  const flags = await reveal(page, 1);
  assert.match(flags, /^1 \(enabled\), 0 \(disabled\):/);
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /panic: mycpu called with interrupts enabled/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 60000 });
  await done(page, errors);
});
