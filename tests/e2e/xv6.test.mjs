// End-to-end tests of xv6 in the release page, as a student uses it:
// choose an xv6 lesson, type at the shell, watch the processes, break in
// sys_write and read its trap frame and C, step by C line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shots, openPage, region, chooseLesson, done } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const screenText = (page) => page.locator('.screen').innerText();

/** Chooses an xv6 lesson and waits for xv6's prompt on the text screen. */
async function openXv6(page, lesson) {
  await chooseLesson(page, lesson);
  await page.waitForFunction(
    () => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''),
    null, { timeout: 30000 },
  );
}

async function fullSpeed(page) {
  await page.getByLabel('Speed').selectOption({ label: 'full speed' });
}

test('xv6 boots to its prompt, ls answers typed keys, and the processes show who runs', async () => {
  const { page, errors } = await openPage();
  await openXv6(page, 'xv6-idt');
  assert.match(await page.locator('.start-note').textContent(), /xv6's shell prompt/);
  const procs = region(page, 'Processes');
  assert.match(await procs.textContent(), /1\s*init\s*SLEEPING/);
  assert.match(await procs.textContent(), /2\s*sh\s*SLEEPING/);
  await page.screenshot({ path: join(shots, 'xv6-prompt.png') });
  // A breakpoint at the end of exec (freevm of the old image) catches ls
  // by name, with init and sh asleep.
  await region(page, 'Code').getByLabel('Break at a function or file:line').fill('freevm');
  await region(page, 'Code').getByLabel('Break at a function or file:line').press('Enter');
  await fullSpeed(page);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.screen').click();
  await page.keyboard.type('ls\n');
  await page.waitForFunction(() => /breakpoint/i.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 30000 });
  const table = await procs.textContent();
  assert.match(table, /1\s*init\s*SLEEPING/);
  assert.match(table, /2\s*sh\s*SLEEPING/);
  assert.match(table, /3\s*ls\s*RUNNING/);
  // Clear the breakpoint (the lesson panel's list) and let ls answer.
  await region(page, 'Lesson').getByRole('button', { name: /Remove the breakpoint/ }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /console +3 \d+ 0\s*\n\$/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 30000 });
  const listing = await screenText(page);
  for (const name of ['README', 'cat', 'usertests', 'zombie']) assert.match(listing, new RegExp(`\\n${name} +2 `));
  // Paused, every panel is current, the ones out of view too (running,
  // the page builds only what is in view, and the console).
  await page.getByRole('button', { name: 'Pause' }).click();
  // The timeline: sh slept on console input until the keyboard's interrupt woke it.
  const sleeps = await region(page, 'Timeline').getByLabel('Sleeps').textContent();
  assert.match(sleeps, /pid 2 sh slept on input\.r \(console input\) from before step 14100000 to \d+, woken by interrupt 33 \(keyboard \(IRQ 1\)\)/);
  // ...and waited for ls, whose exit (a system call) woke it.
  assert.match(sleeps, /pid 2 sh slept on ptable\.proc\[\d+\] \(its child's exit, in wait\) from step \d+ to \d+, woken by pid 3 ls in a system call/);
  // ls is answered: no request waits for the disk; xv6's clock has ticked.
  const timeline = await region(page, 'Timeline').textContent();
  assert.match(timeline, /Disk queueempty: no request waits for the disk/);
  assert.match(timeline, /ticks = [1-9]\d*: timer interrupts/);
  // The frames panel draws all of xv6's 224 MiB.
  assert.match(await region(page, 'Physical frames').locator('h2').textContent(), /57344 \(224 MiB\)/);
  // ...one pixel a frame, so a close-up shows a MiB of them as cells a
  // student can see and point at: where the processes' frames are.
  const frames = region(page, 'Physical frames');
  const owned = frames.locator('.close-up .frame:not([data-owner="free"]):not([data-owner="kernel"]):not([data-owner="pt"])');
  assert.ok(await owned.count() >= 3, 'the close-up shows processes\' frames');
  const cell = await owned.first().boundingBox();
  assert.ok(cell.width >= 6 && cell.height >= 6, `a close-up cell is ${cell.width} x ${cell.height} px`);
  await owned.first().hover();
  assert.match(await frames.locator('.close-up-title').first().textContent(), /Close-up: MiB \d+, frames 0x[0-9a-f]+–0x[0-9a-f]+ \(the frame pointed at\)/);
  assert.ok(await frames.locator('.close-up .frame.linked').count() >= 1);
  await page.screenshot({ path: join(shots, 'xv6-ls.png') });
  await region(page, 'Timeline').screenshot({ path: join(shots, 'xv6-timeline.png') });
  await done(page, errors);
});

/** A C function's opening and closing braces (1-based lines) in the served build's source. */
function braces(file, signature) {
  const sources = JSON.parse(readFileSync(resolve(here, '../../dist/xv6/sources.json'), 'utf8'));
  const lines = sources[file].split('\n').map((l) => l.trim());
  const name = lines.indexOf(signature);
  const open = lines.indexOf('{', name) + 1;
  const close = lines.indexOf('}', name) + 1;
  assert.ok(name >= 0 && open > 0 && close > open, `${signature} in ${file}`);
  return { open, close };
}

test('a breakpoint on sys_write shows the trap frame slot by slot and the C line; C lines step', async () => {
  const { page, errors } = await openPage();
  await openXv6(page, 'xv6-syscall');
  const code = region(page, 'Code');
  await code.getByLabel('Break at a function or file:line').fill('sys_write');
  await code.getByLabel('Break at a function or file:line').press('Enter');
  await fullSpeed(page);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /breakpoint/i.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 30000 });
  assert.match(await code.locator('.where').textContent(), /sysfile\.c · eip 801[0-9a-f]+ · sys_write/);
  assert.match(await code.getByLabel('Call stack').textContent(), /called from syscall \(syscall\.c:\d+\).*called from trap \(trap\.c:\d+\)/);
  // The trap frame: trapno 0x40 by the stub, the user's EIP and ESP by the CPU.
  const stack = region(page, 'Kernel stack');
  const text = await stack.textContent();
  assert.match(text, /trap frame \(vector 0x40, system call \(T_SYSCALL\)\)/);
  assert.match(text, /trapno\s*00000040\s*vector stub/);
  assert.match(text, /eip\s*0000[0-9a-f]{4}\s*CPU/);
  assert.match(text, /esp\s*0000[0-9a-f]{4}\s*CPU/);
  assert.match(text, /edi\s*[0-9a-f]{8}\s*alltraps/);
  await page.screenshot({ path: join(shots, 'xv6-sys-write.png') });
  // The breakpoint stops past the prologue, not on the opening brace; Next
  // line stays in sys_write on another line of its body (not the closing
  // brace: the body is not run whole); Step line goes into a call (or back
  // to the caller); Step out returns.
  const { open, close } = braces('sysfile.c', 'sys_write(void)');
  const line = () => code.locator('.src.current .lineno').textContent();
  const at = await line();
  assert.notEqual(Number(at), open);
  assert.match(await code.locator('.where').textContent(), /sys_write\+\d+/);
  await code.getByRole('button', { name: 'Next line' }).click();
  await page.waitForFunction((l) => document.querySelector('.code .src.current .lineno')?.textContent !== l, at);
  assert.match(await code.locator('.where').textContent(), /sys_write/);
  const next = Number(await line());
  assert.ok(![open, close].includes(next), `Next line went to ${next} (braces ${open}, ${close})`);
  await code.getByRole('button', { name: 'Step line' }).click();
  await code.getByRole('button', { name: 'Step out' }).click();
  await page.waitForFunction(() => !/sysfile\.c · .* · sys_write$/.test(document.querySelector('.code .where')?.textContent ?? ''));
  // Step back undoes a whole line step.
  await page.getByRole('button', { name: 'Step back' }).click();
  await done(page, errors);
});

