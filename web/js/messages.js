/**
 * One room's message log: chat messages, system notices, auto-scroll and the history edge.
 *
 * Messages are deduplicated by server `id` (the sender gets its own message back as an event,
 * and a reconnect or an older page may overlap what is shown) and, in persistent rooms, kept
 * in `seq` order whatever order pages and events arrive in. Text is always inserted with
 * `textContent` (formatted by markup.js, which builds its elements the same way); newlines
 * survive through CSS `white-space: pre-wrap`. Attachments are drawn
 * by attachment-view.js, sized before they load so the log does not jump. The log follows the
 * newest line unless the reader has scrolled up, in which case a "New messages" button offers
 * the jump instead; scrolling near the top asks the owner for older history (`onNearTop`).
 * While following the newest line, old lines are trimmed to bound memory. A line the owner
 * keeps updating itself (the AI companion's reply while it streams, companion-stream.js) is
 * appended with `addLine` and removed by its owner once the message stored under its
 * `client_msg_id` is shown (`hasClientMsg`). What a stored message grows beyond its text
 * (a reply's quote, reactions, the actions toolbar, an edit or a tombstone) is the owner's
 * `decorate` hook's (message-actions.js); `bySeq` finds a message for the events that change it.
 * A message that mentions the reader (mentions.js) is marked `message-mention`.
 */

import { badgeFor, botTagFor, guestTagFor } from './members.js';
import { attachmentsElement } from './attachment-view.js';
import { renderMarkup } from './markup.js';
import { avatarFor } from './avatar.js';
import { mentionsMe } from './mentions.js';
import { clockTime } from './clock.js';

const MAX_LINES = 500;
const STICK_THRESHOLD_PX = 48;
const NEAR_TOP_PX = 120;

/** The time of day of epoch milliseconds, on the reader's 12- or 24-hour clock (clock.js). */
export function formatTime(ts) {
  return clockTime(ts);
}

function timeElement(ts, className) {
  const el = document.createElement('time');
  el.className = className;
  el.textContent = formatTime(ts);
  const date = new Date(ts);
  if (!Number.isNaN(date.getTime())) {
    el.dateTime = date.toISOString();
    el.title = date.toLocaleString();
  }
  return el;
}

function messageElement(message, own) {
  const { id, ts, author, text, seq, attachments, client_msg_id: clientMsgId } = message;
  const item = document.createElement('li');
  item.className = 'message';
  if (own) item.classList.add('message-own');
  else if (mentionsMe(message)) item.classList.add('message-mention');
  if (author?.bot === true) item.classList.add('message-bot');
  item.dataset.id = String(id);
  if (Number.isInteger(seq)) item.dataset.seq = String(seq);
  item.dataset.author = author?.name ?? '';
  if (Number.isFinite(ts)) item.dataset.ts = String(ts);
  if (typeof clientMsgId === 'string') item.dataset.clientMsgId = clientMsgId;

  const header = document.createElement('div');
  header.className = 'message-header';
  header.append(avatarFor(author?.name ?? '?'));
  const badge = badgeFor(author);
  if (badge) header.append(badge);
  const name = document.createElement('span');
  name.className = 'message-author';
  name.textContent = author?.name ?? '?';
  header.append(name);
  const tag = botTagFor(author) ?? guestTagFor(author);
  if (tag) header.append(tag);
  header.append(timeElement(ts, 'message-time'));

  item.append(header);
  const files = attachmentsElement(attachments);
  if (!files || (text ?? '') !== '') {
    const body = document.createElement('div');
    body.className = 'message-text';
    renderMarkup(body, text ?? '');
    item.append(body);
  }
  if (files) item.append(files);
  return item;
}

/** Consecutive messages from one author this close together read as one group. */
const GROUP_MS = 5 * 60_000;

