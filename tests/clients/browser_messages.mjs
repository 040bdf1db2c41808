#!/usr/bin/env node
// Changing messages in the web app — formatting, replies, reactions, edits, deletes, mentions,
// the live room list and hostile text — in headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core.
//
// Usage: node browser_messages.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211 (a server whose join page is small, e.g. 30 messages,
//             and whose message rate lets one account post ~50 messages at once)
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_messages
//
// Two accounts in two browser contexts. A creates a public room from the dialog while B sits in
// the lobby: B's room list shows it live (`rooms_changed`), and B joins it. A writes `**bold**`
// (B sees <strong>) and an https URL (B sees a link opening in a new tab with
// rel="noopener noreferrer"); four XSS attempts render as text (no script runs, no <img>/<svg>
// from message text, the quoted link's href carries no quote). B reacts with 👍 from the picker
// (A sees 1, with B's name in the title; B's chip is pressed) and takes it back (A sees none).
// A edits a message in place (B sees the new text and "(edited)") and deletes another after the
// confirmation (B sees the tombstone). A mentions B through the autocomplete (`@` + the first
// letters, Enter picks): the message says `@<B>` and B's copy carries `data-mentions`. A writes
// an original, then ~40 messages over REST; B replies to the original from its toolbar (the reply
// bar names A); A reloads, so only the latest page is loaded, and clicking the reply's quote
// loads older pages until the original is shown, scrolled into view and highlighted. B goes to
// the lobby and A writes twice, naming B: after a reload B's room list still counts 2 unread and
// a mention (from GET /api/rooms); opening the room shows "New since you were here" before the
// first of them and moves the read pointer (the listing then counts 0).
// Writes messages-a.png and messages-b.png; on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage, 3 on
// overrun (60 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, postFillers, send, waitForChat, scriptArgs, register } from './harness.mjs';

const DEADLINE_MS = 60000;
/** Messages A posts over REST between the original and the reply: more than a join's page. */
const FILLERS = 40;

