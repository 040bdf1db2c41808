// The web app's first screen over emulated networks (issue 19, item 5): for each round-trip
// time, a cold load (empty cache) and a warm reload, the time from navigation to the join
// screen being visible, and how many requests went to the network (cache hits do not count).
//
//   node bench/web_first_screen.mjs BASE_URL [RTT_MS ...]      (default RTTs: 0 40 150)
//
// Chromium's own throttling (DevTools protocol) adds the latency to every request and caps the
// link at 10 Mbit/s down, 2 Mbit/s up — a decent phone connection. Prints one JSON line per
// measurement. Loading `playwright-core` from the test clients' install keeps one copy.
//
// Two times for each load: `ms`, seen from here (navigation sent until the harness has found
// the screen visible, polling the page over the DevTools protocol), and `painted_ms`, the
// browser's own record of when the frame showing the screen was painted (Element Timing on the
// join screen's title; from the navigation's start). The second is what a user sees; the first
// adds the harness's own latency. The warm reload comes once the first load has settled: its
// service worker (web/sw.js) installed, as it is for anyone who comes back later.
import { chromium } from '../tests/clients/node_modules/playwright-core/index.mjs';

const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error('usage: node bench/web_first_screen.mjs BASE_URL [RTT_MS ...]');
  process.exit(2);
}
const rtts = process.argv.slice(3).map(Number);
const executablePath = process.env.PARLOR_CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });

async function measure(page, cdp, load) {
  const sent = new Set();
  const cached = new Set();
  const onSent = (e) => sent.add(e.requestId);
  const onCached = (e) => cached.add(e.requestId);
  const onResponse = (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache) cached.add(e.requestId);
  };
  cdp.on('Network.requestWillBeSent', onSent);
  cdp.on('Network.requestServedFromCache', onCached);
  cdp.on('Network.responseReceived', onResponse);
  const started = Date.now();
  await load();
  await page.locator('#join-view').waitFor({ state: 'visible', timeout: 60000 });
  await page.locator('#tab-register').waitFor({ state: 'visible', timeout: 60000 });
  const ms = Date.now() - started;
  const painted = await page.evaluate(() => new Promise((resolve) => {
    new PerformanceObserver((list, observer) => {
      const entry = list.getEntries().find((e) => e.identifier === 'join-screen');
      if (!entry) return;
      observer.disconnect();
      resolve(entry.renderTime || entry.loadTime);
    }).observe({ type: 'element', buffered: true });
    setTimeout(() => resolve(null), 5000);
  }));
  // Requests the first screen starts right after it shows (the session check) still count.
  await page.waitForTimeout(300);
  cdp.off('Network.requestWillBeSent', onSent);
  cdp.off('Network.requestServedFromCache', onCached);
  cdp.off('Network.responseReceived', onResponse);
  const network = [...sent].filter((id) => !cached.has(id)).length;
  return { ms, painted_ms: painted === null ? null : Math.round(painted), requests: sent.size, network };
}

for (const rtt of rtts.length ? rtts : [0, 40, 150]) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: rtt,
    downloadThroughput: (10 * 1024 * 1024) / 8,
    uploadThroughput: (2 * 1024 * 1024) / 8,
  });
  const cold = await measure(page, cdp, () => page.goto(`${base}/`, { waitUntil: 'commit' }));
  // Settled: the service worker is active (it is absent where the browser runs none).
  await page.evaluate(() => ('serviceWorker' in navigator
    ? Promise.race([navigator.serviceWorker.ready, new Promise((r) => { setTimeout(r, 10000); })])
    : null));
  const warm = await measure(page, cdp, () => page.reload({ waitUntil: 'commit' }));
  console.log(JSON.stringify({ rtt_ms: rtt, cold, warm }));
  await context.close();
}
await browser.close();
