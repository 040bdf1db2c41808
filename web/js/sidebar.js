/**
 * The room list in the sidebar (`#room-list`): the lobby and the persistent rooms, grouped by
 * the caller's access, then the "Conversations" group (private conversations, whisper tabs and
 * ephemeral 1-on-1 rooms), with a lock on end-to-end ones, an unread count per entry (`badge-mention` when some of it
 * mentions the user, and `has-mentions` / `data-mentions` on the entry) and the open one marked.
 *
 * The list is a sequence of titled groups; a group may carry actions in its title row (it is
 * then shown even when empty) and entries with their own buttons (close, accept, decline).
 * Names come from users and are inserted as text. Clicks are reported with the room's name
 * and the action; what they mean is the caller's business.
 */

import { LOBBY } from './room-api.js';

const PRIVATE_KINDS = new Set(['pm', 'whisper', 'ephemeral']);
const isRoom = (room) => room.kind === 'room';

/** In order; the first group sits right under the sidebar's own "Rooms" heading. */
const GROUPS = [
  { id: 'rooms', title: '', accepts: (room) => room.kind === 'lobby' || (isRoom(room) && room.access === 'member') },
  {
    id: 'conversations',
    title: 'Conversations',
    accepts: (room) => PRIVATE_KINDS.has(room.kind),
    private: true,
    empty: 'No conversations yet. Pick someone in a member list to write to them.',
  },
  { id: 'invitations', title: 'Invitations', accepts: (room) => isRoom(room) && room.access === 'invited', tag: 'invited' },
  { id: 'requested', title: 'Waiting for approval', accepts: (room) => isRoom(room) && room.access === 'requested', tag: 'pending' },
  { id: 'public', title: 'Public rooms', accepts: (room) => isRoom(room) && room.access === 'public' },
];

const ICONS = { pm: '@', whisper: '🤫', ephemeral: '⏱' };
const CLOSE_LABELS = { pm: 'Close the conversation', whisper: 'Close the whispers', ephemeral: 'Leave the room' };

/** The small tag after a private entry's name, if any. */
function privateTag(room) {
  if (room.kind === 'pm' && room.state !== 'open') return room.state; // pending | invited
  if (room.kind === 'whisper') return 'not stored';
  if (room.kind === 'ephemeral' && room.closed) return 'closed';
  return '';
}

/** Invitations first, then by name. */
function comparePrivate(a, b) {
  const invited = Number(b.state === 'invited') - Number(a.state === 'invited');
  return invited || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/** The lock of an end-to-end room or conversation. */
function lockElement() {
  const lock = document.createElement('span');
  lock.className = 'e2e-lock';
  lock.textContent = '🔐';
  lock.title = 'End-to-end encrypted';
  lock.setAttribute('role', 'img');
  lock.setAttribute('aria-label', 'end-to-end encrypted');
  return lock;
}

function tagElement(text) {
  const tag = document.createElement('span');
  tag.className = 'access-tag';
  tag.textContent = text;
  return tag;
}

function actionButton(action, slug, label, className) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.dataset.action = action;
  button.dataset.room = slug;
  button.textContent = label;
  return button;
}

function roomButton(room, active) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'room-link';
  button.dataset.room = room.slug;
  button.dataset.access = room.slug === LOBBY ? 'member' : room.access;
  button.dataset.kind = room.kind;
  if (active) button.setAttribute('aria-current', 'page');
  button.title = room.topic ? `${room.name} — ${room.topic}` : room.name;

  const icon = document.createElement('span');
  icon.className = 'room-icon';
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = ICONS[room.kind] ?? (room.private ? '🔒' : '#');
  const name = document.createElement('span');
  name.className = 'room-name';
  name.textContent = room.name;
  button.append(icon, name);
  if (room.e2e === true) button.append(lockElement());
  const tag = privateTag(room);
  if (tag) button.append(tagElement(tag));
  // The server's listing may say `mentions` (and a live mention adds one): such a badge stands out.
  const mentions = Number(room.mentions) > 0 ? Number(room.mentions) : 0;
  if (mentions) {
    button.classList.add('has-mentions');
    button.dataset.mentions = String(mentions);
  }
  const count = room.unread > 0 ? room.unread : mentions;
  if (count > 0) {
    const badge = document.createElement('span');
    badge.className = mentions ? 'unread-badge badge-mention' : 'unread-badge';
    badge.textContent = count > 99 ? '99+' : String(count);
    const about = mentions ? `, ${mentions} mentioning you` : '';
    badge.setAttribute('aria-label', `${count} unread${about}`);
    badge.title = mentions ? 'You were mentioned here' : '';
    button.append(badge);
  }
  return button;
}

