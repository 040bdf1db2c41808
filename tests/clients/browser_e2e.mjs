#!/usr/bin/env node
// End-to-end encryption in the web app (docs/e2ee.md), in headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, and against the Python reference client.
//
// Usage: node browser_e2e.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_e2e
//
// A and B register and set up keys in the settings' Encryption tab (the recovery key shown once,
// "I wrote it down" before it goes; B first sees the create dialog's end-to-end switch disabled).
// A creates an end-to-end room (lock in the header and the list); B opens it after a reload
// (keys from IndexedDB); they exchange messages both ways, B replies (the quote shows the
// decrypted original), A edits, A sends an image (sealed before upload, shown from a blob:
// address); A starts a conversation with B, which is end-to-end, and they write both ways; A
// compares B's safety number in the member menu. B2 (B on a new browser) logs in and reads the
// history (unlocked silently with the password), changes the password in settings, and B3 logs
// in with the new one and still reads it. Then B's keys are re-wrapped with a password B no
// longer has (what an administrator's reset leaves): B4 logs in, is asked for the recovery key,
// a wrong password does not unlock, the recovery key does (and re-wraps with the login
// password), and B5 logs in and reads silently. A page whose IndexedDB lost the keys shows
// "Set up or unlock encryption to read this room" until unlocked. C joins, reads, is removed
// by A over REST, and never sees what follows; C then replaces its keys and A's member list
// warns beside C until A compares the new safety number, and after a reload C's message signed
// with the old keys shows as unverified; D, joining after the new epoch, reads what followed
// and sees the older messages as "could not be decrypted". Finally the Python reference client
// (e2e_client.py) exchanges messages with A in the room and in a conversation, and A logs out,
// which deletes its keys from the browser. Writes
// e2e-a.png, e2e-b.png and e2e-locked.png; on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage, 3 on
// overrun (150 s watchdog). Needs `npm ci` in tests/clients, chromium, and Python's
// `cryptography` (requirements.txt).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEP_MS, assert, createHarness, digits, send, waitForChat, scriptArgs, register } from './harness.mjs';
import { openSettings, closeSettings } from './settings_helpers.mjs';

const DEADLINE_MS = 150000;
const SLOW_MS = 20000; // PBKDF2 of 600 000 rounds on a loaded machine, a key shared by another page
const here = dirname(fileURLToPath(import.meta.url));

const { baseUrl, outDir } = scriptArgs('browser_e2e.mjs');
const { step, shot, launch, openPage, finish } = createHarness({ script: 'browser_e2e.mjs', outDir, deadlineMs: DEADLINE_MS });

const tag = digits(5);
const [nameA, nameB, nameC, namePy] = ['A', 'B', 'C', 'Py'].map((l) => `Enc${l}${tag}`);
const password = `e2e-pass-${tag}`;
const newPassword = `e2e-new-pass-${tag}`;
const slug = `enc-${tag}`;
const DOT_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const logOf = (room) => `#messages .room-log[data-room="${room}"]`;
const entry = (room) => `#room-list .room-link[data-room="${room}"]`;
const memberButton = (room, name) => `#members .members[data-room="${room}"] .member[data-name="${name}"] .member-button`;

/** The message of `room` whose decrypted text contains `text`. */
const messageWith = (page, room, text) =>
  page.locator(`${logOf(room)} .message`, { has: page.locator('.message-text', { hasText: text }) });

/** Waits until `room` shows `text` decrypted and verified, by `author`. */
function waitForSealed(page, room, text, author, timeout = SLOW_MS) {
  return page.waitForFunction(([sel, want, who]) => [...document.querySelectorAll(`${sel} .message`)].some((item) =>
    item.dataset.e2e === 'ok' && item.dataset.author === who && item.querySelector('.message-text')?.textContent === want),
  [logOf(room), text, author], { timeout });
}

async function waitForRoom(page, room) {
  await page.locator(`#room-title[data-room="${room}"]`).waitFor({ state: 'visible', timeout: SLOW_MS });
  await page.locator(logOf(room)).waitFor({ state: 'visible' });
}

/** The page's REST call with its session: `{status, body}`. */
const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const answer = await fetch(p, { method: m, headers: b === undefined ? {} : { 'content-type': 'application/json' }, body: b === undefined ? undefined : JSON.stringify(b) });
  const text = await answer.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: answer.status, body: parsed };
}, [method, path, body]);

