/**
 * One room's list of present members, and the role badges (and the AI companion's "bot" tag)
 * shared with message authors and typing lines.
 *
 * Holds the present identities keyed by lower-cased name (names compare case-insensitively)
 * and re-renders the sorted list on each change: staff first (root, admin, mod), then everyone
 * else, alphabetically. Everyone but the current identity is a button (member-menu.js offers
 * what can be done with them). The server sends a large room's list a page at a time and
 * counts it separately: the list shows what has been loaded, a "Show more" button reads the
 * next page through the `loadMore` the join gave, and the count is the server's. Knows
 * nothing about the network itself.
 */

import { rankOf } from './roles.js';
import { keyWarningMark } from './e2e-trust.js';

const BADGES = {
  root: { icon: '👑', label: 'root' },
  admin: { icon: '⚔️', label: 'admin' },
  mod: { icon: '🛡️', label: 'moderator' },
};

/** Lower-cased key for a name. */
export const nameKey = (name) => String(name).toLowerCase();

/** A role badge element for `user`, or null for plain users. */
export function badgeFor(user) {
  const badge = BADGES[user?.role];
  if (!badge) return null;
  const el = document.createElement('span');
  el.className = `badge badge-${user.role}`;
  el.textContent = badge.icon;
  el.title = badge.label;
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', badge.label);
  return el;
}

/** The small "guest" marker, or null for registered users. */
export function guestTagFor(user) {
  if (user?.kind !== 'guest') return null;
  const el = document.createElement('span');
  el.className = 'guest-tag';
  el.textContent = 'guest';
  return el;
}

/** The "verified" check mark, or null for identities no moderator verified. */
export function verifiedTagFor(user) {
  if (!user?.verified) return null;
  const el = document.createElement('span');
  el.className = 'verified-tag';
  el.textContent = '✓';
  el.title = 'verified';
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', 'verified');
  return el;
}

/** The "bot" marker of the AI companion's account (`bot: true`), or null for people. */
export function botTagFor(user) {
  if (user?.bot !== true) return null;
  const el = document.createElement('span');
  el.className = 'bot-tag';
  el.textContent = 'bot';
  el.title = 'AI companion: answers come from this server’s AI model';
  return el;
}

/**
 * Badge, name, the ⚠ of keys that changed (e2e-trust.js), verified mark, and the bot or guest
 * tag of a member, in that order.
 */
function memberParts(user) {
  const name = document.createElement('span');
  name.className = 'member-name';
  name.textContent = user.name;
  const parts = [badgeFor(user), name, keyWarningMark(user.name), verifiedTagFor(user), botTagFor(user), guestTagFor(user)];
  return parts.filter(Boolean);
}

function compareMembers(a, b) {
  const rank = rankOf(a.role) - rankOf(b.role);
  return rank || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/**
 * @param {HTMLElement} listEl the room's `<ul>` inside `#members`
 * @param {(count: number) => void} onCount called with the member count after each render
 */
export function createMemberList(listEl, onCount) {
  const members = new Map();
  let selfKey = '';
  let total = 0;
  let next = null;
  let loadMore = null;
  let loading = false;

  function moreButton() {
    const item = document.createElement('li');
    item.className = 'members-more';
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `Show more (${Math.max(total - members.size, 0)})`;
    button.disabled = loading;
    button.addEventListener('click', readNextPage);
    item.append(button);
    return item;
  }

  function render() {
    const fragment = document.createDocumentFragment();
    for (const user of [...members.values()].sort(compareMembers)) {
      const item = document.createElement('li');
      item.className = 'member';
      item.dataset.name = user.name;
      item.dataset.role = user.role || 'user';
      item.dataset.kind = user.kind || 'user';
      if (nameKey(user.name) === selfKey) {
        item.classList.add('member-self');
        item.append(...memberParts(user));
      } else {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'member-button';
        button.setAttribute('aria-haspopup', 'menu');
        button.append(...memberParts(user));
        item.append(button);
      }
      fragment.append(item);
    }
    if (next && loadMore) fragment.append(moreButton());
    listEl.replaceChildren(fragment);
    onCount(total);
  }

  function addAll(users) {
    for (const user of users || []) {
      if (user && typeof user.name === 'string') members.set(nameKey(user.name), user);
    }
  }

  async function readNextPage() {
    if (loading || !next || !loadMore) return;
    loading = true;
    render();
    try {
      const page = await loadMore(next);
      addAll(page.members);
      next = typeof page.next === 'string' ? page.next : null;
      if (Number.isInteger(page.count)) total = page.count;
    } finally {
      loading = false;
      render();
    }
  }

  return {
    /** Marks which member is the current identity (highlighted in the list). */
    setSelf(name) {
      selfKey = nameKey(name);
      render();
    },
    /**
     * Replaces the whole list with a join ack's first page.
     * @param {object[]} users
     * @param {{count?: number, next?: string|null, loadMore?: (after: string) => Promise<object>}} [paging]
     */
    reset(users, paging = {}) {
      members.clear();
      addAll(users);
      total = Number.isInteger(paging.count) ? paging.count : members.size;
      next = typeof paging.next === 'string' ? paging.next : null;
      loadMore = paging.loadMore || null;
      render();
    },
    /** Adds or updates a member; returns true when it was not present before. */
    add(user) {
      const key = nameKey(user.name);
      const isNew = !members.has(key);
      members.set(key, user);
      if (isNew) total += 1;
      render();
      return isNew;
    },
    /**
     * Refreshes a present member's badges (`user_updated`), or its name (`user_renamed`; `was`:
     * the name it had); absent users are not added.
     */
    update(user, was = user.name) {
      const key = nameKey(was);
      const self = selfKey === key;
      if (self) selfKey = nameKey(user.name);
      if (!members.has(key) && !self) return;
      if (members.delete(key)) members.set(nameKey(user.name), user);
      render();
    },
    /** Removes a member (who may not be on a loaded page); returns true when it was listed. */
    remove(user) {
      const removed = members.delete(nameKey(user.name));
      total = Math.max(total - 1, members.size);
      render();
      return removed;
    },
    /** The server's count of a room too large to announce each join (`member_count`). */
    setCount(count) {
      if (!Number.isInteger(count)) return;
      total = count;
      render();
    },
    /** How many members are present. */
    count: () => total,
    /**
     * The names of the members loaded so far (mention autocomplete); `accounts`: without the
     * guests (a mention in a persistent room resolves only to its members, never a guest).
     */
    names: ({ accounts = false } = {}) => [...members.values()]
      .filter((user) => !accounts || user.kind !== 'guest').map((user) => user.name),
  };
}
