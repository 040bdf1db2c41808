#!/usr/bin/env node
// The AI companion in the web app, in headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core, against a server whose model is the test suite's fake model server.
//
// Usage: node browser_companion.mjs BASE_URL OUT_DIR ROOT_USER ROOT_PASSWORD FREE_MESSAGES FIRST_REPLY SECOND_REPLY
//   BASE_URL       e.g. http://127.0.0.1:38211
//   OUT_DIR        where screenshots go (created)
//   ROOT_USER      an account that may grant premium (`PUT /api/admin/users/{name}/premium`)
//   ROOT_PASSWORD  its password
//   FREE_MESSAGES  the server's `ai_free_messages` (2 or more)
//   FIRST_REPLY    the whole text of the companion's first reply, which the model streams slowly
//   SECOND_REPLY   the same for the second reply (streamed slowly enough to reload in between)
//
// A guest sees the companion's entry in the sidebar (its name, a "bot" tag, an online dot) and
// clicking it shows a sign-up prompt, without asking the server for a conversation. A user
// registers and clicks the entry: the conversation opens at once with the bar saying what
// happens to messages and how many free messages are left. A message sent through the composer
// brings the bot's typing line (with its tag) and a streaming bubble with part of the reply,
// then exactly one stored reply with the "bot" tag instead of the bubble. A reload in the
// middle of the second reply shows the text so far again (`GET /api/companion`'s `writing`)
// and the rest as it streams, then the stored reply, once. When the free
// messages are spent (the settings panel's Companion tab counts them) the paywall dialog opens;
// root, in another browser, grants premium in the admin panel's Users tab and the paywall
// closes by itself, without a reload, the Premium tab says premium is active, and the next
// message is answered. "Forget our
// conversation" (confirmed) answers 204 and says so; the message after it is answered too.
// After a reload the log holds each reply exactly once. In a room of the user's, the settings
// dialog offers "Let <bot> answer messages that mention it" (off); ticked and saved, a message
// naming @<bot> there is answered in the room. Writes companion-guest.png,
// companion-streaming.png, companion-paywall.png and companion.png; on failure failure.png
// (the page being checked). Exits 0 on success, 1 on the first failed check, 2 on bad usage,
// 3 on overrun (75 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, send, waitForChat, scriptArgs, register } from './harness.mjs';

const DEADLINE_MS = 75000;
/** How long a reply may take (the first one streams for a few seconds on purpose). */
const REPLY_MS = 15000;

const { baseUrl, outDir } = scriptArgs('browser_companion.mjs');
const [rootUser, rootPassword, freeArg, firstReply, secondReply] = process.argv.slice(4);
const free = Number(freeArg);
if (!rootUser || !rootPassword || !Number.isInteger(free) || free < 2 || !firstReply || !secondReply) {
  console.error('usage: node browser_companion.mjs BASE_URL OUT_DIR ROOT_USER ROOT_PASSWORD FREE_MESSAGES FIRST_REPLY SECOND_REPLY');
  process.exit(2);
}

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_companion.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const logOf = (slug) => `#messages .room-log[data-room="${slug}"]`;

/** The stored bot messages of room `slug`: `[{text, clientMsgId, tagged}]`. */
function botMessages(page, slug) {
  return page.evaluate((sel) => [...document.querySelectorAll(`${sel} .message.message-bot:not(.message-streaming)`)]
    .map((item) => ({
      text: item.querySelector('.message-text')?.textContent ?? '',
      clientMsgId: item.dataset.clientMsgId ?? null,
      tagged: Boolean(item.querySelector('.message-header .bot-tag')),
    })), logOf(slug));
}

/** Waits until room `slug` holds `count` stored bot messages and no streaming bubble. */
async function waitForReplies(page, slug, count) {
  await page.waitForFunction(([sel, n]) =>
    document.querySelectorAll(`${sel} .message.message-bot:not(.message-streaming)`).length === n
      && !document.querySelector(`${sel} .message-streaming`), [logOf(slug), count], { timeout: REPLY_MS });
  const replies = await botMessages(page, slug);
  assert(replies.length === count, `exactly ${count} bot messages should be in the log`, replies);
  assert(replies.every((r) => r.tagged), 'every bot message should carry the "bot" tag', replies);
  const ids = new Set(replies.map((r) => r.clientMsgId));
  assert(ids.size === count && !ids.has(null), 'each reply should be shown once, under its own id', replies);
  return replies;
}

