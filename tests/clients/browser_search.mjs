#!/usr/bin/env node
// Message search in the web app, in headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core.
//
// Usage: node browser_search.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211 (a server whose join page is small, e.g. 30 messages,
//             and whose message rate lets one account post ~70 messages at once)
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_search
//
// Four browser contexts. A creates a public room over REST and posts an old message with a
// unique word ("zebracorn"), an XSS attempt and 60 fillers; B joins the room and reloads, so
// only the latest page is loaded. B opens the search with Ctrl+K and types the word: one result
// names the room and A, with the word in <mark>; Enter opens the room at that message, which was
// not loaded before, scrolled into view and highlighted, and closes the panel. B writes the word
// too: the search (Ctrl+K again) finds both, newest first, the arrow keys move the selection, and
// the author filter narrows it to A's. "filler" finds 20, and "Load more" 20 more. The XSS text
// as the query finds the XSS message, shown as text with its words marked; nothing runs. C, an
// account that is not a member, opens the search from the rooms drawer on a phone-width page
// (its header has no room for the button): the panel fills the screen, one character asks for more, and the word finds nothing (a sentence
// says so). A guest (D) has no search button, and Ctrl+K opens nothing.
// Writes search-b.png, search-b-room.png and search-c.png; on failure failure.png (the page
// being checked) and failure-other.png. Exits 0 on success, 1 on the first failed check, 2 on
// bad usage, 3 on overrun (60 s watchdog). Needs `npm ci` in tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, postFillers, send, waitForChat, scriptArgs, register } from './harness.mjs';

const DEADLINE_MS = 60000;
/** Messages A posts after the old one: more than a join's page (30 on the test server). */
const FILLERS = 60;
const WORD = 'zebracorn';
const HOSTILE = '<img src=x onerror=window.__xss=1>';

const { baseUrl, outDir } = scriptArgs('browser_search.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_search.mjs', outDir, deadlineMs: DEADLINE_MS,
});

const logOf = (slug) => `#messages .room-log[data-room="${slug}"]`;
const HITS = '#search-results .search-hit';

/** Calls the REST API with the page's session cookie; fails the step on an unexpected status. */
async function api(page, method, path, body, expect = [200, 201, 204]) {
  const answer = await page.evaluate(async ([m, p, b]) => {
    const r = await fetch(p, {
      method: m, headers: { 'content-type': 'application/json' }, body: b === null ? undefined : JSON.stringify(b),
    });
    return { status: r.status, text: await r.text() };
  }, [method, path, body ?? null]);
  assert(expect.includes(answer.status), `${method} ${path} answers ${expect.join('/')}`, answer);
  return answer.text ? JSON.parse(answer.text) : null;
}

/** Opens the search panel with Ctrl+K and waits for its field to have the focus. */
async function openSearch(page) {
  await page.keyboard.press('Control+k');
  await page.locator('#search-dialog').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.activeElement?.id === 'search-q');
}

/** Types a query into the field (as a person would, debounce and all) and waits for `count` results. */
async function search(page, q, count) {
  await page.fill('#search-q', '');
  await page.locator('#search-q').pressSequentially(q, { delay: 15 });
  await page.waitForFunction(([sel, n]) => {
    const status = document.querySelector('#search-status');
    return document.querySelectorAll(sel).length === n
      && ['results', 'empty'].includes(status?.dataset.state);
  }, [HITS, count]);
}

/** The visible results as {room, author, text, marks}. */
function results(page) {
  return page.locator(HITS).evaluateAll((items) => items.map((item) => ({
    room: item.querySelector('.search-hit-room')?.textContent ?? '',
    author: item.querySelector('.search-hit-author')?.textContent ?? '',
    text: item.querySelector('.search-hit-text')?.textContent ?? '',
    marks: [...item.querySelectorAll('.search-hit-text mark')].map((m) => m.textContent),
    selected: item.getAttribute('aria-selected'),
    seq: item.dataset.seq,
  })));
}