/** Sets up keys in the Encryption tab; returns `{recovery, safety}`. */
async function setUpKeys(page) {
  await openSettings(page, 'encryption');
  await page.locator('#prefs-panel-encryption[data-status="none"]').waitFor({ state: 'attached' });
  await page.fill('#prefs-e2e-setup-password', password);
  await page.click('#prefs-e2e-setup-submit');
  await page.locator('#prefs-e2e-recovery').waitFor({ state: 'visible', timeout: SLOW_MS });
  const recovery = await page.textContent('#prefs-e2e-recovery-key');
  assert(/^([A-Z2-7]{4} ){12}[A-Z2-7]{4}$/.test(recovery), 'the recovery key is 13 groups of 4 base32 characters', recovery);
  assert(await page.isDisabled('#prefs-e2e-recovery-done'), '"Done" waits for "I wrote it down"');
  await page.check('#prefs-e2e-recovery-confirm');
  await page.click('#prefs-e2e-recovery-done');
  await page.locator('#prefs-e2e-recovery').waitFor({ state: 'hidden' });
  assert(await page.textContent('#prefs-e2e-recovery-key') === '', 'the recovery key is gone from the page');
  await page.locator('#prefs-panel-encryption[data-status="unlocked"]').waitFor({ state: 'attached' });
  const safety = await page.textContent('#prefs-e2e-safety');
  assert(/^\d{5}( \d{5}){5}$/.test(safety), 'the safety number is 6 groups of 5 digits', safety);
  await closeSettings(page);
  return { recovery, safety };
}

/** Opens `room` by its address (a reload) and waits for it. */
async function openByAddress(page, room, name) {
  await page.goto(`${baseUrl}/room/${room}`, { timeout: STEP_MS });
  await waitForChat(page, name);
  await waitForRoom(page, room);
}

/**
 * On a fresh page (a new browser), opens `room`'s address signed out and logs in from the join
 * screen there: the chat opens the room without a reload, while the keys unlock.
 */
async function loginAndOpen(page, name, pass, room) {
  await page.goto(`${baseUrl}/room/${room}`, { timeout: STEP_MS });
  await page.click('#tab-login');
  await page.locator('#login-username').waitFor({ state: 'visible' });
  await page.fill('#login-username', name);
  await page.fill('#login-password', pass);
  await page.click('#login-submit');
  await waitForChat(page, name);
  await waitForRoom(page, room);
}

