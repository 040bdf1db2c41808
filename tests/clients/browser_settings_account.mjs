#!/usr/bin/env node
// The settings panel's Account tab in the web app — sessions, password, name, deletion — and
// the panel as a full page on a phone, in headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core.
//
// Usage: node browser_settings_account.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_settings_account
//
// Five browser contexts: A1 and A2 are one account on two devices, B another account, K a key
// account, P a phone (390×844). A1's Account tab lists two sessions, its own marked, each with a
// device and an address; signing out the other one puts A2 on the signed-out screen at once. A2
// signs in again. A1's password change refuses a wrong current password with a sentence, says that
// it signs out every other session, and then does: A2 is signed out, while A1 stays in the chat
// (online again, same name) and its next message reaches B; the list shows one session. B renames
// itself from its Account tab: B's header and own member entry show the new name, A1's member list
// shows the new name instead of the old one at once (`user_renamed`), and B's next message reaches
// A1 under it. A key account's tab asks no password (none for a rename, no password form),
// explains its key and rotates it after a second "yes": the new key is shown once and the old one
// no longer signs in. On the phone, signed out, the gear offers only "Appearance & chat", and Rose
// Gold picked there becomes the new account’s, stored on the server, once it registers; then the
// gear opens the panel over the whole screen, its tabs sit in one row, each one tapped shows its
// panel inside the screen, and a theme picked there applies; then it deletes the account (a
// password and a ticked box), lands on the signed-out screen with a sentence, and cannot sign in
// again. Writes settings-account.png, settings-phone.png and settings-phone-account.png; on
// failure failure.png (the page being checked) and failure-other.png. Exits 0 on success, 1 on the
// first failed check, 2 on bad usage, 3 on overrun (90 s watchdog). Needs `npm ci` in
// tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, send, waitForChat, scriptArgs } from './harness.mjs';
import {
  closeSettings, lobbyMember, login, openSettings, register, waitForLobbyMessage, waitForStored,
} from './settings_helpers.mjs';

const DEADLINE_MS = 90000;

