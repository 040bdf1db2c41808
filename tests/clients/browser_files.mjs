#!/usr/bin/env node
// Parlor's file attachments in the web app, in headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core, with Chromium's fake microphone.
//
// Usage: node browser_files.mjs BASE_URL [OUT_DIR]
//   BASE_URL  e.g. http://127.0.0.1:38211
//   OUT_DIR   where screenshots go (created); default: $TMPDIR/parlor-browser-shots/browser_files
//
// Two separate browser contexts (two users). A registers, creates a public room over REST and
// limits it to images and audio; B registers and opens it. A's attach button says what the
// room takes; a video pasted into the composer is refused on its chip without an upload. A
// pastes a PNG drawn on a canvas (a synthetic `paste` event carrying a File): its chip
// uploads with a progress bar while Send waits, then A sends it with a line of text. B sees
// an <img> sized by width/height attributes before it loads, which then loads; clicking it
// opens the lightbox with the full image, and Escape closes it. A records a voice note for
// about 1.5 s with the microphone button and sends it without text; B sees an <audio> player
// with the note's length and plays it, and after a reload finds both in the history. A's
// settings dialog shows the room's attachment kinds, and allowing videos there changes the
// attach button's tooltip at once. Writes files-a.png, files-b.png and files-lightbox.png; on
// failure failure.png (the page being checked) and failure-other.png. Exits 0 on success, 1 on
// the first failed check, 2 on bad usage, 3 on overrun (60 s watchdog). Needs `npm ci` in
// tests/clients and chromium.

import { STEP_MS, assert, createHarness, digits, log, waitForChat, scriptArgs } from './harness.mjs';

const DEADLINE_MS = 60000;
/** The canvas A pastes, and the box messages fit images into. */
const IMAGE = { width: 640, height: 480 };
const SHOWN = { width: 320, height: 240 };
const RECORD_MS = 1500;

const { baseUrl, outDir } = scriptArgs('browser_files.mjs');

const { step, shot, launch, openPage, finish } = createHarness({
  script: 'browser_files.mjs', outDir, deadlineMs: DEADLINE_MS,
});

async function register(page, name, password) {
  await page.goto(`${baseUrl}/`, { timeout: STEP_MS });
  await page.locator('#join-view').waitFor({ state: 'visible' });
  await page.click('#tab-register');
  await page.locator('#register-username').waitFor({ state: 'visible' });
  await page.fill('#register-username', name);
  await page.fill('#register-password', password);
  await page.click('#register-submit');
  await waitForChat(page, name);
}

/** Opens `/room/<slug>` and waits until its log is on screen. */
async function openRoom(page, slug) {
  await page.goto(`${baseUrl}/room/${slug}`, { timeout: STEP_MS });
  await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
  await page.locator(`#messages .room-log[data-room="${slug}"]`).waitFor({ state: 'visible' });
}

/** A JSON request from inside the page (its session cookie); resolves `{status, body}`. */
function api(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const reply = await fetch(p, {
      method: m,
      headers: { 'content-type': 'application/json' },
      body: b === undefined ? undefined : JSON.stringify(b),
    });
    const text = await reply.text();
    return { status: reply.status, body: text ? JSON.parse(text) : null };
  }, [method, path, body]);
}

/**
 * Pastes files into #composer with a synthetic `paste` event. `spec` says what to make:
 * `{png: {width, height}, name}` draws a PNG on a canvas; `{type, name}` makes a few bytes of
 * that type. Resolves with what the page saw right after the event: whether the app took the
 * paste, the chip's state and the send button's.
 */