/** A conversation, whisper tab or ephemeral room: its link, then accept/decline or close. */
function privateItem(room, active) {
  const item = document.createElement('li');
  item.className = 'private-item';
  item.append(roomButton(room, active));
  if (room.kind === 'pm' && room.state === 'invited') {
    const answer = document.createElement('div');
    answer.className = 'private-answer';
    answer.append(
      actionButton('accept', room.slug, 'Accept', 'button button-primary private-action'),
      actionButton('decline', room.slug, 'Decline', 'button private-action'),
    );
    item.append(answer);
  } else {
    const close = actionButton('close', room.slug, '×', 'icon-button private-close');
    close.title = CLOSE_LABELS[room.kind];
    close.setAttribute('aria-label', `${CLOSE_LABELS[room.kind]}: ${room.name}`);
    item.append(close);
  }
  return item;
}

function groupTitle(group, actions) {
  const head = document.createElement('div');
  head.className = 'room-group-head';
  const title = document.createElement('h3');
  title.className = 'room-group-title';
  title.textContent = group.title;
  head.append(title);
  for (const { id, icon, label } of actions) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'icon-button group-action';
    button.id = id;
    button.dataset.groupAction = id;
    button.title = label;
    const glyph = document.createElement('span');
    glyph.setAttribute('aria-hidden', 'true');
    glyph.textContent = icon;
    const text = document.createElement('span');
    text.className = 'visually-hidden';
    text.textContent = label;
    button.append(glyph, text);
    head.append(button);
  }
  return head;
}

function groupElement(group, rooms, activeSlug, actions) {
  const section = document.createElement('section');
  section.className = 'room-group';
  section.dataset.group = group.id;
  if (group.title) section.append(groupTitle(group, actions));
  const list = document.createElement('ul');
  list.className = 'room-group-list';
  const entries = group.private ? [...rooms].sort(comparePrivate) : rooms;
  for (const room of entries) {
    const active = room.slug === activeSlug;
    if (group.private) {
      list.append(privateItem(room, active));
      continue;
    }
    const item = document.createElement('li');
    const button = roomButton(room, active);
    if (group.tag) button.append(tagElement(group.tag));
    item.append(button);
    list.append(item);
  }
  section.append(list);
  if (!entries.length && group.empty) {
    const hint = document.createElement('p');
    hint.className = 'room-group-empty';
    hint.textContent = group.empty;
    section.append(hint);
  }
  return section;
}

/**
 * @param {HTMLElement} container `#room-list`
 * @param {object} handlers
 * @param {(slug: string) => void} handlers.onSelect an entry was clicked
 * @param {(action: string, slug: string) => void} handlers.onAction `close` | `accept` | `decline`
 * @param {(id: string) => void} handlers.onGroupAction a button in a group's title row
 */
export function createSidebar(container, { onSelect, onAction, onGroupAction }) {
  container.addEventListener('click', (event) => {
    const groupAction = event.target.closest('[data-group-action]');
    if (groupAction) {
      onGroupAction(groupAction.dataset.groupAction);
      return;
    }
    const action = event.target.closest('[data-action]');
    if (action) {
      onAction(action.dataset.action, action.dataset.room);
      return;
    }
    const button = event.target.closest('.room-link');
    if (button) onSelect(button.dataset.room);
  });

  return {
    /**
     * Redraws the list.
     * @param {object[]} rooms room records, lobby first
     * @param {string|null} activeSlug the open room
     * @param {object} [options]
     * @param {object} [options.actions] group id → `[{id, icon, label}]` for its title row
     */
    render(rooms, activeSlug, { actions = {} } = {}) {
      const fragment = document.createDocumentFragment();
      for (const group of GROUPS) {
        const members = rooms.filter(group.accepts);
        const groupActions = actions[group.id] ?? [];
        if (members.length || groupActions.length) {
          fragment.append(groupElement(group, members, activeSlug, groupActions));
        }
      }
      container.replaceChildren(fragment);
    },
  };
}
