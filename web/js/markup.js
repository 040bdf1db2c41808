/**
 * A message's text as formatted DOM: a small, safe markdown subset and clickable links, built
 * node by node from the stored text (which stays exactly what the user typed).
 *
 * Why hand-written and this small: every piece of output is an element this module creates
 * with `textContent` for the user's words, so no input can become markup, script or a style;
 * a general markdown library would bring HTML pass-through, images and raw URLs of any scheme
 * that would then need sanitising afterwards. What is recognised:
 * - blocks: fenced code (```), quotes (`> `), bulleted (`- `, `* `) and numbered (`1. `) lists;
 *   everything else is a paragraph whose line breaks stay (the log keeps `white-space: pre-wrap`);
 * - inline: `code`, **bold**, *italic* or _italic_ (not inside words, so snake_case stays),
 *   ~~strike~~, and URLs starting with http://, https:// or mailto: as links that open in a new
 *   tab without handing the page to it (`rel="noopener noreferrer"`). Any other scheme
 *   (`javascript:`, `data:`…) is never a link: it stays text;
 * - `#room`: a link to that room when the reader may see it (their room list has it, as
 *   `setRoomRefs` tells), plain text otherwise, so a message cannot reveal or probe a room;
 * - `@name` (a user name as a word, not inside an e-mail address): a `mention` span, marked
 *   `mention-me` too when it names the reader (mentions.js).
 * A message without any of these renders as its plain text, node for node.
 */

import { roomUrl } from './router.js';
import { isSelf } from './mentions.js';

/** Which `#room` references link, and how they open (set by the rooms coordinator). */
let roomRefs = null;

/** @param {{visible: (slug: string) => boolean, open: (slug: string) => void} | null} refs */
export function setRoomRefs(refs) {
  roomRefs = refs;
}

/**
 * The text a reader sees, without the markers of formatting: for places that show a message
 * as one line of plain text (a reply's quote, a search result), where `**bold**` would
 * otherwise show its asterisks. Fences and quote and list markers at line starts go, inline
 * markers keep their content; links, rooms and mentions stay as written.
 */
