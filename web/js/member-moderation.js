/**
 * What the member menu does to someone: "Kick…", "Mute…" and "Ban…" open the moderation
 * dialog and send the gateway command with `room` set to the list's room, so the server's
 * notice appears where it happened; ignore, verify, role and move are confirmed and done by
 * member-staff.js. Whisper tabs have no room on the server; their notice goes to the lobby.
 */

import { moderateDialog } from './moderate-dialog.js';
import { roomKind, roomHeading } from './room-names.js';
import { MEMBER_ACTIONS, memberAction } from './member-staff.js';

/** Where a notice about an action in the list of `room` is posted: a server room, or none. */
function noticeRoom(room) {
  return room && roomKind(room) !== 'whisper' ? room : undefined;
}

/**
 * Asks for the details of `action` on `user` and sends it; resolves true when done.
 * @param {() => import('./net.js').Gateway} gateway the session's gateway
 * @param {string} action kick, mute, ban, or one of member-staff.js's
 * @param {{name: string, role?: string, room?: string, self?: object}} user the member, the
 *   room of their list and who acts (`self`)
 */
export function moderateMember(gateway, action, { name, room, role, self }) {
  const target = noticeRoom(room);
  if (MEMBER_ACTIONS.has(action)) return memberAction(gateway, action, { name, role }, { self, room: target });
  const where = target && roomKind(target) !== 'lobby'
    ? `The notice goes to ${roomHeading(target)}.`
    : 'The notice goes to the lobby.';
  return moderateDialog().open(
    { action, user: name, room: target, where },
    (data) => gateway().request(action, data),
  );
}