/** Runs the Python reference client as a peer; resolves `{code, out}` when it ends. */
function pythonPeer(args) {
  const child = spawn('python3', [join(here, 'e2e_client.py'), 'peer', '--base', baseUrl, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.stderr.on('data', (chunk) => { out += chunk; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

async function run() {
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  const context = async (label) => openPage(await browser.newContext({ viewport }), label, /status of (40\d|422)/);

  // ---- keys, an end-to-end room, messages both ways ----------------------------------------
  await context('A');
  await context('B');
  await step('A', `registers as ${nameA}`, (page) => register(page, baseUrl, nameA, password));
  await step('B', `registers as ${nameB}`, (page) => register(page, baseUrl, nameB, password));
  await step('B', 'without keys, the create dialog offers no end-to-end room and says why', async (page) => {
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    assert(await page.isDisabled('#create-room-e2e'), 'the switch is disabled');
    assert(/set up encryption/i.test(await page.textContent('#create-room-e2e-note')), 'the note says to set up encryption');
    await page.click('#create-room-dialog [data-close]');
  });
  const keysA = await step('A', 'sets up encryption: the recovery key is shown once', setUpKeys);
  const keysB = await step('B', 'sets up encryption', setUpKeys);

  await step('A', 'creates an end-to-end room: the lock shows in the header and the list', async (page) => {
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', slug);
    assert(!await page.isDisabled('#create-room-e2e'), 'the switch is offered');
    await page.check('#create-room-e2e');
    await page.click('#create-room-submit');
    await waitForRoom(page, slug);
    await page.locator('#room-e2e').waitFor({ state: 'visible' });
    await page.locator(`${entry(slug)} .e2e-lock`).waitFor({ state: 'visible' });
    const patched = await call(page, 'PATCH', `/api/rooms/${slug}`, { allow_files: true });
    assert(patched.status === 200, 'the room takes files', patched);
  });
  await step('B', 'opens the room after a reload (the keys come from IndexedDB)', async (page) => {
    await openByAddress(page, slug, nameB);
    await page.locator('#room-e2e').waitFor({ state: 'visible' });
    assert(await page.locator('#e2e-banner').isHidden(), 'no banner: the keys are unlocked');
  });
  const hello = `the eagle lands at noon ${tag}`;
  const answer = `understood, at noon ${tag}`;
  await step('A', 'writes', (page) => send(page, hello));
  await step('B', 'reads it decrypted and verified', (page) => waitForSealed(page, slug, hello, nameA));
  await step('B', 'answers', (page) => send(page, answer));
  await step('A', 'reads the answer', (page) => waitForSealed(page, slug, answer, nameB));

  const reply = `a reply to the eagle ${tag}`;
  await step('B', 'replies to the first message', async (page) => {
    const message = messageWith(page, slug, hello);
    await message.hover();
    await message.locator('.message-action[data-action="reply"]').click();
    await send(page, reply);
  });
  await step('A', 'the quote shows the decrypted original', async (page) => {
    await waitForSealed(page, slug, reply, nameB);
    const quote = messageWith(page, slug, reply).locator('.reply-quote .reply-quote-text');
    await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want,
      [`${logOf(slug)} .reply-quote .reply-quote-text`, hello]);
    assert(await quote.textContent() === hello, 'the quote', await quote.textContent());
  });
  const edited = `the eagle lands at one ${tag}`;
  await step('A', 'edits the first message', async (page) => {
    const message = messageWith(page, slug, hello);
    await message.hover();
    await message.locator('.message-action[data-action="edit"]').click();
    const editor = message.locator('.message-editor textarea');
    await editor.fill(edited);
    await editor.press('Enter');
    await messageWith(page, slug, edited).locator('.message-edited').waitFor({ state: 'visible' });
  });
  await step('B', 'sees the edit decrypted', async (page) => {
    await waitForSealed(page, slug, edited, nameA);
    await messageWith(page, slug, edited).locator('.message-edited').waitFor({ state: 'visible' });
  });
  const picture = `a picture ${tag}`;
  await step('A', 'sends an image, sealed before upload', async (page) => {
    await page.setInputFiles('#attach-input', { name: `dot-${tag}.png`, mimeType: 'image/png', buffer: DOT_PNG });
    await page.locator('#attach-tray .attach-chip[data-state="done"]').waitFor({ state: 'visible', timeout: SLOW_MS });
    await send(page, picture);
  });
  await step('B', 'sees the image, opened from a blob: address', async (page) => {
    await waitForSealed(page, slug, picture, nameA);
    const image = messageWith(page, slug, picture).locator('.attachment-e2e[data-decrypted="true"] img');
    await image.waitFor({ state: 'visible', timeout: SLOW_MS });
    const shown = await image.evaluate((img) => ({ src: img.src, width: img.naturalWidth, alt: img.alt }));
    assert(shown.src.startsWith('blob:') && shown.width === 1 && shown.alt === `dot-${tag}.png`, 'the decrypted image', shown);
  });
  await step('A', 'the server holds an opaque file: encrypted.bin, no preview', async (page) => {
    const page1 = await call(page, 'GET', `/api/rooms/${slug}/messages?limit=50`);
    const sent = page1.body.messages.find((m) => Array.isArray(m.attachments) && m.attachments.length);
    assert(sent && sent.text === '' && sent.envelope, 'the message carries an envelope, no text', sent);
    const file = sent.attachments[0];
    assert(file.name === 'encrypted.bin' && !file.thumbnail_url, 'a generic file', file);
  });

  // ---- an end-to-end conversation ------------------------------------------------------------
  const pm = await step('A', `starts a conversation with ${nameB}: it is end-to-end`, async (page) => {
    await page.click('#conversation-new');
    await page.fill('#conversation-user', nameB);
    await page.click('#conversation-submit');
    const title = page.locator('#room-title[data-room^="pm:"]');
    await title.waitFor({ state: 'visible' });
    const room = await title.getAttribute('data-room');
    await page.locator('#room-e2e').waitFor({ state: 'visible' });
    await page.locator(`${entry(room)} .e2e-lock`).waitFor({ state: 'visible' });
    await send(page, `between us ${tag}`);
    await waitForSealed(page, room, `between us ${tag}`, nameA);
    return room;
  });
  await step('B', 'accepts and reads it; answers', async (page) => {
    await page.click(`#room-list [data-action="accept"][data-room="${pm}"]`);
    await waitForRoom(page, pm);
    await page.locator(`${entry(pm)} .e2e-lock`).waitFor({ state: 'visible' });
    await waitForSealed(page, pm, `between us ${tag}`, nameA);
    await send(page, `just us ${tag}`);
  });
  await step('A', 'reads the answer in the conversation', (page) => waitForSealed(page, pm, `just us ${tag}`, nameB));
  await step('A', `compares ${nameB}'s safety number in the member menu`, async (page) => {
    await page.click(entry(slug));
    await waitForRoom(page, slug);
    await page.click(memberButton(slug, nameB));
    await page.click('#member-menu-safety');
    await page.locator('#e2e-verify-dialog').waitFor({ state: 'visible' });
    await page.waitForFunction((want) => document.querySelector('#e2e-verify-theirs')?.textContent === want, keysB.safety);
    assert(await page.textContent('#e2e-verify-mine') === keysA.safety, 'the own number is shown beside it');
    await page.click('#e2e-verify-confirm');
    await page.locator('#e2e-verify-dialog .button-quiet').click();
    await shot(page, 'e2e-a.png');
  });
  await step('B', 'screenshot', (page) => shot(page, 'e2e-b.png'));

  // ---- a new browser, a password change, an administrator's reset -----------------------------
  await step('B2', 'logs in on a new browser: the history opens with the password just typed', async () => {
    const page = await context('B2');
    await loginAndOpen(page, nameB, password, slug);
    await waitForSealed(page, slug, edited, nameA);
    await waitForSealed(page, slug, reply, nameB);
  });
  await step('B2', 'changes the password in settings (the keys are re-wrapped first)', async (page) => {
    await openSettings(page, 'account');
    await page.fill('#prefs-password-current', password);
    await page.fill('#prefs-password-next', newPassword);
    await page.fill('#prefs-password-repeat', newPassword);
    await page.click('#prefs-password-submit');
    await page.waitForFunction(() => /Password changed/.test(document.querySelector('#prefs-password-status')?.textContent ?? ''), null, { timeout: SLOW_MS });
    assert(!/older password/.test(await page.textContent('#prefs-password-status')), 'the keys were re-wrapped');
    await closeSettings(page);
  });
  await step('B3', 'logs in with the new password and still reads the history', async () => {
    const page = await context('B3');
    await loginAndOpen(page, nameB, newPassword, slug);
    await waitForSealed(page, slug, edited, nameA);
    // What an administrator's reset leaves: the keys wrapped by a password B no longer has.
    const status = await page.evaluate(async ([current, forgotten]) => {
      const c = await import('/js/e2e-crypto.js');
      const own = await (await fetch('/api/user/@me/keys')).json();
      const secrets = await c.unwrap(own.password_wrapped, { password: current });
      const doc = await c.wrapWithPassword(secrets, forgotten);
      const put = await fetch('/api/user/@me/keys/wrapped', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password_wrapped: doc }) });
      return put.status;
    }, [newPassword, `forgotten-${tag}`]);
    assert(status === 200, 'the keys are re-wrapped with a forgotten password', status);
  });
  await step('B4', 'after the "reset", logging in asks for the recovery key; messages stay locked', async () => {
    const page = await context('B4');
    await loginAndOpen(page, nameB, newPassword, slug);
    await page.locator('#e2e-banner[data-code="recovery"]').waitFor({ state: 'visible', timeout: SLOW_MS });
    await page.locator(`${logOf(slug)} .message[data-e2e="locked"]`).first().waitFor({ state: 'attached' });
    assert(await messageWith(page, slug, edited).count() === 0, 'no words without keys');
    await shot(page, 'e2e-locked.png');
  });
  await step('B4', 'a wrong password does not unlock; the recovery key does', async (page) => {
    await page.click('#e2e-banner-action');
    await page.locator('#prefs-panel-encryption').waitFor({ state: 'visible' });
    await page.fill('#prefs-e2e-unlock-password', `wrong-${tag}`);
    await page.click('#prefs-e2e-unlock-submit');
    await page.locator('#prefs-e2e-unlock-status[data-kind="error"]').waitFor({ state: 'visible', timeout: SLOW_MS });
    await page.locator('#prefs-panel-encryption[data-status="locked"]').waitFor({ state: 'attached' });
    await page.fill('#prefs-e2e-recover-key', keysB.recovery.toLowerCase());
    await page.click('#prefs-e2e-recover-submit');
    await page.locator('#prefs-panel-encryption[data-status="unlocked"]').waitFor({ state: 'attached', timeout: SLOW_MS });
    await page.waitForFunction(() => /current password again/.test(document.querySelector('#prefs-e2e-note')?.textContent ?? ''),
      null, { timeout: SLOW_MS }); // re-wrapped with the password typed at login
    await closeSettings(page);
    await waitForSealed(page, slug, edited, nameA);
    assert(await page.locator('#e2e-banner').isHidden(), 'the banner went');
  });
  await step('B5', 'the next login unlocks silently again', async () => {
    const page = await context('B5');
    await loginAndOpen(page, nameB, newPassword, slug);
    await waitForSealed(page, slug, edited, nameA);
  });
  await step('B5', 'a page whose keys are gone says "Set up or unlock encryption to read this room"', async (page) => {
    await page.evaluate(() => new Promise((resolve) => { const r = indexedDB.deleteDatabase('parlor-e2e'); r.onsuccess = r.onerror = r.onblocked = resolve; }));
    await openByAddress(page, slug, nameB);
    await page.locator('#e2e-banner[data-code="unlock"]').waitFor({ state: 'visible', timeout: SLOW_MS });
    assert(/Set up or unlock encryption to read this room/.test(await page.textContent('#e2e-banner-text')), 'the banner');
    await page.click('#e2e-banner-action');
    await page.fill('#prefs-e2e-unlock-password', newPassword);
    await page.click('#prefs-e2e-unlock-submit');
    await page.locator('#prefs-panel-encryption[data-status="unlocked"]').waitFor({ state: 'attached', timeout: SLOW_MS });
    await closeSettings(page);
    await waitForSealed(page, slug, edited, nameA);
  });

  // ---- a removed member reads nothing after ---------------------------------------------------
  const pageC = await context('C');
  await step('C', `registers as ${nameC}, sets up keys and joins the room`, async (page) => {
    await register(page, baseUrl, nameC, password);
    await setUpKeys(page);
    await openByAddress(page, slug, nameC);
  });
  const before = `before the removal ${tag}`;
  await step('A', 'writes while C is a member', async (page) => {
    await page.click(entry(slug));
    await waitForRoom(page, slug);
    await send(page, before);
  });
  await step('C', 'reads it', (page) => waitForSealed(page, slug, before, nameA));
  const fromC = `C was here ${tag}`;
  await step('C', 'writes', (page) => send(page, fromC));
  await step('A', 'reads C', (page) => waitForSealed(page, slug, fromC, nameC));
  const after = `after the removal ${tag}`;
  await step('A', `removes ${nameC} over REST and writes again (a new epoch)`, async (page) => {
    const removed = await call(page, 'DELETE', `/api/rooms/${slug}/members/${nameC}`);
    assert(removed.status === 204, 'removed', removed);
    await send(page, after);
    await waitForSealed(page, slug, after, nameA);
  });
  await step('B5', 'a remaining member reads it', (page) => waitForSealed(page, slug, after, nameA));
  await step('C', 'the removed member never sees it', async (page) => {
    await page.locator(logOf(slug)).waitFor({ state: 'detached' });
    await page.waitForTimeout(500);
    assert(!(await page.textContent('body')).includes(after), 'the later message is not on the page');
    const keys = await call(page, 'GET', `/api/rooms/${slug}/e2e`);
    assert(keys.status === 404, 'no room keys for a former member', keys.status);
  });
  await step('C', 'replaces its keys (a new device without the old ones)', async (page) => {
    const status = await page.evaluate(async (pass) => {
      const c = await import('/js/e2e-crypto.js');
      const { publics, secrets } = await c.generateAccountKeys();
      const body = { ...publics, password_wrapped: await c.wrapWithPassword(secrets, pass), recovery_wrapped: await c.wrapWithRecovery(secrets, c.newSecret()) };
      const put = await fetch('/api/user/@me/keys', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return put.status;
    }, password);
    assert(status === 200, 'new keys published', status);
  });
  await step('A', `a ⚠ shows beside ${nameC} until the new safety number is compared`, async (page) => {
    const mark = `#members .members[data-room="lobby"] .member[data-name="${nameC}"] .e2e-key-warning`;
    await page.click(entry('lobby'));
    await page.locator(mark).waitFor({ state: 'visible', timeout: SLOW_MS });
    await page.click(memberButton('lobby', nameC));
    await page.click('#member-menu-safety');
    await page.locator('#e2e-verify-warning').waitFor({ state: 'visible' });
    await page.click('#e2e-verify-confirm');
    await page.locator('#e2e-verify-dialog .button-quiet').click();
    await page.locator(mark).waitFor({ state: 'detached' });
  });
  await pageC.context().close();
  await step('A', 'after a reload, C’s message signed with its old keys shows as unverified', async (page) => {
    await openByAddress(page, slug, nameA);
    const message = page.locator(`${logOf(slug)} .message[data-e2e="unverified"]`, { has: page.locator('.message-text', { hasText: fromC }) });
    await message.waitFor({ state: 'visible', timeout: SLOW_MS });
    assert(/Unverified/.test(await message.locator('.message-e2e-warning').textContent()), 'the warning says unverified');
    await waitForSealed(page, slug, after, nameA);
  });
  await step('D', 'a member who joins after the new epoch reads it, and not what came before', async () => {
    const page = await context('D');
    await register(page, baseUrl, `EncD${tag}`, password);
    await setUpKeys(page);
    await openByAddress(page, slug, `EncD${tag}`);
    await waitForSealed(page, slug, after, nameA);
    const older = page.locator(`${logOf(slug)} .message[data-e2e="failed"]`).first();
    await older.waitFor({ state: 'visible' });
    assert(await older.locator('.message-text').textContent() === '🔒 This message could not be decrypted', 'the undecryptable line');
    assert(!(await page.textContent(logOf(slug))).includes(before), 'the older epoch stays unreadable');
    await page.context().close();
  });

  // ---- the Python reference client ------------------------------------------------------------
  if (!existsSync(join(here, 'e2e_client.py'))) throw new Error('tests/clients/e2e_client.py is missing');
  const made = await fetch(`${baseUrl}/api/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: namePy, password }),
  });
  assert(made.status === 201 || made.status === 200, `register ${namePy}`, made.status);
  const fromPy = `sent by python ${tag}`;
  const fromA = `sent by the browser ${tag}`;
  const peer = pythonPeer(['--username', namePy, '--password', password, '--room', slug,
    '--send', fromPy, '--expect', fromA, '--timeout', '60']);
  await step('A', 'reads the Python client in the room and answers it', async (page) => {
    await waitForSealed(page, slug, fromPy, namePy, 60000);
    await send(page, fromA);
  });
  await step('A', 'the Python client read the answer', async () => {
    const { code, out } = await peer;
    assert(code === 0, 'e2e_client.py peer (room) exits 0', out.slice(-2000));
  });
  const pmPy = `python in private ${tag}`;
  const pmA = `browser in private ${tag}`;
  const pmPeer = pythonPeer(['--username', namePy, '--password', password, '--pm-with', nameA,
    '--send', pmPy, '--expect', pmA, '--timeout', '60']);
  await step('A', 'accepts the Python client’s conversation, reads and answers', async (page) => {
    const accept = page.locator('#room-list [data-action="accept"]');
    await accept.first().waitFor({ state: 'visible', timeout: 60000 });
    const room = await accept.first().getAttribute('data-room');
    await accept.first().click();
    await waitForRoom(page, room);
    await page.locator(`${entry(room)} .e2e-lock`).waitFor({ state: 'visible' });
    await waitForSealed(page, room, pmPy, namePy, 60000);
    await send(page, pmA);
  });
  await step('A', 'the Python client read the private answer', async () => {
    const { code, out } = await pmPeer;
    assert(code === 0, 'e2e_client.py peer (conversation) exits 0', out.slice(-2000));
  });
  await step('A', 'logging out deletes the keys from this browser', async (page) => {
    await page.click('#logout');
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.waitForFunction(() => new Promise((resolve) => {
      const open = indexedDB.open('parlor-e2e', 1);
      open.onsuccess = () => {
        const count = open.result.transaction('accounts').objectStore('accounts').count();
        count.onsuccess = () => { open.result.close(); resolve(count.result === 0); };
      };
      open.onerror = () => resolve(false);
    }));
  });
}

await finish(run);
