// What the two settings scripts (browser_settings.mjs, browser_settings_account.mjs) share:
// signing up and in through the join screen, opening the settings panel at a tab, reading the
// stored preferences, waiting for a message, and the contrast arithmetic of WCAG 2.2.

import { STEP_MS, assert, waitForChat } from './harness.mjs';

export const THEMES = ['midnight-purple', 'crimson-noir', 'ocean-deep', 'ember', 'neon-green', 'cyberpunk',
  'rose-gold', 'arctic', 'daylight', 'midnight-blue'];

/** The lobby's member entry of `name` (its menu button inside). */
export const lobbyMember = (name) => `#members .members[data-room="lobby"] .member[data-name="${name}"]`;

export { register } from './harness.mjs';

export async function login(page, baseUrl, name, password) {
  await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
  await page.click('#tab-login');
  await page.locator('#login-username').waitFor({ state: 'visible' });
  await page.fill('#login-username', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await waitForChat(page, name);
}

/** Opens the settings panel with the gear, at tab `tab` (account, appearance, privacy, …). */
export async function openSettings(page, tab) {
  if (!await page.locator('#prefs-dialog').isVisible()) await page.click('#prefs-open');
  await page.locator('#prefs-dialog').waitFor({ state: 'visible' });
  await page.click(`#prefs-tab-${tab}`);
  await page.locator(`#prefs-panel-${tab}`).waitFor({ state: 'visible' });
  const selected = await page.getAttribute(`#prefs-tab-${tab}`, 'aria-selected');
  assert(selected === 'true', `the ${tab} tab is selected`, selected);
}

export async function closeSettings(page) {
  await page.click('#prefs-close');
  await page.locator('#prefs-dialog').waitFor({ state: 'hidden' });
}

/** The preferences the server holds for the page's account. */
export const storedPreferences = (page) => page.evaluate(async () => {
  const answer = await fetch('/api/user/@me/preferences', { cache: 'no-store' });
  return { status: answer.status, body: answer.ok ? await answer.json() : await answer.text() };
});

/** Waits until the server holds the fields of `want` in the page's account's preferences. */
export async function waitForStored(page, want) {
  const deadline = Date.now() + STEP_MS;
  let last = null;
  while (Date.now() < deadline) {
    last = await storedPreferences(page);
    if (last.status === 200 && Object.entries(want).every(([key, value]) => last.body[key] === value)) return last.body;
    await new Promise((resolve) => { setTimeout(resolve, 200); });
  }
  throw new Error(`the stored preferences never matched ${JSON.stringify(want)} (last: ${JSON.stringify(last)})`);
}

/** Waits until the lobby log shows a message with exactly `text` by `author`. */
export function waitForLobbyMessage(page, text, author) {
  return page.waitForFunction(([want, who]) => {
    for (const item of document.querySelectorAll('#messages .room-log[data-room="lobby"] .message')) {
      const body = item.querySelector('.message-text');
      if (body && body.textContent === want && item.dataset.author === who) return true;
    }
    return false;
  }, [text, author], { timeout: STEP_MS });
}

/** Whether the lobby log holds a message with `text` (anywhere in its text). */
export const lobbyHas = (page, text) => page.evaluate((want) => [...document.querySelectorAll(
  '#messages .room-log[data-room="lobby"] .message-text')].some((el) => el.textContent.includes(want)), text);

/**
 * Runs in the page: WCAG 2.2 contrast of the theme in effect, from the computed colours of its
 * custom properties (text pairs need 4.5:1, controls and indicators 3:1), and of a few drawn
 * controls against what they sit on. Returns the failing pairs as sentences.
 */
export function measureContrast() {
  const probe = document.createElement('span');
  document.body.append(probe);
  const rgb = (value) => {
    probe.style.color = '';
    probe.style.color = value;
    const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(getComputedStyle(probe).color);
    return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
  };
  const lum = ({ r, g, b }) => {
    const [x, y, z] = [r, g, b].map((v) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * x + 0.7152 * y + 0.0722 * z;
  };
  const ratio = (a, b) => { const [hi, lo] = [lum(a), lum(b)].sort((p, q) => q - p); return (hi + 0.05) / (lo + 0.05); };
  const root = getComputedStyle(document.documentElement);
  const token = (name) => rgb(root.getPropertyValue(`--${name}`).trim());
  const bgs = ['bg', 'surface', 'surface-2'];
  const pairs = [];
  for (const fg of ['text', 'muted', 'accent', 'danger', 'warning', 'online']) for (const bg of bgs) pairs.push([fg, bg, 4.5]);
  for (const fg of ['text', 'muted', 'accent']) pairs.push([fg, 'mention-bg', 4.5], [fg, 'info-bg', 4.5]);
  pairs.push(['text', 'danger-bg', 4.5], ['danger', 'danger-bg', 4.5], ['mention', 'mention-bg', 4.5],
    ['surface', 'mention', 4.5], ['accent-text', 'accent', 4.5], ['accent-text', 'accent-hover', 4.5]);
  for (const fg of ['control-border', 'accent', 'focus-color', 'online', 'offline', 'warning', 'danger']) {
    for (const bg of bgs) pairs.push([fg, bg, 3]);
  }
  const failures = [];
  for (const [fg, bg, min] of pairs) {
    const [a, b] = [token(fg), token(bg)];
    if (!a || !b) { failures.push(`--${fg} or --${bg} is not a colour`); continue; }
    const r = ratio(a, b);
    if (r < min) failures.push(`--${fg} on --${bg}: ${r.toFixed(2)} < ${min}`);
  }
  /** The colour an element's box is painted on: the nearest opaque background. */
  const backdrop = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c && c.a === 1) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor);
  };
  const drawn = [
    ['#composer', 'borderTopColor', 'the composer’s outline'],
    ['#prefs-enter-to-send', 'borderTopColor', 'a switch’s outline'],
    ['#prefs-font-size', 'accentColor', 'the text-size slider'],
    ['#conn-state .conn-dot', 'backgroundColor', 'the connection dot'],
  ];
  for (const [selector, property, what] of drawn) {
    const el = document.querySelector(selector);
    if (!el || !el.getClientRects().length) continue;
    const colour = rgb(getComputedStyle(el)[property]);
    if (!colour) { failures.push(`${what} (${selector}) has no colour of its own`); continue; }
    const r = ratio(colour, backdrop(el.parentElement));
    if (r < 3) failures.push(`${what} (${selector}): ${r.toFixed(2)} < 3`);
  }
  probe.remove();
  return failures;
}
