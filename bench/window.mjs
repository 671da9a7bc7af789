// One measuring window in the page, shared by the page benchmarks: over
// `ms` of running, the animation frames the page's thread had (a frame it
// could paint), the frames that brought new views (the status line's step
// changed: a frame from the machine's thread painted), the steps run, and
// the main thread's longest task (the Long Tasks API reports tasks over
// 50 ms; none means every task was shorter).
//
// `watchMessages(page)`, called before the page loads, counts what the
// machine's worker sends the page (messages and their characters), so a
// window also says how many bytes of views a frame carried.
export async function watchMessages(page) {
  await page.addInitScript(() => {
    window.__osvizMessages = { count: 0, chars: 0 };
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          window.__osvizMessages.count += 1;
          window.__osvizMessages.chars += typeof e.data === 'string' ? e.data.length : 0;
        });
      }
    };
  });
}

export async function measureWindow(page, ms) {
  return page.evaluate(async (ms) => {
    const status = () => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]);
    let longest = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
    });
    try { observer.observe({ type: 'longtask' }); } catch { /* no Long Tasks API */ }
    const messages = () => ({ ...(window.__osvizMessages ?? { count: 0, chars: 0 }) });
    const m0 = messages();
    const start = status();
    let frames = 0;
    let painted = 0;
    let last = start;
    const t0 = performance.now();
    await new Promise((done) => {
      const tick = () => {
        frames += 1;
        const now = status();
        if (now !== last) { painted += 1; last = now; }
        if (performance.now() - t0 < ms) requestAnimationFrame(tick); else done();
      };
      requestAnimationFrame(tick);
    });
    observer.disconnect();
    const m1 = messages();
    return { frames, painted, steps: status() - start, longest, messages: m1.count - m0.count, chars: m1.chars - m0.chars };
  }, ms);
}

// Waits until the page shows every action sent so far (the machine's
// worker answers a frame later; `data-sent` and `data-applied` on the body
// count them; a page without a worker has neither).
export async function settled(page) {
  const sent = await page.evaluate(() => Number(document.body?.getAttribute('data-sent') ?? 0));
  await page.waitForFunction((sent) => Number(document.body?.getAttribute('data-applied') ?? 0) >= sent, sent, { timeout: 60000, polling: 'raf' });
}
