#!/usr/bin/env node
// Parlor's persistent rooms in the web app, in headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core.
//
// Usage: node browser_rooms.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_rooms
//
// Two separate browser contexts (two users). A registers, creates a private room through the
// dialog (after seeing `invalid_room` and `room_taken` explained), and creates an invite link
// through the UI. B opens the link while signed out, registers and lands in the room. They
// exchange messages both ways; a message to a room that is not on screen shows an unread
// badge; B reloads and sees the history again; HTML in a message is shown as text; a used-up
// invite shows `invite_unusable`; an unknown room offers to create it. B asks to join a second
// private room of A's and an address nobody holds: the sidebar lists both alike under "Waiting
// for approval", by the address typed (never the room's name); A approves over REST and B's
// page opens the room, now under its name. Writes rooms-a.png,
// rooms-b.png and rooms-narrow.png (360×740, room drawer open); on failure failure.png (the
// page being checked) and failure-other.png. Exits 0 on success, 1 on the first failed check,
// 2 on bad usage, 3 on overrun (55 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs } from './harness.mjs';

const DEADLINE_MS = 55000;

const { baseUrl, outDir } = scriptArgs('browser_rooms.mjs');

const { step, shot, launch, openPage: openHarnessPage, finish } = createHarness({
  script: 'browser_rooms.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/** Waits until the log of room `slug` has a message with exactly `text` (and author, if given). */
function waitForMessage(page, slug, text, author) {
  return page.waitForFunction(([room, want, who]) => {
    for (const item of document.querySelectorAll(`#messages .room-log[data-room="${room}"] .message`)) {
      const body = item.querySelector('.message-text');
      const name = item.querySelector('.message-author');
      if (body && body.textContent === want && (!who || (name && name.textContent === who))) return true;
    }
    return false;
  }, [slug, text, author], { timeout: STEP_MS });
}

/** Waits until room `slug` is open: its title shown, its log visible, the address bar in step. */
async function waitForRoom(page, slug, name) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
  await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
  const title = await page.locator('#room-title').textContent();
  assert(title === name, `#room-title should be ${name}`, title);
  const path = new URL(page.url()).pathname;
  assert(path === (slug === 'lobby' ? '/' : `/room/${slug}`), 'the address bar should name the room', path);
  await page.locator(`#room-list .room-link[data-room="${slug}"][aria-current="page"]`).waitFor({ state: 'attached' });
}

async function register(page, name, password) {
  await page.click('#tab-register');
  await page.locator('#register-username').waitFor({ state: 'visible' });
  await page.fill('#register-username', name);
  await page.fill('#register-password', password);
  await page.click('#register-submit');
  await waitForChat(page, name);
}

/** Creates an invite through the dialog and returns the URL it shows. */
async function createInvite(page, { expiry, maxUses }) {
  await page.click('#room-invite');
  await page.locator('#invite-dialog').waitFor({ state: 'visible' });
  await page.selectOption('#invite-expiry', expiry);
  await page.fill('#invite-max-uses', maxUses);
  await page.click('#invite-create');
  await page.locator('#invite-result').waitFor({ state: 'visible' });
  return page.inputValue('#invite-url');
}

/** The 4xx this test provokes (and 401 before joining) are not worth a console line. */
const openExpecting4xx = (context, label) => openHarnessPage(context, label, /status of 4\d\d/);

async function run() {
  const tag = digits(6);
  const nickA = `RmA${tag}`;
  const nickB = `RmB${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const asked = `club-${tag}`;
  let slug = asked; // a private room's address: what was asked for, a dash and a random suffix
  const roomName = `Club ${tag}`;
  const topic = `<i>topic</i> ${tag}`;

  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  const ctxA = await browser.newContext({ viewport });
  await ctxA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  const ctxB = await browser.newContext({ viewport });
  await openExpecting4xx(ctxA, 'A');
  await openExpecting4xx(ctxB, 'B');

  // ---- A registers and creates a private room ------------------------------------------------
  await step('A', `register as ${nickA}`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await register(page, nickA, password);
    await waitForRoom(page, 'lobby', 'Lobby');
  });
  await step('A', 'the create dialog explains invalid_room', async (page) => {
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', 'Not a slug!');
    await page.click('#create-room-submit');
    await page.locator('#create-room-error[data-code="invalid_room"]').waitFor({ state: 'visible' });
  });
  await step('A', `creates private room ${asked} and lands in it`, async (page) => {
    await page.fill('#create-room-slug', asked);
    await page.fill('#create-room-name', roomName);
    await page.fill('#create-room-topic', topic);
    await page.check('#create-room-private');
    await page.click('#create-room-submit');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
    const title = page.locator(`#room-title[data-room^="${asked}-"]`);
    await title.waitFor({ state: 'visible', timeout: STEP_MS });
    slug = await title.getAttribute('data-room');
    assert(/^[a-z2-7]{8}$/.test(slug.slice(asked.length + 1)), 'an unguessable address', slug);
    await waitForRoom(page, slug, roomName);
    const shown = await page.locator('#room-topic').textContent();
    assert(shown === topic, 'the topic should be shown as text', shown);
    assert(await page.locator('#room-topic i').count() === 0, 'the topic HTML was rendered');
    await page.locator('#room-invite').waitFor({ state: 'visible' });
  });
  const square = `square-${tag}`;
  await step('A', 'a public address already held is explained as room_taken', async (page) => {
    const status = await page.evaluate(async (body) => (await fetch('/api/rooms', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    })).status, { slug: square });
    assert(status === 201, 'the public room should be created', status);
    await page.click('#room-new');
    await page.fill('#create-room-slug', square);
    await page.click('#create-room-submit');
    await page.locator('#create-room-error[data-code="room_taken"]').waitFor({ state: 'visible' });
    await page.click('#create-room-dialog [data-close]');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
  });

  // ---- the invite --------------------------------------------------------------------------
  const inviteUrl = await step('A', 'creates an invite link (1 day, 5 uses) and copies it', async (page) => {
    const url = await createInvite(page, { expiry: '86400', maxUses: '5' });
    assert(url.startsWith(`${baseUrl}/invite/`) && url.length > `${baseUrl}/invite/`.length + 10,
      'the invite URL should be a full /invite/<token> link', url);
    await page.click('#invite-copy');
    await page.waitForFunction(() => /Copied/.test(document.querySelector('#invite-copied').textContent));
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert(copied === url, 'the clipboard should hold the link', copied);
    await page.click('#invite-dialog [data-close]');
    return url;
  });

  // ---- B opens the link signed out, registers, lands in the room ---------------------------
  await step('B', 'opening the invite signed out asks to log in or register', async (page) => {
    await page.goto(inviteUrl, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.waitForFunction(() => /invited/.test(document.querySelector('#join-error').textContent));
  });
  await step('B', `registers as ${nickB} and lands in the room`, async (page) => {
    await register(page, nickB, password);
    await waitForRoom(page, slug, roomName);
  });
  await step('A', `the room's member list shows ${nickB}`, (page) =>
    page.locator(`#members .members[data-room="${slug}"] .member[data-name="${nickB}"]`).waitFor({ state: 'visible' }));

  // ---- messages both ways ------------------------------------------------------------------
  const hello = `hello room from A ${tag}`;
  const reply = `reply in the room from B ${tag}`;
  await step('A', 'sends to the room', async (page) => {
    await send(page, hello);
    await waitForMessage(page, slug, hello, nickA);
  });
  await step('B', "sees A's message", (page) => waitForMessage(page, slug, hello, nickA));
  await step('B', 'replies', (page) => send(page, reply));
  await step('A', "sees B's reply", (page) => waitForMessage(page, slug, reply, nickB));

  // ---- unread badge for a room that is not on screen ----------------------------------------
  const away = `while A is in the lobby ${tag}`;
  await step('A', 'switches to the lobby', async (page) => {
    await page.click('#room-list .room-link[data-room="lobby"]');
    await waitForRoom(page, 'lobby', 'Lobby');
  });
  await step('B', 'sends while A is elsewhere', (page) => send(page, away));
  await step('A', 'the room shows one unread message', async (page) => {
    const badge = page.locator(`#room-list .room-link[data-room="${slug}"] .unread-badge`);
    await badge.waitFor({ state: 'visible' });
    assert(await badge.textContent() === '1', 'unread badge should say 1', await badge.textContent());
  });
  await step('A', 'opening the room clears the badge and shows the message', async (page) => {
    await page.click(`#room-list .room-link[data-room="${slug}"]`);
    await waitForRoom(page, slug, roomName);
    await waitForMessage(page, slug, away, nickB);
    assert(await page.locator(`#room-list .room-link[data-room="${slug}"] .unread-badge`).count() === 0,
      'the badge should be gone');
  });

  // ---- reload: history comes back ----------------------------------------------------------
  await step('B', 'reload reopens the room with its history', async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    await waitForRoom(page, slug, roomName);
    for (const [text, author] of [[hello, nickA], [reply, nickB], [away, nickB]]) {
      await waitForMessage(page, slug, text, author);
    }
    const ids = await page.$$eval(`#messages .room-log[data-room="${slug}"] .message`, (items) => items.map((m) => m.dataset.id));
    assert(new Set(ids).size === ids.length && ids.length === 3, 'each message once', ids);
  });

  // ---- HTML is text --------------------------------------------------------------------------
  const html = '<b>bold</b><img src=x onerror=alert(1)>';
  await step('A', 'sends a message containing HTML', (page) => send(page, html));
  for (const label of ['B', 'A']) {
    await step(label, 'shows the HTML message literally, with no b/img element', async (page) => {
      await waitForMessage(page, slug, html, nickA);
      const found = await page.evaluate(() => document.querySelectorAll('#messages b, #messages img').length);
      assert(found === 0, 'HTML was rendered as elements', found);
    });
  }

  // ---- invites that cannot be used, rooms that do not exist --------------------------------
  const once = await step('A', 'creates a single-use invite', async (page) => {
    const url = await createInvite(page, { expiry: '3600', maxUses: '1' });
    await page.click('#invite-dialog [data-close]');
    return url;
  });
  await step('B', 'the single-use invite works once', async (page) => {
    await page.goto(once, { timeout: STEP_MS });
    await waitForRoom(page, slug, roomName);
  });
  await step('B', 'the second use shows invite_unusable', async (page) => {
    await page.goto(once, { timeout: STEP_MS });
    await page.locator('#room-state[data-code="invite_unusable"]').waitFor({ state: 'visible' });
  });
  await step('B', 'an unknown room offers to create it', async (page) => {
    await page.goto(`${baseUrl}/room/nothing-${tag}`, { timeout: STEP_MS });
    await page.locator('#room-state[data-code="not_found"]').waitFor({ state: 'visible' });
    await page.locator('#room-state-create').waitFor({ state: 'visible' });
  });
  await step('B', 'back to the room', async (page) => {
    await page.click(`#room-list .room-link[data-room="${slug}"]`);
    await waitForRoom(page, slug, roomName);
  });

  // ---- access requests: shown by address only, alike for a private room and for nothing ------
  let vault = `vault-${tag}`;
  const vaultName = `Vault ${tag}`;
  const nowhere = `nowhere-${tag}`;
  await step('A', `creates a second private room ${vault} (REST)`, async (page) => {
    const { status, room } = await page.evaluate(async (body) => {
      const reply = await fetch('/api/rooms', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      return { status: reply.status, room: await reply.json() };
    }, { slug: vault, name: vaultName, private: true });
    assert(status === 201, 'the room should be created', status);
    vault = room.slug;
  });
  for (const address of [nowhere, vault]) { // the last one stays on screen
    await step('B', `asks to join #${address}`, async (page) => {
      await page.goto(`${baseUrl}/room/${address}`, { timeout: STEP_MS });
      await page.locator('#room-state[data-code="not_found"]').waitFor({ state: 'visible' });
      await page.click('#room-state-request');
      await page.locator('#room-state[data-code="requested"]').waitFor({ state: 'visible' });
    });
  }
  await step('B', 'both wait for approval under the address typed, alike', async (page) => {
    const group = page.locator('#room-list [data-group="requested"]');
    for (const address of [vault, nowhere]) {
      await group.locator(`.room-link[data-room="${address}"]`).waitFor({ state: 'visible' });
    }
    const entries = await group.locator('.room-link').evaluateAll((links) =>
      links.map((l) => [l.dataset.room, l.querySelector('.room-icon').textContent, l.querySelector('.room-name').textContent]));
    assert(JSON.stringify(entries) === JSON.stringify([[nowhere, '#', nowhere], [vault, '#', vault]]),
      'each entry should show only its address', entries);
    const text = await page.evaluate(() => document.body.textContent);
    assert(!text.includes(vaultName), "the private room's name must not reach B", vaultName);
  });
  await step('A', `approves ${nickB} (REST)`, async (page) => {
    const status = await page.evaluate(async ([room, name]) => (await fetch(`/api/rooms/${room}/requests/${name}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ approve: true }),
    })).status, [vault, nickB]);
    assert(status === 204, 'the request should be approved', status);
  });
  await step('B', 'learns it live: the room opens under its name', async (page) => {
    await waitForRoom(page, vault, vaultName);
    await page.locator(`#room-list [data-group="rooms"] .room-link[data-room="${vault}"]`).waitFor({ state: 'visible' });
    await page.locator(`#room-list [data-group="requested"] .room-link[data-room="${nowhere}"]`).waitFor({ state: 'visible' });
  });
  await step('B', 'back to the first room', async (page) => {
    await page.click(`#room-list .room-link[data-room="${slug}"]`);
    await waitForRoom(page, slug, roomName);
  });

  // ---- screenshots ---------------------------------------------------------------------------
  await step('A', 'screenshot rooms-a.png', (page) => shot(page, 'rooms-a.png'));
  await step('B', 'screenshot rooms-b.png', (page) => shot(page, 'rooms-b.png'));
  await step('B', 'narrow 360×740: composer visible, room drawer opens, screenshot rooms-narrow.png', async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    const box = await page.locator('#composer').boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= 361 && box.y + box.height <= 741,
      '#composer should lie inside the 360×740 viewport', box);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, 'the narrow layout should not scroll sideways', overflow);
    await page.click('#sidebar-toggle');
    await page.locator(`#sidebar .room-link[data-room="${slug}"]`).waitFor({ state: 'visible' });
    await shot(page, 'rooms-narrow.png');
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