function paste(page, spec) {
  return page.evaluate(async ({ png, type, name }) => {
    let file;
    if (png) {
      const canvas = document.createElement('canvas');
      canvas.width = png.width;
      canvas.height = png.height;
      const g = canvas.getContext('2d');
      const gradient = g.createLinearGradient(0, 0, png.width, png.height);
      gradient.addColorStop(0, '#3d5bd9');
      gradient.addColorStop(1, '#f5a623');
      g.fillStyle = gradient;
      g.fillRect(0, 0, png.width, png.height);
      g.fillStyle = '#ffffff';
      g.font = '48px sans-serif';
      g.fillText('Parlor', 40, 100);
      const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
      file = new File([blob], name, { type: 'image/png' });
    } else {
      file = new File([new Uint8Array(64)], name, { type });
    }
    const data = new DataTransfer();
    data.items.add(file);
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    document.querySelector('#composer').dispatchEvent(event);
    const chips = document.querySelectorAll('#attach-tray .attach-chip');
    const chip = chips[chips.length - 1];
    return {
      taken: event.defaultPrevented,
      state: chip?.dataset.state,
      hasProgress: Boolean(chip?.querySelector('progress')),
      sendDisabled: document.querySelector('#send').disabled,
      visible: chip ? chip.getClientRects().length > 0 : false,
    };
  }, spec);
}

/** Waits for the tray's only chip to finish uploading; returns its file id. */
async function uploaded(page) {
  const chip = page.locator('#attach-tray .attach-chip');
  await page.locator('#attach-tray .attach-chip[data-state="done"]').waitFor({ state: 'visible' });
  const count = await chip.count();
  assert(count === 1, 'one chip should be in the tray', count);
  const id = await chip.getAttribute('data-id');
  assert(/^[a-z2-7]{26}$/.test(id ?? ''), 'the chip should know its file id', id);
  assert(!(await page.locator('#send').isDisabled()), 'Send should be enabled again');
  return id;
}

/** Waits until the tray is empty and hidden (the message took the files). */
function trayCleared(page) {
  return page.waitForFunction(() => {
    const tray = document.querySelector('#attach-tray');
    return tray.hidden && tray.childElementCount === 0;
  }, null, { timeout: STEP_MS });
}

/** The message in room `slug` holding attachment `id`. */
const messageWith = (page, slug, id) =>
  page.locator(`#messages .room-log[data-room="${slug}"] .message:has(.attachment[data-id="${id}"])`);