const { baseUrl, outDir } = scriptArgs('browser_messages.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_messages.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const logOf = (slug) => `#messages .room-log[data-room="${slug}"]`;

/** The message of room `slug` whose text contains `text`. */
const messageWith = (page, slug, text) =>
  page.locator(`${logOf(slug)} .message`, { has: page.locator('.message-text', { hasText: text }) });

/** Waits until room `slug` is on screen. */
async function waitForRoom(page, slug) {
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
  await page.locator(logOf(slug)).waitFor({ state: 'visible' });
}

/** Presses one button of a message's toolbar (shown on hover). */
async function act(message, action) {
  await message.hover();
  await message.locator(`.message-action[data-action="${action}"]`).click();
}

/** Whether any element of the room's log (or a script) shows that hostile text ran. */
function hostileTraces(page, slug) {
  return page.evaluate((sel) => {
    const log = document.querySelector(sel);
    return {
      xss: window.__xss,
      media: log.querySelectorAll('.message-text img, .message-text svg, .message-text script, .message-text iframe').length,
      handlers: [...log.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
      scriptLinks: [...log.querySelectorAll('a')].filter((a) => !/^(https?:|mailto:|\/)/.test(a.getAttribute('href') ?? '')).length,
    };
  }, logOf(slug));
}

async function run() {
  const tag = digits(6);
  const nickA = `MsgA${tag}`;
  const nickB = `MsgB${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const slug = `talk-${tag}`;

  const browser = await launch();
  const viewport = { width: 1100, height: 760 };
  await openPage(await browser.newContext({ viewport }), 'A', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'B', /status of 4\d\d/);

  await step('A', `register as ${nickA}`, (page) => register(page, baseUrl, nickA, password));
  await step('B', `register as ${nickB}`, (page) => register(page, baseUrl, nickB, password));

  // ---- the room list follows rooms_changed ------------------------------------------------------
  await step('A', `creates public room ${slug} from the dialog`, async (page) => {
    await page.click('#room-new');
    await page.locator('#create-room-dialog').waitFor({ state: 'visible' });
    await page.fill('#create-room-slug', slug);
    await page.click('#create-room-submit');
    await page.locator('#create-room-dialog').waitFor({ state: 'hidden' });
    await waitForRoom(page, slug);
  });
  await step('B', 'the new public room appears in the room list without a reload, and B joins it', async (page) => {
    const entry = page.locator(`#room-list .room-link[data-room="${slug}"]`);
    await entry.waitFor({ state: 'visible' });
    assert(await entry.getAttribute('data-access') === 'public', 'listed as a public room', await entry.getAttribute('data-access'));
    await entry.click();
    await waitForRoom(page, slug);
    await page.locator(`#room-list .room-link[data-room="${slug}"][data-access="member"]`).waitFor({ state: 'attached' });
  });

  // ---- formatting and links ---------------------------------------------------------------------
  const formatted = `**bold ${tag}** and https://example.com/docs?x=${tag}`;
  await step('A', 'writes bold text and a link', (page) => send(page, formatted));
  await step('B', 'sees <strong> and a link that opens in a new tab without handing the page over', async (page) => {
    const message = messageWith(page, slug, `bold ${tag}`);
    await message.waitFor({ state: 'visible' });
    assert(await message.locator('.message-text strong').textContent() === `bold ${tag}`, 'the bold part is <strong>');
    const link = message.locator('.message-text a');
    assert(await link.getAttribute('href') === `https://example.com/docs?x=${tag}`, 'the link keeps its URL', await link.getAttribute('href'));
    assert(await link.getAttribute('target') === '_blank', 'target=_blank', await link.getAttribute('target'));
    assert(await link.getAttribute('rel') === 'noopener noreferrer', 'rel=noopener noreferrer', await link.getAttribute('rel'));
  });

  // ---- hostile text -----------------------------------------------------------------------------
  const hostile = [
    `img ${tag} <img src=x onerror=window.__xss=1>`,
    `md ${tag} [x](javascript:window.__xss=1)`,
    `svg ${tag} <svg onload=window.__xss=1>`,
    `quote ${tag} https://example.com/"onmouseover="window.__xss=1`,
  ];
  await step('A', 'writes four XSS attempts', async (page) => {
    for (const text of hostile) await send(page, text);
  });
  await step('B', 'the XSS attempts render as text and run nothing', async (page) => {
    for (const text of hostile) {
      const message = messageWith(page, slug, text.split(' ').slice(0, 2).join(' '));
      await message.waitFor({ state: 'visible' });
      const shown = await message.locator('.message-text').textContent();
      assert(shown === text, 'the message reads exactly as typed', shown);
    }
    const quoted = messageWith(page, slug, `quote ${tag}`).locator('.message-text a');
    const href = (await quoted.count()) ? await quoted.getAttribute('href') : '';
    assert(!href.includes('"'), 'the quoted link carries no raw quote', href);
    await messageWith(page, slug, `quote ${tag}`).hover();
    await page.waitForTimeout(100);
    const traces = await hostileTraces(page, slug);
    assert(traces.xss === undefined, 'window.__xss stays undefined', traces);
    assert(traces.media === 0 && traces.handlers === 0 && traces.scriptLinks === 0,
      'no element, handler or script link came from message text', traces);
  });

  // ---- reactions --------------------------------------------------------------------------------
  const reacted = `react to me ${tag}`;
  await step('A', 'writes a message to react to', (page) => send(page, reacted));
  await step('B', 'reacts with 👍 from the picker; its chip is pressed', async (page) => {
    const message = messageWith(page, slug, reacted);
    await message.waitFor({ state: 'visible' });
    await act(message, 'react');
    await message.locator('.emoji-picker .emoji-pick[data-emoji="👍"]').click();
    const chip = message.locator('.reaction-chip[data-emoji="👍"]');
    await chip.waitFor({ state: 'visible' });
    assert(await chip.getAttribute('aria-pressed') === 'true', 'aria-pressed', await chip.getAttribute('aria-pressed'));
    assert(await chip.evaluate((el) => el.classList.contains('reaction-mine')), 'marked as mine');
  });
  await step('A', "sees the count go to 1 with B's name in the title", async (page) => {
    const chip = messageWith(page, slug, reacted).locator('.reaction-chip[data-emoji="👍"]');
    await chip.waitFor({ state: 'visible' });
    assert(await chip.locator('.reaction-count').textContent() === '1', 'count 1', await chip.locator('.reaction-count').textContent());
    assert((await chip.getAttribute('title')).includes(nickB), 'the title lists B', await chip.getAttribute('title'));
    assert(await chip.getAttribute('aria-pressed') === 'false', 'not pressed for A');
  });
  await step('B', 'takes the reaction back by pressing its chip', async (page) => {
    const chip = messageWith(page, slug, reacted).locator('.reaction-chip[data-emoji="👍"]');
    await chip.click();
    await chip.waitFor({ state: 'detached' });
  });
  await step('A', 'sees the count go back to 0', (page) =>
    messageWith(page, slug, reacted).locator('.reaction-chip').waitFor({ state: 'detached' }));

  // ---- edit and delete --------------------------------------------------------------------------
  const before = `typo heer ${tag}`;
  const after = `typo here ${tag}, fixed`;
  await step('A', 'edits a message in place (Enter saves)', async (page) => {
    await send(page, before);
    const message = messageWith(page, slug, before);
    await message.waitFor({ state: 'visible' });
    await act(message, 'edit');
    const editor = message.locator('.message-editor textarea');
    await editor.fill(after);
    await editor.press('Enter');
    await message.locator('.message-editor').waitFor({ state: 'detached' });
    await messageWith(page, slug, after).locator('.message-edited').waitFor({ state: 'visible' });
  });
  await step('B', 'sees the new text and the edited marker', async (page) => {
    const message = messageWith(page, slug, after);
    await message.locator('.message-edited').waitFor({ state: 'visible' });
    assert((await message.locator('.message-edited').getAttribute('title')).startsWith('Edited'), 'the marker tells the time');
    assert(await messageWith(page, slug, before).count() === 0, 'the old text is gone');
  });
  const doomed = `delete me ${tag}`;
  let doomedSeq = '';
  await step('A', 'deletes a message after confirming', async (page) => {
    await send(page, doomed);
    const message = messageWith(page, slug, doomed);
    await message.waitFor({ state: 'visible' });
    doomedSeq = await message.getAttribute('data-seq');
    await act(message, 'delete');
    await page.locator('#delete-message-dialog').waitFor({ state: 'visible' });
    assert((await page.locator('#delete-message-text').textContent()).includes(doomed), 'the dialog quotes it');
    await page.click('#delete-message-confirm');
    await page.locator(`${logOf(slug)} .message[data-seq="${doomedSeq}"] .message-tombstone`).waitFor({ state: 'visible' });
  });
  await step('B', 'sees the tombstone', async (page) => {
    const tomb = page.locator(`${logOf(slug)} .message[data-seq="${doomedSeq}"] .message-tombstone`);
    await tomb.waitFor({ state: 'visible' });
    assert(await tomb.textContent() === 'Message deleted', 'says Message deleted', await tomb.textContent());
    assert(await messageWith(page, slug, doomed).count() === 0, 'the text is gone');
  });

  // ---- a mention through the autocomplete -------------------------------------------------------
  await step('A', `mentions ${nickB} by typing @ and the first letters, Enter picks`, async (page) => {
    const composer = page.locator('#composer');
    await composer.fill('');
    await composer.pressSequentially(`hey @${nickB.slice(0, 5)}`, { delay: 10 });
    const option = page.locator(`#mention-list .mention-option[data-name="${nickB}"]`);
    await option.waitFor({ state: 'visible' });
    assert(await page.locator(`#mention-list .mention-option[data-name="${nickA}"]`).count() === 0, 'not oneself');
    await composer.press('Enter');
    await page.locator('#mention-list').waitFor({ state: 'hidden' });
    const value = await composer.inputValue();
    assert(value === `hey @${nickB} `, 'the name is inserted with a space', value);
    await composer.pressSequentially('look');
    await composer.press('Enter');
    await page.waitForFunction(() => document.querySelector('#composer').value === '');
    await messageWith(page, slug, `hey @${nickB} look`).waitFor({ state: 'visible' });
  });
  await step('B', '@ offers A but not @here to a plain member; Escape closes the list', async (page) => {
    const composer = page.locator('#composer');
    await composer.pressSequentially('@');
    await page.locator(`#mention-list .mention-option[data-name="${nickA}"]`).waitFor({ state: 'visible' });
    assert(await page.locator('#mention-list .mention-option[data-name="here"]').count() === 0, 'no @here for a member');
    await composer.press('Escape');
    await page.locator('#mention-list').waitFor({ state: 'hidden' });
    await composer.fill('');
  });
  await step('B', 'the mention is on the message node as data-mentions', async (page) => {
    const message = messageWith(page, slug, `hey @${nickB} look`);
    await message.waitFor({ state: 'visible' });
    const mentions = await message.getAttribute('data-mentions');
    assert((mentions ?? '').split(' ').includes(nickB), 'data-mentions names B', mentions);
  });

  // ---- a reply to a message pushed out of the loaded page ---------------------------------------
  // Formatted: its quotes (the reply bar, the reply's quote) show the words without markers.
  const original = `the **original** ${tag}`;
  const shown = `the original ${tag}`;
  let originalSeq = '';
  await step('A', `writes an original, then ${FILLERS} messages over REST`, async (page) => {
    await send(page, original);
    const message = messageWith(page, slug, shown);
    await message.waitFor({ state: 'visible' });
    originalSeq = await message.getAttribute('data-seq');
    await postFillers(page, slug, FILLERS, tag);
  });
  const reply = `my answer ${tag}`;
  await step('B', 'replies to the original from its toolbar', async (page) => {
    await messageWith(page, slug, `filler ${FILLERS} ${tag}`).waitFor({ state: 'visible' });
    const message = page.locator(`${logOf(slug)} .message[data-seq="${originalSeq}"]`);
    await act(message, 'reply');
    const bar = page.locator('#reply-bar');
    await bar.waitFor({ state: 'visible' });
    const says = await bar.textContent();
    assert(says.includes(`Replying to ${nickA}`) && says.includes(shown) && !says.includes('**'),
      'the reply bar names A and quotes the words, without formatting markers', says);
    await send(page, reply);
    await bar.waitFor({ state: 'hidden' });
    const quote = messageWith(page, slug, reply).locator('.reply-quote');
    await quote.waitFor({ state: 'visible' });
    assert(await quote.locator('.reply-quote-author').textContent() === nickA, 'the quote names A');
  });
  await step('A', 'after a reload the original is not loaded; its quote brings it back, highlighted', async (page) => {
    await messageWith(page, slug, reply).waitFor({ state: 'visible' });
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickA);
    await waitForRoom(page, slug);
    const quote = messageWith(page, slug, reply).locator('.reply-quote');
    await quote.waitFor({ state: 'visible' });
    const quoted = await quote.textContent();
    assert(quoted.includes(shown) && !quoted.includes('**'), 'the quote shows the original, without markers', quoted);
    const loaded = page.locator(`${logOf(slug)} .message[data-seq="${originalSeq}"]`);
    assert(await loaded.count() === 0, 'the original is outside the loaded page');
    await quote.click();
    await page.locator(`${logOf(slug)} .message[data-seq="${originalSeq}"].message-highlight`).waitFor({ state: 'attached' });
    const inView = await loaded.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const list = el.closest('.messages').getBoundingClientRect();
      return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
    });
    assert(inView, 'the original is scrolled into view');
  });

  // ---- unread counts from the listing, and the "new since you were here" divider ----------------
  await step('B', 'goes to the lobby', async (page) => {
    await page.click('#room-list .room-link[data-room="lobby"]');
    await waitForRoom(page, 'lobby');
  });
  const unseen = [`@${nickB} unseen one ${tag}`, `unseen two ${tag}`];
  await step('A', 'writes twice while B is away, naming B once', async (page) => {
    for (const text of unseen) await send(page, text);
  });
  const entry = `#room-list .room-link[data-room="${slug}"]`;
  await step('B', 'after a reload the room list still counts 2 unread with a mention (from GET /api/rooms)', async (page) => {
    await page.locator(`${entry}.has-mentions .unread-badge`).waitFor({ state: 'visible' });
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    const badge = page.locator(`${entry} .unread-badge`);
    await badge.waitFor({ state: 'visible' });
    assert(await badge.textContent() === '2', 'the badge says 2', await badge.textContent());
    assert(await page.locator(entry).getAttribute('data-mentions') === '1', 'one mention', await page.locator(entry).getAttribute('data-mentions'));
  });
  await step('B', 'opening the room shows the divider before the first unseen message and reads it', async (page) => {
    await page.click(entry);
    await waitForRoom(page, slug);
    const next = page.locator(`${logOf(slug)} .unread-divider + .message .message-text`);
    await next.waitFor({ state: 'visible' });
    assert(await next.textContent() === unseen[0], 'the divider sits before the first unseen message', await next.textContent());
    await page.locator(`${entry} .unread-badge`).waitFor({ state: 'detached' });
    await page.waitForFunction(async (room) => {
      const answer = await (await fetch('/api/rooms')).json();
      return answer.rooms.some((r) => r.slug === room && r.unread === 0 && r.mentions === 0);
    }, slug, { polling: 200 });
  });

  await step('A', 'screenshot', (page) => shot(page, 'messages-a.png'));
  await step('B', 'screenshot', async (page) => {
    await page.locator(`${logOf(slug)} .message`).last().hover();
    await shot(page, 'messages-b.png');
  });
}

finish(run);
