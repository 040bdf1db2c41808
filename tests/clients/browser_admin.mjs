#!/usr/bin/env node
// Parlor's admin panel and moderation in the web app, in headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_admin.mjs BASE_URL OUT_DIR ROOT_USER ROOT_PASSWORD
//   BASE_URL  e.g. http://127.0.0.1:38211 (a fresh server whose root account is ROOT_USER)
//   OUT_DIR   where screenshots go (created)
//
// Three browser contexts. Root logs in (A) and sees the 👑 badge and the Admin button; M
// registers (B) and sees no Admin button; U joins the lobby as a guest (C) and chats. Root
// opens the panel at /admin, finds M in the Users tab and makes M a moderator: M's page gets
// the Admin button and everyone's member list the 🛡️ badge. M mutes U from the lobby's member
// menu (U's message is refused with `muted`) and lifts it in the Mutes tab; a free ban of the
// root account is refused with a clear `forbidden`; M finds U under Live sessions and bans U
// with a reason. U's page shows the blocking "You have been banned" screen with that reason and
// opens no new connection; the lobby shows the notice; the Bans tab lists U; the audit log,
// filtered by action=ban, shows the ban with its reason, and its CSV export holds it. Writes
// admin-users.png, admin-sessions.png, admin-bans.png, admin-audit.png, admin-banned.png and
// admin-narrow.png (360×740); on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage, 3 on
// overrun (60 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { mkdirSync } from 'node:fs';
import { STEP_MS, assert, createHarness, digits, log, ok, send, waitForChat } from './harness.mjs';
import { join, resolve } from 'node:path';

const DEADLINE_MS = 60000;
/** How long U's page is watched for a reconnect attempt after the ban. */
const NO_RECONNECT_MS = 3000;

const [base, outArg, rootUser, rootPassword] = process.argv.slice(2);
if (!base || !/^https?:\/\//.test(base) || !outArg || !rootUser || !rootPassword) {
  console.error('usage: node browser_admin.mjs BASE_URL OUT_DIR ROOT_USER ROOT_PASSWORD');
  process.exit(2);
}
const baseUrl = base.replace(/\/+$/, '');
const outDir = resolve(outArg);
mkdirSync(outDir, { recursive: true });

