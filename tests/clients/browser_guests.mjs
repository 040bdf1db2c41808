#!/usr/bin/env node
// Guests (people without an account) in public rooms and hosting 1-on-1 rooms, in the web app,
// in headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_guests.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_guests
//
// Four browser contexts. B registers and creates the public room #guestbook, whose settings
// offer "Let guests in" (on), and writes in it. A opens /room/guestbook signed out: the join
// screen says a guest may come in; A joins as a guest and lands in the room with its history,
// B's member list shows A as a guest, A's message reaches B live and B's reply (quoting A)
// reaches A live. A has Reply but no React on B's message, and Edit on its own: A's edit shows on
// B's page; B's autocomplete does not offer A (guests are no members, a mention would not reach
// them); a 👍 B gave A's message is a chip that A may not press (a sentence says reactions are
// for accounts). A has no search. A reloads and is back in the room with its history; from the
// lobby, a reload joins the room again in the background (B sees A come back). C, another
// guest, finds #guestbook under "Public rooms" with a note that guests may join public rooms,
// joins it, then hosts a 1-on-1 room from the sidebar (no "New conversation" for a guest): a
// code, activation, and D (a fresh browser) comes in through the share link's door as a guest;
// C and D exchange a message each. B turns "Let guests in" off: A, looking at the room, gets a
// card saying #guestbook no longer admits guests and loses the composer; C, in its 1-on-1 room,
// gets the same sentence as a banner; both lose the sidebar entry, and B's member list loses
// them. A opening the address again gets the "create an account" card. C creating room after
// room is refused once the address's budget for new identities is spent (`rate_limited`), with
// a sentence naming the wait. Writes guests-room.png,
// guests-host.png, guests-removed.png and guests-refused.png; on failure failure.png (the page
// being checked) and failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on
// bad usage, 3 on overrun (75 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs, register, createHostedRoom } from './harness.mjs';

const DEADLINE_MS = 75000;
const ROOM = 'guestbook';
const NOT_ADMITTED = /^#guestbook no longer admits guests — create an account to stay\.$/;
/** New rooms a guest tries before the address's budget (10 new identities an hour) must run out. */
const BUDGET_TRIES = 12;

const { baseUrl, outDir } = scriptArgs('browser_guests.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_guests.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const logOf = (slug) => `#messages .room-log[data-room="${slug}"]`;
const entry = (slug) => `#room-list .room-link[data-room="${slug}"]`;
const member = (slug, name) => `#members .members[data-room="${slug}"] .member[data-name="${name}"]`;

/** The message of room `slug` whose text contains `text`. */
const messageWith = (page, slug, text) =>
  page.locator(`${logOf(slug)} .message`, { has: page.locator('.message-text', { hasText: text }) });

/** Waits until room `slug`'s message with exactly `text` by `author` is shown. */
async function waitForMessage(page, slug, text, author) {
  const message = messageWith(page, slug, text);
  await message.waitFor({ state: 'visible' });
  const who = await message.locator('.message-author').textContent();
  assert(who === author, `the message should be by ${author}`, who);
  return message;
}

/** Waits until room `slug` is on screen, its log and composer visible. */
async function waitForRoom(page, slug) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
  await page.locator(logOf(slug)).waitFor({ state: 'visible' });
  await page.locator('#composer').waitFor({ state: 'visible' });
}

/** Presses one button of a message's toolbar (shown on hover). */
async function act(message, action) {
  await message.hover();
  await message.locator(`.message-action[data-action="${action}"]`).click();
}

/** The actions of a message's toolbar, in order. */
const actionsOf = (message) => message.locator('.message-action')
  .evaluateAll((buttons) => buttons.map((b) => b.dataset.action));

/** Joins as the guest `nick` from the join screen already shown. */
async function joinAsGuest(page, nick) {
  await page.click('#tab-guest');
  await page.locator('#join-guest-nick').waitFor({ state: 'visible' });
  await page.fill('#join-guest-nick', nick);
  await page.click('#join-guest-submit');
  await waitForChat(page, nick);
}

/** Who the page's session is, as the server says. */
const whoAmI = (page) => page.evaluate(async () => (await fetch('/api/user/@me', { cache: 'no-store' })).json());

