// The harness every browser script shares: bounded steps that name what failed, assertions,
// the chat-view and composer helpers (`waitForChat`, `send`), screenshots, failure
// screenshots of the pages involved, a watchdog, and the exit codes
// (0 success, 1 first failed check, 3 overrun; the scripts themselves use 2 for bad usage).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

export const STEP_MS = 8000;
export const CHROMIUM = process.env.PARLOR_CHROMIUM || '/usr/bin/chromium';

export class CheckFailed extends Error {}

export const log = (line) => console.log(line);
export const ok = (what) => log(`  ok - ${what}`);
export const digits = (n) => String(Math.floor(Math.random() * 10 ** n)).padStart(n, '0');

export function assert(cond, message, detail) {
  if (!cond) throw new CheckFailed(detail === undefined ? message : `${message} (got: ${JSON.stringify(detail)})`);
}

/**
 * The arguments of a script run as `node SCRIPT BASE_URL [OUT_DIR]`: the base URL without a
 * trailing slash, and the screenshot directory (created; a temporary one by default). Bad
 * usage exits with 2.
 */
export function scriptArgs(script) {
  const base = process.argv[2];
  if (!base || !/^https?:\/\//.test(base)) {
    console.error(`usage: node ${script} BASE_URL [OUT_DIR]`);
    process.exit(2);
  }
  const name = script.replace(/\.mjs$/, '');
  const outDir = resolve(process.argv[3] || join(tmpdir(), 'parlor-browser-shots', name));
  mkdirSync(outDir, { recursive: true });
  return { baseUrl: base.replace(/\/+$/, ''), outDir };
}

/** Waits for the chat view of `name`: visible, `#me` is the name, state online, no join view. */
export async function waitForChat(page, name) {
  await page.locator('#chat-view').waitFor({ state: 'visible', timeout: STEP_MS });
  await page.locator('#conn-state[data-state="online"]').waitFor({ state: 'attached', timeout: STEP_MS });
  const me = (await page.locator('#me').textContent({ timeout: STEP_MS })) ?? '';
  assert(me.trim() === name, `#me should be ${name}`, me);
  assert(await page.locator('#join-view').isHidden(), '#join-view should be hidden');
}

/** Registers `name` from the join screen at `baseUrl` and waits for the chat. */
export async function register(page, baseUrl, name, password) {
  await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
  await page.click('#tab-register');
  await page.locator('#register-username').waitFor({ state: 'visible' });
  await page.fill('#register-username', name);
  await page.fill('#register-password', password);
  await page.click('#register-submit');
  await waitForChat(page, name);
}

/**
 * Creates a 1-on-1 room in the host dialog (the sidebar's button) and checks its code and share
 * link; returns `{code, link, item}` (`item`: the room's entry in the dialog).
 */
export async function createHostedRoom(page, baseUrl) {
  await page.click('#ephemeral-host');
  await page.locator('#host-dialog').waitFor({ state: 'visible' });
  await page.click('#host-create');
  const item = page.locator('#host-rooms .host-room').first();
  await item.waitFor({ state: 'visible' });
  const code = await item.getAttribute('data-code');
  assert(/^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}$/.test(code), 'a 4-character code', code);
  const link = await item.locator('.host-link').inputValue();
  assert(link === `${baseUrl}/room/${code}`, 'the share link is /room/<CODE>', link);
  return { code, link, item };
}

/** Types `text` into the composer, presses Enter, and waits until the composer is empty. */
export async function send(page, text) {
  const composer = page.locator('#composer');
  await composer.fill(text, { timeout: STEP_MS });
  await composer.press('Enter', { timeout: STEP_MS });
  await page.waitForFunction(() => document.querySelector('#composer').value === '', null, { timeout: STEP_MS });
}

/**
 * One script's run: `launch()` starts Chromium, `openPage(context, label)` opens a page that
 * steps name by its label (its uncaught errors and dialogs fail the run), `step` checks, and
 * `finish(run)` runs it all to an exit code.
 */
