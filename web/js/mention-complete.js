/**
 * Mention autocomplete in the composer: typing `@` and the start of a name lists the room's
 * members who match (a conversation's peer; in a persistent room the members of
 * `GET /api/rooms/{slug}/members` as well as the accounts present — guests present there are
 * no members, so a mention would not reach them), arrow keys move, Enter or Tab
 * inserts `@name `, Escape closes. `@here` and `@room` are offered only to those the server
 * lets call on everyone: the room's owner and admins, and staff.
 *
 * The keys are caught on the form in the capture phase, so while the list is open Enter picks
 * a name instead of sending. Names are inserted as text. The list of a room's members is read
 * once a minute at most.
 */

import { listMembers } from './room-api.js';
import { moderates } from './roles.js';
import { nameKey } from './members.js';

const MAX_OPTIONS = 8;
const MEMBERS_TTL_MS = 60_000;
const KINDS = new Set(['room', 'pm', 'ephemeral']);
const ROOM_MODERATORS = new Set(['owner', 'admin']);
const EVERYONE = [['here', 'everyone present'], ['room', 'everyone in the room']];
/** `@` and a partial name right before the caret, after the start, a space or a bracket. */
const TOKEN = /(^|[\s([{])@([A-Za-z0-9_-]{0,20})$/;

/**
 * @param {HTMLFormElement} form `#composer-form`
 * @param {HTMLTextAreaElement} textarea `#composer`
 * @param {() => {room: object, me: {name: string, role: string}}|null} context the open room
 *   (a rooms.js record) and the signed-in identity
 */
export function createMentionComplete(form, textarea, context) {
  const list = document.createElement('ul');
  list.id = 'mention-list';
  list.className = 'mention-list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Mention someone');
  list.hidden = true;
  form.append(list);
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', list.id);
  textarea.setAttribute('aria-expanded', 'false');

  const roster = new Map(); // slug → {names, at, loading}
  let options = []; // [{name, hint}]
  let active = 0;
  let token = null; // {start, end, query, slug}

  /** Members of a persistent room from the REST list, read in the background when stale. */
  function listed(slug) {
    let entry = roster.get(slug);
    if (!entry) {
      entry = { names: [], at: 0, loading: false };
      roster.set(slug, entry);
    }
    if (!entry.loading && Date.now() - entry.at > MEMBERS_TTL_MS) {
      entry.loading = true;
      listMembers(slug).then((members) => {
        entry.names = members.map((m) => m?.name).filter((n) => typeof n === 'string');
        entry.at = Date.now();
      }).catch(() => {
        entry.at = Date.now(); // not again for a minute
      }).finally(() => {
        entry.loading = false;
        if (token?.slug === slug) update();
      });
    }
    return entry.names;
  }

  function candidates(room, me, query) {
    const key = nameKey(query);
    let names;
    if (room.kind === 'pm') names = room.peer ? [room.peer] : [];
    else if (room.kind === 'room') names = [...(room.pane?.members.names({ accounts: true }) ?? []), ...listed(room.slug)];
    else names = room.pane?.members.names() ?? [];
    const seen = new Set([nameKey(me.name)]);
    const found = [];
    for (const name of names.sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }))) {
      const k = nameKey(name);
      if (seen.has(k) || !k.startsWith(key)) continue;
      seen.add(k);
      found.push({ name, hint: '' });
    }
    const everyone = room.kind === 'room' && (ROOM_MODERATORS.has(room.role) || moderates(me.role));
    const calls = everyone ? EVERYONE.filter(([name]) => name.startsWith(key)) : [];
    return [...found.slice(0, MAX_OPTIONS), ...calls.map(([name, hint]) => ({ name, hint }))];
  }

  function close() {
    token = null;
    options = [];
    list.hidden = true;
    list.replaceChildren();
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function render() {
    list.replaceChildren(...options.map(({ name, hint }, i) => {
      const item = document.createElement('li');
      item.id = `mention-option-${i}`;
      item.className = 'mention-option';
      item.setAttribute('role', 'option');
      item.setAttribute('aria-selected', String(i === active));
      item.dataset.name = name;
      const label = document.createElement('span');
      label.className = 'mention-name';
      label.textContent = `@${name}`;
      item.append(label);
      if (hint) {
        const note = document.createElement('span');
        note.className = 'mention-hint';
        note.textContent = hint;
        item.append(note);
      }
      return item;
    }));
    list.hidden = false;
    textarea.setAttribute('aria-expanded', 'true');
    textarea.setAttribute('aria-activedescendant', `mention-option-${active}`);
    list.children[active]?.scrollIntoView({ block: 'nearest' });
  }

  /** Reads the token before the caret and shows (or hides) the matching names. */
  function update() {
    const ctx = context();
    const caret = textarea.selectionStart;
    const match = ctx && KINDS.has(ctx.room.kind) && caret === textarea.selectionEnd
      ? TOKEN.exec(textarea.value.slice(0, caret)) : null;
    if (!match) {
      close();
      return;
    }
    const next = { start: match.index + match[1].length, end: caret, query: match[2], slug: ctx.room.slug };
    const same = token && token.query === next.query && token.slug === next.slug;
    token = next;
    options = candidates(ctx.room, ctx.me, next.query);
    if (!options.length) {
      list.hidden = true;
      textarea.setAttribute('aria-expanded', 'false');
      textarea.removeAttribute('aria-activedescendant');
      return;
    }
    if (!same || active >= options.length) active = 0;
    render();
  }

  function pick(index) {
    const option = options[index];
    if (!option || !token) return;
    const value = textarea.value;
    const insert = `@${option.name} `;
    textarea.value = value.slice(0, token.start) + insert + value.slice(token.end);
    const caret = token.start + insert.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.dispatchEvent(new Event('input', { bubbles: true })); // the composer grows, typing is told
    textarea.focus();
  }

  form.addEventListener('keydown', (event) => {
    if (event.target !== textarea || list.hidden || !options.length) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (moves[event.key]) {
      active = (active + moves[event.key] + options.length) % options.length;
      render();
    } else if ((event.key === 'Enter' && !event.shiftKey && !event.isComposing) || event.key === 'Tab') {
      pick(active);
    } else if (event.key === 'Escape') {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
  textarea.addEventListener('input', update);
  textarea.addEventListener('click', update);
  textarea.addEventListener('keyup', (event) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) update();
  });
  textarea.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== textarea) close();
  }, 150));
  list.addEventListener('pointerdown', (event) => {
    const option = event.target.closest('.mention-option');
    if (!option) return;
    event.preventDefault(); // the composer keeps the focus
    pick([...list.children].indexOf(option));
  });

  return { close };
}