test('a course opens its own build: a bad file is named and the typed line kept, a kernel without DWARF still boots', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const build = join(import.meta.dirname, '../../target/xv6');
  const tmp = mkdtempSync(join(tmpdir(), 'osviz-open-'));
  const { page, errors } = await openPage();
  await openXv6(page, 'xv6-shell');
  const files = page.getByLabel('xv6 build files');
  // A half-typed line, then a 100-byte fs.img: refused before anything is
  // replaced, so the running xv6 keeps the line and the student finishes it.
  // (The lesson types `ls` at its start: the line comes at the prompt after it.)
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /console +3 \d+ 0\s*\n\$ \s*$/.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 30000 });
  await page.locator('.screen').click();
  await page.keyboard.type('ech');
  await page.waitForFunction(() => /\$ ech\s*$/.test(document.querySelector('.screen')?.innerText ?? ''));
  writeFileSync(join(tmp, 'fs.img'), Buffer.alloc(100));
  await files.setInputFiles([join(build, 'kernel'), join(tmp, 'fs.img')]);
  await page.waitForFunction(() => /100 bytes is too small for an xv6 file system/.test(document.querySelector('.notice')?.textContent ?? ''));
  await page.locator('.screen').click();
  await page.keyboard.type('o hi\n');
  await page.waitForFunction(() => /\$ echo hi\s*\nhi\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 30000 });
  assert.match(await page.locator('.start-note').textContent(), /the xv6 this page serves/);
  // Not a kernel: said, and the running xv6 stays.
  writeFileSync(join(tmp, 'kernel'), 'this is not an ELF file\n');
  await files.setInputFiles([join(tmp, 'kernel'), join(build, 'fs.img')]);
  await page.waitForFunction(() => /not an ELF file/.test(document.querySelector('.notice')?.textContent ?? ''));
  assert.match(await page.locator('.start-note').textContent(), /the xv6 this page serves/);
  // A kernel built without -g: it boots, and the page says why the process table is empty.
  const stripped = join(tmp, 'stripped', 'kernel');
  execFileSync('mkdir', ['-p', join(tmp, 'stripped')]);
  execFileSync('objcopy', ['--strip-debug', join(build, 'kernel'), stripped]);
  await files.setInputFiles([stripped, join(build, 'fs.img')]);
  await page.waitForFunction(() => /opened your build/.test(document.querySelector('.notice')?.textContent ?? ''));
  assert.match(await page.locator('.notice').textContent(), /no DWARF/);
  assert.match(await page.locator('.limitation').textContent(), /built without -g/);
  await page.waitForFunction(() => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''));
  assert.match(await page.locator('.start-note').textContent(), /your build \(kernel and fs\.img, no sources\)/);
  await done(page, errors);
});

test('a share link to an xv6 lesson opens it once xv6 has loaded, with the picker on it', async () => {
  const { page, errors } = await openPage(1440, 900, '#lesson=xv6-cr3-tlb');
  await page.waitForFunction(() => /init: starting sh\s*\n\$ /.test(document.querySelector('.screen')?.innerText ?? ''), null, { timeout: 30000 });
  assert.equal(await page.getByLabel('Lesson picker').inputValue(), 'xv6-cr3-tlb');
  assert.match(await page.locator('.lesson-title').textContent(), /CR3 and the TLB/);
  await done(page, errors);
});
