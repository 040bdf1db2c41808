/**
 * Message search for accounts (`GET /api/search`): the header's search button (on a phone, the
 * one in the rooms drawer: search.css), the shortcuts (Ctrl+K or ⌘K anywhere, `/` when not
 * typing) and the panel they open (`#search-dialog`, full-screen on a phone).
 *
 * The panel searches as one types (after a pause, from 2 characters, or with only an author),
 * narrowed by room or conversation, author and dates; results come newest first, a page at a
 * time ("Load more" follows the server's `next`, which may come with a short or even an empty
 * page). Arrow keys move through the results while the field keeps the focus, Enter or a click
 * opens one — its room is shown at that message, highlighted (rooms.js `showMessage`) — and
 * Escape closes the panel. Guests have no search: the button stays hidden and the shortcuts do
 * nothing. Each result's DOM is search-hits.js's; only answers to the latest search are shown.
 */

import { get } from './api.js';
import { wireDialog } from './dialog.js';
import { errorText } from './error-text.js';
import { hitElement, queryWords } from './search-hits.js';

const DEBOUNCE_MS = 250;
const PAGE = 20;
/** Empty pages followed at once before saying there is nothing (the server may skip hits). */
const EMPTY_PAGES = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

const SEARCH_ERRORS = {
  invalid_payload: 'The server did not take that search: use at least 2 characters, '
    + 'an author’s exact name, and a “from” date before the “to” date.',
  registration_required: 'Searching messages is for registered accounts.',
};

