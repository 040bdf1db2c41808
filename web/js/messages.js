/**
 * The message log (`#messages`): chat messages, system notices and auto-scroll.
 *
 * Messages are deduplicated by server `id` (the sender gets its own message back as an event,
 * and a reconnect may replay nothing or everything — either way each id shows once). Text is
 * always inserted with `textContent`; newlines survive through CSS `white-space: pre-wrap`.
 * The log follows the newest line unless the reader has scrolled up, in which case a
 * "New messages" button offers the jump instead. Old lines are trimmed to bound memory.
 */

import { badgeFor, guestTagFor } from './members.js';

const MAX_LINES = 500;
const STICK_THRESHOLD_PX = 48;

/** `HH:MM` in local time from epoch milliseconds. */
export function formatTime(ts) {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
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

/**
 * @param {HTMLElement} listEl `#messages`
 * @param {HTMLButtonElement} jumpButton `#jump-latest`
 */
export function createMessageLog(listEl, jumpButton) {
  const seen = new Set();
  let stick = true;

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
  }, { passive: true });
  jumpButton.addEventListener('click', scrollToEnd);
  // Keep the newest line in view when the viewport shrinks (mobile keyboard, composer growth).
  new ResizeObserver(() => {
    if (stick) listEl.scrollTop = listEl.scrollHeight;
  }).observe(listEl);

  function append(item, { forceScroll = false } = {}) {
    const follow = forceScroll || stick || atBottom();
    listEl.append(item);
    while (listEl.childElementCount > MAX_LINES) {
      const oldest = listEl.firstElementChild;
      if (oldest.dataset.id) seen.delete(oldest.dataset.id);
      oldest.remove();
    }
    if (follow) scrollToEnd();
    else jumpButton.hidden = false;
  }

  return {
    /**
     * Renders a `message` event once per id.
     * @returns {boolean} false when the id was already shown
     */
    addMessage({ id, ts, author, text }, { own = false } = {}) {
      const key = String(id);
      if (seen.has(key)) return false;
      seen.add(key);

      const item = document.createElement('li');
      item.className = 'message';
      if (own) item.classList.add('message-own');
      item.dataset.id = key;

      const header = document.createElement('div');
      header.className = 'message-header';
      const badge = badgeFor(author);
      if (badge) header.append(badge);
      const name = document.createElement('span');
      name.className = 'message-author';
      name.textContent = author?.name ?? '?';
      header.append(name);
      const guest = guestTagFor(author);
      if (guest) header.append(guest);
      header.append(timeElement(ts, 'message-time'));

      const body = document.createElement('div');
      body.className = 'message-text';
      body.textContent = text ?? '';

      item.append(header, body);
      append(item, { forceScroll: own });
      return true;
    },

    /**
     * Adds a system line (join/leave, errors, connection changes).
     * @param {string} text
     * @param {string} kind `join` | `leave` | `error` | `connection` | `info`
     */
    addNotice(text, kind = 'info') {
      const item = document.createElement('li');
      item.className = `notice notice-${kind}`;
      item.dataset.kind = kind;
      const time = timeElement(Date.now(), 'notice-time');
      const body = document.createElement('span');
      body.className = 'notice-text';
      body.textContent = text;
      item.append(time, body);
      append(item);
    },

    /** Empties the log (a new identity starts with a clean slate). */
    clear() {
      seen.clear();
      listEl.replaceChildren();
      stick = true;
      jumpButton.hidden = true;
    },

    scrollToEnd,
  };
}
