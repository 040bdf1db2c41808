/**
 * Moderation from a member list: the member menu's "Kick…", "Mute…" and "Ban…" open the
 * moderation dialog and send the gateway command with `room` set to the list's room, so the
 * server's notice appears where it happened. Whisper tabs have no room on the server; their
 * notice goes to the lobby.
 */

import { moderateDialog } from './moderate-dialog.js';
import { roomKind, roomHeading } from './room-names.js';

/** Where a notice about an action in the list of `room` is posted: a server room, or none. */
function noticeRoom(room) {
  return room && roomKind(room) !== 'whisper' ? room : undefined;
}

/**
 * Asks for the details of `action` on `user` and sends it; resolves true when done.
 * @param {() => import('./net.js').Gateway} gateway the session's gateway
 * @param {'kick'|'mute'|'ban'} action
 * @param {{name: string, room?: string}} user the member and the room of their list
 */
export function moderateMember(gateway, action, { name, room }) {
  const target = noticeRoom(room);
  const where = target && roomKind(target) !== 'lobby'
    ? `The notice goes to ${roomHeading(target)}.`
    : 'The notice goes to the lobby.';
  return moderateDialog().open(
    { action, user: name, room: target, where },
    (data) => gateway().request(action, data),
  );
}
