/**
 * The kinds of room the app shows, told apart by their wire names.
 *
 * On the wire a private conversation is the room `pm:<id>:<id>` and an ephemeral 1-on-1 room
 * is `e:<CODE>`; everything else but the lobby is a persistent room's slug. Whisper tabs exist
 * only in this browser, under the local name `w:<peer>`, which no server room can take.
 * This module only names things: no DOM, no network.
 */

import { LOBBY } from './room-api.js';

/** Letters and digits of ephemeral room codes (no 0/O, no 1/I/L), as the server draws them. */
const CODE_PATTERN = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}$/;

/** `lobby` | `room` | `pm` | `ephemeral` | `whisper` for a room name. */
export function roomKind(name) {
  if (name === LOBBY) return 'lobby';
  if (name.startsWith('pm:')) return 'pm';
  if (name.startsWith('e:')) return 'ephemeral';
  if (name.startsWith('w:')) return 'whisper';
  return 'room';
}

/** The code in `text` (any case) if it could be an ephemeral room's, else null. */
export function asRoomCode(text) {
  const code = String(text).trim().toUpperCase();
  return CODE_PATTERN.test(code) ? code : null;
}

/** The wire name of the ephemeral room with `code`. */
export const ephemeralName = (code) => `e:${code}`;

/** The code of an ephemeral room's wire name. */
export const codeOf = (name) => name.slice(2);

/** The local name of the whisper tab with `peer` (names compare case-insensitively). */
export const whisperName = (peer) => `w:${String(peer).toLowerCase()}`;

/**
 * A sentence to add when `slug` could be the code of a 1-on-1 room that has closed (a share
 * link outlives its room, and the address then means a persistent room), else ''.
 */
export function closedCodeNote(slug) {
  return asRoomCode(slug) ? ' If this was the link of a 1-on-1 room, that room has closed.' : '';
}

/** What a state card calls a room it cannot show. */
export function roomHeading(name) {
  switch (roomKind(name)) {
    case 'ephemeral': return `Room ${codeOf(name)}`;
    case 'pm': return 'Conversation';
    default: return `#${name}`;
  }
}
