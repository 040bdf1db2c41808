#!/usr/bin/env node
// The settings panel's preferences in the web app — theme, text size, Enter-to-send, clock,
// ignoring someone — and the contrast of all ten themes, in headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_settings.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_settings
//
// Four browser contexts: A1 and A2 are one account on two devices, B another account, G a guest.
// The guest's panel has Account and "Appearance & chat" only; a theme it picks is kept in
// localStorage (the server answers its preferences 403) and survives a reload, and the Account
// tab's offer opens the "keep your name" dialog. A1 picks the Ember theme and 18 px text from the
// gear's "Appearance & chat" tab: <html> says so, the body's computed background and font size
// follow, the server stores them, and A2 applies them live (`preferences_changed`). A1 reloads: a
// script recording <html> when <body> is parsed (before the app's modules have run) and again at
// DOMContentLoaded sees Ember at 18 px both times, so the first paint is already right. With
// Enter-to-send off, Enter in the composer makes a new line and nothing is sent; Ctrl+Enter sends,
// and B reads both lines. The 12-hour clock turns every time in A1's log (and, live, A2's) into
// "h:mm AM/PM". A1 ignores B from the member menu (a confirmation first): B's next message never
// shows on A1's page, while A1's own later one does, and the menu now offers "Unignore…"; the
// Privacy tab lists B, "Stop ignoring" empties the list, and B's next message shows again. With
// "Nobody" chosen to write first and "Show me as online" off there (stored on the server), B's
// "Message" and G's whisper to A are refused with a sentence and GET /api/online leaves A out.
// Last, each of the ten themes is picked in the panel and measured in the page: axe-core's
// color-contrast rule over the chat (messages, buttons, the composer) and over the open panel, and
// the WCAG ratio of every text/background (4.5:1) and control/indicator (3:1) pair of the theme's
// colours; the first theme with an offending pair fails the run, naming it. Writes
// settings-ember.png, settings-panel.png; on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage, 3 on overrun
// (90 s watchdog). Needs `npm ci` in tests/clients (playwright-core, axe-core) and chromium.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { STEP_MS, assert, createHarness, digits, send, waitForChat, scriptArgs } from './harness.mjs';
import {
  THEMES, closeSettings, lobbyHas, lobbyMember, login, measureContrast, openSettings, register,
  storedPreferences, waitForLobbyMessage, waitForStored,
} from './settings_helpers.mjs';

