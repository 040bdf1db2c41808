#!/usr/bin/env node
// Parlor's web app in headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
//
// Usage: node browser_lobby.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_lobby
//
// Two separate browser contexts (two users): A joins as a guest, B registers. Checks presence,
// messages both ways, the typing indicator, that a reload of B restores the chat without any
// typing (the page answered by the app's service worker, while the API still reaches the
// server), and that HTML in a message is shown as text; then a crowd of socket.io-client guests
// fills the lobby past the join ack's first page, and B's list shows the server's count and
// reads the rest with "Show more". Writes lobby-a.png, lobby-b.png and
// lobby-narrow.png (360×740); on failure failure.png (the page being checked) and
// failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on bad usage,
// 3 on overrun (40 s watchdog). Needs `npm ci` in tests/clients and the chromium package.

import { io } from 'socket.io-client';
import { STEP_MS, assert, createHarness, digits, log, ok, send, waitForChat, scriptArgs } from './harness.mjs';

const DEADLINE_MS = 40000;
/** More guests than a join ack lists (its first page holds 20). */
const CROWD = 24;

const { baseUrl, outDir } = scriptArgs('browser_lobby.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_lobby.mjs', outDir, deadlineMs: DEADLINE_MS,
});

/** Waits until some `#messages .message` has .message-text exactly `text` (and author, if given). */
function waitForMessage(page, text, author) {
  return page.waitForFunction(([want, who]) => {
    for (const item of document.querySelectorAll('#messages .message')) {
      const body = item.querySelector('.message-text');
      const name = item.querySelector('.message-author');
      if (body && body.textContent === want && (!who || (name && name.textContent === who))) return true;
    }
    return false;
  }, [text, author], { timeout: STEP_MS });
}

/** A guest in the lobby over socket.io-client, for a crowd. */
async function crowdGuest(nick) {
  const socket = io(baseUrl, { transports: ['websocket'], reconnection: false, timeout: STEP_MS });
  await new Promise((done, fail) => {
    socket.once('connect', done);
    socket.once('connect_error', fail);
  });
  for (const [event, data] of [['identify', { nick }], ['join', { room: 'lobby' }]]) {
    const reply = await socket.timeout(STEP_MS).emitWithAck(event, data);
    assert(reply && reply.ok, `crowd guest ${nick}: ${event}`, reply);
  }
  return socket;
}

function member(page, name) {
  return page.locator(`#members .member[data-name="${name}"]`);
}

