/**
 * The rooms a session knows about: one record per room, keyed by slug (the wire name), with
 * the lobby always first. A record merges what the server said about the room (the
 * `GET /api/rooms` listing, join acks, `room_updated`, a Conversation) with the client's own
 * state (its pane, unread count, whether a join can resume). Conversations, ephemeral rooms
 * and whisper tabs are records too, told apart by `kind` (room-names.js). This module holds
 * data only; joining and showing are rooms.js's.
 */

import { LOBBY } from './room-api.js';
import { roomKind } from './room-names.js';

/** A fresh record for a room; listing and Room fields are merged into it as they arrive. */
export function roomRecord(slug, fields = {}) {
  return {
    slug,
    kind: roomKind(slug), // lobby | room | pm | ephemeral | whisper
    name: slug,
    topic: null,
    private: false,
    access: 'public', // member | invited | public | requested (asked for by address only)
    role: null, // owner | admin | member, when a member
    e2e: false, // end-to-end encrypted (docs/e2ee.md)
    unread: 0,
    mentions: 0, // of the unread, those mentioning the user (the listing's, then live ones)
    pane: null, // exists while the room is joined
    synced: false, // has had a join ack: later joins resume with `since`
    loadingOlder: false,
    ...fields,
  };
}

/**
 * Merges a Room or a listing into a record; a `null` role (as in `room_updated`) keeps ours.
 * A conversation's or ephemeral room's Room names it by its wire name: only its newest
 * sequence number and whether it is end-to-end are worth taking (the record names it by the
 * peer or the code).
 */
export function merge(room, fields) {
  if (room.kind !== 'room') {
    if (Number.isInteger(fields.last_seq)) room.last_seq = fields.last_seq;
    if (typeof fields.e2e === 'boolean') room.e2e = fields.e2e;
    return;
  }
  const { role, ...rest } = fields;
  Object.assign(room, rest);
  if (role) room.role = role;
}

export function createRoomList() {
  const rooms = new Map();

  return {
    get: (slug) => rooms.get(slug),
    has: (slug) => rooms.has(slug),
    add: (room) => rooms.set(room.slug, room),
    delete: (slug) => rooms.delete(slug),
    clear: () => rooms.clear(),
    values: () => [...rooms.values()],

    /** The lobby, then the other rooms by slug (the order of the sidebar). */
    ordered() {
      const others = [...rooms.values()].filter((r) => r.slug !== LOBBY);
      others.sort((a, b) => a.slug.localeCompare(b.slug));
      return rooms.has(LOBBY) ? [rooms.get(LOBBY), ...others] : others;
    },

    /** Unread messages over all rooms. */
    unreadTotal: () => [...rooms.values()].reduce((sum, room) => sum + room.unread, 0),

    /** Unread messages that mention the user, over all rooms. */
    mentionTotal: () => [...rooms.values()].reduce((sum, room) => sum + (Number(room.mentions) || 0), 0),

    /** The rooms to join on every connect: member rooms, accepted conversations, live 1-on-1s. */
    joinable: () => [...rooms.values()].filter((r) => {
      switch (r.kind) {
        case 'room': return r.access === 'member';
        case 'pm': return r.state !== 'invited';
        case 'ephemeral': return !r.closed;
        default: return false; // the lobby is joined first; whispers are not rooms
      }
    }),

    /**
     * Applies a fresh `GET /api/rooms` answer. A request becomes a record named by the address
     * asked for and nothing else (the server tells no more). Rooms missing from the answer are
     * forgotten, except joined ones the user is no longer a member of (removed while away):
     * those are returned so the caller can close them properly.
     * @param {{rooms: object[], requests: object[]}} listing
     * @returns {object[]} joined rooms the user has lost
     */
    applyListing({ rooms: listed, requests }) {
      const slugs = new Set(listed.map((item) => item.slug));
      for (const item of listed) {
        const room = rooms.get(item.slug) ?? roomRecord(item.slug);
        merge(room, item);
        room.role = item.role ?? null;
        rooms.set(item.slug, room);
      }
      for (const { slug } of requests) {
        if (slugs.has(slug)) continue;
        slugs.add(slug);
        const known = rooms.get(slug);
        if (known?.pane) {
          known.access = 'requested'; // open but no longer a member: the loop below closes it
          continue;
        }
        rooms.set(slug, roomRecord(slug, { access: 'requested' }));
      }
      const lost = [];
      for (const room of [...rooms.values()]) {
        if (room.kind !== 'room') continue;
        if (room.pane && (!slugs.has(room.slug) || room.access !== 'member')) lost.push(room);
        else if (!slugs.has(room.slug)) rooms.delete(room.slug);
      }
      return lost;
    },
  };
}