const { step, shot, launch, openPage: openHarnessPage, finish } = createHarness({
  script: 'browser_admin.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const sockets = {}; // label -> WebSockets the page opened

/** Waits until the lobby's log has a line (message or notice) whose text contains `text`. */
function waitForLobbyLine(page, text) {
  return page.waitForFunction((want) => [...document.querySelectorAll(
    '#messages .room-log[data-room="lobby"] .message-text, #messages .room-log[data-room="lobby"] .notice-text',
  )].some((el) => el.textContent.includes(want)), text, { timeout: STEP_MS });
}

const member = (name) => `#members .members[data-room="lobby"] .member[data-name="${name}"]`;

async function joinWith(page, tab, fields, submit, name) {
  await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
  await page.click(`#tab-${tab}`);
  for (const [selector, value] of Object.entries(fields)) {
    await page.locator(selector).waitFor({ state: 'visible' });
    await page.fill(selector, value);
  }
  await page.click(submit);
  await waitForChat(page, name);
}

/** Opens the admin panel's tab `tab` (the panel itself first, if needed). */
async function openAdminTab(page, tab) {
  if (await page.locator('#admin-panel').isHidden()) await page.click('#admin-toggle');
  await page.locator('#admin-panel').waitFor({ state: 'visible' });
  await page.click(`#admin-tab-${tab}`);
  await page.locator(`#admin-${tab}`).waitFor({ state: 'visible' });
}

/** Waits until the status line says something containing `text` with `kind` (ok | error). */
async function expectStatus(page, kind, text) {
  await page.locator(`#admin-status[data-kind="${kind}"]`).waitFor({ state: 'visible' });
  const shown = await page.locator('#admin-status').textContent();
  assert(shown.includes(text), `the status line should mention "${text}"`, shown);
}

/** Fills the moderation dialog (open) and submits it. */
async function confirmModeration(page, { reason, duration }) {
  await page.locator('#moderate-dialog[open]').waitFor({ state: 'visible' });
  if (reason !== undefined) await page.fill('#moderate-reason', reason);
  if (duration !== undefined) await page.selectOption('#moderate-duration', duration);
  await page.click('#moderate-submit');
}

/** A page whose WebSocket URLs are recorded (refusals 401/403 are expected here). */
async function openPage(context, label) {
  const page = await openHarnessPage(context, label, /status of 40[13]/);
  sockets[label] = [];
  page.on('websocket', (ws) => sockets[label].push(ws.url()));
  return page;
}

async function run() {
  const tag = digits(6);
  const modName = `mod${tag}`;
  const userName = `u${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const banReason = `spamming the lobby ${tag}`;

  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  for (const label of ['A', 'B', 'C']) await openPage(await browser.newContext({ viewport }), label);

  // ---- three identities ----------------------------------------------------------------------
  await step('A', `root logs in as ${rootUser}: 👑 badge and the Admin button`, async (page) => {
    await joinWith(page, 'login', { '#login-username': rootUser, '#login-password': rootPassword }, '#login-submit', rootUser);
    await page.locator('#me-badge .badge-root[aria-label="root"]').waitFor({ state: 'visible' });
    await page.locator('#admin-toggle').waitFor({ state: 'visible' });
  });
  await step('B', `registers as ${modName}: no Admin button yet`, async (page) => {
    await joinWith(page, 'register', { '#register-username': modName, '#register-password': password }, '#register-submit', modName);
    assert(await page.locator('#admin-toggle').isHidden(), 'a plain user must not see the Admin button');
  });
  await step('C', `joins as guest ${userName} and chats`, async (page) => {
    await joinWith(page, 'guest', { '#join-guest-nick': userName }, '#join-guest-submit', userName);
    await send(page, `hello from ${userName}`);
  });
  await step('B', `sees ${userName}'s message`, (page) => waitForLobbyLine(page, `hello from ${userName}`));

  // ---- root makes M a moderator in the Users tab ---------------------------------------------
  await step('A', `Users tab at /admin finds ${modName}`, async (page) => {
    await openAdminTab(page, 'users');
    assert(new URL(page.url()).pathname === '/admin', 'the address should be /admin', page.url());
    await page.fill('#admin-users-q', modName);
    await page.press('#admin-users-q', 'Enter');
    await page.locator(`#admin-users-list tr[data-name="${modName}"]`).waitFor({ state: 'visible' });
    await shot(page, 'admin-users.png');
  });
  await step('A', `gives ${modName} the role mod`, async (page) => {
    await page.selectOption(`#admin-users-list tr[data-name="${modName}"] select.admin-role-select`, 'mod');
    await expectStatus(page, 'ok', `${modName} is now moderator`);
    await page.locator(`#admin-users-list tr[data-name="${modName}"][data-role="mod"]`).waitFor({ state: 'attached' });
  });
  await step('B', 'gets the 🛡️ badge and the Admin button without reloading', async (page) => {
    await page.locator('#me-badge .badge-mod[aria-label="moderator"]').waitFor({ state: 'visible' });
    await page.locator('#admin-toggle').waitFor({ state: 'visible' });
  });
  await step('C', `member list shows ${modName} with the 🛡️ badge (titled "moderator")`, async (page) => {
    const badge = page.locator(`${member(modName)} .badge-mod`);
    await badge.waitFor({ state: 'visible' });
    assert(await badge.getAttribute('title') === 'moderator', 'the badge needs its text alternative');
  });
  await step('A', 'back to the chat: the address is / again', async (page) => {
    await page.click('#admin-close');
    await page.locator('#admin-panel').waitFor({ state: 'hidden' });
    assert(new URL(page.url()).pathname === '/', 'the address should be / again', page.url());
  });

  // ---- the member menu: mute from the lobby, unmute in the Mutes tab -------------------------
  await step('B', `member menu on ${userName} offers Kick, Mute and Ban; mutes for 10 minutes`, async (page) => {
    await page.click(`${member(userName)} .member-button`);
    for (const action of ['kick', 'mute', 'ban']) await page.locator(`#member-menu-${action}`).waitFor({ state: 'visible' });
    await page.click('#member-menu-mute');
    await confirmModeration(page, { reason: 'cool down', duration: '600' });
    await page.locator('#moderate-dialog').waitFor({ state: 'hidden' });
  });
  await step('C', 'sees the mute notice, and a message is refused with `muted`', async (page) => {
    await waitForLobbyLine(page, `${userName} was muted by ${modName}: cool down`);
    await page.fill('#composer', 'can I still talk?');
    await page.press('#composer', 'Enter');
    await waitForLobbyLine(page, 'Message not sent: You are muted');
    await page.fill('#composer', ''); // a refused message stays in the composer
  });
  await step('B', `Mutes tab lists ${userName}; Unmute lifts it`, async (page) => {
    await openAdminTab(page, 'mutes');
    const entry = page.locator(`#admin-mutes-list tr[data-name="${userName}"]`);
    await entry.waitFor({ state: 'visible' });
    await entry.locator('button[data-action="unmute"]').click();
    await expectStatus(page, 'ok', `${userName} is no longer muted`);
    await entry.waitFor({ state: 'detached' });
  });

  // ---- refusals are shown plainly ------------------------------------------------------------
  await step('B', `banning the root account is refused with a clear "forbidden"`, async (page) => {
    await openAdminTab(page, 'bans');
    await page.click('#admin-bans-new');
    await page.locator('#moderate-user').waitFor({ state: 'visible' });
    await page.fill('#moderate-user', rootUser);
    await confirmModeration(page, { reason: 'no' });
    // A sentence with the server's reason; the code itself is not shown.
    await page.waitForFunction(() => {
      const text = document.querySelector('#moderate-error').textContent;
      return /^Not allowed: ./.test(text) && !text.includes('forbidden)');
    });
    await page.click('#moderate-dialog [data-close]');
    await page.locator('#moderate-dialog').waitFor({ state: 'hidden' });
  });

  // ---- M bans U from Live sessions -----------------------------------------------------------
  const socketsBefore = sockets.C.length;
  await step('B', `Live sessions lists ${userName}; bans with a reason`, async (page) => {
    await openAdminTab(page, 'sessions');
    const entry = page.locator(`#admin-sessions-list tr[data-name="${userName}"]`).first();
    await entry.waitFor({ state: 'visible' });
    const ip = await entry.getAttribute('data-ip');
    assert(ip && ip.length > 0, 'the connection should show an address', ip);
    await shot(page, 'admin-sessions.png');
    await entry.locator('button[data-action="ban"]').click();
    await confirmModeration(page, { reason: banReason });
    await expectStatus(page, 'ok', `${userName} was banned`);
  });
  await step('C', 'shows "You have been banned" with the reason, blocking the page', async (page) => {
    await page.locator('#closed-screen[open][data-kind="banned"]').waitFor({ state: 'visible' });
    const title = await page.locator('#closed-title').textContent();
    assert(title === 'You have been banned', 'the screen should say so', title);
    await page.locator('#closed-reason').waitFor({ state: 'visible' });
    const reason = await page.locator('#closed-reason').textContent();
    assert(reason === `Reason: ${banReason}`, 'the reason should be shown', reason);
    await shot(page, 'admin-banned.png');
  });
  await step('C', `opens no new connection within ${NO_RECONNECT_MS / 1000} s and stays offline`, async (page) => {
    await page.waitForTimeout(NO_RECONNECT_MS);
    assert(sockets.C.length === socketsBefore, 'the page must not reconnect after a ban', sockets.C.length - socketsBefore);
    const state = await page.locator('#conn-state').getAttribute('data-state');
    assert(state === 'offline', 'the connection state should be offline', state);
    assert(await page.locator('#closed-screen[open]').isVisible(), 'the ban screen should still be shown');
  });
  await step('A', 'the lobby shows the ban notice with the reason', (page) =>
    waitForLobbyLine(page, `${userName} was banned by ${modName}: ${banReason}`));

  // ---- the Bans tab and the audit log --------------------------------------------------------
  await step('B', `Bans tab lists ${userName} with the reason`, async (page) => {
    await openAdminTab(page, 'bans');
    const entry = page.locator(`#admin-bans-list tr[data-name="${userName}"]`);
    await entry.waitFor({ state: 'visible' });
    const text = await entry.textContent();
    assert(text.includes(banReason) && text.includes(modName), 'the ban should show its reason and author', text);
    await shot(page, 'admin-bans.png');
  });
  await step('B', 'audit log filtered by action=ban shows the ban, with CSV and JSONL exports', async (page) => {
    await openAdminTab(page, 'audit');
    const note = await page.locator('#admin-audit-note').textContent();
    assert(/end-to-end\s+encrypted rooms and conversations are never searched/i.test(note) && /the text of stored messages/.test(note) && !/never message text/.test(note),
      'the note should say that text search covers stored messages (as the server does)', note);
    await page.fill('#admin-audit-action', 'ban');
    await page.click('#admin-audit-apply');
    const entry = page.locator(`#admin-audit-list tr[data-action="ban"][data-target="${userName}"]`);
    await entry.waitFor({ state: 'visible' });
    const text = await entry.textContent();
    assert(text.includes(banReason) && text.includes(modName), 'the entry should show the actor and the reason', text);
    // The tab first lists everything (the ban included); wait for the filtered page to replace it.
    const onlyBans = await page.waitForFunction(() =>
      document.querySelectorAll('#admin-audit-list tr[data-action]:not([data-action="ban"])').length === 0,
    null, { timeout: STEP_MS }).then(() => true, () => false);
    const others = await page.locator('#admin-audit-list tr[data-action]:not([data-action="ban"])').count();
    assert(onlyBans && others === 0, 'the filter should leave only bans', others);
    const csv = await page.locator('#admin-audit-csv').getAttribute('href');
    assert(csv.includes('action=ban') && csv.includes('format=csv'), 'the CSV link should carry the filter', csv);
    const jsonl = await page.locator('#admin-audit-jsonl').getAttribute('href');
    assert(jsonl.includes('action=ban') && jsonl.includes('format=jsonl'), 'the JSONL link should carry the filter', jsonl);
    const exported = await page.evaluate(async (href) => (await fetch(href)).text(), csv);
    assert(exported.startsWith('id,ts,actor') && exported.includes(banReason), 'the CSV export should hold the ban', exported.slice(0, 200));
    await shot(page, 'admin-audit.png');
  });
  await step('A', 'a room transcript lists a message\'s file, which opens through the admin door', async (page) => {
    const slug = `files-${tag}`;
    const fileName = `minutes-${tag}.txt`;
    const sent = await page.evaluate(async ({ slug, fileName }) => {
      const json = { 'Content-Type': 'application/json' };
      const created = await fetch('/api/rooms', { method: 'POST', headers: json, body: JSON.stringify({ slug }) });
      const upload = await fetch(`/api/files?room=${slug}&name=${encodeURIComponent(fileName)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: 'what was decided\n',
      });
      const file = await upload.json();
      const posted = await fetch(`/api/rooms/${slug}/messages`, {
        method: 'POST', headers: json, body: JSON.stringify({ text: 'the minutes', attachments: [file.id] }),
      });
      return [created.status, upload.status, posted.status];
    }, { slug, fileName });
    assert(sent.join() === '201,201,201', 'room, upload and post should succeed', sent);
    await openAdminTab(page, 'rooms');
    const roomRow = page.locator(`#admin-rooms-list tr[data-slug="${slug}"]`);
    await roomRow.waitFor({ state: 'visible' });
    await roomRow.locator('button[data-action="transcript"]').click();
    const link = page.locator('#admin-rooms a.admin-line-file');
    await link.waitFor({ state: 'visible' });
    const label = await link.textContent();
    assert(label.includes(fileName) && label.includes('text/plain'), 'the file shows its name and type', label);
    const href = await link.getAttribute('href');
    assert(href.startsWith('/api/admin/files/'), 'the link goes through the admin door', href);
    const body = await page.evaluate(async (href) => (await fetch(href)).text(), href);
    assert(body === 'what was decided\n', 'the file opens for staff', body);
  });
  await step('A', 'an end-to-end room\'s transcript shows who wrote when, never words', async (page) => {
    const slug = `sealed-${tag}`;
    const made = await page.evaluate(async (slug) => {
      const json = { 'Content-Type': 'application/json' };
      const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
      const random = (n) => b64(crypto.getRandomValues(new Uint8Array(n)));
      const spki = async () => {
        const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
        return b64(await crypto.subtle.exportKey('spki', pair.publicKey));
      };
      // Keys of the right shapes: the server checks formats only, the cryptography is the clients'.
      const wrapped = (kdf) => ({ v: 1, kdf, ...(kdf === 'pbkdf2-sha256' ? { iterations: 600000 } : {}),
        salt: random(16), nonce: random(12), ciphertext: random(200) });
      const keys = await fetch('/api/user/@me/keys', { method: 'PUT', headers: json, body: JSON.stringify({
        agreement_public: await spki(), signing_public: await spki(),
        password_wrapped: wrapped('pbkdf2-sha256'), recovery_wrapped: wrapped('hkdf-sha256') }) });
      const created = await fetch('/api/rooms', { method: 'POST', headers: json, body: JSON.stringify({ slug, e2e: true }) });
      const me = await (await fetch('/api/user/@me')).json();
      const sealed = { v: 1, epk: await spki(), nonce: random(12), ciphertext: random(48), signature: random(64) };
      const stored = await fetch(`/api/rooms/${slug}/e2e/keys`, { method: 'PUT', headers: json,
        body: JSON.stringify({ epoch: 1, keys: [{ user: me.username, sealed }] }) });
      const envelope = { v: 1, epoch: 1, nonce: random(12), ciphertext: random(40), signature: random(64) };
      const posted = await fetch(`/api/rooms/${slug}/messages`, { method: 'POST', headers: json, body: JSON.stringify({ envelope }) });
      return [keys.status, created.status, stored.status, posted.status];
    }, slug);
    assert(made.join() === '200,201,200,201', 'keys, room, room key and envelope should be taken', made);
    await openAdminTab(page, 'rooms');
    const roomRow = page.locator(`#admin-rooms-list tr[data-slug="${slug}"]`);
    await roomRow.waitFor({ state: 'visible' });
    const status = await roomRow.textContent();
    assert(status.includes('end-to-end encrypted'), 'the room list says the room is end-to-end', status);
    await roomRow.locator('button[data-action="transcript"]').click();
    const sealedLine = page.locator('#admin-rooms li.admin-line[data-e2e="true"]');
    await sealedLine.waitFor({ state: 'visible' });
    const text = await sealedLine.locator('.admin-line-text').textContent();
    assert(text.startsWith('end-to-end encrypted — content not visible to the server ('),
      'the line shows that it is sealed, and its size, instead of words', text);
    await shot(page, 'admin-e2e-transcript.png');
  });
  await step('B', 'narrow 360×740: the panel fits, screenshot admin-narrow.png', async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await openAdminTab(page, 'bans');
    await page.locator(`#admin-bans-list tr[data-name="${userName}"]`).waitFor({ state: 'visible' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, 'the page should not scroll sideways', overflow);
    const panelOverflow = await page.evaluate(() => {
      const panel = document.querySelector('#admin-panel');
      return panel.scrollWidth - panel.clientWidth;
    });
    assert(panelOverflow <= 1, 'the admin panel should not scroll sideways', panelOverflow);
    await shot(page, 'admin-narrow.png');
  });
  await step('C', '"Back to the start page" shows the join screen, which says why', async (page) => {
    await page.click('#closed-actions button');
    await page.locator('#join-view').waitFor({ state: 'visible' });
    const message = await page.locator('#join-error').textContent();
    assert(/banned/i.test(message), 'the join screen should say the user is banned', message);
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
