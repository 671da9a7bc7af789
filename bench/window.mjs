// One measuring window in the page, shared by the page benchmarks: over
// `ms` of running, the animation frames the page's thread had (a frame it
// could paint), the frames that brought new views (the status line's step
// changed: a frame from the machine's thread painted), the steps run, and
// the main thread's longest task (the Long Tasks API reports tasks over
// 50 ms; none means every task was shorter).
export async function measureWindow(page, ms) {
  return page.evaluate(async (ms) => {
    const status = () => Number((document.querySelector('#status')?.textContent.match(/step (\d+)/) ?? [0, 0])[1]);
    let longest = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
    });
    try { observer.observe({ type: 'longtask' }); } catch { /* no Long Tasks API */ }
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
    return { frames, painted, steps: status() - start, longest };
  }, ms);
}
