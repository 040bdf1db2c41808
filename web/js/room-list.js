/**
 * The rooms a session knows about: one record per room, keyed by slug, with the lobby always
 * first. A record merges what the server said about the room (the `GET /api/rooms` listing,
 * join acks, `room_updated`) with the client's own state (its pane, unread count, whether a
 * join can resume). This module holds data only; joining and showing are rooms.js's.
 */

import { LOBBY } from './room-api.js';

/** A fresh record for a room; listing and Room fields are merged into it as they arrive. */
export function roomRecord(slug, fields = {}) {
  return {
    slug,
    name: slug,
    topic: null,
    private: false,
    access: 'public', // member | invited | public | requested
    role: null, // owner | admin | member, when a member
    unread: 0,
    pane: null, // exists while the room is joined
    synced: false, // has had a join ack: later joins resume with `since`
    loadingOlder: false,
    ...fields,
  };
}

/** Merges a Room or a listing into a record; a `null` role (as in `room_updated`) keeps ours. */
export function merge(room, fields) {
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

    /** The persistent rooms the user is a member of. */
    memberRooms: () => [...rooms.values()].filter((r) => r.slug !== LOBBY && r.access === 'member'),

    /**
     * Applies a fresh `GET /api/rooms` listing. Rooms missing from it are forgotten, except
     * joined ones the user is no longer a member of (removed while away): those are returned
     * so the caller can close them properly.
     * @returns {object[]} joined rooms the user has lost
     */
    applyListing(listed) {
      const slugs = new Set(listed.map((item) => item.slug));
      for (const item of listed) {
        const room = rooms.get(item.slug) ?? roomRecord(item.slug);
        merge(room, item);
        room.role = item.role ?? null;
        rooms.set(item.slug, room);
      }
      const lost = [];
      for (const room of [...rooms.values()]) {
        if (room.slug === LOBBY) continue;
        if (room.pane && (!slugs.has(room.slug) || room.access !== 'member')) lost.push(room);
        else if (!slugs.has(room.slug)) rooms.delete(room.slug);
      }
      return lost;
    },
  };
}
