#!/usr/bin/env node
// What Parlor's web app tells its users, in headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core: errors as sentences, toasts clear of the composer, mentions,
// notifications, the lobby's "not stored" line, and a private room's address seen from outside.
//
// Usage: node browser_notices.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_notices
//
// Two browser contexts, whose `window.Notification` is a recording stub (an init script; its
// permission request answers "granted"). The login page at 360×740 shows the app's name. A and B
// register; the lobby's header says that the lobby is not stored. A turns notifications on with
// the bell, sets the lobby to "mentions" and is made hidden (`document.hidden` stubbed). B's
// `@A` in the lobby is highlighted on A's page (`message-mention`, a `mention-me` span) and fires
// one notification naming B; B's plain message fires none, and neither does B's next mention
// once A set the lobby to "nothing"; B's own page does not highlight B's message. A starts a
// conversation with B; B accepts, turns notifications on and is hidden: A's next message there
// fires a notification without any mention (conversations notify of everything). A creates a
// room with slow mode and goes back to the lobby; B's `@A` there gives the room's entry a
// `badge-mention` badge and a notification, whose click opens the room. B's second message
// within the slow mode is refused with a toast that reads as a sentence with the wait in it and
// does not overlap the composer, at 1200×800 and at 360×740 (where the header's buttons, the
// bell included, still fit side by side). A makes a private room over REST;
// B opening its address sees "No room here that you can see" with "Ask to join" and "Create";
// creating answers `room_taken`, which the card explains with "Ask to join" (no failed dialog).
// Writes notices-login-narrow.png, notices-a.png, notices-toast.png, notices-toast-narrow.png
// and notices-taken.png; on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage, 3 on
// overrun (60 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs, register as registerAt } from './harness.mjs';

const DEADLINE_MS = 60000;
const SLOW_MODE_SECS = 30;

const { baseUrl, outDir } = scriptArgs('browser_notices.mjs');