async function run() {
  const tag = digits(6);
  const nickA = `BrA${tag}`;
  const nickB = `BrB${tag}`;
  const password = `pw-${digits(8)}-Parlor`;

  const browser = await launch();
  const viewport = { width: 1200, height: 800 };
  const ctxA = await browser.newContext({ viewport });
  const ctxB = await browser.newContext({ viewport });
  const pageA = await openPage(ctxA, 'A');
  const pageB = await openPage(ctxB, 'B');

  // ---- join: A as guest, B registers ---------------------------------------------------------
  await step('A', `guest join as ${nickA}`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.click('#tab-guest');
    await page.fill('#join-guest-nick', nickA);
    await page.click('#join-guest-submit');
    await waitForChat(page, nickA);
  });
  await step('B', `register as ${nickB}`, async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-view').waitFor({ state: 'visible' });
    await page.click('#tab-register');
    await page.locator('#register-username').waitFor({ state: 'visible' });
    await page.fill('#register-username', nickB);
    await page.fill('#register-password', password);
    await page.click('#register-submit');
    await waitForChat(page, nickB);
  });

  // ---- presence ------------------------------------------------------------------------------
  await step('A', `member list shows ${nickB}`, (page) => member(page, nickB).waitFor({ state: 'attached' }));
  await step('B', `member list shows ${nickA}`, (page) => member(page, nickA).waitFor({ state: 'attached' }));
  await step('A', 'member list shows itself', (page) => member(page, nickA).waitFor({ state: 'attached' }));

  // ---- messages both ways --------------------------------------------------------------------
  const hello = `hello from A ${tag}`;
  await step('A', 'type into #composer and press Enter', async (page) => {
    await send(page, hello);
    await waitForMessage(page, hello, nickA); // own echo
    await page.waitForFunction(() => document.querySelector('#composer').value === '', null, { timeout: STEP_MS });
  });
  await step('B', "sees A's message with A as author", (page) => waitForMessage(page, hello, nickA));
  const replyB = `reply from B ${tag}`;
  await step('B', 'reply', (page) => send(page, replyB));
  await step('A', "sees B's reply with B as author", (page) => waitForMessage(page, replyB, nickB));
  await step('B', `A's message carries the initials avatar "BA"`, async (page) => {
    const avatars = await page.evaluate((who) => [...document.querySelectorAll('#messages .message')]
      .filter((item) => item.querySelector('.message-author')?.textContent === who)
      .map((item) => item.querySelector('.message-header .avatar')?.textContent), nickA);
    assert(avatars.length > 0 && avatars.every((a) => a === 'BA'), 'BrA… is "BA"', avatars);
  });
  await step('B', 'message has a non-empty .message-time and a data-id', async (page) => {
    const info = await page.evaluate((want) => {
      const item = [...document.querySelectorAll('#messages .message')]
        .find((m) => m.querySelector('.message-text')?.textContent === want);
      return item && { id: item.dataset.id, time: item.querySelector('.message-time')?.textContent };
    }, hello);
    assert(info && info.id && info.time && info.time.trim() !== '', 'message metadata missing', info);
  });

  // ---- typing indicator ----------------------------------------------------------------------
  await step('A', 'types without sending', (page) =>
    page.locator('#composer').pressSequentially('still typing', { delay: 15, timeout: STEP_MS }));
  await step('B', `#typing mentions ${nickA}`, (page) =>
    page.waitForFunction((who) => (document.querySelector('#typing')?.textContent ?? '').includes(who),
      nickA, { timeout: STEP_MS }));
  await step('A', 'clears the composer', (page) => page.locator('#composer').fill(''));
  await step('B', `#typing no longer mentions ${nickA}`, (page) =>
    page.waitForFunction((who) => !(document.querySelector('#typing')?.textContent ?? '').includes(who),
      nickA, { timeout: STEP_MS }));

  // ---- reload B: the session cookie brings it straight back ----------------------------------
  await step('B', 'the app cache (service worker) is installed', (page) =>
    page.evaluate(() => navigator.serviceWorker.ready.then((r) => Boolean(r.active))).then((active) =>
      assert(active, 'no active service worker')));
  await step('B', 'reload restores the chat view without typing anything, the page from the app cache', async (page) => {
    const response = await page.reload({ timeout: STEP_MS });
    assert(response && response.fromServiceWorker(), 'the reload went past the service worker');
    await waitForChat(page, nickB);
  });
  await step('B', 'an address outside the app (the API) still reaches the server', async (page) => {
    const other = await page.context().newPage();
    try {
      const response = await other.goto(`${baseUrl}/api/user/@me`, { timeout: STEP_MS });
      assert(!response.fromServiceWorker(), 'the API was answered by the service worker');
      const body = JSON.parse(await other.locator('body').innerText());
      assert(JSON.stringify(body).includes(nickB), 'not B\'s profile', body);
    } finally {
      await other.close();
    }
  });
  await step('B', `after reload the member list still shows ${nickA}`, (page) =>
    member(page, nickA).waitFor({ state: 'attached' }));
  await step('A', `member list shows ${nickB} again after B's reload`, (page) =>
    member(page, nickB).waitFor({ state: 'attached' }));
  const afterReload = `B after reload ${tag}`;
  await step('B', 'sends after reload', (page) => send(page, afterReload));
  await step('A', "receives B's message sent after the reload", (page) => waitForMessage(page, afterReload, nickB));
  await step('A', `member list still shows ${nickB}`, (page) => member(page, nickB).waitFor({ state: 'attached' }));

  // ---- HTML is text --------------------------------------------------------------------------
  const html = '<b>bold</b><img src=x onerror=alert(1)>';
  await step('A', 'sends a message containing HTML', (page) => send(page, html));
  for (const label of ['B', 'A']) {
    await step(label, 'shows the HTML message literally, with no b/img element', async (page) => {
      await waitForMessage(page, html, nickA);
      const result = await page.evaluate((want) => {
        const body = [...document.querySelectorAll('#messages .message .message-text')]
          .find((el) => el.textContent === want);
        return body && { text: body.textContent, elements: body.querySelectorAll('b, img').length, anyImg: document.querySelectorAll('#messages img').length };
      }, html);
      assert(result && result.text === html, 'text differs', result);
      assert(result.elements === 0 && result.anyImg === 0, 'HTML was rendered as elements', result);
    });
  }
  // give a (wrongly) rendered onerror handler a moment to fire its alert()
  await pageA.waitForTimeout(300);
  await step('A', 'no dialog was opened by the HTML message', async () => {});

  // ---- formatting and links, built as elements ------------------------------------------------
  const formatted = `**bold ${tag}** and _it_ and ~~gone~~ and \`co*de*\` at https://example.com/a_b_c). `
    + 'not javascript:alert(1) nor snake_case_name; see #lobby, not #no-such-room-here';
  await step('A', 'sends a message with markdown and links', (page) => send(page, formatted));
  await step('B', 'sees bold, italic, strike, code and a safe link; the rest stays text', async (page) => {
    await page.waitForFunction((t) => [...document.querySelectorAll('#messages .message-text strong')]
      .some((el) => el.textContent === `bold ${t}`), tag, { timeout: STEP_MS });
    const seen = await page.evaluate((t) => {
      const body = [...document.querySelectorAll('#messages .message-text')]
        .find((el) => el.querySelector('strong')?.textContent === `bold ${t}`);
      const links = [...body.querySelectorAll('a')];
      return {
        text: body.textContent,
        em: [...body.querySelectorAll('em')].map((el) => el.textContent),
        strike: body.querySelector('s')?.textContent,
        code: body.querySelector('code')?.textContent,
        links: links.filter((a) => !a.classList.contains('room-ref'))
          .map((a) => ({ href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel })),
        rooms: [...body.querySelectorAll('a.room-ref')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent })),
      };
    }, tag);
    assert(JSON.stringify(seen.em) === '["it"]', 'only _it_ is italic (snake_case stays)', seen);
    assert(seen.strike === 'gone' && seen.code === 'co*de*', 'strike and code', seen);
    assert(seen.links.length === 1 && seen.links[0].href === 'https://example.com/a_b_c'
      && seen.links[0].text === 'https://example.com/a_b_c' && seen.links[0].target === '_blank'
      && seen.links[0].rel === 'noopener noreferrer', 'one safe link, without the sentence\'s ")."', seen);
    assert(seen.text.includes('javascript:alert(1)') && seen.text.includes('snake_case_name'),
      'the rest is text', seen);
    assert(JSON.stringify(seen.rooms) === JSON.stringify([{ href: '/', text: '#lobby' }])
      && seen.text.includes('#no-such-room-here'), 'a room the reader has links; an unknown one stays text', seen);
  });
  const blocksText = `> quoted ${tag}\n- one\n- two\n1. first\n\`\`\`\n<b>**not bold**</b>\n\`\`\``;
  await step('A', 'sends a message with a quote, lists and a code block', (page) => send(page, blocksText));
  await step('B', 'sees the blocks as elements; code stays literal', async (page) => {
    await page.waitForFunction((t) => [...document.querySelectorAll('#messages .message-text blockquote')]
      .some((el) => el.textContent === `quoted ${t}`), tag, { timeout: STEP_MS });
    const seen = await page.evaluate((t) => {
      const body = [...document.querySelectorAll('#messages .message-text')]
        .find((el) => el.querySelector('blockquote')?.textContent === `quoted ${t}`);
      return {
        bullets: [...body.querySelectorAll('ul > li')].map((el) => el.textContent),
        numbered: [...body.querySelectorAll('ol > li')].map((el) => el.textContent),
        code: body.querySelector('pre > code')?.textContent,
        injected: body.querySelectorAll('b, pre strong').length,
      };
    }, tag);
    assert(JSON.stringify(seen.bullets) === '["one","two"]' && JSON.stringify(seen.numbered) === '["first"]',
      'the lists', seen);
    assert(seen.code === '<b>**not bold**</b>' && seen.injected === 0, 'the code block is literal text', seen);
  });
  await step('B', "A's two messages in a row read as one group; the day opens with a separator", async (page) => {
    const seen = await page.evaluate((t) => {
      const items = [...document.querySelectorAll('#messages .room-log[data-room="lobby"] .message')];
      const blocks = items.find((el) => el.querySelector('blockquote')?.textContent === `quoted ${t}`);
      const first = items[0];
      return {
        grouped: blocks.classList.contains('message-grouped'),
        headerShown: blocks.querySelector('.message-header').getClientRects().length > 0,
        firstGrouped: first.classList.contains('message-grouped'),
        firstDay: first.dataset.day ?? null,
        days: items.filter((el) => el.classList.contains('message-new-day')).length,
      };
    }, tag);
    assert(seen.grouped && !seen.headerShown, 'the second message of a run hides its header', seen);
    // (Two separators only if the run straddles midnight.)
    assert(!seen.firstGrouped && ['Today', 'Yesterday'].includes(seen.firstDay) && seen.days >= 1 && seen.days <= 2,
      'a day separator on the first message', seen);
  });

  // ---- a crowd: the list comes a page at a time ---------------------------------------------
  const crowd = [];
  await step('-', `${CROWD} socket.io-client guests join the lobby`, async () => {
    for (let i = 0; i < CROWD; i += 1) crowd.push(await crowdGuest(`Cr${tag}${String(i).padStart(2, '0')}`));
  });
  const present = CROWD + 2;
  await step('B', `after a reload: ${present} counted, fewer listed, a "Show more" button`, async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    await page.waitForFunction((want) => document.querySelector('#member-count')?.textContent === String(want),
      present, { timeout: STEP_MS });
    const listed = await page.locator('#members .member:visible').count();
    assert(listed < present, 'the join ack lists one page only', listed);
    await page.locator('#members .members-more button:visible').waitFor();
  });
  await step('B', '"Show more" lists everyone and goes away', async (page) => {
    await page.click('#members .members-more button:visible');
    await page.waitForFunction((want) => document.querySelectorAll('#members .member[data-name]').length >= want
      && !document.querySelector('#members .members-more'), present, { timeout: STEP_MS });
    await member(page, nickA).waitFor({ state: 'attached' });
  });
  await step('A', 'the crowd leaving is counted down', async (page) => {
    for (const socket of crowd) socket.disconnect();
    await page.waitForFunction(() => document.querySelector('#member-count')?.textContent === '2', null,
      { timeout: STEP_MS });
  });

  // ---- screenshots ---------------------------------------------------------------------------
  await step('A', 'screenshot lobby-a.png', (page) => shot(page, 'lobby-a.png'));
  await step('B', 'screenshot lobby-b.png', (page) => shot(page, 'lobby-b.png'));
  await step('B', 'narrow 360×740: composer visible, screenshot lobby-narrow.png', async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.locator('#composer').waitFor({ state: 'visible' });
    const box = await page.locator('#composer').boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= 361 && box.y + box.height <= 741,
      '#composer should lie inside the 360×740 viewport', box);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) log(`  WARN - B: narrow layout scrolls horizontally by ${overflow}px`);
    await shot(page, 'lobby-narrow.png');
  });
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
