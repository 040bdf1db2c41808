/**
 * One search result as DOM: where it was said (a room by name, a conversation by the peer's
 * name, a 1-on-1 room), who said it and when, and the message's text with the searched words
 * wrapped in `<mark>`.
 *
 * The text is the stored message exactly as typed, so it is shown as plain text (no markup.js
 * formatting): it is split on the matches and every piece goes in with `textContent`, so no
 * message and no query can become markup. Matching follows the server's rule (every word as a
 * substring, any case), which is also why a long message is cut to a window around its first
 * match. Times follow the reader's clock (clock.js). No network, no state.
 */

import { clockTime } from './clock.js';
import { plainText } from './markup.js';

/** Characters of a long message shown around its first match. */
const WINDOW = 240;
const BEFORE = 60;

const PLACES = {
  room: { icon: '#', label: (hit) => hit.room_name || hit.room },
  pm: { icon: '@', label: (hit) => hit.room_name || 'Conversation' },
  ephemeral: { icon: '⏱', label: (hit) => hit.room_name || hit.room },
};

/** The words of a query, as the server splits it (whitespace). */
export function queryWords(q) {
  return String(q ?? '').split(/\s+/).filter(Boolean);
}

/** A regular expression matching any of `words` (longest first), any case; null for none. */
function matcher(words) {
  if (!words.length) return null;
  const escaped = [...new Set(words)]
    .sort((a, b) => b.length - a.length)
    .map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'));
  return new RegExp(`(${escaped.join('|')})`, 'giu');
}

/** The part of `text` worth showing: all of it when short, else a window around the first match. */
function excerpt(text, re) {
  if (text.length <= WINDOW) return text;
  const first = re ? text.search(re) : -1;
  const start = Math.max(0, Math.min(first - BEFORE, text.length - WINDOW));
  const end = Math.min(text.length, start + WINDOW);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

/**
 * `text` as nodes: plain text, with every occurrence of one of `words` in a `<mark>`.
 * @param {string} text
 * @param {string[]} words
 * @returns {Node[]}
 */
export function highlighted(text, words) {
  const re = matcher(words);
  const shown = excerpt(plainText(String(text ?? '')), re);
  if (!re) return [document.createTextNode(shown)];
  // With one capturing group, split() puts the matches at the odd positions.
  return shown.split(re).flatMap((part, i) => {
    if (part === '') return [];
    if (i % 2 === 0) return [document.createTextNode(part)];
    const mark = document.createElement('mark');
    mark.textContent = part;
    return [mark];
  });
}

/** `12 Mar 2026, 14:05` (today: just `14:05`; `2:05 PM` on a 12-hour clock) in local time. */
function whenText(ts) {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return '';
  const time = clockTime(date);
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}, ${time}`;
}

function span(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * The list item of one SearchHit (`{room, room_name, kind, seq, ts, author, text, edited_at?}`).
 * @param {object} hit
 * @param {string[]} words the query's words, marked in the text
 * @param {string} id the option's element id (the field points at the active one)
 */
export function hitElement(hit, words, id) {
  const place = PLACES[hit.kind] ?? PLACES.room;
  const item = document.createElement('li');
  item.className = 'search-hit';
  item.id = id;
  item.setAttribute('role', 'option');
  item.setAttribute('aria-selected', 'false');
  item.dataset.room = String(hit.room ?? '');
  item.dataset.seq = String(hit.seq ?? '');
  item.dataset.kind = String(hit.kind ?? '');

  const head = document.createElement('div');
  head.className = 'search-hit-head';
  const room = span('search-hit-room', '');
  room.append(span('room-icon', place.icon), span('search-hit-room-name', place.label(hit)));
  room.firstChild.setAttribute('aria-hidden', 'true');
  const author = span('search-hit-author', String(hit.author ?? '?'));
  const time = document.createElement('time');
  time.className = 'search-hit-time';
  time.textContent = whenText(hit.ts);
  const date = new Date(hit.ts);
  if (!Number.isNaN(date.getTime())) {
    time.dateTime = date.toISOString();
    time.title = date.toLocaleString();
  }
  head.append(room, author, time);
  if (hit.edited_at) head.append(span('search-hit-edited', '(edited)'));

  const text = document.createElement('p');
  text.className = 'search-hit-text';
  text.append(...highlighted(hit.text, words));
  item.append(head, text);
  return item;
}
