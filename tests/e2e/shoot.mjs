// Screenshots of the release page for looking at it as a student does:
// `node shoot.mjs OUT_DIR [WIDTHxHEIGHT] [projector] [dark] [lesson...]`.
// Not a test; a tool for reviewing what the page shows.
import { serveDist } from './serve-dist.mjs';
import { launch } from './browser.mjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const [out = 'screenshots', size = '1440x900', ...rest] = process.argv.slice(2);
const [width, height] = size.split('x').map(Number);
const projector = rest.includes('projector');
const dark = rest.includes('dark');
const lessons = rest.filter((r) => r !== 'projector' && r !== 'dark');
mkdirSync(out, { recursive: true });
const server = await serveDist(resolve(here, '../../dist'));
const browser = await launch();
const page = await browser.newPage({ viewport: { width, height } });
page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(server.url);
await page.getByRole('region', { name: 'Registers' }).waitFor();
if (projector) await page.keyboard.press('p');
if (dark) await page.keyboard.press('t');
for (const id of lessons.length ? lessons : ['memory-image']) {
  await page.getByLabel('Lesson picker').selectOption(id);
  // The boot lesson starts at the boot sector; the other xv6 lessons load
  // the build and boot to the shell's prompt first.
  if (id === 'xv6-boot') {
    await page.waitForFunction(() => /real mode/.test(document.querySelector('.cpu-mode')?.textContent ?? ''), null, { timeout: 30000 });
  } else if (id === 'vm-popek-goldberg') {
    // Pure trap and emulate starts at the hypervisor's first instruction.
    await page.waitForFunction(() => /Virtual machine/.test(document.body.textContent), null, { timeout: 60000 });
  } else if (id.startsWith('xv6') || id.startsWith('vm-')) {
    await page.waitForFunction(() => /\$ /.test(document.querySelector('.screen')?.textContent ?? ''), null, { timeout: 30000 });
  }
  await page.waitForTimeout(200);
  const name = join(out, `${id}-${size}${projector ? '-projector' : ''}${dark ? '-dark' : ''}.png`);
  await page.screenshot({ path: name, fullPage: !!process.env.FULL });
  console.log(name);
}
await browser.close();
server.close();