async function run() {
  const tag = digits(6);
  const nickA = `FlA${tag}`;
  const nickB = `FlB${tag}`;
  const password = `pw-${digits(8)}-Parlor`;
  const slug = `files-${tag}`;
  const caption = `a picture from A ${tag}`;

  const browser = await launch({
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
  });
  const viewport = { width: 1200, height: 800 };
  const ctxA = await browser.newContext({ viewport });
  await ctxA.grantPermissions(['microphone'], { origin: baseUrl });
  const ctxB = await browser.newContext({ viewport });
  // The refusals below are provoked on purpose; 401 comes before signing in.
  await openPage(ctxA, 'A', /status of 4\d\d/);
  await openPage(ctxB, 'B', /status of 4\d\d/);

  // ---- a room that takes images and audio only ------------------------------------------------
  await step('A', `register as ${nickA}`, (page) => register(page, nickA, password));
  await step('A', `creates #${slug} and limits it to images and audio (REST)`, async (page) => {
    const made = await api(page, 'POST', '/api/rooms', { slug });
    assert(made.status === 201, 'the room should be created', made);
    const changed = await api(page, 'PATCH', `/api/rooms/${slug}`, { allow_videos: false, allow_files: false });
    assert(changed.status === 200, 'the settings should be saved', changed);
    const room = changed.body;
    assert(room.allow_images === true && room.allow_audio === true && room.allow_videos === false
      && room.allow_files === false, 'the Room should carry the four flags', room);
    assert(JSON.stringify(room.accepts) === JSON.stringify(['image', 'audio']), 'accepts should list image and audio', room.accepts);
    await openRoom(page, slug);
  });
  await step('B', `register as ${nickB} and open #${slug}`, async (page) => {
    await register(page, nickB, password);
    await openRoom(page, slug);
  });
  await step('A', 'the attach button says the room takes images and audio', async (page) => {
    const attach = page.locator('#attach');
    await attach.waitFor({ state: 'visible' });
    const title = (await attach.getAttribute('title')) ?? '';
    assert(/images/.test(title) && /audio/.test(title) && !/videos|other files/.test(title),
      'the tooltip should name images and audio only', title);
    assert(await page.locator('#record').isVisible(), 'the microphone button should be shown');
  });

  // ---- a kind the room does not take is refused on its chip -----------------------------------
  await step('A', 'a pasted video is refused on its chip without an upload', async (page) => {
    const seen = await paste(page, { type: 'video/mp4', name: `clip-${tag}.mp4` });
    assert(seen.taken && seen.state === 'error' && seen.visible, 'the paste should make a refused chip', seen);
    const text = await page.locator('#attach-tray .attach-chip[data-state="error"] .attach-chip-error').textContent();
    assert(/does not take videos/.test(text) && /images, audio/.test(text), 'the chip should say why', text);
    await page.click('#attach-tray .attach-chip .attach-chip-remove');
    await trayCleared(page);
  });

  // ---- an image ---------------------------------------------------------------------------------
  let imageId = '';
  await step('A', 'a pasted PNG uploads on its chip with a progress bar while Send waits', async (page) => {
    const seen = await paste(page, { png: IMAGE, name: `drawing-${tag}.png` });
    assert(seen.taken && seen.state === 'uploading' && seen.hasProgress && seen.sendDisabled,
      'the chip should be uploading with a <progress> and Send disabled', seen);
    imageId = await uploaded(page);
    const thumb = page.locator('#attach-tray .attach-chip img.attach-chip-thumb');
    await thumb.waitFor({ state: 'visible' });
  });
  await step('A', 'sends it with a line of text; the tray and composer clear', async (page) => {
    const composer = page.locator('#composer');
    await composer.fill(caption);
    await composer.press('Enter');
    await page.waitForFunction(() => document.querySelector('#composer').value === '', null, { timeout: STEP_MS });
    await trayCleared(page);
    await messageWith(page, slug, imageId).waitFor({ state: 'visible' });
  });
  for (const label of ['B', 'A']) {
    await step(label, 'shows the message with an <img> sized before it loads, which loads', async (page) => {
      const message = messageWith(page, slug, imageId);
      await message.waitFor({ state: 'visible' });
      const text = await message.locator('.message-text').textContent();
      assert(text === caption, 'the text should go with the image', text);
      const img = message.locator('.attachment-image img');
      const size = await img.evaluate((el) => ({ width: el.getAttribute('width'), height: el.getAttribute('height'), loading: el.loading }));
      assert(size.width === String(SHOWN.width) && size.height === String(SHOWN.height) && size.loading === 'lazy',
        `the <img> should be ${SHOWN.width}×${SHOWN.height} by its attributes, lazily loaded`, size);
      await img.evaluate((el) => new Promise((done, fail) => {
        if (el.complete && el.naturalWidth > 0) done();
        el.addEventListener('load', done);
        el.addEventListener('error', () => fail(new Error(`the image did not load: ${el.src}`)));
      }));
      const natural = await img.evaluate((el) => el.naturalWidth);
      assert(natural > 0, 'the image should have loaded', natural);
    });
  }
  await step('B', 'clicking the image opens the lightbox with the full image; Escape closes it', async (page) => {
    await messageWith(page, slug, imageId).locator('.attachment-image img').click();
    const lightbox = page.locator('#lightbox');
    await lightbox.waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#lightbox-image').naturalWidth > 0, null, { timeout: STEP_MS });
    const natural = await page.locator('#lightbox-image').evaluate((el) => [el.naturalWidth, el.naturalHeight]);
    assert(natural[0] === IMAGE.width && natural[1] === IMAGE.height, 'the lightbox should show the full-size image', natural);
    await shot(page, 'files-lightbox.png');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('#lightbox').open, null, { timeout: STEP_MS });
  });

  // ---- a voice note -------------------------------------------------------------------------------
  let voiceId = '';
  await step('A', `records a voice note for ${RECORD_MS} ms with the microphone button`, async (page) => {
    await page.click('#record');
    await page.locator('#record-time').waitFor({ state: 'visible' });
    assert(await page.locator('#record').getAttribute('aria-pressed') === 'true', 'the button should show it records');
    await page.waitForTimeout(RECORD_MS);
    const elapsed = await page.locator('#record-time').textContent();
    assert(/^0:0[12]$/.test(elapsed), 'the elapsed time should be shown', elapsed);
    await page.click('#record');
    await page.locator('#record-time').waitFor({ state: 'hidden' });
    voiceId = await uploaded(page);
    const name = await page.locator('#attach-tray .attach-chip .attach-chip-name').textContent();
    assert(/^voice-\d{8}-\d{6}\.webm$/.test(name), 'the chip should name the voice note', name);
  });
  await step('A', 'sends it without text', async (page) => {
    await page.locator('#composer').press('Enter');
    await trayCleared(page);
    await messageWith(page, slug, voiceId).waitFor({ state: 'visible' });
  });
  await step('B', 'shows an <audio> player with the length, which plays', async (page) => {
    const message = messageWith(page, slug, voiceId);
    await message.waitFor({ state: 'visible' });
    assert(await message.locator('.message-text').count() === 0, 'a message of files only has no text line');
    const length = await message.locator('.attachment-duration').textContent();
    assert(/^0:0[12]$/.test(length), 'the length should be shown', length);
    const audio = message.locator('.attachment-audio audio');
    const attrs = await audio.evaluate((el) => ({ controls: el.controls, preload: el.preload, src: el.getAttribute('src') }));
    assert(attrs.controls && attrs.preload === 'metadata' && attrs.src === `/api/files/${voiceId}`,
      'the player should have controls, read metadata only and play the file', attrs);
    await message.locator('.attachment-duration').click(); // a user gesture on the page before play()
    const played = await audio.evaluate(async (el) => {
      await el.play();
      const until = Date.now() + 5000;
      while (Date.now() < until && !(el.readyState >= 2 && el.currentTime > 0)) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return { readyState: el.readyState, currentTime: el.currentTime, error: el.error && el.error.code };
    });
    assert(played.readyState >= 2 && played.error === null, 'the voice note should play', played);
    log(`    played to ${played.currentTime.toFixed(2)} s (readyState ${played.readyState})`);
  });

  await step('B', 'a reload shows both attachments again from the history', async (page) => {
    await page.reload({ timeout: STEP_MS });
    await waitForChat(page, nickB);
    await page.locator(`#room-title[data-room="${slug}"]`).waitFor({ state: 'visible' });
    await messageWith(page, slug, imageId).locator('.attachment-image img[width][height]').waitFor({ state: 'visible' });
    await messageWith(page, slug, voiceId).locator('.attachment-audio audio').waitFor({ state: 'visible' });
  });

  // ---- the room's settings -------------------------------------------------------------------------
  await step('A', 'the settings dialog shows the attachment kinds; allowing videos updates the tooltip', async (page) => {
    await page.click('#room-settings');
    await page.locator('#settings-dialog').waitFor({ state: 'visible' });
    const checked = await page.evaluate(() => ['images', 'videos', 'audio', 'files'].map((kind) => {
      const box = document.querySelector(`#settings-allow-${kind}`);
      return box.getClientRects().length > 0 && box.checked;
    }));
    assert(JSON.stringify(checked) === JSON.stringify([true, false, true, false]),
      'images and audio should be ticked, videos and other files not', checked);
    await page.check('#settings-allow-videos');
    await page.click('#settings-save');
    await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => /videos/.test(document.querySelector('#attach').title), null, { timeout: STEP_MS });
  });

  // ---- screenshots --------------------------------------------------------------------------------
  await step('A', 'screenshot files-a.png', (page) => shot(page, 'files-a.png'));
  await step('B', 'screenshot files-b.png', (page) => shot(page, 'files-b.png'));
}

log(`playwright-core against ${baseUrl}; screenshots in ${outDir}`);
await finish(run);