const DEADLINE_MS = 90000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const { baseUrl, outDir } = scriptArgs('browser_settings.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_settings.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/** Records <html>'s look attributes when <body> is parsed and at DOMContentLoaded. */
function recordBootLook() {
  const record = (when) => {
    const root = document.documentElement;
    (window.bootLook ??= {})[when] = {
      theme: root.getAttribute('data-theme'),
      fontSize: root.getAttribute('data-font-size'),
      appRan: Boolean(document.getElementById('prefs-dialog')), // settings.js builds it
    };
  };
  const observer = new MutationObserver(() => {
    if (!document.body) return;
    observer.disconnect();
    record('body');
  });
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', () => record('ready'), { once: true });
}

/** <html>'s look now, and what the body computes from it. */
const look = (page) => page.evaluate(() => ({
  theme: document.documentElement.dataset.theme,
  fontSize: document.documentElement.dataset.fontSize,
  background: getComputedStyle(document.body).backgroundColor,
  bodyFont: getComputedStyle(document.body).fontSize,
}));

/** Picks theme `theme` from the open Appearance tab and waits until <html> has it. */
async function pickTheme(page, theme) {
  await page.click(`label[for="prefs-theme-${theme}"]`);
  await page.locator(`html[data-theme="${theme}"]`).waitFor({ state: 'attached' });
  assert(await page.isChecked(`#prefs-theme-${theme}`), `the ${theme} swatch is checked`);
}

/** axe-core's color-contrast violations on the page, as "selector: summary" lines. */
const axeContrast = (page) => page.evaluate(async () => {
  const result = await window.axe.run(document, {
    runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations'],
  });
  return result.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${(n.any[0]?.message ?? n.failureSummary ?? '').replace(/\s+/g, ' ')}`));
});

async function run() {
  const tag = digits(6);
  const nickA = `Ada${tag}`;
  const nickB = `Bob${tag}`;
  const nickG = `Gus${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  const contextA1 = await browser.newContext({ viewport });
  await contextA1.addInitScript(recordBootLook);
  await openPage(contextA1, 'A1', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'A2', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'B', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'G', /status of 4\d\d/);

  await step('A1', `registers as ${nickA}: Midnight Purple at 15 px by default`, async (page) => {
    await register(page, baseUrl, nickA, password);
    const now = await look(page);
    assert(now.theme === 'midnight-purple' && now.fontSize === '15' && now.bodyFont === '15px', 'the defaults', now);
  });
  await step('A2', `signs in as ${nickA} on a second device`, (page) => login(page, baseUrl, nickA, password));
  await step('B', `registers as ${nickB}`, (page) => register(page, baseUrl, nickB, password));

  await step('G', 'a guest gets Appearance & chat, kept in this browser, and the offer of an account', async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.fill('#join-guest-nick', nickG);
    await page.click('#join-guest-submit');
    await waitForChat(page, nickG);
    await openSettings(page, 'appearance');
    const where = (await page.textContent('#prefs-where')) ?? '';
    assert(/this browser/.test(where) && /every device/.test(where), 'the tab says where they are kept', where);
    const tabs = await page.$$eval('#prefs-dialog [role="tab"]:not([hidden])', (els) => els.map((el) => el.dataset.tab));
    assert(tabs.join() === 'account,appearance', 'a guest has Account and Appearance & chat only', tabs);
    await pickTheme(page, 'neon-green');
    const cached = await page.evaluate(() => JSON.parse(localStorage.getItem('parlor.prefs') ?? '{}').theme);
    assert(cached === 'neon-green', 'kept in localStorage', cached);
    const stored = await storedPreferences(page);
    assert(stored.status === 403 && /registration_required/.test(stored.body), 'the server keeps none for a guest', stored);
    await openSettings(page, 'account');
    await page.click('#prefs-upgrade');
    await page.locator('#upgrade-dialog').waitFor({ state: 'visible' });
    assert(await page.locator('#prefs-dialog').isHidden(), 'the offer replaces the panel');
    await page.click('#upgrade-dialog [data-close]');
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickG);
    await page.locator('html[data-theme="neon-green"]').waitFor({ state: 'attached' });
  });

  await step('A1', 'picks Ember and 18 px text: applied at once and stored on the server', async (page) => {
    await openSettings(page, 'appearance');
    const where = (await page.textContent('#prefs-where')) ?? '';
    assert(/every device/.test(where), 'the tab says the account keeps them', where);
    await pickTheme(page, 'ember');
    await page.focus('#prefs-font-size');
    for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowRight');
    await page.locator('html[data-font-size="18"]').waitFor({ state: 'attached' });
    const shown = (await page.textContent('#prefs-font-size-value')) ?? '';
    assert(shown === '18 px', 'the slider says 18 px', shown);
    const now = await look(page);
    assert(now.background === 'rgb(23, 16, 11)', 'the body is painted with Ember’s background', now);
    assert(now.bodyFont === '18px', 'the body text is 18 px', now);
    await waitForStored(page, { theme: 'ember', font_size: 18 });
    await shot(page, 'settings-ember.png');
    await closeSettings(page);
  });
  await step('A2', 'applies Ember at 18 px live, without a reload', async (page) => {
    await page.locator('html[data-theme="ember"][data-font-size="18"]').waitFor({ state: 'attached' });
    const now = await look(page);
    assert(now.background === 'rgb(23, 16, 11)' && now.bodyFont === '18px', 'painted and sized', now);
  });
  await step('A1', 'reloads: Ember at 18 px from before the first paint', async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickA);
    const boot = await page.evaluate(() => window.bootLook);
    assert(boot?.body?.theme === 'ember' && boot.body.fontSize === '18', 'set when <body> was parsed', boot);
    assert(boot.body.appRan === false, 'by theme-boot.js, before the app’s modules ran', boot);
    assert(boot.ready?.theme === 'ember' && boot.ready.fontSize === '18', 'and still at DOMContentLoaded', boot);
    const now = await look(page);
    assert(now.background === 'rgb(23, 16, 11)' && now.bodyFont === '18px', 'painted and sized', now);
  });

  const twoLines = `line one ${tag}\nline two ${tag}`;
  await step('A1', 'turns Enter-to-send off: Enter makes a new line, Ctrl+Enter sends', async (page) => {
    await openSettings(page, 'appearance');
    await page.click('label[for="prefs-enter-to-send"]');
    assert(!await page.isChecked('#prefs-enter-to-send'), 'the switch is off');
    const note = (await page.textContent('#prefs-enter-to-send-hint')) ?? '';
    assert(/Enter starts a new line, Ctrl\+Enter/.test(note), 'the tab states the keys', note);
    await closeSettings(page);
    const title = (await page.getAttribute('#composer', 'title')) ?? '';
    assert(/^Ctrl\+Enter .* sends · Enter new line$/.test(title), 'the composer states the keys', title);
    const composer = page.locator('#composer');
    await composer.fill(`line one ${tag}`);
    await composer.press('Enter');
    await composer.pressSequentially(`line two ${tag}`);
    const value = await composer.inputValue();
    assert(value === twoLines, 'Enter made a new line and sent nothing', value);
    assert(!await lobbyHas(page, `line one ${tag}`), 'nothing was sent');
    await composer.press('Control+Enter');
    await page.waitForFunction(() => document.querySelector('#composer').value === '', null, { timeout: STEP_MS });
  });
  await step('B', 'reads both lines as one message', (page) => waitForLobbyMessage(page, twoLines, nickA));
  await step('A1', 'turns Enter-to-send back on: Enter sends again', async (page) => {
    await openSettings(page, 'appearance');
    await page.click('label[for="prefs-enter-to-send"]');
    await closeSettings(page);
    await send(page, `enter sends ${tag}`);
  });

  const twelveHour = /^(1[0-2]|[1-9]):[0-5]\d (AM|PM)$/;
  const times = (page) => page.$$eval('#messages .room-log[data-room="lobby"] .message-time', (els) => els.map((el) => el.textContent));
  await step('A1', 'picks the 12-hour clock: every time in the log reads h:mm AM/PM', async (page) => {
    await openSettings(page, 'appearance');
    await page.click('label[for="prefs-clock-12h"]');
    await closeSettings(page);
    const shown = await times(page);
    assert(shown.length >= 2 && shown.every((t) => twelveHour.test(t)), 'AM/PM times', shown);
  });
  await step('A2', 'follows the 12-hour clock live', async (page) => {
    await page.waitForFunction(() => document.documentElement.dataset.themeChoice === 'ember', null, { timeout: STEP_MS });
    await page.waitForFunction((source) => {
      const shown = [...document.querySelectorAll('#messages .room-log[data-room="lobby"] .message-time')].map((el) => el.textContent);
      return shown.length > 0 && shown.every((t) => new RegExp(source).test(t));
    }, twelveHour.source, { timeout: STEP_MS });
  });

  await step('A1', `ignores ${nickB} from the member menu, after a confirmation`, async (page) => {
    await page.click(`${lobbyMember(nickB)} .member-button`);
    await page.click('#member-menu-ignore');
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    const text = (await page.textContent('#confirm-text')) ?? '';
    assert(/not told/.test(text) && /Privacy/.test(text), 'the dialog says what ignoring does', text);
    await page.click('#confirm-submit');
    await page.locator('#confirm-dialog').waitFor({ state: 'hidden' });
    const list = await page.evaluate(async () => (await (await fetch('/api/ignores', { cache: 'no-store' })).json()).ignores);
    assert(list.includes(nickB.toLowerCase()), 'the server keeps the ignore', list);
  });
  const hidden = `you cannot see this ${tag}`;
  await step('B', 'writes while ignored (B gets its usual ack)', async (page) => {
    await send(page, hidden);
    await waitForLobbyMessage(page, hidden, nickB);
  });
  await step('A1', `never shows ${nickB}'s message; its own later one shows; the menu offers Unignore`, async (page) => {
    const marker = `after the ignore ${tag}`;
    await send(page, marker);
    await waitForLobbyMessage(page, marker, nickA);
    assert(!await lobbyHas(page, hidden), 'the ignored message is not shown');
    await page.click(`${lobbyMember(nickB)} .member-button`);
    await page.locator('#member-menu-unignore').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.locator('#member-menu').waitFor({ state: 'hidden' });
  });
  await step('A1', `stops ignoring ${nickB} from the Privacy tab`, async (page) => {
    await openSettings(page, 'privacy');
    const entry = page.locator(`#prefs-ignores .prefs-item[data-name="${nickB.toLowerCase()}"]`);
    await entry.waitFor({ state: 'visible' });
    await entry.locator('button').click();
    await page.locator('#prefs-ignores .prefs-empty').waitFor({ state: 'visible' });
    await closeSettings(page);
  });
  const again = `back in view ${tag}`;
  await step('B', 'writes again', (page) => send(page, again));
  await step('A1', `shows ${nickB}'s new message again`, (page) => waitForLobbyMessage(page, again, nickB));

  await step('A1', 'lets nobody write first and hides itself from the online list (Privacy tab)', async (page) => {
    await openSettings(page, 'privacy');
    await page.click('label[for="prefs-dm-from-nobody"]');
    await page.click('label[for="prefs-show-online"]');
    assert(!await page.isChecked('#prefs-show-online'), 'the switch is off');
    await closeSettings(page);
    await waitForStored(page, { dm_from: 'nobody', show_online: false });
  });
  await step('B', `is told, in a sentence, that ${nickA} takes no new conversations`, async (page) => {
    await page.click(`${lobbyMember(nickA)} .member-button`);
    await page.click('#member-menu-message');
    await page.locator('#banner').waitFor({ state: 'visible' });
    const text = (await page.textContent('#banner-text')) ?? '';
    assert(/do not accept private messages/.test(text) && !text.includes('_'), 'a sentence, not a code', text);
    await page.click('#banner-close');
  });
  await step('G', `is told, in a sentence, that ${nickA} takes no whispers; the online list omits ${nickA}`, async (page) => {
    await page.click(`${lobbyMember(nickA)} .member-button`);
    await page.click('#member-menu-whisper');
    const slug = `w:${nickA.toLowerCase()}`;
    await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
    await page.fill('#composer', `psst ${tag}`);
    await page.press('#composer', 'Enter');
    const refusal = page.locator(`#messages .room-log[data-room="${slug}"] .notice-error`);
    await refusal.first().waitFor({ state: 'visible' });
    const text = (await refusal.first().textContent()) ?? '';
    assert(/do not accept private messages/.test(text) && !text.includes('_'), 'a sentence, not a code', text);
    const online = await page.evaluate(async () => (await (await fetch('/api/online', { cache: 'no-store' })).json()).online_clients);
    assert(!online.includes(nickA) && online.includes(nickB), 'hidden from GET /api/online', online);
  });

  await step('A1', 'every theme passes WCAG 2.2 AA contrast (axe-core and every colour pair)', async (page) => {
    await page.evaluate(AXE);
    const offending = [];
    for (const theme of THEMES) {
      await openSettings(page, 'appearance');
      await pickTheme(page, theme);
      const pairs = await page.evaluate(measureContrast);
      const inPanel = await axeContrast(page);
      await closeSettings(page);
      const inChat = await axeContrast(page);
      offending.push(...[...pairs, ...inPanel, ...inChat].map((line) => `${theme}: ${line}`));
      if (offending.length) break;
    }
    assert(offending.length === 0, 'no pair below its minimum', offending.slice(0, 8));
  });
  await step('A1', 'the panel in Daylight, for the record', async (page) => {
    await openSettings(page, 'appearance');
    await pickTheme(page, 'daylight');
    await shot(page, 'settings-panel.png');
    const stored = await storedPreferences(page);
    assert(stored.status === 200, 'the preferences read back', stored);
  });
}

finish(run);
