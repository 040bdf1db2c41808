/**
 * The room list in the sidebar (`#room-list`): the lobby and the persistent rooms, grouped by
 * the caller's access, with an unread count per room and the open room marked.
 *
 * The list is a sequence of titled groups so that other kinds of conversation can become
 * groups of their own. Room names come from users and are inserted as text. Clicks are
 * reported with the room's slug; what opening means is the caller's business.
 */

import { LOBBY } from './room-api.js';

/** In order; the first group sits right under the sidebar's own "Rooms" heading. */
const GROUPS = [
  { title: '', accepts: (room) => room.slug === LOBBY || room.access === 'member' },
  { title: 'Invitations', accepts: (room) => room.access === 'invited', tag: 'invited' },
  { title: 'Waiting for approval', accepts: (room) => room.access === 'requested', tag: 'pending' },
  { title: 'Public rooms', accepts: (room) => room.access === 'public' },
];

function roomButton(room, active) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'room-link';
  button.dataset.room = room.slug;
  button.dataset.access = room.slug === LOBBY ? 'member' : room.access;
  if (active) button.setAttribute('aria-current', 'page');
  button.title = room.topic ? `${room.name} — ${room.topic}` : room.name;

  const icon = document.createElement('span');
  icon.className = 'room-icon';
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = room.private ? '🔒' : '#';
  const name = document.createElement('span');
  name.className = 'room-name';
  name.textContent = room.name;
  button.append(icon, name);
  if (room.unread > 0) {
    const badge = document.createElement('span');
    badge.className = 'unread-badge';
    badge.textContent = room.unread > 99 ? '99+' : String(room.unread);
    badge.setAttribute('aria-label', `${room.unread} unread`);
    button.append(badge);
  }
  return button;
}

function groupElement(group, rooms, activeSlug) {
  const section = document.createElement('section');
  section.className = 'room-group';
  if (group.title) {
    const title = document.createElement('h3');
    title.className = 'room-group-title';
    title.textContent = group.title;
    section.append(title);
  }
  const list = document.createElement('ul');
  list.className = 'room-group-list';
  for (const room of rooms) {
    const item = document.createElement('li');
    const button = roomButton(room, room.slug === activeSlug);
    if (group.tag) {
      const tag = document.createElement('span');
      tag.className = 'access-tag';
      tag.textContent = group.tag;
      button.append(tag);
    }
    item.append(button);
    list.append(item);
  }
  section.append(list);
  return section;
}

/**
 * @param {HTMLElement} container `#room-list`
 * @param {{onSelect: (slug: string) => void}} handlers
 */
export function createSidebar(container, { onSelect }) {
  container.addEventListener('click', (event) => {
    const button = event.target.closest('.room-link');
    if (button) onSelect(button.dataset.room);
  });

  return {
    /**
     * Redraws the list.
     * @param {Array<{slug, name, topic, private, access, unread}>} rooms lobby first
     * @param {string|null} activeSlug the open room
     */
    render(rooms, activeSlug) {
      const fragment = document.createDocumentFragment();
      for (const group of GROUPS) {
        const members = rooms.filter(group.accepts);
        if (members.length) fragment.append(groupElement(group, members, activeSlug));
      }
      container.replaceChildren(fragment);
    },
  };
}
