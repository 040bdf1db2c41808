/**
 * What a stored message shows beyond its author, text and files, and how changes redraw it:
 * the quote of the message it replies to, the "(edited)" marker, reaction chips, the tombstone
 * of a deleted message, and the `data-mentions` / `data-mentions-everyone` attributes (names
 * as the accounts spell them, space-separated) that the mention highlighter reads.
 *
 * Each message element's state (its text as typed, edit time, reactions) is kept beside it in
 * a WeakMap, so edits and reactions need no re-render of the whole message and a trimmed line
 * takes its state with it. Everything users wrote goes in with `textContent` (the text through
 * markup.js). Knows nothing about the network: message-actions.js sends the commands and
 * room-events.js hands over the live events (`messageEdited`, `messageDeleted`, `reactionChanged`).
 */

import { plainText, renderMarkup } from './markup.js';

/** Longest reply snippet the composer and a quote show (the server quotes as much). */
export const SNIPPET_CHARS = 140;

const states = new WeakMap();

/** The state of a message element: `{seq, author, text, editedAt, deleted, reactions}`, or null. */
export const stateOf = (item) => states.get(item) ?? null;

/** The first SNIPPET_CHARS characters of `text` on one line, without formatting markers. */
export function snippet(text) {
  const flat = plainText(String(text ?? ''));
  const chars = [...flat];
  return chars.length > SNIPPET_CHARS ? `${chars.slice(0, SNIPPET_CHARS).join('')}…` : flat;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "Edited 07/12/2026, 03:20:00" for the marker's tooltip. */
function editedTitle(ms) {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'Edited' : `Edited ${date.toLocaleString()}`;
}

function setMentions(item, mentions, everyone) {
  const names = Array.isArray(mentions) ? mentions.filter((n) => typeof n === 'string') : [];
  if (names.length) item.dataset.mentions = names.join(' ');
  else delete item.dataset.mentions;
  if (everyone === true) item.dataset.mentionsEveryone = 'true';
  else delete item.dataset.mentionsEveryone;
}

/** The quote block of a reply: a button that leads to the original (message-actions.js). */
function quoteElement(reply) {
  const quote = el('button', 'reply-quote');
  quote.type = 'button';
  quote.dataset.replySeq = String(reply.seq);
  const author = el('span', 'reply-quote-author', String(reply.author ?? '?'));
  const text = el('span', 'reply-quote-text');
  quote.append(author, text);
  fillQuote(quote, reply);
  return quote;
}

function fillQuote(quote, { author, text, deleted }) {
  const body = quote.querySelector('.reply-quote-text');
  quote.classList.toggle('reply-quote-deleted', deleted === true);
  body.textContent = deleted === true ? 'original deleted' : snippet(text);
  const who = String(author ?? quote.querySelector('.reply-quote-author').textContent);
  quote.setAttribute('aria-label', deleted === true
    ? `Reply to a deleted message by ${who}`
    : `Reply to ${who}: ${body.textContent}. Show the original`);
}

function editedMarker(item) {
  let marker = item.querySelector(':scope > .message-edited');
  if (!marker) {
    marker = el('span', 'message-edited', '(edited)');
    const text = item.querySelector(':scope > .message-text');
    if (text) text.after(marker);
    else item.querySelector(':scope > .message-header').after(marker);
  }
  return marker;
}

// ---- reactions ------------------------------------------------------------------------------

function chipElement(emoji, { count, users }, isMe) {
  const mine = users.some(isMe);
  const chip = el('button', mine ? 'reaction-chip reaction-mine' : 'reaction-chip');
  chip.type = 'button';
  chip.dataset.emoji = emoji;
  chip.setAttribute('aria-pressed', String(mine));
  const who = users.join(', ');
  const more = count > users.length ? ` and ${count - users.length} more` : '';
  chip.title = `${who}${more}`;
  chip.setAttribute('aria-label', `${emoji} ${count}: ${who}${more}${mine ? '. Press to take yours back' : ''}`);
  chip.append(el('span', 'reaction-emoji', emoji), el('span', 'reaction-count', String(count)));
  return chip;
}

/** Redraws the chips of a message from its state. */
function renderReactions(item, isMe) {
  const state = stateOf(item);
  let box = item.querySelector(':scope > .reactions');
  const entries = state ? [...state.reactions].filter(([, r]) => r.count > 0) : [];
  if (!entries.length) {
    box?.remove();
    return;
  }
  if (!box) {
    box = el('div', 'reactions');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Reactions');
    const toolbar = item.querySelector(':scope > .message-actions');
    if (toolbar) toolbar.before(box);
    else item.append(box);
  }
  box.replaceChildren(...entries.map(([emoji, r]) => chipElement(emoji, r, isMe)));
}

/** Whether the signed-in user gave `emoji` to the message. */
export function gaveReaction(item, emoji, isMe) {
  return Boolean(stateOf(item)?.reactions.get(emoji)?.users.some(isMe));
}

/**
 * Applies a reaction change (`reaction` event or a command's ack) to a loaded message.
 * @param {{emoji: string, user: string, on: boolean, count: number}} change
 * @param {(name: string) => boolean} isMe
 */
export function applyReaction(item, { emoji, user, on, count }, isMe) {
  const state = stateOf(item);
  if (!state || state.deleted || typeof emoji !== 'string') return;
  const entry = state.reactions.get(emoji) ?? { count: 0, users: [] };
  const key = String(user).toLowerCase();
  const others = entry.users.filter((name) => name.toLowerCase() !== key);
  entry.users = on ? [...others, String(user)] : others;
  entry.count = Number.isInteger(count) ? count : entry.users.length;
  if (entry.count > 0) state.reactions.set(emoji, entry);
  else state.reactions.delete(emoji);
  renderReactions(item, isMe);
}

// ---- decorating and changing ----------------------------------------------------------------

/**
 * Adds the parts of `message` to its freshly rendered element (messages.js's `decorate`).
 * @param {(name: string) => boolean} isMe whether a name is the signed-in user
 */
export function decorateMessage(item, message, isMe) {
  const reactions = new Map();
  for (const r of Array.isArray(message.reactions) ? message.reactions : []) {
    if (typeof r?.emoji === 'string' && r.count > 0) {
      reactions.set(r.emoji, { count: r.count, users: Array.isArray(r.users) ? r.users.map(String) : [] });
    }
  }
  states.set(item, {
    seq: message.seq,
    author: message.author?.name ?? '',
    text: String(message.text ?? ''),
    editedAt: Number.isFinite(message.edited_at) ? message.edited_at : 0,
    deleted: false,
    reactions,
  });
  if (message.deleted === true) {
    tombstone(item, null);
    return;
  }
  setMentions(item, message.mentions, message.mentions_everyone);
  if (message.reply_to && Number.isInteger(message.reply_to.seq)) {
    item.querySelector(':scope > .message-header').after(quoteElement(message.reply_to));
  }
  if (Number.isFinite(message.edited_at)) editedMarker(item).title = editedTitle(message.edited_at);
  renderReactions(item, isMe);
}

/** Turns a message into its tombstone: "Message deleted", or who removed it. */
function tombstone(item, by) {
  const state = stateOf(item);
  if (state) {
    state.deleted = true;
    state.text = '';
    state.reactions.clear();
  }
  item.classList.add('message-deleted');
  item.dataset.deleted = 'true';
  setMentions(item, [], false);
  for (const part of item.querySelectorAll(':scope > :not(.message-header)')) part.remove();
  const line = el('p', 'message-tombstone', by ? `Removed by ${by}` : 'Message deleted');
  item.append(line);
}

/** The quotes in `list` of the message numbered `seq`. */
const quotesOf = (list, seq) => list.querySelectorAll(`.reply-quote[data-reply-seq="${seq}"]`);

/**
 * A `message_edited` event (or an edit's ack): the loaded copy takes the text unless it
 * already shows a newer edit, and replies quoting it follow.
 * @param {HTMLElement} list the room's log
 * @param {{seq: number, text: string, edited_at: number, mentions?: string[], mentions_everyone?: boolean}} change
 * @param {{withMentions?: boolean}} [options] false for an ack, which carries no mentions
 */
export function messageEdited(list, change, { withMentions = true } = {}) {
  if (!Number.isInteger(change.seq) || typeof change.text !== 'string') return;
  const item = list.querySelector(`.message[data-seq="${change.seq}"]`);
  const state = item && stateOf(item);
  if (state && !state.deleted && !(Number(change.edited_at) < state.editedAt)) {
    state.editedAt = Number(change.edited_at) || state.editedAt;
    state.text = change.text;
    let body = item.querySelector(':scope > .message-text');
    if (!body) {
      body = el('div', 'message-text');
      const before = item.querySelector(':scope > .reply-quote') ?? item.querySelector(':scope > .message-header');
      before.after(body);
    }
    renderMarkup(body, change.text);
    editedMarker(item).title = editedTitle(state.editedAt);
    if (withMentions) setMentions(item, change.mentions, change.mentions_everyone);
  }
  for (const quote of quotesOf(list, change.seq)) {
    if (!quote.classList.contains('reply-quote-deleted')) fillQuote(quote, { text: change.text });
  }
}

/** A `message_deleted` event (or a delete's ack): the tombstone, and quotes say so. */
export function messageDeleted(list, seq, by) {
  if (!Number.isInteger(seq)) return;
  const item = list.querySelector(`.message[data-seq="${seq}"]`);
  if (item && !stateOf(item)?.deleted) {
    tombstone(item, typeof by === 'string' && by ? by : null);
  }
  for (const quote of quotesOf(list, seq)) fillQuote(quote, { deleted: true });
}

/** A `reaction` event on the message numbered `seq`, if it is loaded. */
export function reactionChanged(list, change, isMe) {
  if (!Number.isInteger(change.seq)) return;
  const item = list.querySelector(`.message[data-seq="${change.seq}"]`);
  if (item) applyReaction(item, change, isMe);
}
