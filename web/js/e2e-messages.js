/**
 * Messages of end-to-end rooms in the log (docs/e2ee.md, "Messages"). A message carrying an
 * `envelope` is drawn at once with a "Decrypting…" line (messages.js knows nothing of this:
 * message-actions.js's decorate hook calls `decorateEnvelope`), then opened with its epoch's
 * room key (e2e-rooms.js) and its signature checked with the author's signing key
 * (e2e-trust.js): its words and files replace the line, or "🔒 This message could not be
 * decrypted" does, or the words show with an "unverified" warning. Never as garbage, never a
 * crash. Messages that did not open are tried again when the room's keys change or the
 * account's keys are unlocked; `message_edited` envelopes are opened the same way
 * (`envelopeEdited`), and reply quotes show the original opened here (the server's quote has no
 * words), read over REST when it is not loaded.
 *
 * Sending and editing in such rooms (sealing, and the retries) is e2e-send.js's.
 */

import { get } from './api.js';
import { openEnvelope } from './e2e-crypto.js';
import { roomKey, onRoomKeys } from './e2e-rooms.js';
import { onAccountChange, unlockedKeys, state as accountState } from './e2e-account.js';
import { publicKeysOf } from './e2e-trust.js';
import { openedAttachments } from './e2e-files.js';
import { stateOf, snippet, messageEdited } from './message-parts.js';
import { renderMarkup } from './markup.js';
import { selfName, textMentions, isSelf } from './mentions.js';

const items = new WeakMap(); // message element → {room, envelope, author, seq, views, ticket, payload}
const texts = new Map(); // `${room}|${seq}` → opened text, for quotes
const quoteReads = new Map(); // `${room}|${seq}` → Promise<string|null>

const LINES = {
  pending: '🔒 Decrypting…',
  locked: '🔒 Encrypted message — set up or unlock encryption to read it',
  failed: '🔒 This message could not be decrypted',
};

const logOf = (room) => document.querySelector(`#messages .room-log[data-room="${CSS.escape(room)}"] ol`);

function bodyOf(item) {
  let body = item.querySelector(':scope > .message-text');
  if (!body) {
    body = document.createElement('div');
    body.className = 'message-text';
    const before = item.querySelector(':scope > .reply-quote') ?? item.querySelector(':scope > .message-header');
    before.after(body);
  }
  return body;
}

/** Shows a line in place of the words (pending, locked, failed). */
function showLine(item, status) {
  item.dataset.e2e = status;
  item.querySelector(':scope > .message-e2e-warning')?.remove();
  const body = bodyOf(item);
  body.classList.add('message-e2e-line');
  body.textContent = LINES[status];
}

/** The signing key (b64 spki) of an author, ours included; null when unknown. */
async function signerOf(name) {
  const mine = unlockedKeys();
  if (mine && isSelf(name)) return mine.signing_public;
  return (await publicKeysOf(name))?.signing_public ?? null;
}

/** Opens an envelope of `room` by `author`: `{payload, verified}`, or null when it does not open. */
async function open(room, envelope, author) {
  try {
    const key = await roomKey(room, envelope?.epoch);
    if (!key) return null;
    return await openEnvelope({ envelope, room, key, author: await signerOf(author) });
  } catch {
    return null;
  }
}

function fillQuotes(list, room, seq, text) {
  texts.set(`${room}|${seq}`, text);
  for (const quote of list?.querySelectorAll(`.reply-quote[data-reply-seq="${seq}"]`) ?? []) {
    if (quote.classList.contains('reply-quote-deleted')) continue;
    const body = quote.querySelector('.reply-quote-text');
    body.textContent = snippet(text);
    const who = quote.querySelector('.reply-quote-author')?.textContent ?? '';
    quote.setAttribute('aria-label', `Reply to ${who}: ${body.textContent}. Show the original`);
  }
}

const bodyAnchor = (item) => item.querySelector(':scope > .reply-quote') ?? item.querySelector(':scope > .message-header');

/** Draws the files of an opened envelope in place of those drawn before (their blobs freed). */
function showFiles(item, info, payload) {
  const old = item.querySelector(':scope > .message-attachments');
  for (const el of old?.querySelectorAll('[src^="blob:"]') ?? []) URL.revokeObjectURL(el.src);
  old?.remove();
  const files = openedAttachments(payload.files, info.views);
  if (!files) return;
  const above = item.querySelector(':scope > .message-text') ?? item.querySelector(':scope > .message-edited');
  (above ?? bodyAnchor(item)).after(files);
}