const { step, shot, launch, openPage: openHarnessPage, finish } = createHarness({
  script: 'browser_notices.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/** Replaces `window.Notification` with a stub that records each notification in `__notes`. */
function stubNotifications() {
  window.__notes = [];
  class RecordingNotification {
    static permission = 'default';

    static async requestPermission() {
      RecordingNotification.permission = 'granted';
      return 'granted';
    }

    constructor(title, options = {}) {
      this.title = title;
      this.body = options.body ?? '';
      this.tag = options.tag ?? '';
      this.onclick = null;
      this.closed = false;
      window.__notes.push(this);
    }

    close() {
      this.closed = true;
    }
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
}

const notes = (page) => page.evaluate(() => window.__notes.map(({ title, body, tag }) => ({ title, body, tag })));

/** Waits until the log of room `slug` has a message whose text is exactly `text`; returns its classes. */
async function waitForMessage(page, slug, text) {
  const handle = await page.waitForFunction(([room, want]) => {
    for (const item of document.querySelectorAll(`#messages .room-log[data-room="${room}"] .message`)) {
      const body = item.querySelector('.message-text');
      if (body && body.textContent === want) {
        return {
          classes: [...item.classList],
          mentions: [...body.querySelectorAll('.mention')].map((el) => [el.textContent, el.classList.contains('mention-me')]),
        };
      }
    }
    return false;
  }, [slug, text], { timeout: STEP_MS });
  return handle.jsonValue();
}

async function waitForRoom(page, slug) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
  await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible', timeout: STEP_MS });
}

async function register(page, name, password) {
  await registerAt(page, baseUrl, name, password);
  await waitForRoom(page, 'lobby');
}

/** Boxes `a` and `b` (playwright bounding boxes) share some area. */
const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Sends `text` and expects the refusal toast: a sentence with the wait, clear of the composer. */
async function refusedForSpeed(page, text, viewport) {
  if (await page.locator('#banner').isVisible()) await page.click('#banner-close'); // a toast from before
  await page.locator('#banner').waitFor({ state: 'hidden' });
  await page.fill('#composer', text);
  await page.press('#composer', 'Enter');
  const banner = page.locator('#banner');
  await banner.waitFor({ state: 'visible' });
  const said = (await page.locator('#banner-text').textContent()) ?? '';
  assert(/^Message not sent: You are sending too fast — wait \d+ s\.$/.test(said),
    'the toast should be a sentence with the wait in seconds', said);
  assert(!said.includes('rate_limited'), 'the toast should not show the code', said);
  assert(await page.inputValue('#composer') === text, 'a refused message stays in the composer');
  const toast = await banner.boundingBox();
  const composer = await page.locator('#composer-form').boundingBox();
  assert(toast && composer && !overlap(toast, composer), 'the toast must not cover the composer', { toast, composer });
  assert(toast.y >= 0 && toast.y + toast.height <= viewport.height && toast.x >= 0 && toast.x + toast.width <= viewport.width,
    'the toast should lie inside the viewport', toast);
}

/** The 4xx this test provokes (and 401 before joining) are not worth a console line. */
const openExpecting4xx = (context, label) => openHarnessPage(context, label, /status of 4\d\d/);

async function run() {
  const tag = digits(6);
  const nickA = `NtA${tag}`;
  const nickB = `NtB${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const wide = { width: 1200, height: 800 };
  const narrow = { width: 360, height: 740 };
  const browser = await launch();
  for (const label of ['A', 'B']) {
    const context = await browser.newContext({ viewport: wide });
    await context.addInitScript(stubNotifications);
    await openExpecting4xx(context, label);
  }

  await step('B', 'the login page at 360×740 shows the app name, screenshot notices-login-narrow.png', async (page) => {
    await page.setViewportSize(narrow);
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    const brand = page.locator('.app-header .brand');
    assert(await brand.isVisible(), 'the app name should be visible on the phone login page');
    assert((await brand.textContent()).trim() === 'Parlor', 'the app name', await brand.textContent());
    await shot(page, 'notices-login-narrow.png');
    await page.setViewportSize(wide);
  });
  await step('A', `register as ${nickA}`, (page) => register(page, nickA, password));
  await step('B', `register as ${nickB}`, (page) => register(page, nickB, password));

  await step('A', 'the lobby says it is not stored', async (page) => {
    const topic = page.locator('#room-topic');
    await topic.waitFor({ state: 'visible' });
    const text = await topic.textContent();
    assert(/not stored/.test(text) && /vanish when you leave or the server restarts/.test(text),
      'the lobby header should say its messages are not kept', text);
  });

  // ---- mentions and notifications in the lobby ----------------------------------------------
  await step('A', 'turns notifications on with the bell and sets the lobby to "mentions"', async (page) => {
    const bell = page.locator('#notify-toggle');
    assert(await bell.getAttribute('aria-pressed') === 'false', 'notifications start off');
    assert(await page.inputValue('#room-notify') === 'none', 'the lobby notifies of nothing by default');
    await bell.click();
    await page.locator('#notify-toggle[aria-pressed="true"]').waitFor({ state: 'attached' });
    await page.selectOption('#room-notify', 'mentions');
    await page.evaluate(() => Object.defineProperty(document, 'hidden', { value: true, configurable: true }));
  });
  const mention = `hello @${nickA.toLowerCase()}, look`;
  await step('B', `mentions ${nickA} in the lobby`, (page) => send(page, mention));
  await step('A', 'the mention is highlighted and fires one notification', async (page) => {
    const seen = await waitForMessage(page, 'lobby', mention);
    assert(seen.classes.includes('message-mention'), 'the message should be marked as mentioning A', seen);
    assert(JSON.stringify(seen.mentions) === JSON.stringify([[`@${nickA.toLowerCase()}`, true]]),
      'the @name should be a mention-me span', seen);
    await page.waitForFunction(() => window.__notes.length >= 1, null, { timeout: STEP_MS });
    const list = await notes(page);
    assert(list.length === 1 && list[0].title.includes(nickB) && list[0].body === mention,
      'one notification naming B with the text', list);
  });
  await step('B', 'its own mention is not highlighted on its page', async (page) => {
    const seen = await waitForMessage(page, 'lobby', mention);
    assert(!seen.classes.includes('message-mention'), 'B wrote it', seen);
    assert(JSON.stringify(seen.mentions) === JSON.stringify([[`@${nickA.toLowerCase()}`, false]]),
      'the @name is styled, not as B', seen);
  });
  const plain = `nothing for anyone ${tag}`;
  await step('B', 'writes without a mention', (page) => send(page, plain));
  await step('A', 'no notification for a message without a mention', async (page) => {
    const seen = await waitForMessage(page, 'lobby', plain);
    assert(!seen.classes.includes('message-mention'), 'not a mention', seen);
    assert((await notes(page)).length === 1, 'still one notification', await notes(page));
    await page.selectOption('#room-notify', 'none');
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('parlor.notify.rooms')));
    assert(stored.lobby === 'none', 'the setting is kept in localStorage', stored);
  });
  const muted = `@${nickA} again ${tag}`;
  await step('B', `mentions ${nickA} again`, (page) => send(page, muted));
  await step('A', 'the lobby set to "nothing" fires no notification', async (page) => {
    const seen = await waitForMessage(page, 'lobby', muted);
    assert(seen.classes.includes('message-mention'), 'still highlighted', seen);
    assert((await notes(page)).length === 1, 'still one notification', await notes(page));
  });

  // ---- a conversation notifies of every message by default ------------------------------------
  const early = `a private word ${tag}`;
  const pm = await step('A', `starts a conversation with ${nickB} from the lobby's member list`, async (page) => {
    await page.click(`#members .members[data-room="lobby"] .member[data-name="${nickB}"] .member-button`);
    await page.click('#member-menu-message');
    const title = page.locator('#room-title[data-room^="pm:"]');
    await title.waitFor({ state: 'visible' });
    const slug = await title.getAttribute('data-room');
    await send(page, early);
    return slug;
  });
  await step('B', 'accepts it, turns notifications on and is made hidden', async (page) => {
    await page.locator(`#room-list [data-action="accept"][data-room="${pm}"]`).click();
    await waitForRoom(page, pm);
    await waitForMessage(page, pm, early);
    assert(await page.inputValue('#room-notify') === 'all', 'a conversation notifies of every message by default');
    await page.click('#notify-toggle');
    await page.locator('#notify-toggle[aria-pressed="true"]').waitFor({ state: 'attached' });
    await page.evaluate(() => Object.defineProperty(document, 'hidden', { value: true, configurable: true }));
  });
  const word = `no mention needed ${tag}`;
  await step('A', 'writes in the conversation, then goes back to the lobby', async (page) => {
    await send(page, word);
    await page.click('#room-list .room-link[data-room="lobby"]');
    await waitForRoom(page, 'lobby');
  });
  await step('B', 'a notification names A, without a mention', async (page) => {
    await waitForMessage(page, pm, word);
    await page.waitForFunction(() => window.__notes.length >= 1, null, { timeout: STEP_MS });
    const list = await notes(page);
    assert(list.length === 1 && list[0].title === nickA && list[0].body === word, 'one notification from A', list);
    await page.evaluate(() => Object.defineProperty(document, 'hidden', { value: false, configurable: true }));
  });

  // ---- a room: mention badge, a notification that opens it, slow mode ------------------------
  const room = `notices-${tag}`;
  await step('A', `creates #${room} with a ${SLOW_MODE_SECS} s slow mode, back to the lobby`, async (page) => {
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', room);
    await page.click('#create-room-submit');
    await waitForRoom(page, room);
    const status = await page.evaluate(async ([slug, secs]) => (await fetch(`/api/rooms/${slug}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slow_mode_secs: secs }),
    })).status, [room, SLOW_MODE_SECS]);
    assert(status === 200, 'slow mode should be set', status);
    assert(await page.inputValue('#room-notify') === 'mentions', 'a room notifies of mentions by default');
    await page.click('#room-list .room-link[data-room="lobby"]');
    await waitForRoom(page, 'lobby');
  });
  const inRoom = `@${nickA} come and see ${tag}`;
  await step('B', `opens #${room} and mentions ${nickA} there`, async (page) => {
    await page.goto(`${baseUrl}/room/${room}`, { timeout: STEP_MS });
    await waitForRoom(page, room);
    await send(page, inRoom);
  });
  await step('A', 'the room shows a mention badge and notifies; the click opens it', async (page) => {
    const badge = page.locator(`#room-list .room-link[data-room="${room}"] .unread-badge`);
    await badge.waitFor({ state: 'visible' });
    assert(await badge.evaluate((el) => el.classList.contains('badge-mention')), 'the badge should be a mention badge');
    assert(await page.locator('#sidebar-unread.badge-mention').count() === 1, 'the drawer toggle marks the mention too');
    await page.waitForFunction(() => window.__notes.length >= 2, null, { timeout: STEP_MS });
    const list = await notes(page);
    assert(list.length === 2 && list[1].title === `${nickB} in #${room}` && list[1].body === inRoom,
      'a notification for the room', list);
    await shot(page, 'notices-a.png');
    await page.evaluate(() => window.__notes[1].onclick());
    await waitForRoom(page, room);
    await badge.waitFor({ state: 'detached' });
    const seen = await waitForMessage(page, room, inRoom);
    assert(seen.classes.includes('message-mention'), 'highlighted in the room', seen);
  });
  await step('B', 'too fast for slow mode: a toast with the wait, clear of the composer (1200×800)', async (page) => {
    await refusedForSpeed(page, `second ${tag}`, wide);
    await shot(page, 'notices-toast.png');
  });
  await step('B', 'the same at 360×740, screenshot notices-toast-narrow.png', async (page) => {
    await page.setViewportSize(narrow);
    await refusedForSpeed(page, `third ${tag}`, narrow);
    // The header's row (the bell included) fits: no button runs into the next or off the page.
    const boxes = await page.$$eval('.app-header button:not([hidden])', (els) => els
      .filter((el) => el.offsetParent !== null)
      .map((el) => { const r = el.getBoundingClientRect(); return { id: el.id, left: r.left, right: r.right }; }));
    for (const [i, box] of boxes.entries()) {
      assert(box.left >= 0 && box.right <= narrow.width + 0.5, 'a header button lies outside the page', box);
      if (i > 0) assert(box.left >= boxes[i - 1].right - 0.5, 'header buttons overlap', [boxes[i - 1], box]);
    }
    await shot(page, 'notices-toast-narrow.png');
    await page.setViewportSize(wide);
    await page.fill('#composer', '');
  });

  // ---- a private room's address, seen from outside -------------------------------------------
  let vault = `vault-${tag}`;
  await step('A', 'makes a private room (REST)', async (page) => {
    const { status, made } = await page.evaluate(async (body) => {
      const reply = await fetch('/api/rooms', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      return { status: reply.status, made: await reply.json() };
    }, { slug: vault, private: true });
    assert(status === 201, 'the room should be created', status);
    vault = made.slug;
  });
  await step('B', 'its address offers to ask to join and to create, without a promise', async (page) => {
    await page.goto(`${baseUrl}/room/${vault}`, { timeout: STEP_MS });
    await page.locator('#room-state[data-code="not_found"]').waitFor({ state: 'visible' });
    const text = await page.locator('#room-state-text').textContent();
    assert(text.startsWith('No room here that you can see.'), 'the card should not claim the room is missing', text);
    await page.locator('#room-state-request').waitFor({ state: 'visible' });
    await page.locator('#room-state-create').waitFor({ state: 'visible' });
  });
  await step('B', 'creating it answers room_taken: the card explains and offers to ask, screenshot notices-taken.png', async (page) => {
    await page.click('#room-state-create');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    assert(await page.inputValue('#create-room-slug') === vault, 'the address is filled in');
    await page.click('#create-room-submit');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
    await page.locator('#room-state[data-code="room_taken"]').waitFor({ state: 'visible' });
    const text = await page.locator('#room-state-text').textContent();
    assert(/taken by a room you cannot see/.test(text) && /ask to join/i.test(text), 'the card explains the address is taken', text);
    assert(!/room_taken/.test(text), 'no raw code', text);
    assert(await page.locator('#room-state-create').count() === 0, 'no second offer to create');
    await shot(page, 'notices-taken.png');
    await page.click('#room-state-request');
    await page.locator('#room-state[data-code="requested"]').waitFor({ state: 'visible' });
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
