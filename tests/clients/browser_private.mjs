#!/usr/bin/env node
// Parlor's private conversations, whispers and ephemeral 1-on-1 rooms in the web app, in
// headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_private.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_private
//
// Four browser contexts. (a) A and B register; "New conversation" explains `not_found`; A starts
// a conversation with B from the lobby's member list and writes while it is pending; B sees the
// invitation, accepts and reads it; messages go both ways; a message while B is in the lobby
// shows an unread badge that opening the conversation clears, and after a reload it stays
// cleared (the read marker is on the server); A closes the conversation and B's next message
// brings it back. (b) A creates a 1-on-1 room in the host dialog; C opens its link signed out
// and is told to wait for the host; A activates it; C picks an offered name and lands in the
// room with a countdown; A joins from the dialog; they exchange messages; D opening the link
// (in lower case) is told at once that the room is locked to two devices (no names offered, no
// guest created); C (a guest) whispers to A from the member list and A sees it in a tab marked
// "not stored". Writes private-a.png, private-b.png,
// private-c.png, private-door.png and private-narrow.png (360×740, C's room drawer open); on
// failure failure.png (the page being checked) and failure-other.png. Exits 0 on success, 1 on
// the first failed check, 2 on bad usage, 3 on overrun (60 s watchdog). Needs `npm ci` in
// tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs, createHostedRoom, register as registerAt } from './harness.mjs';

const DEADLINE_MS = 60000;

const { baseUrl, outDir } = scriptArgs('browser_private.mjs');