function render(item, info, { payload, verified }) {
  const text = payload.text;
  info.payload = payload;
  item.dataset.e2e = verified ? 'ok' : 'unverified';
  if (info.editedAt !== undefined && item.parentElement) { // the marker, the state, the quotes
    messageEdited(item.parentElement, { seq: info.seq, text, edited_at: info.editedAt });
  }
  const body = bodyOf(item);
  body.classList.remove('message-e2e-line');
  if (text !== '' || !payload.files?.length) renderMarkup(body, text);
  else body.remove(); // the message is its files
  const state = stateOf(item);
  if (state) state.text = text;
  item.classList.toggle('message-mention', !isSelf(info.author) && textMentions(text, selfName()));
  showFiles(item, info, payload);
  item.querySelector(':scope > .message-e2e-warning')?.remove();
  if (!verified) {
    const warning = document.createElement('p');
    warning.className = 'message-e2e-warning';
    warning.setAttribute('role', 'note');
    warning.textContent = `⚠ Unverified: this message is not signed with ${info.author}’s key. It may not be from them.`;
    item.querySelector(':scope > .message-header').after(warning);
  }
  if (Number.isInteger(info.seq)) fillQuotes(item.parentElement, info.room, info.seq, text);
}

/** Opens the envelope of a message element and draws what it holds. */
async function decrypt(item) {
  const info = items.get(item);
  if (!info) return;
  info.ticket += 1;
  const ticket = info.ticket;
  if (!unlockedKeys()) { // while the account's keys are being looked at, they may still open
    showLine(item, accountState().status === 'checking' ? 'pending' : 'locked');
    return;
  }
  if (!['ok', 'unverified'].includes(item.dataset.e2e)) showLine(item, 'pending');
  const opened = await open(info.room, info.envelope, info.author);
  if (info.ticket !== ticket || stateOf(item)?.deleted) return;
  if (opened) render(item, info, opened);
  else showLine(item, 'failed');
}

/** The opened text of message `seq` of `room` for a quote: loaded, remembered, or read. */
function quoteText(room, seq) {
  const key = `${room}|${seq}`;
  if (texts.has(key)) return Promise.resolve(texts.get(key));
  if (!quoteReads.has(key)) {
    const read = get(`/api/rooms/${encodeURIComponent(room)}/messages?after=${seq - 1}&limit=1`)
      .then(async (page) => {
        const message = page?.messages?.find((m) => m.seq === seq);
        if (!message?.envelope) return null;
        const opened = await open(room, message.envelope, message.author?.name);
        return opened ? opened.payload.text : null;
      })
      .catch(() => null)
      .finally(() => quoteReads.delete(key));
    quoteReads.set(key, read);
  }
  return quoteReads.get(key);
}

async function fillQuoteOf(item, room, reply) {
  if (reply.deleted === true || !unlockedKeys()) return;
  const loaded = item.parentElement?.querySelector(`.message[data-seq="${reply.seq}"]`);
  // An original still being opened fills its quotes when it is; an opened one was remembered.
  if (loaded?.dataset.e2e === 'pending' && !texts.has(`${room}|${reply.seq}`)) return;
  const text = await quoteText(room, reply.seq);
  if (text !== null && item.isConnected) fillQuotes(item.parentElement, room, reply.seq, text);
}

/**
 * message-actions.js's hook for every stored message of `room` (a record): one carrying an
 * envelope is opened here.
 */
export function decorateEnvelope(item, message, room) {
  if (!message?.envelope || message.deleted === true) return;
  const views = Array.isArray(message.attachments) ? message.attachments : [];
  items.set(item, {
    room: room.slug, envelope: message.envelope, author: message.author?.name ?? '', seq: message.seq, views, ticket: 0, payload: null,
  });
  item.classList.add('message-e2e');
  item.querySelector(':scope > .message-attachments')?.remove(); // the sealed uploads, unopened
  decrypt(item);
  const reply = message.reply_to;
  if (Number.isInteger(reply?.seq)) queueMicrotask(() => fillQuoteOf(item, room.slug, reply).catch(() => {}));
}

/** What the envelope of a message element held (`{text, files}`), once opened; else null. */
export const openedPayload = (item) => items.get(item)?.payload ?? null;

/**
 * `message_edited` with an envelope, in the log `list` of `room`: opened, then applied as an
 * edit of those words (message-parts.js), quotes included.
 */
export async function envelopeEdited(list, room, data) {
  const item = list.querySelector(`.message[data-seq="${data.seq}"]`);
  const info = item && items.get(item);
  if (info) {
    Object.assign(info, { envelope: data.envelope, editedAt: data.edited_at });
    await decrypt(item);
    return;
  }
  // Not loaded: only the quotes of it change.
  const author = list.querySelector(`.reply-quote[data-reply-seq="${data.seq}"] .reply-quote-author`)?.textContent;
  if (!author) return;
  const opened = await open(room, data.envelope, author);
  if (opened) fillQuotes(list, room, data.seq, opened.payload.text);
}

/** Opens again the messages of `room` (every room: null) that are not open yet. */
function retry(room, { all = false } = {}) {
  const scope = room ? logOf(room) : document.getElementById('messages');
  for (const item of scope?.querySelectorAll('.message-e2e') ?? []) {
    if (all || !['ok', 'unverified'].includes(item.dataset.e2e)) decrypt(item);
  }
}

onRoomKeys((room) => retry(room));
let lastStatus = '';
onAccountChange(({ status }) => {
  if (status === lastStatus) return;
  lastStatus = status;
  texts.clear();
  retry(null, { all: status !== 'unlocked' }); // locked: no words stay on screen
});