/** The local calendar day of `ts` ("2026-12-07"), or '' when unknown. */
function dayOf(ts) {
  const date = new Date(Number(ts));
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** "Today", "Yesterday" or the date, for a day separator. */
function dayLabel(ts) {
  const date = new Date(Number(ts));
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayOf(date) === dayOf(today)) return 'Today';
  if (dayOf(date) === dayOf(yesterday)) return 'Yesterday';
  return date.toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/**
 * Marks a message by its neighbour above: `message-grouped` when the same author wrote just
 * before (same day, within GROUP_MS, nothing else in between: its header is then hidden),
 * `message-new-day` with a `data-day` label when it opens a day. Attributes rather than extra
 * lines, so that trimming, counting and reordering the log need not know about them.
 */
function relate(item) {
  if (!item?.classList?.contains('message')) return;
  const dated = (el) => el.classList.contains('message') && Boolean(el.dataset.ts);
  const above = item.previousElementSibling;
  const prev = above && dated(above) ? above : null;
  let earlier = above; // the nearest dated message above, across notices and streaming replies
  while (earlier && !dated(earlier)) earlier = earlier.previousElementSibling;
  const ts = Number(item.dataset.ts);
  const newDay = Boolean(item.dataset.ts) && (!earlier || dayOf(earlier.dataset.ts) !== dayOf(ts));
  item.classList.toggle('message-new-day', newDay);
  if (newDay) item.dataset.day = dayLabel(ts);
  else delete item.dataset.day;
  const grouped = Boolean(prev) && !newDay && prev.dataset.author === item.dataset.author
    && item.dataset.author !== '' && ts - Number(prev.dataset.ts) < GROUP_MS
    && prev.classList.contains('message-own') === item.classList.contains('message-own');
  item.classList.toggle('message-grouped', grouped);
}

/**
 * @param {HTMLElement} listEl the `<ol>` of this room
 * @param {HTMLButtonElement} jumpButton this room's "New messages" button
 * @param {object} [options]
 * @param {() => void} [options.onNearTop] the reader scrolled up to the oldest message
 * @param {(item: HTMLElement, message: object, own: boolean) => void} [options.decorate] adds
 *   to a message's element what goes beyond its author, text and files
 */
export function createMessageLog(listEl, jumpButton, { onNearTop, decorate } = {}) {
  const seen = new Set();
  const clientIds = new Set(); // `client_msg_id`s of the messages shown
  const edge = document.createElement('li');
  edge.className = 'history-edge';
  let stick = true;
  let newestSeq = null;

  const atBottom = () =>
    listEl.scrollHeight - listEl.scrollTop - listEl.clientHeight <= STICK_THRESHOLD_PX;

  function scrollToEnd() {
    listEl.scrollTop = listEl.scrollHeight;
    stick = true;
    jumpButton.hidden = true;
  }

  listEl.addEventListener('scroll', () => {
    stick = atBottom();
    if (stick) jumpButton.hidden = true;
    if (onNearTop && listEl.scrollTop < NEAR_TOP_PX && listEl.scrollHeight > listEl.clientHeight) onNearTop();
  }, { passive: true });
  jumpButton.addEventListener('click', scrollToEnd);
  // Keep the newest line in view when the viewport shrinks (mobile keyboard, composer growth)
  // and when a hidden room is shown again.
  new ResizeObserver(() => {
    if (stick) listEl.scrollTop = listEl.scrollHeight;
  }).observe(listEl);

  function trim() {
    while (listEl.querySelectorAll('.message, .notice').length > MAX_LINES) {
      const oldest = listEl.querySelector('.message, .notice');
      if (oldest.dataset.id) seen.delete(oldest.dataset.id);
      oldest.remove();
      edge.remove(); // older history exists again
    }
    relate(listEl.querySelector('.message'));
  }

  function append(item, { forceScroll = false } = {}) {
    const follow = forceScroll || stick || atBottom();
    listEl.append(item);
    if (follow) {
      trim();
      scrollToEnd();
    } else {
      jumpButton.hidden = false;
    }
  }

  /** Puts an older message before the first message with a higher seq, keeping the view still. */
  function insertOlder(item, seq) {
    const later = [...listEl.querySelectorAll('.message[data-seq]')]
      .find((el) => Number(el.dataset.seq) > seq);
    const fromBottom = listEl.scrollHeight - listEl.scrollTop;
    listEl.insertBefore(item, later ?? null);
    if (!stick) listEl.scrollTop = listEl.scrollHeight - fromBottom;
  }

  return {
    /**
     * Renders a message once per id, in seq order when it has one.
     * @returns {boolean} false when the id was already shown
     */
    addMessage(message, { own = false } = {}) {
      const key = String(message.id);
      if (seen.has(key)) return false;
      seen.add(key);
      if (typeof message.client_msg_id === 'string') clientIds.add(message.client_msg_id);
      const item = messageElement(message, own);
      decorate?.(item, message, own);
      const seq = message.seq;
      if (Number.isInteger(seq) && newestSeq !== null && seq < newestSeq) {
        insertOlder(item, seq);
      } else {
        if (Number.isInteger(seq)) newestSeq = seq;
        append(item, { forceScroll: own });
      }
      relate(item);
      relate(item.nextElementSibling);
      return true;
    },

    /**
     * Adds a system line (join/leave, errors, connection changes, requests).
     * @param {string} text
     * @param {string} kind `join` | `leave` | `error` | `connection` | `info` | `request` |
     *   `moderation` | `closed`
     * @param {Array<{label: string, onClick: (button: HTMLButtonElement) => void}>} [actions]
     * @returns {HTMLElement} the line, so actions can update it
     */
    addNotice(text, kind = 'info', actions = []) {
      const item = document.createElement('li');
      item.className = `notice notice-${kind}`;
      item.dataset.kind = kind;
      const time = timeElement(Date.now(), 'notice-time');
      const body = document.createElement('span');
      body.className = 'notice-text';
      body.textContent = text;
      item.append(time, body);
      for (const { label, onClick } of actions) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'button notice-action';
        button.textContent = label;
        button.addEventListener('click', () => onClick(button));
        item.append(button);
      }
      append(item);
      return item;
    },

    /**
     * Appends a line the caller keeps updating (a reply still being written), following the
     * newest line like a message does; it is the caller's to remove.
     */
    addLine(item) {
      append(item);
      return item;
    },

    /** Whether the message sent under `clientMsgId` is shown. */
    hasClientMsg: (clientMsgId) => clientIds.has(String(clientMsgId)),

    /** The `<ol>` of the log (for markers between messages). */
    element: listEl,

    /** The element of the message numbered `seq`, or null when it is not loaded. */
    bySeq: (seq) => (Number.isInteger(seq) ? listEl.querySelector(`.message[data-seq="${seq}"]`) : null),

    /** The lowest seq shown (where an older page ends), or null. */
    oldestSeq() {
      const first = listEl.querySelector('.message[data-seq]');
      return first ? Number(first.dataset.seq) : null;
    },

    /** The highest seq seen so far (where a resume starts), or null. */
    newestSeq: () => newestSeq,

    /**
     * Shows what lies above the oldest message: `loading`, `start` (nothing older) or nothing.
     * @param {'loading'|'start'|null} state
     * @param {string} [text] the sentence for `start`
     */
    setEdge(state, text = '') {
      if (!state) {
        edge.remove();
        return;
      }
      edge.dataset.state = state;
      edge.textContent = state === 'loading' ? 'Loading older messages…' : text;
      if (listEl.firstElementChild !== edge) listEl.prepend(edge);
    },

    /** Whether the top edge says nothing older exists. */
    atStart: () => edge.isConnected && edge.dataset.state === 'start',

    /** Empties the log (a new identity, a cleared history, a gap too long to fill). */
    clear() {
      seen.clear();
      clientIds.clear();
      newestSeq = null;
      listEl.replaceChildren();
      stick = true;
      jumpButton.hidden = true;
    },
  };
}