/**
 * Posts `count` messages (`filler <i> <mark>`) to stored room `room` over REST with the page's
 * session, one after the other, so that older messages fall outside the first loaded page.
 */
export async function postFillers(page, room, count, mark) {
  const failed = await page.evaluate(async ([slug, n, tag]) => {
    for (let i = 1; i <= n; i += 1) {
      const answer = await fetch(`/api/rooms/${slug}/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `filler ${i} ${tag}` }),
      });
      if (answer.status !== 201) return `${answer.status} ${await answer.text()}`;
    }
    return null;
  }, [room, count, mark]);
  assert(failed === null, 'every filler is stored', failed);
}

export function createHarness({ script, outDir, deadlineMs }) {
  const pages = {};
  const problems = [];
  let current = null; // label of the page the running step is about
  let browser = null;

  /** Runs one bounded step; a timeout or assertion inside becomes a CheckFailed naming it. */
  async function step(label, what, fn) {
    current = label;
    try {
      const result = await fn(pages[label]);
      if (problems.length) throw new CheckFailed(problems.join('; '));
      ok(`${label}: ${what}`);
      return result;
    } catch (err) {
      if (err instanceof CheckFailed) throw new CheckFailed(`${label}: ${what}: ${err.message}`);
      throw new CheckFailed(`${label}: ${what}: ${String(err && err.message).split('\n')[0]}`);
    }
  }

  async function shot(page, file, opts = {}) {
    const path = join(outDir, file);
    await page.screenshot({ path, timeout: 5000, ...opts });
    log(`  screenshot ${path}`);
  }

  /** failure.png of the page being checked, failure-other.png of one other. */
  async function failureShots() {
    const first = pages[current] ? current : Object.keys(pages)[0];
    const order = first ? [first, ...Object.keys(pages).filter((l) => l !== first)] : [];
    for (const [i, label] of order.slice(0, 2).entries()) {
      const file = i === 0 ? 'failure.png' : 'failure-other.png';
      try {
        await shot(pages[label], file);
        log(`  (${file} is page ${label})`);
      } catch (err) {
        log(`  could not take ${file}: ${err && err.message}`);
      }
    }
  }

  /**
   * Debian's Chromium, headless, with the flags every script uses and the script's own `args`
   * (such as a fake microphone).
   */
  async function launch({ args = [] } = {}) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 15000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
    });
    ok(`launched ${CHROMIUM} (Chromium ${browser.version()})`);
    return browser;
  }

  /**
   * A page in `context` known as `label`: uncaught errors and dialogs fail the run, console
   * errors are logged unless `expected` (the HTTP refusals the script provokes) matches them.
   */
  async function openPage(context, label, expected = /status of 401/) {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (err) => problems.push(`${label}: uncaught page error: ${err.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`${label}: unexpected ${dialog.type()} dialog: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !expected.test(msg.text())) log(`  [${label} console.error] ${msg.text()}`);
    });
    pages[label] = page;
    return page;
  }

  const closeBrowser = () => Promise.race([browser.close(), new Promise((r) => setTimeout(r, 3000))]);

  /** Runs `run` under the watchdog and exits with the run's code. */
  async function finish(run) {
    const watchdog = setTimeout(async () => {
      console.log(`FAIL: ${script} did not finish within ${deadlineMs} ms (last page: ${current})`);
      const bail = setTimeout(() => process.exit(3), 1500);
      await failureShots().catch(() => {});
      clearTimeout(bail);
      process.exit(3);
    }, deadlineMs);
    const started = Date.now();
    try {
      await run();
      log(`all checks passed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      clearTimeout(watchdog);
      await closeBrowser();
      process.exit(0);
    } catch (err) {
      console.log(`FAIL: ${err instanceof CheckFailed ? err.message : `unexpected ${err && err.stack}`}`);
      if (problems.length) console.log(`  page problems: ${problems.join('; ')}`);
      await failureShots();
      clearTimeout(watchdog);
      if (browser) await closeBrowser().catch(() => {});
      process.exit(1);
    }
  }

  return { step, shot, launch, openPage, finish };
}