async function run() {
  const tag = digits(6);
  const nickA = `FindA${tag}`;
  const nickB = `FindB${tag}`;
  const nickC = `FindC${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const slug = `zoo-${tag}`;
  const roomName = `Zoo ${tag}`;
  const old = `the ${WORD} grazes at dawn ${tag}`;
  const hostile = `${HOSTILE} trap ${tag}`;

  const browser = await launch();
  const viewport = { width: 1100, height: 760 };
  const phone = { width: 360, height: 780 };
  await openPage(await browser.newContext({ viewport }), 'A', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'B', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport: phone, hasTouch: true }), 'C', /status of 4\d\d/);
  await openPage(await browser.newContext({ viewport }), 'D', /status of 4\d\d/);

  await step('A', `register as ${nickA}`, (page) => register(page, baseUrl, nickA, password));
  await step('B', `register as ${nickB}`, (page) => register(page, baseUrl, nickB, password));
  await step('C', `register as ${nickC} (phone width)`, (page) => register(page, baseUrl, nickC, password));

  let oldSeq = '';
  await step('A', `creates public room ${slug}, posts the old message, an XSS attempt and ${FILLERS} fillers over REST`, async (page) => {
    await api(page, 'POST', '/api/rooms', { slug, name: roomName });
    oldSeq = String((await api(page, 'POST', `/api/rooms/${slug}/messages`, { text: old })).seq);
    await api(page, 'POST', `/api/rooms/${slug}/messages`, { text: hostile });
    await postFillers(page, slug, FILLERS, tag);
  });
  await step('B', 'joins the room over REST and reloads: only the latest page of it is loaded', async (page) => {
    await api(page, 'POST', `/api/rooms/${slug}/membership`);
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    await page.locator(`${logOf(slug)} .message`, { hasText: `filler ${FILLERS} ${tag}` }).waitFor({ state: 'attached' });
    assert(await page.locator(`${logOf(slug)} .message[data-seq="${oldSeq}"]`).count() === 0, 'the old message is not loaded');
    assert(await page.locator('#search-open').isVisible(), 'an account has the search button');
  });

  // ---- find the old message and open it in context ----------------------------------------------
  await step('B', `Ctrl+K opens the search; "${WORD}" finds one message, naming the room and A, the word marked`, async (page) => {
    await openSearch(page);
    await search(page, WORD, 1);
    const [hit] = await results(page);
    assert(hit.room.includes(roomName), 'the result names the room', hit);
    assert(hit.author === nickA, "the result names A", hit);
    assert(hit.text === old, 'the result shows the message text', hit);
    assert(hit.marks.length === 1 && hit.marks[0].toLowerCase() === WORD, 'the word is in <mark>', hit);
    assert(hit.selected === 'true', 'the first result is selected', hit);
    assert(hit.seq === oldSeq, 'the result is the old message', hit);
  });
  await step('B', 'Enter opens the room at the old message, scrolled into view and highlighted; the panel closes', async (page) => {
    await page.locator('#search-q').press('Enter');
    await page.locator('#search-dialog').waitFor({ state: 'hidden' });
    await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
    const target = page.locator(`${logOf(slug)} .message[data-seq="${oldSeq}"]`);
    await page.locator(`${logOf(slug)} .message[data-seq="${oldSeq}"].message-highlight`).waitFor({ state: 'attached' });
    await page.waitForTimeout(150); // smooth layout after older pages came in
    const inView = await target.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const list = el.closest('.messages').getBoundingClientRect();
      return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
    });
    assert(inView, 'the old message is scrolled into view');
    await shot(page, 'search-b-room.png');
  });

  // ---- newest first, arrows, the author filter, more pages --------------------------------------
  const mine = `a ${WORD} of my own ${tag}`;
  await step('B', `writes "${WORD}" too; the search finds both, newest first, and the arrows move the selection`, async (page) => {
    await send(page, mine);
    await page.locator(`${logOf(slug)} .message`, { hasText: mine }).waitFor({ state: 'visible' });
    await openSearch(page);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, HITS); // the last search again
    let hits = await results(page);
    assert(hits[0].text === mine && hits[0].author === nickB, "B's newer message comes first", hits);
    assert(hits[1].text === old, "A's old message comes second", hits);
    await page.locator('#search-q').press('ArrowDown');
    hits = await results(page);
    assert(hits[0].selected === 'false' && hits[1].selected === 'true', 'ArrowDown selects the second', hits);
    const active = await page.locator('#search-q').getAttribute('aria-activedescendant');
    assert(active === await page.locator(HITS).nth(1).getAttribute('id'), 'the field points at the selected result', active);
    await page.locator('#search-q').press('ArrowUp');
    assert((await results(page))[0].selected === 'true', 'ArrowUp selects the first again');
  });
  await step('B', 'the author filter narrows the results to A', async (page) => {
    await page.locator('#search-author').pressSequentially(nickA, { delay: 10 });
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1
      && document.querySelector('#search-status').dataset.state === 'results', HITS);
    const hits = await results(page);
    assert(hits[0].author === nickA && hits[0].text === old, "only A's message is left", hits);
    await page.fill('#search-author', '');
    await page.locator('#search-room').selectOption(slug);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2
      && document.querySelector('#search-status').dataset.state === 'results', HITS);
  });
  await step('B', '"filler" shows 20 results, and "Load more" 20 more', async (page) => {
    await search(page, 'filler', 20);
    const hits = await results(page);
    assert(hits[0].text === `filler ${FILLERS} ${tag}`, 'newest first', hits[0]);
    const more = page.locator('#search-more');
    await more.waitFor({ state: 'visible' });
    await more.click();
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 40, HITS);
    const after = await results(page);
    assert(after[39].text === `filler ${FILLERS - 39} ${tag}`, 'the next page follows on', after[39]);
    await page.locator('#search-room').selectOption('');
  });

  // ---- hostile text, as the query and as the message ------------------------------------------------
  await step('B', 'an XSS attempt as the query finds the XSS message, shown as text; nothing runs', async (page) => {
    await search(page, HOSTILE, 1);
    const [hit] = await results(page);
    assert(hit.text === hostile, 'the message reads exactly as typed', hit);
    assert(hit.marks.join(' ') === HOSTILE, 'the query words are marked as text', hit);
    const traces = await page.evaluate(() => ({
      xss: window.__xss,
      media: document.querySelectorAll('#search-dialog img, #search-dialog svg, #search-dialog script').length,
      handlers: [...document.querySelectorAll('#search-dialog *')]
        .filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    }));
    assert(traces.xss === undefined && traces.media === 0 && traces.handlers === 0, 'no element or handler came from it', traces);
    await search(page, 'filler', 20);
    await page.locator('#search-q').press('ArrowDown');
    await shot(page, 'search-b.png');
    await page.keyboard.press('Escape');
    await page.locator('#search-dialog').waitFor({ state: 'hidden' });
    assert(await page.evaluate(() => window.__xss) === undefined, 'window.__xss stays undefined');
    assert(await page.locator('#search-open-rooms').isHidden(), 'on a wide screen the rooms drawer has no second button');
  });

  // ---- an outsider on a phone ---------------------------------------------------------------------
  await step('C', "the rooms drawer's search button opens a full-screen panel; one character asks for more; the word finds nothing", async (page) => {
    assert(await page.locator('#search-open').isHidden(), "the header's row is full: no search button there");
    await page.click('#sidebar-toggle');
    await page.click('#search-open-rooms');
    const dialog = page.locator('#search-dialog');
    await dialog.waitFor({ state: 'visible' });
    const box = await dialog.boundingBox();
    assert(Math.abs(box.width - 360) <= 1 && Math.abs(box.height - 780) <= 1 && box.x <= 0.5 && box.y <= 0.5,
      'the panel fills the phone screen', box);
    await page.locator('#search-q').pressSequentially('z');
    await page.waitForFunction(() => document.querySelector('#search-status').dataset.state === 'prompt'
      && document.querySelector('#search-status').textContent.includes('at least 2 characters'));
    await search(page, WORD, 0);
    const status = await page.locator('#search-status').textContent();
    assert(status.startsWith('No messages match'), 'a sentence says nothing was found', status);
    await shot(page, 'search-c.png');
  });

  // ---- guests have no search ---------------------------------------------------------------------------
  await step('D', 'a guest has no search button, and Ctrl+K opens nothing', async (page) => {
    await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
    await page.locator('#join-guest-nick').waitFor({ state: 'visible' });
    await page.fill('#join-guest-nick', `Guest${tag}`);
    await page.click('#join-guest-submit');
    await waitForChat(page, `Guest${tag}`);
    assert(await page.locator('#search-open').isHidden(), 'no search button');
    await page.locator('#room-title').click();
    await page.keyboard.press('Control+k');
    await page.keyboard.press('/');
    await page.waitForTimeout(300);
    assert(await page.locator('#search-dialog').isHidden(), 'no search panel');
  });
}

finish(run);