/** Whether a key press happens while the user types somewhere (then `/` is just a character). */
function typing(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** Midnight starting the local day of `<input type="date">`'s value, in ms (null: empty). */
function dayStart(value) {
  if (!value) return null;
  const [y, m, d] = value.split('-').map(Number);
  const ms = new Date(y, m - 1, d).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** What a room is called in the room filter. */
function roomLabel(room) {
  if (room.kind === 'pm') return `@ ${room.name}`;
  if (room.kind === 'ephemeral') return room.name;
  return room.name && room.name !== room.slug ? `#${room.slug} — ${room.name}` : `#${room.slug}`;
}

/**
 * @param {HTMLButtonElement[]} buttons `#search-open` and `#search-open-rooms`
 * @param {object} hooks
 * @param {() => object[]} hooks.rooms the records a search may be narrowed to (rooms.js `searchable`)
 * @param {(hit: object) => void} hooks.onOpen a result was chosen
 */
export function createSearch(buttons, { rooms, onOpen }) {
  const $ = (id) => document.getElementById(id);
  const dialog = $('search-dialog');
  const modal = wireDialog(dialog);
  const field = $('search-q');
  const roomSelect = $('search-room');
  const authorField = $('search-author');
  const fromField = $('search-from');
  const toField = $('search-to');
  const status = $('search-status');
  const list = $('search-results');
  const more = $('search-more');

  let me = null;
  let opener = null; // the button that opened the panel gets the focus back
  let timer = null;
  let generation = 0; // the latest search; older answers are dropped
  let next = null; // cursor of the following page of the search on screen
  let hits = []; // SearchHits shown, in order
  let active = -1; // index of the highlighted result
  let words = [];

  const allowed = () => Boolean(me) && me.kind !== 'guest';

  function setStatus(text, state = '', code = '') {
    status.textContent = text;
    status.dataset.state = state;
    status.dataset.code = code;
    status.hidden = !text;
  }

  /** The query parameters of the form, or a sentence saying what is missing. */
  function readForm() {
    const q = field.value.trim();
    const author = authorField.value.trim();
    const params = new URLSearchParams();
    if (q.length < 2 && !author) {
      return { prompt: q ? 'Type at least 2 characters, or name an author.' : '' };
    }
    if (q) params.set('q', q);
    if (author) params.set('author', author);
    if (roomSelect.value) params.set('room', roomSelect.value);
    const from = dayStart(fromField.value);
    const toDay = dayStart(toField.value);
    const to = toDay === null ? null : toDay + DAY_MS; // the "to" day is included
    if (from !== null && to !== null && from >= to) {
      return { prompt: 'The “from” date has to be on or before the “to” date.', state: 'error' };
    }
    if (from !== null) params.set('from', String(from));
    if (to !== null) params.set('to', String(to));
    params.set('limit', String(PAGE));
    return { params, words: queryWords(q) };
  }

  function clearResults() {
    hits = [];
    next = null;
    active = -1;
    list.replaceChildren();
    list.hidden = true;
    more.hidden = true;
    field.setAttribute('aria-expanded', 'false');
    field.removeAttribute('aria-activedescendant');
  }

  function setActive(index) {
    const items = list.querySelectorAll('.search-hit');
    if (!items.length) return;
    active = Math.max(0, Math.min(index, items.length - 1));
    items.forEach((item, i) => item.setAttribute('aria-selected', String(i === active)));
    const item = items[active];
    field.setAttribute('aria-activedescendant', item.id);
    item.scrollIntoView({ block: 'nearest' });
  }

  function showPage(page, gen) {
    const start = hits.length;
    const results = Array.isArray(page?.results) ? page.results : [];
    hits.push(...results);
    list.append(...results.map((hit, i) => hitElement(hit, words, `search-hit-${gen}-${start + i}`)));
    next = typeof page?.next === 'string' && page.next ? page.next : null;
    list.hidden = hits.length === 0;
    field.setAttribute('aria-expanded', String(hits.length > 0));
    more.hidden = !next;
    if (hits.length === 0 && !next) {
      setStatus('No messages match. Search covers the rooms you are in and your conversations.', 'empty');
    } else {
      const count = hits.length === 1 ? '1 message' : `${hits.length} messages`;
      setStatus(next ? `${count} so far, newest first.` : `${count}, newest first.`, 'results');
    }
    if (active < 0 && hits.length) setActive(0);
  }

  /** Reads pages from `cursor` (none: the first) until one holds something or none is left. */
  async function fetchPages(params, cursor, gen) {
    let page = null;
    let at = cursor;
    for (let tries = 0; tries < EMPTY_PAGES; tries += 1) {
      const query = new URLSearchParams(params);
      if (at) query.set('cursor', at);
      page = await get(`/api/search?${query}`);
      if (gen !== generation) return null;
      if (page?.results?.length || !page?.next) break;
      at = page.next;
    }
    return page;
  }

  let current = null; // the params of the search on screen

  async function run() {
    clearTimeout(timer);
    timer = null;
    const gen = ++generation;
    const form = readForm();
    clearResults();
    if (!form.params) {
      current = null;
      setStatus(form.prompt, form.state ?? 'prompt');
      return;
    }
    current = form.params;
    words = form.words;
    setStatus('Searching…', 'loading');
    try {
      const page = await fetchPages(form.params, null, gen);
      if (page) showPage(page, gen);
    } catch (err) {
      if (gen === generation) setStatus(errorText(err, SEARCH_ERRORS), 'error', err.code ?? '');
    }
  }

  async function loadMore() {
    if (!next || !current || more.disabled) return;
    const gen = generation;
    more.disabled = true;
    try {
      const page = await fetchPages(current, next, gen);
      if (page) showPage(page, gen);
    } catch (err) {
      if (gen === generation) setStatus(`Could not load more: ${errorText(err, SEARCH_ERRORS)}`, 'error', err.code ?? '');
    } finally {
      more.disabled = false;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  }

  let opening = false; // a result was chosen: the focus goes to its message, not the button

  function choose(index) {
    const hit = hits[index];
    if (!hit) return;
    opening = true;
    modal.close();
    onOpen(hit);
  }

  /** The room filter lists the rooms and conversations of the moment. */
  function fillRooms() {
    const chosen = roomSelect.value;
    const options = [new Option('Any', '')];
    const groups = [['room', 'Rooms'], ['pm', 'Conversations'], ['ephemeral', '1-on-1 rooms']];
    const records = rooms();
    for (const [kind, title] of groups) {
      const members = records.filter((room) => room.kind === kind);
      if (!members.length) continue;
      const group = document.createElement('optgroup');
      group.label = title;
      for (const room of members) group.append(new Option(roomLabel(room), room.slug));
      options.push(group);
    }
    roomSelect.replaceChildren(...options);
    roomSelect.value = records.some((room) => room.slug === chosen) ? chosen : '';
  }

  function open(from = null) {
    if (!allowed() || dialog.open) return;
    opener = from;
    fillRooms();
    modal.open();
    field.focus();
    field.select();
    // The last search runs again: messages may have come, gone or changed since.
    if (field.value.trim() || authorField.value.trim()) run();
    else setStatus('', 'prompt');
  }

  for (const button of buttons) button.addEventListener('click', () => open(button));
  field.addEventListener('input', schedule);
  authorField.addEventListener('input', schedule);
  for (const el of [roomSelect, fromField, toField]) el.addEventListener('change', run);
  more.addEventListener('click', loadMore);
  $('search-form').addEventListener('submit', (event) => event.preventDefault());
  field.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (hits.length) setActive(active + (event.key === 'ArrowDown' ? 1 : -1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (timer !== null) run(); // typed since the results came: search now, open nothing stale
      else choose(active < 0 ? 0 : active);
    }
  });
  list.addEventListener('click', (event) => {
    const item = event.target.closest('.search-hit');
    if (item) choose([...list.querySelectorAll('.search-hit')].indexOf(item));
  });
  list.addEventListener('pointermove', (event) => {
    const item = event.target.closest('.search-hit');
    const index = item ? [...list.querySelectorAll('.search-hit')].indexOf(item) : -1;
    if (index >= 0 && index !== active) setActive(index);
  });
  dialog.addEventListener('close', () => {
    clearTimeout(timer);
    timer = null;
    if (!opening && opener?.isConnected && !opener.hidden) opener.focus({ preventScroll: true });
    opening = false;
  });

  document.addEventListener('keydown', (event) => {
    if (!allowed() || event.defaultPrevented || $('chat-view').hidden) return;
    const shortcut = (event.key === 'k' || event.key === 'K') && (event.ctrlKey || event.metaKey) && !event.altKey;
    const slash = event.key === '/' && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target);
    if (!shortcut && !slash) return;
    if (!dialog.open && document.querySelector('dialog[open]')) return; // another dialog is up
    event.preventDefault();
    if (dialog.open) field.focus();
    else open();
  });

  return {
    /** The signed-in identity (null: signed out): search is for accounts only. */
    setIdentity(identity) {
      me = identity;
      for (const button of buttons) button.hidden = !allowed();
      if (!allowed()) {
        modal.close();
        generation += 1;
        field.value = '';
        authorField.value = '';
        fromField.value = '';
        toField.value = '';
        roomSelect.value = '';
        current = null;
        clearResults();
        setStatus('', 'prompt');
      }
    },
  };
}
