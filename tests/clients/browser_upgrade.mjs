#!/usr/bin/env node
// A guest keeps its name as an account in the web app, in headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_upgrade.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_upgrade
//
// Three browser contexts. A joins as a guest; B registers and makes two public rooms (over REST
// from its page): #hall-<tag>, which lets guests in, and #members-<tag>, which does not. A opens
// the hall's address and is in it as a guest; B whispers to A from the lobby's member list, so A
// has a whisper tab open. C, another guest, opens the members-only room's address, gets the
// "this room is for registered accounts" card, and its "Keep your name — create an account"
// button opens the dialog with C's nick; asking there for A's nick while A is online is refused
// with a sentence (`username_taken`). A opens the offer from the header: its nick is filled in,
// the hint names the minimum password length, a short password is refused with a sentence;
// then A keeps the nick and creates the account. No signed-out or closed screen appears at any
// point; the header shows the account ("Account", no guest tag, no offer), `GET /api/user/@me`
// says kind "user" under the same name, B's member list shows A without the guest tag, the
// whisper tab is still there with B's message and a line saying what changed, the hall is
// joined again by the account (A is its member now, in the room list and in `GET /api/rooms`),
// and A creates a room and lands in it. Writes upgrade-dialog.png and upgrade-done.png; on failure failure.png
// (the page being checked) and failure-other.png. Exits 0 on success, 1 on the first failed
// check, 2 on bad usage, 3 on overrun (60 s watchdog). Needs `npm ci` in tests/clients and
// chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs } from './harness.mjs';

const DEADLINE_MS = 60000;

const { baseUrl, outDir } = scriptArgs('browser_upgrade.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_upgrade.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const entry = (slug) => `#room-list .room-link[data-room="${slug}"]`;
const member = (room, name) => `#members .members[data-room="${room}"] .member[data-name="${name}"]`;

/** Waits until the log of room `slug` has a message with exactly `text` by `author`. */
function waitForMessage(page, slug, text, author) {
  return page.waitForFunction(([room, want, who]) => {
    for (const item of document.querySelectorAll(`#messages .room-log[data-room="${room}"] .message`)) {
      const body = item.querySelector('.message-text');
      const name = item.querySelector('.message-author');
      if (body && body.textContent === want && name && name.textContent === who) return true;
    }
    return false;
  }, [slug, text, author], { timeout: STEP_MS });
}

/** Waits until room `slug` is open under the title `title`, its log visible. */
async function waitForRoom(page, slug, title) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
  await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible' });
  const shown = await page.locator('#room-title').textContent();
  assert(shown === title, `#room-title should be ${title}`, shown);
}

async function joinAsGuest(page, nick) {
  await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
  await page.locator('#join-guest-nick').waitFor({ state: 'visible' });
  await page.fill('#join-guest-nick', nick);
  await page.click('#join-guest-submit');
  await waitForChat(page, nick);
}

/**
 * Creates the public room `slug` over REST with the page's session, letting guests in or not;
 * returns the Room as the server now says.
 */
const makeRoom = (page, slug, allowGuests) => page.evaluate(async ([name, guests]) => {
  const json = { 'content-type': 'application/json' };
  const made = await fetch('/api/rooms', { method: 'POST', headers: json, body: JSON.stringify({ slug: name }) });
  if (made.status !== 201) return { status: made.status, body: await made.text() };
  const changed = await fetch(`/api/rooms/${name}`, {
    method: 'PATCH', headers: json, body: JSON.stringify({ allow_guests: guests }),
  });
  return { status: changed.status, body: changed.ok ? await changed.json() : await changed.text() };
}, [slug, allowGuests]);

/** How `GET /api/rooms` lists room `slug` to the page's session (null: not at all). */
const listedAs = (page, slug) => page.evaluate(async (name) => {
  const answer = await (await fetch('/api/rooms', { cache: 'no-store' })).json();
  return answer.rooms.find((room) => room.slug === name) ?? null;
}, slug);

/** Who the page's session is, as the server says. */
const whoAmI = (page) => page.evaluate(async () => {
  const response = await fetch('/api/user/@me', { cache: 'no-store' });
  return { status: response.status, body: response.ok ? await response.json() : null };
});

/**
 * Records, from now on, whether the page ever shows the join screen, the door or the closed
 * screen (what a signed-out page shows); `signedOutSeen` reads it.
 */
const watchForSignOut = (page) => page.evaluate(() => {
  window.signedOutSeen = [];
  const check = () => {
    for (const id of ['join-view', 'door-view']) {
      if (!document.getElementById(id).hidden) window.signedOutSeen.push(id);
    }
    if (document.getElementById('closed-screen').open) window.signedOutSeen.push('closed-screen');
  };
  new MutationObserver(check).observe(document.body, {
    attributes: true, subtree: true, attributeFilter: ['hidden', 'open'],
  });
});
const signedOutSeen = (page) => page.evaluate(() => window.signedOutSeen);