const { step, shot, launch, openPage: openHarnessPage, finish } = createHarness({
  script: 'browser_private.mjs', outDir, deadlineMs: DEADLINE_MS,
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

/** Waits until room `slug` is open under the title `title`, its log visible, marked in the list. */
async function waitForRoom(page, slug, title) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
  await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
  const shown = await page.locator('#room-title').textContent();
  assert(shown === title, `#room-title should be ${title}`, shown);
  await page.locator(`#room-list .room-link[data-room="${slug}"][aria-current="page"]`).waitFor({ state: 'attached' });
}

const entry = (slug) => `#room-list .room-link[data-room="${slug}"]`;
const memberButton = (room, name) => `#members .members[data-room="${room}"] .member[data-name="${name}"] .member-button`;

async function register(page, name, password) {
  await registerAt(page, baseUrl, name, password);
  await waitForRoom(page, 'lobby', 'Lobby');
}

/** The tag text of a sidebar entry ('' when it has none). */
async function entryTag(page, slug) {
  const tags = page.locator(`${entry(slug)} .access-tag`);
  return (await tags.count()) ? (await tags.first().textContent()) : '';
}

/** The unread badge of a sidebar entry must say `count` (0: no badge). */
async function expectUnread(page, slug, count) {
  const badge = page.locator(`${entry(slug)} .unread-badge`);
  if (count === 0) {
    await badge.waitFor({ state: 'detached' });
    return;
  }
  await badge.waitFor({ state: 'visible' });
  const text = await badge.textContent();
  assert(text === String(count), `the unread badge should say ${count}`, text);
}

/** Opens the share link as a signed-out visitor and returns the door's state. */
async function openDoor(page, url) {
  await page.goto(url, { timeout: STEP_MS });
  await page.locator('#door-view').waitFor({ state: 'visible' });
  return page.locator('#door-view').getAttribute('data-state');
}

/** Picks the first offered name on the door and returns it, once the chat shows that name. */
async function pickName(page) {
  const first = page.locator('#door-names .door-name').first();
  await first.waitFor({ state: 'visible' });
  const name = await first.getAttribute('data-name');
  await first.click();
  await waitForChat(page, name);
  return name;
}

/** (a) A private conversation between two accounts, from invitation to unread counts. */
async function conversation(tag, password) {
  const nickA = `PmA${tag}`;
  const nickB = `PmB${tag}`;
  await step('A', `register as ${nickA}`, (page) => register(page, nickA, password));
  await step('B', `register as ${nickB}`, (page) => register(page, nickB, password));

  await step('A', '"New conversation" with an unknown name explains not_found', async (page) => {
    await page.click('#conversation-new');
    await page.locator('#conversation-dialog').waitFor({ state: 'visible' });
    await page.fill('#conversation-user', `nobody${tag}`);
    await page.click('#conversation-submit');
    await page.locator('#conversation-error[data-code="not_found"]').waitFor({ state: 'visible' });
    await page.click('#conversation-dialog [data-close]');
    await page.locator('#conversation-dialog').waitFor({ state: 'hidden' });
  });

  const slug = await step('A', `starts a conversation with ${nickB} from the lobby's member list`, async (page) => {
    await page.click(memberButton('lobby', nickB));
    await page.click('#member-menu-message');
    const title = page.locator('#room-title[data-room^="pm:"]');
    await title.waitFor({ state: 'visible' });
    const room = await title.getAttribute('data-room');
    await waitForRoom(page, room, nickB);
    assert(new URL(page.url()).pathname === `/room/${room}`, 'the address bar should name the conversation', page.url());
    assert(await entryTag(page, room) === 'pending', 'the entry should say pending', await entryTag(page, room));
    return room;
  });
  const early = `written while pending ${tag}`;
  await step('A', 'writes while B has not accepted yet', async (page) => {
    await send(page, early);
    await waitForMessage(page, slug, early, nickA);
  });

  await step('B', 'sees the invitation and accepts it from the sidebar', async (page) => {
    await page.locator(`#room-list [data-action="accept"][data-room="${slug}"]`).waitFor({ state: 'visible' });
    assert(await entryTag(page, slug) === 'invited', 'the entry should say invited', await entryTag(page, slug));
    await page.click(`#room-list [data-action="accept"][data-room="${slug}"]`);
    await waitForRoom(page, slug, nickA);
    await waitForMessage(page, slug, early, nickA);
  });
  await step('A', 'the conversation is no longer pending', (page) =>
    page.locator(`${entry(slug)} .access-tag`).waitFor({ state: 'detached' }));

  const reply = `reply from B ${tag}`;
  await step('B', 'replies', (page) => send(page, reply));
  await step('A', "sees B's reply", (page) => waitForMessage(page, slug, reply, nickB));

  const away = `while B is in the lobby ${tag}`;
  await step('B', 'switches to the lobby', async (page) => {
    await page.click(entry('lobby'));
    await waitForRoom(page, 'lobby', 'Lobby');
  });
  await step('A', 'writes while B is elsewhere', (page) => send(page, away));
  await step('B', 'the conversation shows one unread message', (page) => expectUnread(page, slug, 1));
  await step('B', 'opening the conversation clears the badge', async (page) => {
    await page.click(entry(slug));
    await waitForRoom(page, slug, nickA);
    await waitForMessage(page, slug, away, nickA);
    await expectUnread(page, slug, 0);
  });
  await step('B', 'after going to the lobby and reloading, nothing is unread (the read marker moved)', async (page) => {
    await page.click(entry('lobby'));
    await waitForRoom(page, 'lobby', 'Lobby');
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    await page.locator(entry(slug)).waitFor({ state: 'visible' });
    assert(await page.locator(`${entry(slug)} .unread-badge`).count() === 0, 'no unread badge after the reload');
  });

  await step('A', 'closes the conversation (×): it leaves the list', async (page) => {
    await page.click(`#room-list [data-action="close"][data-room="${slug}"]`);
    await page.locator(entry(slug)).waitFor({ state: 'detached' });
    await waitForRoom(page, 'lobby', 'Lobby');
  });
  const again = `B writes again ${tag}`;
  await step('B', 'writes in the conversation again', async (page) => {
    await page.click(entry(slug));
    await waitForRoom(page, slug, nickA);
    await send(page, again);
  });
  await step('A', "B's message brings the conversation back, unread", async (page) => {
    await expectUnread(page, slug, 1);
    await page.click(entry(slug));
    await waitForRoom(page, slug, nickB);
    await waitForMessage(page, slug, again, nickB);
  });
  return { nickA, slug };
}

/** (b) An ephemeral 1-on-1 room: host dialog, door, join, messages, locked, a whisper. */
async function ephemeralRoom(nickA) {
  const { code, link } = await step('A', 'creates a 1-on-1 room in the host dialog', async (page) => {
    const { code, link } = await createHostedRoom(page, baseUrl);
    return { code, link };
  });
  const room = `e:${code}`;

  await step('C', 'opening the link before activation says to wait for the host', async (page) => {
    assert(await openDoor(page, link) === 'waiting', 'the door should be waiting');
    const text = await page.locator('#door-text').textContent();
    assert(/Waiting for the host/.test(text), 'the door should say it waits for the host', text);
    await shot(page, 'private-door.png');
  });
  await step('A', 'activates the room: the dialog shows the time left', async (page) => {
    const item = page.locator(`#host-rooms .host-room[data-code="${code}"]`);
    await item.locator('.host-activate').click();
    await page.locator(`#host-rooms .host-room[data-code="${code}"][data-active="true"]`).waitFor({ state: 'visible' });
    const status = await item.locator('.host-status').textContent();
    assert(/closes in 2[34] h/.test(status), 'the status should count down from 24 h', status);
  });
  const nickC = await step('C', 'the door opens by itself; picking an offered name lands in the room', async (page) => {
    await page.locator('#door-view[data-state="open"]').waitFor({ state: 'visible', timeout: STEP_MS });
    const name = await pickName(page);
    await waitForRoom(page, room, `Room ${code}`);
    assert(new URL(page.url()).pathname === `/room/${code}`, 'the address bar should be the share link', page.url());
    await page.waitForFunction(() => /closes in/.test(document.querySelector('#room-topic').textContent));
    return name;
  });
  await step('A', 'joins from the host dialog', async (page) => {
    await page.click(`#host-rooms .host-room[data-code="${code}"] .host-join`);
    await waitForRoom(page, room, `Room ${code}`);
  });

  const hello = `hello 1-on-1 from A ${code}`;
  const answer = `answer from C ${code}`;
  await step('A', 'writes in the room', (page) => send(page, hello));
  await step('C', "sees A's message and answers", async (page) => {
    await waitForMessage(page, room, hello, nickA);
    await send(page, answer);
  });
  await step('A', "sees C's answer", (page) => waitForMessage(page, room, answer, nickC));

  await step('D', 'a third device is told at once that the room is locked: no names, no guest made', async (page) => {
    assert(await openDoor(page, `${baseUrl}/room/${code.toLowerCase()}`) === 'locked', 'the door should say locked');
    const text = await page.locator('#door-text').textContent();
    assert(/locked to two devices/.test(text), 'the door should say the room is locked to two devices', text);
    assert(await page.locator('#door-names .door-name').count() === 0, 'no names should be offered');
    assert(await page.locator('#door-names').isHidden(), 'the name list should be hidden');
    const status = await page.evaluate(async () => (await fetch('/api/user/@me')).status);
    assert(status === 401, 'no guest should have been created on this device', status);
  });

  const whisper = `psst from C ${code}`;
  await step('C', `whispers to ${nickA} from the member list`, async (page) => {
    await page.click(memberButton(room, nickA));
    await page.click('#member-menu-whisper');
    await waitForRoom(page, `w:${nickA.toLowerCase()}`, nickA);
    await send(page, whisper);
    await waitForMessage(page, `w:${nickA.toLowerCase()}`, whisper, nickC);
  });
  await step('A', 'gets the whisper in a tab marked "not stored"', async (page) => {
    const tab = `w:${nickC.toLowerCase()}`;
    await expectUnread(page, tab, 1);
    assert(await entryTag(page, tab) === 'not stored', 'the tab should say not stored', await entryTag(page, tab));
    await page.click(entry(tab));
    await waitForRoom(page, tab, nickC);
    await waitForMessage(page, tab, whisper, nickC);
  });
  await step('C', 'back to the room', async (page) => {
    await page.click(entry(room));
    await waitForRoom(page, room, `Room ${code}`);
  });
}

/** The 4xx this test provokes (and 401 before joining) are not worth a console line. */
const openExpecting4xx = (context, label) => openHarnessPage(context, label, /status of 4\d\d/);

async function run() {
  const tag = digits(6);
  const password = `pw-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  for (const label of ['A', 'B', 'C', 'D']) await openExpecting4xx(await browser.newContext({ viewport }), label);

  const { nickA } = await conversation(tag, password);
  await ephemeralRoom(nickA);

  await step('A', 'screenshot private-a.png', (page) => shot(page, 'private-a.png'));
  await step('B', 'screenshot private-b.png', (page) => shot(page, 'private-b.png'));
  await step('C', 'screenshot private-c.png', (page) => shot(page, 'private-c.png'));
  await step('C', 'narrow 360×740: composer visible, room drawer opens, screenshot private-narrow.png', async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    const box = await page.locator('#composer').boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= 361 && box.y + box.height <= 741,
      '#composer should lie inside the 360×740 viewport', box);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, 'the narrow layout should not scroll sideways', overflow);
    await page.click('#sidebar-toggle');
    await page.locator('#sidebar .room-link[data-kind="ephemeral"]').waitFor({ state: 'visible' });
    await shot(page, 'private-narrow.png');
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
