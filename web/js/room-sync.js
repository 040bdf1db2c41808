/**
 * Keeps a room's pane in step with the server over the gateway.
 *
 *  - Joining acks with the latest page of history; a later join on a new connection resumes
 *    with `since: <newest seq seen>` so only the gap is sent (when the gap is more than a page,
 *    the pane starts over from the latest page instead of loading everything in between).
 *  - Scrolling up fetches older pages with `history {before: <oldest seq shown>}`.
 *  - Sends in persistent rooms carry a `client_msg_id`, and a send cut off by a reconnect is
 *    retried with the same id: the server stores it once and acks the retry as a duplicate.
 *  - Conversations and ephemeral rooms work the same way; an ephemeral room's join also names
 *    this browser's device (device.js), which the room is locked to.
 *  - In an end-to-end room a send carries an envelope instead of text (e2e-send.js), and a
 *    join tells e2e-rooms.js what the room is.
 *
 * A room here is the record kept by rooms.js (`slug`, `pane`, `synced`, `loadingOlder`).
 */

import { LOBBY } from './room-api.js';
import { deviceId } from './device.js';
import { markUnread } from './unread-divider.js';
import { opened } from './e2e-rooms.js';
import { sendSealed } from './e2e-send.js';

const OLDER_PAGE = 50;
const SEND_WAIT_MS = 10000;
const SEND_ATTEMPTS = 3;
const RETRYABLE = new Set(['disconnected', 'timeout', 'offline']);

/** A random `client_msg_id`. (`crypto.randomUUID` exists only on https or localhost.) */
function newClientMsgId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Adds messages to the pane; returns those that were not shown before. */
function addAll(room, messages, isOwn) {
  const list = Array.isArray(messages) ? messages : [];
  return list.filter((m) => room.pane.log.addMessage(m, { own: isOwn(m.author) }));
}

const BEGINNINGS = {
  pm: (room) => `This is the beginning of your conversation with ${room.name}.`,
  ephemeral: (room) => `This is the beginning of ${room.name}.`,
};

/** Marks the top of the log as the start of the room when nothing older exists. */
function markStart(room) {
  if (room.pane.log.oldestSeq() !== null) {
    const text = BEGINNINGS[room.kind]?.(room) ?? `This is the beginning of #${room.slug}.`;
    room.pane.log.setEdge('start', text);
  }
}

/**
 * How a join ack's member list goes on: its count and cursor, and how to read the next page.
 * @param {import('./net.js').Gateway} gw
 */
export function memberPaging(gw, slug, ack) {
  return {
    count: ack.member_count,
    next: ack.members_next,
    loadMore: (after) => gw.request('members', { room: slug, after }),
  };
}

/**
 * Joins a room on the current connection and fills its pane from the ack.
 * @param {import('./net.js').Gateway} gw
 * @param {object} room with a pane
 * @param {(author: object) => boolean} isOwn whether a message author is the current user
 * @returns {Promise<{room: object, missed: object[]}>} the ack's Room, and on a resume the
 *   messages that arrived while this client was away
 */
export async function joinRoom(gw, room, isOwn) {
  const resume = room.synced;
  const request = resume
    ? { room: room.slug, since: room.pane.log.newestSeq() ?? 0 }
    : { room: room.slug };
  if (room.kind === 'ephemeral') request.device = deviceId();
  const ack = await gw.request('join', request);
  opened(room.slug, ack.room);
  room.pane.members.reset(ack.members, memberPaging(gw, room.slug, ack));
  let missed = [];
  if (resume && ack.more) {
    room.pane.log.clear();
    const page = await gw.request('history', { room: room.slug });
    missed = addAll(room, page.messages, isOwn);
  } else {
    missed = addAll(room, ack.messages, isOwn);
    if (!resume && !ack.more) markStart(room);
    if (!resume) markUnread(room.pane.log, ack.last_read_seq);
  }
  room.synced = true;
  return { room: ack.room, missed: resume ? missed : [] };
}

/** Fetches the page before the oldest message shown, unless one is loading or none is left. */
export async function loadOlder(gw, room, isOwn) {
  const log = room.pane.log;
  const before = log.oldestSeq();
  if (room.loadingOlder || log.atStart() || before === null || gw.state !== 'online') return;
  room.loadingOlder = true;
  log.setEdge('loading');
  try {
    const page = await gw.request('history', { room: room.slug, before, limit: OLDER_PAGE });
    const messages = Array.isArray(page.messages) ? page.messages : [];
    log.setEdge(null);
    addAll(room, messages, isOwn);
    // The server may cap the page below OLDER_PAGE, so only an empty page or seq 1 (the first
    // message a room ever had) proves there is nothing older.
    if (messages.length === 0 || messages[0].seq <= 1) markStart(room);
  } catch {
    log.setEdge(null); // the next scroll tries again
  } finally {
    room.loadingOlder = false;
  }
}

/**
 * Sends `text` to a room (a record of rooms.js), with the ids of uploaded files and the seq of
 * the message it answers (`replyTo`), and resolves with the ack; waits for the connection while
 * it is (re)connecting. Blank text beside files is left out (the message is the files); in an
 * end-to-end room the words and files go sealed in an envelope. Rejects with the server's
 * error, or the last local one after the retries.
 */
export async function sendMessage(gw, room, text, attachments = [], replyTo = null) {
  const slug = room.slug;
  const data = { room: slug };
  if (Number.isInteger(replyTo) && slug !== LOBBY) data.reply_to = replyTo;
  if (attachments.length === 0 || text.trim() !== '') data.text = text;
  if (attachments.length) data.attachments = attachments;
  if (slug !== LOBBY) data.client_msg_id = newClientMsgId();
  return sendSealed(room, data, text.trim(), attachments, async (payload) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (gw.state !== 'online') await gw.whenOnline(SEND_WAIT_MS);
        return await gw.request('send', payload);
      } catch (err) {
        // Lobby messages are not idempotent: resending one might show it twice.
        if (!payload.client_msg_id || !RETRYABLE.has(err.code) || attempt >= SEND_ATTEMPTS) throw err;
      }
    }
  });
}