async function run() {
  const tag = digits(6);
  const nickA = `Keep${tag}`;
  const nickB = `UpB${tag}`;
  const nickC = `UpC${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  // The 4xx this test provokes (and 401 before joining) are not worth a console line.
  for (const label of ['A', 'B', 'C']) {
    await openPage(await browser.newContext({ viewport }), label, /status of 4\d\d/);
  }

  await step('A', `joins as the guest ${nickA}: the header offers to keep the name`, async (page) => {
    await joinAsGuest(page, nickA);
    await page.locator('#upgrade-open').waitFor({ state: 'visible' });
    assert(await page.locator('#account-open').isHidden(), 'a guest has no Account button');
    assert(await page.locator('#me-guest').isVisible(), 'the header says guest');
    const label = await page.locator('#upgrade-open').getAttribute('aria-label');
    assert(label === 'Keep your name — create an account', 'the offer says what it does', label);
    await page.locator('#rooms-upgrade').waitFor({ state: 'visible' });
  });

  await step('B', `registers as ${nickB}`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.click('#tab-register');
    await page.fill('#register-username', nickB);
    await page.fill('#register-password', password);
    await page.click('#register-submit');
    await waitForChat(page, nickB);
    assert(await page.locator('#upgrade-open').isHidden(), 'an account is offered no upgrade');
  });
  const hall = `hall-${tag}`;
  const closed = `members-${tag}`;
  await step('B', `makes #${hall} (guests welcome) and #${closed} (accounts only)`, async (page) => {
    const open = await makeRoom(page, hall, true);
    assert(open.status === 200 && open.body.allow_guests === true, `#${hall} lets guests in`, open);
    const shut = await makeRoom(page, closed, false);
    assert(shut.status === 200 && shut.body.allow_guests === false, `#${closed} does not`, shut);
  });
  await step('A', `opens #${hall} by its address and is in it as a guest`, async (page) => {
    await page.goto(`${baseUrl}/room/${hall}`, { timeout: STEP_MS });
    await waitForChat(page, nickA);
    await waitForRoom(page, hall, hall);
    await page.locator(`${entry(hall)}[data-access="member"]`).waitFor({ state: 'visible' });
    const listed = await listedAs(page, hall);
    assert(listed && listed.access === 'public' && listed.role === null, 'the server lists it as public to a guest', listed);
  });
  const whisper = `psst from B ${tag}`;
  await step('B', `whispers to ${nickA} from the lobby's member list`, async (page) => {
    await page.click(`${member('lobby', nickA)} .member-button`);
    await page.click('#member-menu-whisper');
    await waitForRoom(page, `w:${nickA.toLowerCase()}`, nickA);
    await send(page, whisper);
    await waitForMessage(page, `w:${nickA.toLowerCase()}`, whisper, nickB);
  });
  const tab = `w:${nickB.toLowerCase()}`;
  await step('A', "has B's whisper in a tab (opened from the lobby, so the address names no room)", async (page) => {
    await page.locator(entry(tab)).waitFor({ state: 'visible' });
    await page.click(entry('lobby'));
    await page.click(entry(tab));
    await waitForRoom(page, tab, nickB);
    await waitForMessage(page, tab, whisper, nickB);
    assert(new URL(page.url()).pathname === '/', 'the address is the lobby\'s', page.url());
  });

  await step('C', "joins as a guest; a members-only room's address says it needs an account and offers one", async (page) => {
    await joinAsGuest(page, nickC);
    await page.goto(`${baseUrl}/room/${closed}`, { timeout: STEP_MS });
    await waitForChat(page, nickC);
    await page.locator('#room-state[data-code="registration_required"]').waitFor({ state: 'visible' });
    const text = (await page.locator('#room-state-text').textContent()) ?? '';
    assert(/registered accounts/.test(text) && !text.includes('_'), 'a sentence, not a code', text);
    await page.click('#room-state-upgrade');
    await page.locator('#upgrade-dialog').waitFor({ state: 'visible' });
    const prefilled = await page.inputValue('#upgrade-username');
    assert(prefilled === nickC, 'the dialog starts from the guest nick', prefilled);
  });
  await step('C', `asking for ${nickA}, online as a guest, is refused with a sentence`, async (page) => {
    await page.fill('#upgrade-username', nickA);
    await page.fill('#upgrade-password', password);
    await page.click('#upgrade-submit');
    const error = page.locator('#upgrade-error[data-code="username_taken"]');
    await error.waitFor({ state: 'visible' });
    const text = (await error.textContent()) ?? '';
    assert(/^That name is taken\b.*\.$/.test(text) && !text.includes('_'), 'a sentence, not a code', text);
    assert(await page.locator('#upgrade-dialog').isVisible(), 'the dialog stays open to pick another name');
    await page.click('#upgrade-dialog [data-close]');
    await page.locator('#upgrade-dialog').waitFor({ state: 'hidden' });
    const me = await whoAmI(page);
    assert(me.status === 200 && me.body.kind === 'guest' && me.body.username === nickC,
      'C is still the same guest', me);
  });

  await step('A', 'the offer opens a dialog with the nick, the minimum length and what changes', async (page) => {
    await page.click('#upgrade-open');
    await page.locator('#upgrade-dialog').waitFor({ state: 'visible' });
    const prefilled = await page.inputValue('#upgrade-username');
    assert(prefilled === nickA, 'the username is the guest nick', prefilled);
    assert((await page.locator('#upgrade-nick').textContent()) === nickA, 'the dialog names the guest');
    const about = (await page.locator('#upgrade-about').textContent()) ?? '';
    assert(/rooms/.test(about) && /conversations with history/.test(about) && /reactions/.test(about),
      'the dialog says what an account adds', about);
    await page.waitForFunction(() => document.querySelector('#upgrade-password-hint').dataset.min);
    const hint = await page.locator('#upgrade-password-hint').textContent();
    assert(/^At least \d+ characters\./.test(hint), "the hint names the server's minimum", hint);
    await shot(page, 'upgrade-dialog.png');
  });
  await step('A', 'a short password is refused with a sentence naming the minimum', async (page) => {
    await page.fill('#upgrade-password', 'short');
    await page.click('#upgrade-submit');
    const error = page.locator('#upgrade-error[data-code="password_too_short"]');
    await error.waitFor({ state: 'visible' });
    const text = (await error.textContent()) ?? '';
    assert(/^That password is too short: use at least \d+ characters\.$/.test(text), 'a sentence', text);
    const me = await whoAmI(page);
    assert(me.status === 200 && me.body.kind === 'guest', 'A is still a guest', me);
  });

  await step('A', 'keeps the nick and creates the account: the page carries on as it, never signed out', async (page) => {
    await watchForSignOut(page);
    await page.fill('#upgrade-password', password);
    await page.click('#upgrade-submit');
    await page.locator('#upgrade-dialog').waitFor({ state: 'hidden' });
    await page.locator('#account-open').waitFor({ state: 'visible' });
    assert(await page.locator('#upgrade-open').isHidden(), 'the offer is gone');
    assert(await page.locator('#rooms-upgrade').isHidden(), 'the offer under the rooms is gone');
    assert(await page.locator('#me-guest').isHidden(), 'the header no longer says guest');
    await waitForChat(page, nickA);
    await page.waitForTimeout(500); // a late `closing` or reconnect would show itself by now
    const seen = await signedOutSeen(page);
    assert(seen.length === 0, 'no signed-out screen should have appeared', seen);
    assert(await page.locator('#chat-view').isVisible(), 'still in the chat');
  });
  await step('A', 'the server says the page is the account, under the same name', async (page) => {
    const me = await whoAmI(page);
    assert(me.status === 200 && me.body.kind === 'user' && me.body.username === nickA,
      '@me should be the account', me);
    await page.locator(`${member('lobby', nickA)}`).waitFor({ state: 'attached' });
  });
  await step('B', `the member list shows ${nickA} as an account`, (page) =>
    page.waitForFunction((sel) => {
      const item = document.querySelector(sel);
      return Boolean(item) && !item.querySelector('.guest-tag');
    }, member('lobby', nickA)));
  await step('A', 'the whisper tab is still open, with what changed', async (page) => {
    await page.locator(entry(tab)).waitFor({ state: 'visible' });
    await page.click(entry(tab));
    await waitForRoom(page, tab, nickB);
    await waitForMessage(page, tab, whisper, nickB);
    const notice = (await page.locator(`#messages .room-log[data-room="${tab}"] .notice-info`).last().textContent()) ?? '';
    assert(/You have an account now/.test(notice), 'the tab says what changed', notice);
  });
  await step('A', `the account is a member of #${hall}, which the guest had open`, async (page) => {
    await page.locator(`${entry(hall)}[data-access="member"]`).waitFor({ state: 'visible' });
    let listed = null;
    for (const started = Date.now(); Date.now() - started < STEP_MS; await page.waitForTimeout(250)) {
      listed = await listedAs(page, hall);
      if (listed?.access === 'member') break;
    }
    assert(listed?.access === 'member' && listed.role === 'member', 'the server lists A as its member', listed);
  });
  const slug = `kept-${tag}`;
  await step('A', 'can now create a room and lands in it', async (page) => {
    await page.locator('#room-new').waitFor({ state: 'visible' });
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', slug);
    await page.click('#create-room-submit');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
    await waitForRoom(page, slug, slug);
    await page.locator(entry(slug)).waitFor({ state: 'visible' });
    const seen = await signedOutSeen(page);
    assert(seen.length === 0, 'still never signed out', seen);
    await shot(page, 'upgrade-done.png');
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