const { baseUrl, outDir } = scriptArgs('browser_settings_account.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_settings_account.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/** Waits for the signed-out screen (the join view) and returns its sentence. */
async function signedOut(page) {
  await page.locator('#join-view').waitFor({ state: 'visible' });
  return (await page.textContent('#join-error')) ?? '';
}

/** The sessions the Account tab lists: [{device, current, meta}]. */
const listedSessions = (page) => page.$$eval('#prefs-sessions .prefs-session', (items) => items.map((item) => ({
  device: item.querySelector('.prefs-session-device')?.textContent ?? '',
  current: item.dataset.current === 'true',
  meta: item.querySelector('.prefs-session-meta')?.textContent ?? '',
})));

/** A JSON POST from the page (no cookie of its own yet, or to sign in with a key). */
const keyRequest = (page, path, body) => page.evaluate(async ([url, json]) => {
  const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  return { status: answer.status, body: answer.headers.get('content-type')?.includes('json') ? await answer.json() : null };
}, [path, body]);

async function waitForSessionCount(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#prefs-sessions .prefs-session').length === n, count, { timeout: STEP_MS });
}

async function run() {
  const tag = digits(6);
  const nickA = `Ann${tag}`;
  const nickB = `Ben${tag}`;
  const renamed = `Bea${tag}`;
  const nickC = `Cal${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const newPassword = `new-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  for (const label of ['A1', 'A2', 'B', 'K']) {
    await openPage(await browser.newContext({ viewport }), label, /status of 4\d\d/);
  }
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await openPage(phone, 'P', /status of 4\d\d/);

  await step('A1', `registers as ${nickA}`, (page) => register(page, baseUrl, nickA, password));
  await step('A2', `signs in as ${nickA} on a second device`, (page) => login(page, baseUrl, nickA, password));
  await step('B', `registers as ${nickB}`, (page) => register(page, baseUrl, nickB, password));

  await step('A1', 'the Account tab lists two sessions, this one marked', async (page) => {
    await openSettings(page, 'account');
    const name = (await page.textContent('#prefs-account-name')) ?? '';
    assert(name === nickA, 'the tab names the account', name);
    await waitForSessionCount(page, 2);
    const sessions = await listedSessions(page);
    assert(sessions.filter((s) => s.current).length === 1, 'exactly one is this session', sessions);
    assert(sessions.every((s) => s.device && /last used/.test(s.meta)), 'each has a device, an address and a last use', sessions);
    await shot(page, 'settings-account.png');
  });
  await step('A1', 'signs the other session out', async (page) => {
    await page.click('#prefs-sessions .prefs-session[data-current="false"] .prefs-session-revoke');
    await waitForSessionCount(page, 1);
  });
  await step('A2', 'is on the signed-out screen at once', async (page) => {
    const text = await signedOut(page);
    assert(/signed out/.test(text), 'it says why', text);
  });
  await step('A2', `signs in as ${nickA} again`, (page) => login(page, baseUrl, nickA, password));

  await step('A1', 'a wrong current password is refused with a sentence', async (page) => {
    await openSettings(page, 'account');
    const note = (await page.textContent('#prefs-password-note')) ?? '';
    assert(/signs out all your other sessions/.test(note), 'the form says what a change does', note);
    await page.fill('#prefs-password-current', 'not my password');
    await page.fill('#prefs-password-next', newPassword);
    await page.fill('#prefs-password-repeat', newPassword);
    await page.click('#prefs-password-submit');
    const status = page.locator('#prefs-password-status[data-code="invalid_credentials"]');
    await status.waitFor({ state: 'visible' });
    const text = (await status.textContent()) ?? '';
    assert(text === 'Your current password is wrong.', 'a sentence, not a code', text);
  });
  await step('A1', 'changes the password: stays in the chat, every other session is signed out', async (page) => {
    await page.fill('#prefs-password-current', password);
    await page.fill('#prefs-password-next', newPassword);
    await page.fill('#prefs-password-repeat', newPassword);
    await page.click('#prefs-password-submit');
    await page.locator('#prefs-password-status[data-kind="ok"]').waitFor({ state: 'visible' });
    const text = (await page.textContent('#prefs-password-status')) ?? '';
    assert(/other sessions were signed out/.test(text), 'it says what happened', text);
    await waitForChat(page, nickA);
    await waitForSessionCount(page, 1);
    await closeSettings(page);
  });
  await step('A2', 'is signed out by the password change', async (page) => {
    const text = await signedOut(page);
    assert(/signed out/.test(text), 'it says why', text);
  });
  const afterChange = `still here ${tag}`;
  await step('A1', 'writes in the lobby in its new session', (page) => send(page, afterChange));
  await step('B', `reads ${nickA}'s message`, (page) => waitForLobbyMessage(page, afterChange, nickA));

  await step('B', `renames itself ${renamed} from the Account tab`, async (page) => {
    await openSettings(page, 'account');
    await page.fill('#prefs-username-username', renamed);
    await page.fill('#prefs-username-password', password);
    await page.click('#prefs-username-submit');
    await page.locator('#prefs-username-status[data-kind="ok"]').waitFor({ state: 'visible' });
    await page.waitForFunction((name) => document.querySelector('#me')?.textContent === name, renamed, { timeout: STEP_MS });
    await closeSettings(page);
    await page.locator(`${lobbyMember(renamed)}.member-self`).waitFor({ state: 'visible' });
  });
  await step('A1', `sees ${renamed} instead of ${nickB} in the lobby's member list at once`, async (page) => {
    await page.locator(lobbyMember(renamed)).waitFor({ state: 'visible' });
    assert(await page.locator(lobbyMember(nickB)).count() === 0, 'the old name is gone from the list');
  });
  const underNewName = `new name ${tag}`;
  await step('B', 'writes under the new name', (page) => send(page, underNewName));
  await step('A1', `reads it from ${renamed}`, (page) => waitForLobbyMessage(page, underNewName, renamed));

  const keyName = `Kay${tag}`;
  await step('K', `makes the key account ${keyName}: the Account tab explains its key, and asks no password`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    const key = await keyRequest(page, '/api/register', { username: keyName });
    assert(key.status === 201 && typeof key.body.key === 'string', 'a key account is made', key);
    const signedIn = await keyRequest(page, '/api/login', { key: key.body.key });
    assert(signedIn.status === 200, 'and signs in with its key', signedIn);
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, keyName);
    await openSettings(page, 'account');
    await page.waitForFunction(() => document.querySelector('#prefs-account-kind')?.textContent === 'signs in with a key', null, { timeout: STEP_MS });
    assert(await page.locator('#prefs-password-section').isHidden(), 'no password to change');
    assert(await page.locator('#prefs-username-password').isHidden(), 'a rename asks no password');
    await page.locator('#prefs-key-section').waitFor({ state: 'visible' });
    await page.click('#prefs-key-rotate');
    await page.click('#prefs-key-confirm');
    await page.locator('#prefs-key-result').waitFor({ state: 'visible' });
    const fresh = await page.inputValue('#prefs-key-value');
    assert(fresh && fresh !== key.body.key, 'a new key is shown once', fresh);
    const old = await keyRequest(page, '/api/login', { key: key.body.key });
    assert(old.status === 401, 'the old key no longer signs in', old);
    await closeSettings(page);
    await waitForChat(page, keyName);
  });

  await step('P', 'signed out, the gear offers Appearance & chat only; Rose Gold picked there sticks', async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.locator('#prefs-open').tap();
    await page.locator('#prefs-panel-appearance').waitFor({ state: 'visible' });
    const tabs = await page.$$eval('#prefs-dialog [role="tab"]:not([hidden])', (els) => els.map((el) => el.dataset.tab));
    assert(tabs.join() === 'appearance', 'only Appearance & chat', tabs);
    await page.locator('label[for="prefs-theme-rose-gold"]').tap();
    await page.locator('html[data-theme="rose-gold"]').waitFor({ state: 'attached' });
    await page.locator('#prefs-close').tap();
  });
  await step('P', `registers ${nickC}: the new account keeps Rose Gold, now on the server`, async (page) => {
    await register(page, baseUrl, nickC, password);
    await waitForStored(page, { theme: 'rose-gold' });
    assert(await page.getAttribute('html', 'data-theme') === 'rose-gold', 'still Rose Gold');
  });
  await step('P', 'the gear opens the panel as a full page', async (page) => {
    await page.click('#prefs-open');
    await page.locator('#prefs-dialog').waitFor({ state: 'visible' });
    const box = await page.locator('#prefs-dialog').boundingBox();
    assert(box && box.x === 0 && box.y === 0 && box.width === 390 && box.height === 844, 'the panel covers the screen', box);
  });
  await step('P', 'its tabs sit in one row and each shows its panel on screen', async (page) => {
    const tabs = await page.$$eval('#prefs-dialog [role="tab"]:not([hidden])', (els) => els.map((el) => el.id));
    assert(tabs.length >= 3, 'account, appearance and privacy at least', tabs);
    const tops = new Set();
    for (const id of tabs) {
      await page.locator(`#${id}`).tap();
      const panel = page.locator(`#${id.replace('prefs-tab-', 'prefs-panel-')}`);
      await panel.waitFor({ state: 'visible' });
      const tab = await page.locator(`#${id}`).boundingBox();
      const shown = await panel.boundingBox();
      assert(tab && tab.x >= 0 && tab.x + tab.width <= 390.5, `${id} is on screen`, tab);
      assert(shown && shown.x >= 0 && shown.x + shown.width <= 390.5, `its panel fits the screen`, shown);
      tops.add(Math.round(tab.y));
    }
    assert(tops.size === 1, 'one row of tabs', [...tops]);
    await page.locator('#prefs-tab-appearance').tap();
    await page.locator('label[for="prefs-theme-arctic"]').tap();
    await page.locator('html[data-theme="arctic"]').waitFor({ state: 'attached' });
    await shot(page, 'settings-phone.png');
  });
  await step('P', 'deletes the account: the signed-out screen says so, and signing in fails', async (page) => {
    await page.locator('#prefs-tab-account').tap();
    const goes = (await page.textContent('#prefs-delete-list')) ?? '';
    assert(/rooms you own/.test(goes) && /every session/.test(goes), 'the tab lists what goes', goes);
    assert(await page.isDisabled('#prefs-delete-submit'), 'nothing happens before the box is ticked');
    await page.fill('#prefs-delete-password', password);
    await page.locator('label[for="prefs-delete-sure"]').scrollIntoViewIfNeeded();
    await shot(page, 'settings-phone-account.png');
    await page.locator('label[for="prefs-delete-sure"]').tap();
    await page.locator('#prefs-delete-submit').tap();
    const text = await signedOut(page);
    assert(/account was deleted/.test(text), 'it says so', text);
    const answer = await page.evaluate(async ([name, pass]) => (await fetch('/api/login', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: pass }),
    })).status, [nickC, password]);
    assert(answer === 401, 'the account is gone', answer);
  });
}

finish(run);