export function plainText(text) {
  const lines = String(text).split('\n')
    .filter((line) => !/^\s*```/.test(line))
    .map((line) => line.replace(/^\s*>\s?/, '').replace(/^\s*(?:[-*]|\d+\.)\s+/, ''));
  let plain = lines.join(' ');
  for (const { kind, re, lead } of INLINE) {
    if (!TAGS[kind]) continue;
    const global = new RegExp(re.source, `${re.flags.replace('g', '')}g`);
    plain = plain.replace(global, (...groups) => (lead ? groups[1] + groups[2] : groups[1]));
  }
  return plain.replace(/\s+/g, ' ').trim();
}

/** Schemes a link may have. */
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** Inline patterns, earliest match first; on a tie the first listed wins. */
const INLINE = [
  { kind: 'code', re: /`([^`\n]+)`/ },
  { kind: 'link', re: /(?:https?:\/\/|mailto:)[^\s<>"]+/i },
  { kind: 'room', re: /(^|[^\w#&/])#([a-z0-9][a-z0-9-]{0,38}[a-z0-9])(?![\w-])/i, lead: true },
  { kind: 'mention', re: /(^|[^\w@-])@([A-Za-z0-9_-]{1,20})(?![\w-])/, lead: true },
  { kind: 'strong', re: /\*\*(?=\S)([^]*?\S)\*\*/ },
  { kind: 'strike', re: /~~(?=\S)([^]*?\S)~~/ },
  { kind: 'em', re: /(^|[^\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])/, lead: true },
  { kind: 'em', re: /(^|[^\w_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\w_])/, lead: true },
];

const TAGS = { code: 'code', strong: 'strong', strike: 's', em: 'em' };

/** A URL's trailing punctuation belongs to the sentence, not the link (a `)` only if unbalanced). */
function trimUrl(raw) {
  let url = raw.replace(/[.,!?;:'"]+$/, '');
  while (url.endsWith(')') && (url.match(/\(/g) ?? []).length < (url.match(/\)/g) ?? []).length) {
    url = url.slice(0, -1).replace(/[.,!?;:'"]+$/, '');
  }
  return url;
}

/** A link element for `text`, or null when it is not a URL of an allowed scheme. */
function linkFor(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!LINK_SCHEMES.has(url.protocol)) return null;
  const a = document.createElement('a');
  a.href = url.href;
  a.textContent = text;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

/** A link to room `slug` when the reader may see it, else null. */
function roomLinkFor(slug) {
  const key = slug.toLowerCase();
  if (!roomRefs?.visible(key)) return null;
  const a = document.createElement('a');
  a.className = 'room-ref';
  a.href = roomUrl(key) ?? '/';
  a.textContent = `#${slug}`;
  a.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    roomRefs?.open(key);
  });
  return a;
}

/** A styled `@name` (plain text inside, so it reads and copies as typed). */
function mentionFor(name) {
  const span = document.createElement('span');
  span.className = isSelf(name) ? 'mention mention-me' : 'mention';
  span.textContent = `@${name}`;
  return span;
}

/** The earliest inline match in `text`: `{kind, start, end, inner}` or null. */
function firstMatch(text) {
  let best = null;
  for (const { kind, re, lead } of INLINE) {
    const m = re.exec(text);
    if (!m) continue;
    const start = m.index + (lead ? m[1].length : 0);
    if (best && best.start <= start) continue;
    if (kind === 'link') {
      const url = trimUrl(m[0]);
      best = { kind, start, end: start + url.length, inner: url };
    } else {
      best = { kind, start, end: m.index + m[0].length, inner: lead ? m[2] : m[1] };
    }
  }
  return best;
}

/** Appends `text` to `parent` with its inline formatting. */
function appendInline(parent, text) {
  let rest = text;
  while (rest) {
    const match = firstMatch(rest);
    if (!match) break;
    if (match.start > 0) parent.append(rest.slice(0, match.start));
    if (match.kind === 'link') {
      parent.append(linkFor(match.inner) ?? match.inner);
    } else if (match.kind === 'room') {
      parent.append(roomLinkFor(match.inner) ?? `#${match.inner}`);
    } else if (match.kind === 'mention') {
      parent.append(mentionFor(match.inner));
    } else {
      const el = document.createElement(TAGS[match.kind]);
      if (match.kind === 'code') el.textContent = match.inner;
      else appendInline(el, match.inner);
      parent.append(el);
    }
    rest = rest.slice(match.end);
  }
  if (rest) parent.append(rest);
}

const FENCE = /^\s*```/;
const QUOTE = /^>\s?/;
const BULLET = /^\s*[-*]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,9}[.)]\s+(.*)$/;

/** Splits lines into blocks: `{kind: 'code' | 'quote' | 'ul' | 'ol' | 'text', lines}`. */
function blocks(lines) {
  const out = [];
  let i = 0;
  const take = (test) => {
    const taken = [];
    while (i < lines.length && test(lines[i])) taken.push(lines[i++]);
    return taken;
  };
  while (i < lines.length) {
    const line = lines[i];
    if (FENCE.test(line)) {
      i += 1;
      const code = take((l) => !FENCE.test(l));
      i += 1; // the closing fence (or the end)
      out.push({ kind: 'code', lines: code });
    } else if (QUOTE.test(line)) {
      out.push({ kind: 'quote', lines: take((l) => QUOTE.test(l)).map((l) => l.replace(QUOTE, '')) });
    } else if (BULLET.test(line)) {
      out.push({ kind: 'ul', lines: take((l) => BULLET.test(l)).map((l) => BULLET.exec(l)[1]) });
    } else if (NUMBERED.test(line)) {
      out.push({ kind: 'ol', lines: take((l) => NUMBERED.test(l)).map((l) => NUMBERED.exec(l)[1]) });
    } else {
      out.push({ kind: 'text', lines: take((l) => !FENCE.test(l) && !QUOTE.test(l) && !BULLET.test(l) && !NUMBERED.test(l)) });
    }
  }
  return out;
}

/** The element of one block. */
function blockElement({ kind, lines }) {
  if (kind === 'code') {
    const pre = document.createElement('pre');
    const code = document.createElement('code');
    code.textContent = lines.join('\n');
    pre.append(code);
    return pre;
  }
  if (kind === 'ul' || kind === 'ol') {
    const list = document.createElement(kind);
    for (const line of lines) {
      const item = document.createElement('li');
      appendInline(item, line);
      list.append(item);
    }
    return list;
  }
  const el = document.createElement(kind === 'quote' ? 'blockquote' : 'div');
  appendInline(el, lines.join('\n'));
  return el;
}

/**
 * Fills `container` with `text` formatted. A message that is one plain paragraph goes in
 * without a wrapper, so its text is exactly the container's text.
 */
export function renderMarkup(container, text) {
  container.replaceChildren();
  const parts = blocks(String(text ?? '').split('\n'));
  if (parts.length === 1 && parts[0].kind === 'text') {
    appendInline(container, parts[0].lines.join('\n'));
    return;
  }
  for (const part of parts) container.append(blockElement(part));
}