/** Waits for a notice in room `slug` containing `text`. */
function waitForNotice(page, slug, text) {
  return page.locator(`${logOf(slug)} .notice-text`, { hasText: text }).first().waitFor({ state: 'visible' });
}

async function quota(page) {
  const el = page.locator('#companion-quota');
  return (await el.isVisible()) ? ((await el.textContent()) ?? '').trim() : '';
}

async function expectQuota(page, want) {
  await page.waitForFunction((text) => {
    const el = document.querySelector('#companion-quota');
    const shown = el && !el.hidden ? el.textContent.trim() : '';
    return shown === text;
  }, want, { timeout: STEP_MS }).catch(async () => {
    assert(false, `the bar should say "${want}"`, await quota(page));
  });
}

async function run() {
  const tag = digits(6);
  const name = `Cmp${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const browser = await launch();
  const viewport = { width: 1100, height: 760 };
  let bot = '';

  // ---- a guest gets the sign-up prompt ---------------------------------------------------------
  const guestCtx = await browser.newContext({ viewport });
  const guestPage = await openPage(guestCtx, 'guest');
  const conversationPosts = [];
  guestPage.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/conversations') conversationPosts.push(request.url());
  });
  await step('guest', 'joins as a guest and sees the companion in the sidebar', async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    const nick = `g${tag}`;
    await page.fill('#join-guest-nick', nick);
    await page.click('#join-guest-submit');
    await waitForChat(page, nick);
    await page.locator('#companion-open').waitFor({ state: 'visible' });
    bot = ((await page.locator('#companion-name').textContent()) ?? '').trim();
    assert(bot.length > 0, 'the entry should name the companion');
    assert(await page.locator('#companion-open .bot-tag').isVisible(), 'the entry should carry the "bot" tag');
    const dot = await page.locator('#companion-dot').getAttribute('data-state');
    assert(dot === 'online', 'the entry should show the companion online', dot);
    log(`    the companion is ${bot}`);
  });

  await step('guest', 'clicking the entry asks to create an account, and opens no conversation', async (page) => {
    await page.click('#companion-open');
    await page.locator('#room-state[data-code="companion_signup"]').waitFor({ state: 'visible' });
    const text = (await page.locator('#room-state-text').textContent()) ?? '';
    assert(text.includes(`Create an account to talk with ${bot}`) && text.includes(`${free} free messages`),
      'the prompt should invite the guest to register', text);
    assert((await page.locator('#room-title').textContent()) === bot, 'the card should be about the companion');
    assert(await page.locator('#companion-bar').isHidden(), 'no companion bar for guests');
    await page.waitForTimeout(300);
    assert(conversationPosts.length === 0, 'a guest must not ask for a conversation', conversationPosts);
    assert(await page.locator('#room-list .room-link[data-kind="pm"]').count() === 0, 'no conversation in the list');
  });
  await step('guest', 'screenshot companion-guest.png', (page) => shot(page, 'companion-guest.png'));
  await guestCtx.close();

  // ---- a user talks with the companion --------------------------------------------------------
  const ctx = await browser.newContext({ viewport });
  await openPage(ctx, 'user', /status of 4\d\d/);
  let slug = '';
  await step('user', `registers as ${name} and opens the conversation from the entry`, async (page) => {
    await register(page, baseUrl, name, password);
    await page.locator('#companion-open').waitFor({ state: 'visible' });
    await page.click('#companion-open');
    await page.locator('#room-title[data-room^="pm:"]').waitFor({ state: 'visible' });
    slug = await page.locator('#room-title').getAttribute('data-room');
    assert((await page.locator('#room-title').textContent()) === bot, 'the conversation should be titled by the bot');
    await page.locator(logOf(slug)).waitFor({ state: 'visible' });
    await page.locator('#composer-form').waitFor({ state: 'visible' });
    assert(await page.locator('#room-state').isHidden(), 'the conversation should be open at once (no state card)');
    await page.locator('#companion-open[aria-current="page"]').waitFor({ state: 'attached' });
    await page.locator('#companion-bar').waitFor({ state: 'visible' });
    const note = (await page.locator('#companion-note').textContent()) ?? '';
    assert(note.includes('AI model') && note.includes('remembers'), 'the bar should say how messages are handled', note);
    await expectQuota(page, `${free} of ${free} free messages left`);
  });

  await step('user', 'a message brings the bot typing and a partly streamed reply', async (page) => {
    await send(page, `hello ${bot}, ${tag}`);
    const bubble = page.locator(`${logOf(slug)} .message-streaming`);
    await bubble.waitFor({ state: 'visible', timeout: REPLY_MS });
    const typing = page.locator(`#typing .typing[data-room="${slug}"]`);
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '').includes('is typing'),
      `#typing .typing[data-room="${slug}"]`, { timeout: STEP_MS });
    assert((await typing.textContent()).includes(`${bot} is typing`), 'the typing line should name the bot', await typing.textContent());
    assert(await typing.locator('.bot-tag').count() === 1, 'the typing line should carry the "bot" tag');
    await page.waitForFunction((sel) => (document.querySelector(`${sel} .message-streaming .message-text`)?.textContent ?? '').length > 0,
      logOf(slug), { timeout: REPLY_MS });
    const partial = (await bubble.locator('.message-text').textContent()) ?? '';
    assert(partial.length > 0 && partial.length < firstReply.length && firstReply.startsWith(partial),
      'the bubble should show the start of the reply while it streams', partial);
    assert(await bubble.locator('.bot-tag').count() === 1, 'the bubble should carry the "bot" tag');
    log(`    streamed so far: ${JSON.stringify(partial)}`);
    await shot(page, 'companion-streaming.png');
  });

  await step('user', 'the stored reply replaces the bubble, once, with the "bot" tag', async (page) => {
    const [reply] = await waitForReplies(page, slug, 1);
    assert(reply.text === firstReply, 'the stored reply should be the whole text', reply.text);
    await expectQuota(page, `${free - 1} of ${free} free messages left`);
  });

  await step('user', 'a reload in the middle of the second reply catches up with it', async (page) => {
    await send(page, `message 2 ${tag}`);
    const text = `${logOf(slug)} .message-streaming .message-text`;
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '').length > 0, text, { timeout: REPLY_MS });
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, name);
    await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
    // Caught up from `writing`: the first piece (at least) is there again.
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '').length > 0, text, { timeout: STEP_MS });
    const partial = (await page.locator(text).textContent()) ?? '';
    assert(partial.length < secondReply.length && secondReply.startsWith(partial),
      'after the reload the bubble should show the reply so far', partial);
    log(`    after the reload: ${JSON.stringify(partial)}`);
    const replies = await waitForReplies(page, slug, 2);
    // The server stores the reply without its trailing white space.
    assert(replies[1].text === secondReply.trim(), 'the stored reply should be the whole text', replies[1].text);
    await expectQuota(page, `${free - 2} of ${free} free messages left`);
  });

  for (let n = 3; n <= free; n += 1) {
    await step('user', `message ${n} is answered too`, async (page) => {
      await send(page, `message ${n} ${tag}`);
      await waitForReplies(page, slug, n);
      await expectQuota(page, `${free - n} of ${free} free messages left`);
    });
  }

  await step('user', 'the settings panel\'s Companion tab counts every free message as used', async (page) => {
    await page.click('#account-open');
    await page.locator('#prefs-dialog').waitFor({ state: 'visible' });
    await page.click('#prefs-tab-companion');
    await page.waitForFunction((n) => (document.querySelector('#account-quota')?.textContent ?? '')
      .startsWith(`0 of ${n} free messages left`), free, { timeout: STEP_MS });
    const premium = (await page.locator('#account-premium').textContent()) ?? '';
    assert(premium.includes('not active'), 'premium should not be active yet', premium);
    await page.keyboard.press('Escape');
    await page.locator('#prefs-dialog').waitFor({ state: 'hidden' });
  });

  await step('user', 'once the free messages are spent, the paywall opens', async (page) => {
    await send(page, `one more ${tag}`);
    const dialog = page.locator('#paywall-dialog');
    await dialog.waitFor({ state: 'visible', timeout: REPLY_MS });
    const text = (await page.locator('#paywall-text').textContent()) ?? '';
    assert(/premium/i.test(text) && text.includes('administrator') && text.includes('payment'),
      'the paywall should say what premium is and how it comes', text);
    await waitForNotice(page, slug, 'free messages');
    await shot(page, 'companion-paywall.png');
    assert((await botMessages(page, slug)).length === free, 'no reply to a message past the limit');
  });

  // Root, in another browser, grants premium in the admin panel's Users tab.
  const rootCtx = await browser.newContext({ viewport });
  await openPage(rootCtx, 'root');
  await step('root', `logs in and grants ${name} premium in the admin panel`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.click('#tab-login');
    await page.fill('#login-username', rootUser);
    await page.fill('#login-password', rootPassword);
    await page.click('#login-submit');
    await waitForChat(page, rootUser);
    await page.click('#admin-toggle');
    await page.locator('#admin-panel').waitFor({ state: 'visible' });
    await page.click('#admin-tab-users');
    await page.fill('#admin-users-q', name);
    await page.press('#admin-users-q', 'Enter');
    const row = page.locator(`#admin-users-list tr[data-name="${name}"]`);
    await row.waitFor({ state: 'visible' });
    await row.locator('button[data-action="premium_grant"]').click();
    await page.locator('#admin-status[data-kind="ok"]').waitFor({ state: 'visible' });
  });

  await step('user', 'the paywall closes by itself, without a reload', async (page) => {
    await page.locator('#paywall-dialog').waitFor({ state: 'hidden', timeout: STEP_MS });
    await waitForNotice(page, slug, 'Premium is active');
    await expectQuota(page, '');
  });

  await step('user', 'the settings panel\'s Premium tab says premium is active and unlimited', async (page) => {
    await page.click('#account-open');
    await page.locator('#prefs-dialog').waitFor({ state: 'visible' });
    await page.click('#prefs-tab-premium');
    await page.waitForFunction(() => (document.querySelector('#account-premium')?.textContent ?? '')
      .includes('active until'), null, { timeout: STEP_MS });
    const quota = (await page.locator('#account-quota').textContent()) ?? '';
    assert(quota.startsWith('Unlimited messages'), 'premium means no limit', quota);
    await page.keyboard.press('Escape');
  });

  await step('user', 'with premium, the next message is answered', async (page) => {
    await send(page, `with premium ${tag}`);
    await waitForReplies(page, slug, free + 1);
  });

  await step('user', '"Forget our conversation" asks first, then forgets (204) and says so', async (page) => {
    await page.click('#companion-forget');
    await page.locator('#companion-forget-dialog').waitFor({ state: 'visible' });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === '/api/companion/memory'),
      page.click('#companion-forget-confirm'),
    ]);
    assert(response.status() === 204, 'the memory should be forgotten', response.status());
    await page.locator('#companion-forget-dialog').waitFor({ state: 'hidden' });
    await waitForNotice(page, slug, 'has forgotten your conversation');
  });

  await step('user', 'the message after forgetting is answered', async (page) => {
    await send(page, `after forgetting ${tag}`);
    await waitForReplies(page, slug, free + 2);
  });

  await step('user', 'after a reload the conversation holds every reply exactly once', async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, name);
    await page.locator('#companion-open').waitFor({ state: 'visible' });
    await page.click('#companion-open');
    await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
    const replies = await waitForReplies(page, slug, free + 2);
    assert(replies[0].text === firstReply, 'the first reply should be stored whole', replies[0]);
    await expectQuota(page, '');
  });

  await step('user', 'screenshot companion.png', (page) => shot(page, 'companion.png'));

  // ---- a room that lets the companion answer mentions -------------------------------------------
  const room = `garden-${tag}`;
  await step('user', `creates #${room}; its settings offer to let the companion answer mentions`, async (page) => {
    const made = await page.evaluate(async (slug) => {
      const reply = await fetch('/api/rooms', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slug }),
      });
      return reply.status;
    }, room);
    assert(made === 201, 'the room should be created', made);
    await page.goto(`${baseUrl}/room/${room}`, { timeout: STEP_MS });
    await page.locator(`#room-title[data-room="${room}"]`).waitFor({ state: 'visible' });
    await page.click('#room-settings');
    await page.locator('#settings-dialog').waitFor({ state: 'visible' });
    await page.locator('#settings-ai-mentions-row').waitFor({ state: 'visible' });
    const label = (await page.locator('#settings-ai-mentions-row').textContent()) ?? '';
    assert(label.includes(bot), 'the setting should name the companion', label);
    assert(!(await page.isChecked('#settings-ai-mentions')), 'off by default');
    await page.check('#settings-ai-mentions');
    await page.click('#settings-save');
    await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
  });

  await step('user', `a message naming @${bot} in the room gets its answer there`, async (page) => {
    await send(page, `@${bot} hello room ${tag}`);
    await waitForReplies(page, room, 1);
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