async function run() {
  const tag = digits(6);
  const nickA = `GuA${tag}`;
  const nickB = `GbB${tag}`;
  const nickC = `GuC${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  // The refusals this test provokes (and 401 before joining) are not worth a console line.
  for (const label of ['A', 'B', 'C', 'D']) {
    await openPage(await browser.newContext({ viewport }), label, /status of 4\d\d/);
  }

  // ---- an account makes a public room ---------------------------------------------------------
  const welcome = `welcome to the guestbook ${tag}`;
  await step('B', `registers as ${nickB} and creates the public room #${ROOM}`, async (page) => {
    await register(page, baseUrl, nickB, password);
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', ROOM);
    await page.click('#create-room-submit');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
    await waitForRoom(page, ROOM);
    await send(page, welcome);
    await waitForMessage(page, ROOM, welcome, nickB);
  });
  await step('B', 'the room settings offer "Let guests in", on by default', async (page) => {
    await page.click('#room-settings');
    await page.locator('#settings-dialog').waitFor({ state: 'visible' });
    const box = page.locator('#settings-allow-guests');
    await box.waitFor({ state: 'visible' });
    assert(await box.isChecked(), 'guests are let in by default');
    const label = await page.locator('#settings-allow-guests-row').textContent();
    assert(/Let guests in \(people without an account\)/.test(label), 'the box says what it does', label);
    await page.click('#settings-dialog [data-close]');
    await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
  });

  // ---- a guest comes in by the room's address ---------------------------------------------------
  await step('A', `opens /room/${ROOM} signed out: the join screen says a guest may come in`, async (page) => {
    await page.goto(`${baseUrl}/room/${ROOM}`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    const says = (await page.locator('#join-error').textContent()) ?? '';
    assert(says.includes(`#${ROOM}`) && /join as a guest/.test(says), 'the screen names the room and guests', says);
  });
  await step('A', `joins as the guest ${nickA} and lands in #${ROOM} with its history`, async (page) => {
    await joinAsGuest(page, nickA);
    await waitForRoom(page, ROOM);
    await waitForMessage(page, ROOM, welcome, nickB);
    assert(new URL(page.url()).pathname === `/room/${ROOM}`, 'the address still names the room', page.url());
    await page.locator(`${entry(ROOM)}[data-access="member"]`).waitFor({ state: 'visible' });
    assert(await page.locator('#search-open').isHidden(), 'a guest has no search');
    assert(await page.locator('#room-new').isHidden(), 'a guest creates no rooms');
    assert(await page.locator('#room-settings').isHidden(), 'a guest has no settings');
  });
  await step('B', `the member list shows ${nickA} as a guest`, async (page) => {
    await page.locator(`${member(ROOM, nickA)}[data-kind="guest"]`).waitFor({ state: 'visible' });
    await page.locator(`${member(ROOM, nickA)} .guest-tag`).waitFor({ state: 'visible' });
  });

  const hello = `hello from a guest ${tag}`;
  const answer = `glad you came ${tag}`;
  await step('A', 'writes in the room', async (page) => {
    await send(page, hello);
    await waitForMessage(page, ROOM, hello, nickA);
  });
  await step('B', "sees A's message live and replies to it from its toolbar", async (page) => {
    const message = await waitForMessage(page, ROOM, hello, nickA);
    await act(message, 'reply');
    await page.locator('#reply-bar').waitFor({ state: 'visible' });
    await send(page, answer);
    await page.locator('#reply-bar').waitFor({ state: 'hidden' });
  });
  await step('A', "sees B's reply live, quoting A; may reply but not react, and edit its own", async (page) => {
    const reply = await waitForMessage(page, ROOM, answer, nickB);
    const quote = reply.locator('.reply-quote');
    await quote.waitFor({ state: 'visible' });
    assert(await quote.locator('.reply-quote-author').textContent() === nickA, 'the quote names A');
    const onB = await actionsOf(reply);
    assert(onB.includes('reply') && !onB.includes('react'), "B's message: Reply, no React", onB);
    const own = await actionsOf(messageWith(page, ROOM, hello));
    assert(own.includes('edit') && own.includes('delete') && !own.includes('react'), 'its own: Edit and Delete', own);
    await shot(page, 'guests-room.png');
  });

  const edited = `hello from a guest ${tag}, edited`;
  await step('A', 'edits its own message in place', async (page) => {
    await act(messageWith(page, ROOM, hello), 'edit');
    const editor = messageWith(page, ROOM, hello).locator('.message-editor textarea');
    await editor.fill(edited);
    await editor.press('Enter');
    await messageWith(page, ROOM, edited).locator('.message-edited').waitFor({ state: 'visible' });
  });
  await step('B', "sees A's edit; the autocomplete does not offer the guest", async (page) => {
    await messageWith(page, ROOM, edited).locator('.message-edited').waitFor({ state: 'visible' });
    const composer = page.locator('#composer');
    await composer.fill('');
    await composer.pressSequentially(`@${nickA.slice(0, 4)}`, { delay: 10 });
    await page.waitForTimeout(400);
    const offered = await page.locator(`#mention-list .mention-option[data-name="${nickA}"]`).count();
    assert(offered === 0, 'a guest is not offered as a mention', offered);
    await composer.fill('');
  });
  await step('B', "reacts with 👍 to A's message", async (page) => {
    const message = messageWith(page, ROOM, edited);
    await act(message, 'react');
    await message.locator('.emoji-picker .emoji-pick[data-emoji="👍"]').click();
    await message.locator('.reaction-chip[data-emoji="👍"]').waitFor({ state: 'visible' });
  });
  await step('A', 'sees the 👍; pressing it says reactions are for accounts, and changes nothing', async (page) => {
    const chip = messageWith(page, ROOM, edited).locator('.reaction-chip[data-emoji="👍"]');
    await chip.waitFor({ state: 'visible' });
    await chip.click();
    const notice = page.locator(`${logOf(ROOM)} .notice-info .notice-text`, { hasText: 'Reactions are for registered accounts' });
    await notice.waitFor({ state: 'visible' });
    assert(await chip.locator('.reaction-count').textContent() === '1', 'still one reaction');
  });

  // ---- a reload, and a connect from elsewhere, join the room again ------------------------------
  await step('A', 'reloads: back in the room with its history', async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickA);
    await waitForRoom(page, ROOM);
    await waitForMessage(page, ROOM, welcome, nickB);
    await waitForMessage(page, ROOM, edited, nickA);
    await waitForMessage(page, ROOM, answer, nickB);
  });
  await step('A', 'goes to the lobby and reloads there: the room is joined again in the background', async (page) => {
    await page.click(entry('lobby'));
    await page.locator('#room-title[data-room="lobby"]').waitFor({ state: 'visible' });
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickA);
    await page.locator('#room-title[data-room="lobby"]').waitFor({ state: 'visible' });
    await page.locator(`${entry(ROOM)}[data-access="member"]`).waitFor({ state: 'visible' });
  });
  const back = `back again ${tag}`;
  await step('B', 'A is present again; B writes', async (page) => {
    await page.locator(member(ROOM, nickA)).waitFor({ state: 'visible' });
    await send(page, back);
  });
  await step('A', "the room's entry counts B's message as unread; opening it shows it", async (page) => {
    await page.locator(`${entry(ROOM)} .unread-badge`).waitFor({ state: 'visible' });
    await page.click(entry(ROOM));
    await waitForRoom(page, ROOM);
    await waitForMessage(page, ROOM, back, nickB);
  });

  // ---- another guest finds the room, and hosts a 1-on-1 room ------------------------------------
  await step('C', `joins as the guest ${nickC}: #${ROOM} is listed under public rooms`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await joinAsGuest(page, nickC);
    const listed = page.locator(`#room-list .room-group[data-group="public"] .room-link[data-room="${ROOM}"]`);
    await listed.waitFor({ state: 'visible' });
    assert(await listed.getAttribute('data-access') === 'public', 'listed as a public room');
    const note = (await page.locator('#rooms-note').textContent()) ?? '';
    assert(/guest/.test(note) && /public rooms/.test(note), 'the note says guests may join public rooms', note);
    assert(await page.locator('#room-new').isHidden(), 'no room creation for a guest');
    await listed.click();
    await waitForRoom(page, ROOM);
    await waitForMessage(page, ROOM, back, nickB);
  });
  const { code, link } = await step('C', 'hosts a 1-on-1 room from the sidebar and activates it', async (page) => {
    await page.locator('#ephemeral-host').waitFor({ state: 'visible' });
    assert(await page.locator('#conversation-new').count() === 0, 'no "New conversation" for a guest');
    const { code: made, link: url, item } = await createHostedRoom(page, baseUrl);
    await item.locator('.host-activate').click();
    await page.locator(`#host-rooms .host-room[data-code="${made}"][data-active="true"]`).waitFor({ state: 'visible' });
    assert(await page.locator('#host-error').textContent() === '', 'no error line');
    await shot(page, 'guests-host.png');
    return { code: made, link: url };
  });
  const ephemeral = `e:${code}`;
  const nickD = await step('D', 'opens the share link and comes in through the door as a guest', async (page) => {
    await page.goto(link, { timeout: STEP_MS });
    await page.locator('#door-view[data-state="open"]').waitFor({ state: 'visible' });
    const first = page.locator('#door-names .door-name').first();
    const name = await first.getAttribute('data-name');
    await first.click();
    await waitForChat(page, name);
    await waitForRoom(page, ephemeral);
    return name;
  });
  const fromC = `hi from the host ${code}`;
  const fromD = `hi from the visitor ${code}`;
  await step('C', 'joins its room from the host dialog and writes', async (page) => {
    await page.click(`#host-rooms .host-room[data-code="${code}"] .host-join`);
    await waitForRoom(page, ephemeral);
    await send(page, fromC);
  });
  await step('D', "sees the host's message and answers", async (page) => {
    await waitForMessage(page, ephemeral, fromC, nickC);
    await send(page, fromD);
  });
  await step('C', "sees D's answer", (page) => waitForMessage(page, ephemeral, fromD, nickD));
  await step('C', 'is still a guest', async (page) => {
    const me = await whoAmI(page);
    assert(me.kind === 'guest' && me.username === nickC, 'C is a guest', me);
  });

  // ---- the owner stops letting guests in --------------------------------------------------------
  await step('B', 'turns "Let guests in" off in the room settings', async (page) => {
    await page.click('#room-settings');
    await page.locator('#settings-dialog').waitFor({ state: 'visible' });
    await page.uncheck('#settings-allow-guests');
    await page.click('#settings-save');
    await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
  });
  await step('A', 'is told the room no longer admits guests, and loses the composer', async (page) => {
    const card = page.locator('#room-state[data-code="guests_not_allowed"]');
    await card.waitFor({ state: 'visible' });
    const text = await page.locator('#room-state-text').textContent();
    assert(NOT_ADMITTED.test(text), 'the card says why, in a sentence', text);
    assert(await page.locator('#composer-form').isHidden(), 'no composer');
    await page.locator('#room-state-upgrade').waitFor({ state: 'visible' });
    await page.locator(entry(ROOM)).waitFor({ state: 'detached' });
    await shot(page, 'guests-removed.png');
  });
  await step('C', 'in its 1-on-1 room, gets the same sentence as a banner; the entry goes', async (page) => {
    await page.locator('#banner').waitFor({ state: 'visible' });
    const text = await page.locator('#banner-text').textContent();
    assert(NOT_ADMITTED.test(text), 'the banner says why', text);
    await page.locator(entry(ROOM)).waitFor({ state: 'detached' });
    assert(await page.locator(`#room-title[data-room="${ephemeral}"]`).isVisible(), 'the 1-on-1 room stays on screen');
  });
  await step('B', "the guests leave the room's member list", async (page) => {
    await page.locator(member(ROOM, nickA)).waitFor({ state: 'detached' });
    await page.locator(member(ROOM, nickC)).waitFor({ state: 'detached' });
  });
  await step('A', 'opening the address again gets the "create an account" card', async (page) => {
    await page.goto(`${baseUrl}/room/${ROOM}`, { timeout: STEP_MS });
    await waitForChat(page, nickA);
    await page.locator('#room-state[data-code="registration_required"]').waitFor({ state: 'visible' });
    const text = (await page.locator('#room-state-text').textContent()) ?? '';
    assert(/registered accounts/.test(text) && !text.includes('_'), 'a sentence, not a code', text);
    await page.locator('#room-state-upgrade').waitFor({ state: 'visible' });
    assert(await page.locator('#composer-form').isHidden(), 'no composer');
    await shot(page, 'guests-refused.png');
  });

  // ---- a guest's new rooms count against its address's budget for new identities -------------
  await step('C', 'hosting room after room from one address is refused in a sentence with the wait', async (page) => {
    await page.click('#ephemeral-host');
    await page.locator('#host-dialog').waitFor({ state: 'visible' });
    await page.locator('#host-rooms .host-room').first().waitFor({ state: 'visible' });
    const refused = page.locator('#host-error[data-code="rate_limited"]');
    for (let i = 0; i < BUDGET_TRIES && !(await refused.count()); i += 1) {
      const before = await page.locator('#host-rooms .host-room').count();
      await page.click('#host-create');
      await page.waitForFunction((n) => document.querySelectorAll('#host-rooms .host-room').length > n
        || document.querySelector('#host-error').dataset.code !== '', before);
    }
    await refused.waitFor({ state: 'visible' });
    const text = await refused.textContent();
    assert(/^You have made as many new rooms as you may for now — wait \d+ (s|min) and try again\.$/.test(text),
      'a sentence naming the wait', text);
    await page.click('#host-dialog [data-close]');
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
