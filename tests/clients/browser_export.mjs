#!/usr/bin/env node
// "Download my data" in the web app, in headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core.
//
// Usage: node browser_export.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots and the downloaded archive go (created); default:
//             $TMPDIR/parlor-browser-shots/browser_export
//
// A guest sees no "My data" button (guests keep nothing stored). A user registers, creates a
// room over REST, opens it and sends a message through the composer; the header's "My data"
// button then downloads a zip archive named after the user, whose messages.jsonl holds that
// message (author, room and text) and whose export.html shows it escaped. Writes export.png
// and the archive; on failure failure.png (the page being checked). Exits 0 on success, 1 on
// the first failed check, 2 on bad usage, 3 on overrun (45 s watchdog). Needs `npm ci` in
// tests/clients and chromium.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { STEP_MS, assert, createHarness, digits, log, scriptArgs, send, waitForChat } from './harness.mjs';

const DEADLINE_MS = 45000;

const { baseUrl, outDir } = scriptArgs('browser_export.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_export.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/**
 * The entries of a zip archive (`Buffer`) by name, read through its central directory (the
 * local headers of a streamed archive carry no sizes). Stored and deflated entries only.
 */
function unzip(buffer) {
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert(end >= 0, 'the download should be a zip archive (no end of central directory)');
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const entries = new Map();
  for (let i = 0; i < count; i += 1) {
    assert(buffer.readUInt32LE(at) === 0x02014b50, 'a central directory entry', at);
    const method = buffer.readUInt16LE(at + 10);
    const size = buffer.readUInt32LE(at + 20);
    const nameLen = buffer.readUInt16LE(at + 28);
    const extraLen = buffer.readUInt16LE(at + 30);
    const commentLen = buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLen);
    const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const raw = buffer.subarray(start, start + size);
    assert(method === 0 || method === 8, `${name}: stored or deflated`, method);
    entries.set(name, method === 8 ? inflateRawSync(raw) : raw);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

async function run() {
  const tag = digits(6);
  const name = `Exp${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const slug = `export-${tag}`;
  const text = `my words ${tag} <b>kept</b>`;

  const browser = await launch();
  const viewport = { width: 1100, height: 760 };

  // ---- guests have no button ------------------------------------------------------------------
  const guestCtx = await browser.newContext({ viewport });
  await openPage(guestCtx, 'guest');
  await step('guest', 'joins as a guest and sees no "My data" button', async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    const nick = `g${tag}`;
    await page.fill('#join-guest-nick', nick);
    await page.click('#join-guest-submit');
    await waitForChat(page, nick);
    assert(await page.locator('#export-data').isHidden(), '#export-data should be hidden for a guest');
  });
  await guestCtx.close();

  // ---- a user downloads their data ------------------------------------------------------------
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
  await openPage(ctx, 'user');
  await step('user', `registers as ${name}, creates #${slug} and says something there`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.click('#tab-register');
    await page.fill('#register-username', name);
    await page.fill('#register-password', password);
    await page.click('#register-submit');
    await waitForChat(page, name);
    const made = await page.evaluate(async (s) => (await fetch('/api/rooms', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slug: s }),
    })).status, slug);
    assert(made === 201, 'the room should be created', made);
    await page.goto(`${baseUrl}/room/${slug}`, { timeout: STEP_MS });
    await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible' });
    await send(page, text);
    await page.locator(`#messages .room-log[data-room="${slug}"] .message-text`, { hasText: `my words ${tag}` })
      .waitFor({ state: 'visible' });
  });

  let archive = null;
  await step('user', '"My data" downloads a zip archive named after the user', async (page) => {
    const button = page.locator('#export-data');
    await button.waitFor({ state: 'visible' });
    assert((await button.getAttribute('aria-label')) === 'Download my data', 'the button should say what it does');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: STEP_MS }),
      button.click(),
    ]);
    const file = download.suggestedFilename();
    assert(new RegExp(`^parlor-${name}-\\d{4}-\\d{2}-\\d{2}\\.zip$`).test(file), 'the archive should be named after the user', file);
    const path = join(outDir, file);
    await download.saveAs(path);
    archive = unzip(readFileSync(path));
    log(`    ${archive.size} entries: ${[...archive.keys()].join(', ')}`);
    await page.waitForFunction(() => !document.querySelector('#export-data').disabled, null, { timeout: STEP_MS });
  });

  await step('user', 'the archive holds the message, and the page shows it escaped', async () => {
    const find = (suffix) => [...archive.entries()].find(([entry]) => entry.endsWith(suffix))?.[1];
    const jsonl = find('/messages.jsonl');
    assert(jsonl, 'messages.jsonl should be in the archive', [...archive.keys()]);
    const lines = jsonl.toString('utf8').trim().split('\n').map((line) => JSON.parse(line));
    const mine = lines.filter((line) => line.text === text && line.author === name && line.room === slug);
    assert(mine.length === 1, 'the message should be there once, with its author and room', lines);
    const html = find('/export.html')?.toString('utf8') ?? '';
    assert(html.includes(`my words ${tag} &lt;b&gt;kept&lt;/b&gt;`) && !html.includes('<b>kept</b>'),
      'export.html should show the message as text', html.length);
    const manifest = JSON.parse(find('/manifest.json')?.toString('utf8') ?? '{}');
    assert(manifest.subject?.kind === 'account' && manifest.subject?.name === name,
      'the manifest should be about the account', manifest.subject);
  });

  await step('user', 'screenshot export.png', (page) => shot(page, 'export.png'));
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
