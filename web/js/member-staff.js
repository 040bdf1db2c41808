/**
 * The member menu's choices beyond kick, mute and ban, each confirmed first
 * (confirm-dialog.js):
 * - ignore / unignore (any account, about anyone): `PUT`/`DELETE /api/ignores/{name}`
 *   (ignores.js); stealthy, so the dialog says the other side is not told;
 * - verify / unverify (moderators, on accounts below them): the `verify` command, its notice
 *   posted in the room whose list it is;
 * - change role (admins and root, to a role below their own): `set_role`;
 * - move into a room (admins and root): `move`, which makes them a member and opens it for them.
 */

import { confirmDialog } from './confirm-dialog.js';
import { setIgnored } from './ignores.js';
import { assignableRoles } from './roles.js';

const ROLE_LABELS = { user: 'User', mod: 'Moderator', admin: 'Admin' };
const ROLE_NAMES = { user: 'a user', mod: 'a moderator', admin: 'an admin' };

/** The member-menu actions this module handles. */
export const MEMBER_ACTIONS = new Set(['ignore', 'unignore', 'verify', 'unverify', 'role', 'move']);

/**
 * Asks for `action` on `user` and does it; resolves whether it was done.
 * @param {() => import('./net.js').Gateway} gateway the session's gateway
 * @param {string} action one of MEMBER_ACTIONS
 * @param {{name: string, role?: string}} user the member
 * @param {{self: {role: string}, room?: string}} context who acts, and the room of the notice
 */
export function memberAction(gateway, action, user, { self, room }) {
  const { name } = user;
  const command = (event, data) => gateway().request(event, data);
  const ask = (spec) => confirmDialog().ask(spec);
  switch (action) {
    case 'ignore':
      return ask({
        title: `Ignore ${name}?`,
        text: `Their messages, typing, whispers and invitations stop reaching you. ${name} is not told. `
          + 'You can stop ignoring them in Settings → Privacy.',
        confirm: 'Ignore',
        perform: () => setIgnored(name, true),
      });
    case 'unignore':
      return ask({
        title: `Stop ignoring ${name}?`,
        text: 'Their new messages reach you again. What they sent meanwhile stays hidden.',
        confirm: 'Stop ignoring',
        perform: () => setIgnored(name, false),
      });
    case 'verify':
    case 'unverify':
      return ask({
        title: action === 'verify' ? `Verify ${name}?` : `Remove ${name}’s verification?`,
        text: action === 'verify'
          ? 'A check mark shows beside their name everywhere, and a notice says you verified them.'
          : 'The check mark beside their name goes, and a notice says so.',
        confirm: action === 'verify' ? 'Verify' : 'Remove verification',
        danger: action === 'unverify',
        perform: () => command('verify', { user: name, verified: action === 'verify', room }),
      });
    case 'role': {
      const roles = assignableRoles(self.role).filter((role) => role !== (user.role || 'user'));
      return ask({
        title: `Change ${name}’s role`,
        text: `${name} is ${ROLE_NAMES[user.role] ?? 'a user'} now. The new role applies at once, on every device.`,
        confirm: 'Change role',
        danger: true,
        field: { label: 'New role', options: roles.map((role) => ({ value: role, label: ROLE_LABELS[role] })) },
        perform: (role) => command('set_role', { user: name, role }),
      });
    }
    case 'move':
      return ask({
        title: `Move ${name} into a room`,
        text: `${name} becomes a member of that room and it opens for them.`,
        confirm: 'Move',
        field: { label: 'Room address', placeholder: 'e.g. book-club' },
        perform: (slug) => command('move', { user: name, room: slug.replace(/^#/, '') }),
      });
    default:
      return Promise.resolve(false);
  }
}
