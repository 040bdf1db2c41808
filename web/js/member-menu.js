/**
 * The menu that opens on someone in a member list (`#member-menu`): "Message" starts a private
 * conversation (both sides have accounts), "Whisper" opens a whisper tab (either side is a
 * guest), "Ignore…" / "Unignore…" and "Safety number…" (end-to-end encryption: e2e-verify.js)
 * for accounts (ignores.js), and on anyone of a lower role (in
 * the room whose list it is) "Kick…", "Mute…", "Ban…" and, on accounts, "Verify…" or "Remove
 * verification…" for moderators, "Change role…" and "Move to a room…" for admins and root.
 * Every one of those asks first (member-moderation.js). Nothing is offered for yourself, whose
 * entry is not a button.
 *
 * One menu element serves every room's list: clicks are delegated from `#members`, and the menu
 * is placed under the clicked entry (fixed position, kept inside the viewport). It closes on a
 * choice, a click elsewhere, Escape, scrolling the member panel or resizing. Names are inserted
 * as text.
 */

import { mayActOn, assignableRoles } from './roles.js';
import { isIgnored } from './ignores.js';
import { openSafetyNumber } from './e2e-verify.js';
import { keyWarning } from './e2e-trust.js';

const MARGIN_PX = 8;
const MODERATION = [['kick', 'Kick…'], ['mute', 'Mute…'], ['ban', 'Ban…']];

/** The staff choices beyond kick, mute and ban that `self` has on `user` (accounts only). */
function staffChoices(self, user) {
  if (user.kind === 'guest') return [];
  const list = [user.verified ? ['unverify', 'Remove verification…'] : ['verify', 'Verify…']];
  if (assignableRoles(self.role).length) list.push(['role', 'Change role…'], ['move', 'Move to a room…']);
  return list;
}

/**
 * @param {object} options
 * @param {() => {kind: string}|null} options.me the signed-in identity
 * @param {(name: string) => void} options.onMessage start or show a conversation with `name`
 * @param {(user: {name: string, kind: string}) => void} options.onWhisper open a whisper tab
 * @param {(action: string, user: {name: string, room: string, self: object}) => void} options.onModerate
 *   kick, mute, ban, verify, role, move, ignore or unignore `user`; `room` is the list's room
 */
export function createMemberMenu({ me, onMessage, onWhisper, onModerate }) {
  const $ = (id) => document.getElementById(id);
  const menu = $('member-menu');
  let opener = null; // the member button the menu belongs to

  function close({ focus = false } = {}) {
    if (menu.hidden) return;
    menu.hidden = true;
    menu.replaceChildren();
    if (focus) opener?.focus();
    opener?.setAttribute('aria-expanded', 'false');
    opener = null;
  }

  function item(label, id, onClick) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'member-menu-item';
    button.id = id;
    button.setAttribute('role', 'menuitem');
    button.textContent = label;
    button.addEventListener('click', () => {
      close();
      onClick();
    });
    return button;
  }

  /** The choices for `user` as seen by the signed-in identity. */
  function choices(user) {
    const self = me();
    if (!self) return [];
    const list = [];
    if (self.kind !== 'guest' && user.kind !== 'guest') {
      list.push(item('Message', 'member-menu-message', () => onMessage(user.name)));
    }
    if (self.kind === 'guest' || user.kind === 'guest') {
      list.push(item('Whisper', 'member-menu-whisper', () => onWhisper(user)));
    }
    if (self.kind !== 'guest') {
      const action = isIgnored(user.name) ? 'unignore' : 'ignore';
      list.push(item(action === 'ignore' ? 'Ignore…' : 'Unignore…', `member-menu-${action}`,
        () => onModerate(action, { ...user, self })));
    }
    if (self.kind !== 'guest' && user.kind !== 'guest') {
      const label = keyWarning(user.name) ? 'Safety number… ⚠ keys changed' : 'Safety number…';
      list.push(item(label, 'member-menu-safety', () => openSafetyNumber(user.name)));
    }
    if (mayActOn(self.role, user.role)) {
      for (const [action, label] of [...MODERATION, ...staffChoices(self, user)]) {
        const choice = item(label, `member-menu-${action}`, () => onModerate(action, { ...user, self }));
        choice.classList.add('member-menu-moderation');
        list.push(choice);
      }
    }
    return list;
  }

  function place(anchor) {
    const rect = anchor.getBoundingClientRect();
    const width = menu.offsetWidth;
    const height = menu.offsetHeight;
    const left = Math.max(MARGIN_PX, Math.min(rect.left, window.innerWidth - width - MARGIN_PX));
    const below = rect.bottom + 4;
    const top = below + height > window.innerHeight - MARGIN_PX ? rect.top - height - 4 : below;
    menu.style.left = `${left}px`;
    menu.style.top = `${Math.max(MARGIN_PX, top)}px`;
  }

  function open(button) {
    const entry = button.closest('.member');
    const user = {
      name: entry.dataset.name,
      kind: entry.dataset.kind,
      role: entry.dataset.role,
      verified: Boolean(entry.querySelector('.verified-tag')),
      room: entry.closest('.members')?.dataset.room,
    };
    close();
    const heading = document.createElement('p');
    heading.className = 'member-menu-name';
    heading.textContent = user.name;
    const list = choices(user);
    if (!list.length) {
      const none = document.createElement('p');
      none.className = 'member-menu-none';
      none.textContent = 'Nothing to do here.';
      list.push(none);
    }
    menu.replaceChildren(heading, ...list);
    menu.setAttribute('aria-label', `Actions for ${user.name}`);
    menu.hidden = false;
    opener = button;
    button.setAttribute('aria-expanded', 'true');
    place(button);
    menu.querySelector('button')?.focus();
  }

  $('members').addEventListener('click', (event) => {
    const button = event.target.closest('.member-button');
    if (!button) return;
    if (opener === button) close();
    else open(button);
  });
  document.addEventListener('pointerdown', (event) => {
    if (!menu.hidden && !menu.contains(event.target) && !event.target.closest('.member-button')) close();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      event.stopPropagation();
      close({ focus: true });
    }
  }, true);
  window.addEventListener('resize', () => close());
  $('member-panel').addEventListener('scroll', () => close(), { passive: true });

  return { close };
}
