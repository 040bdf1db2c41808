/**
 * Ephemeral 1-on-1 rooms inside the chat: the room `e:<CODE>`, joined with this browser's
 * device id, listed under "Conversations" and counted down in the header while on screen.
 *
 * `/room/<CODE>` is the share link, so a route that looks like a code is first looked up
 * (`GET /api/ephemeral/{code}`); only when no live room has that code is it a persistent room.
 * Joining, sending and history are rooms.js's, as for any room; this module adds the lookups,
 * the sentences for `room_not_active` (checked again every few seconds), `room_locked` and
 * closed codes, the codes remembered for the next visit (device.js), and the end of the room
 * when its time runs out (`room_removed` with `expired`): the log stays, the composer goes.
 *
 * `ctx` is the coordinator's side (rooms.js).
 */

import { lookUpEphemeral } from './conversation-api.js';
import { roomRecord } from './room-list.js';
import { roomKind, asRoomCode, ephemeralName, codeOf } from './room-names.js';
import { rememberCode, forgetCode, joinedCodes } from './device.js';
import { formatRemaining } from './countdown.js';

const RECHECK_MS = 5000;
const TICK_MS = 1000;

/** @param {object} ctx the coordinator (see rooms.js, `privateContext`) */
export function createEphemeralRooms(ctx) {
  const doors = new Map(); // code → the latest lookup or host view: {active, expires_at}
  let ticker = null;
  let recheck = null;

  /** The header line of a room: time left, or that it has closed. */
  function topicOf(room) {
    if (room.closed) return 'This room has closed.';
    if (!room.expires_at) return '1-on-1 room';
    return `1-on-1 room · closes in ${formatRemaining(room.expires_at)}`;
  }

  /** Fields of a new record for `slug`, from what is known about its code. */
  function fields(slug) {
    const code = codeOf(slug);
    const door = doors.get(code) ?? {};
    return { name: `Room ${code}`, code, access: 'member', expires_at: door.expires_at ?? null };
  }

  /** Tracks a lookup or host view, and refreshes the record it is about. */
  function learn(view) {
    doors.set(view.code, view);
    const room = ctx.rooms.get(ephemeralName(view.code));
    if (room && view.expires_at) room.expires_at = view.expires_at;
  }

  function tick(room) {
    room.topic = topicOf(room);
    ctx.setTopic(room.slug, room.topic);
  }

  /** A state card for a room that could not be joined, or null to use the generic one. */
  function unavailable(slug, err) {
    const code = codeOf(slug);
    const again = { label: 'Check again', id: 'room-state-recheck', primary: true, onClick: () => ctx.open(slug, { push: false }) };
    switch (err.code) {
      case 'room_not_active':
        clearTimeout(recheck);
        recheck = setTimeout(() => {
          if (ctx.stateShown(slug)) ctx.open(slug, { push: false });
        }, RECHECK_MS);
        return { text: `Waiting for the host to open room ${code}. This page checks again every few seconds.`, actions: [again] };
      case 'room_locked':
        return { text: `Room ${code} is locked: two devices have joined it already, and only they can come back.`, actions: [] };
      case 'not_found':
        forgetCode(code);
        return { text: `Room ${code} has closed, or the code is wrong.`, actions: [] };
      default:
        return null;
    }
  }

  return {
    fields,
    unavailable,
    learn,

    /** The wire name a `/room/<segment>` route opens: an ephemeral room's, or `slug` itself. */
    async resolve(slug) {
      const named = roomKind(slug) === 'ephemeral';
      const code = asRoomCode(named ? codeOf(slug) : slug);
      if (!code) return slug;
      const name = ephemeralName(code);
      if (ctx.rooms.has(name)) return name;
      try {
        learn(await lookUpEphemeral(code));
        return name;
      } catch {
        return named ? name : slug; // not a live code: a persistent room's slug after all
      }
    },

    /** At connect: records for the rooms joined from this browser that are still live. */
    async refresh() {
      for (const code of joinedCodes()) {
        const name = ephemeralName(code);
        if (ctx.rooms.has(name)) continue;
        try {
          learn(await lookUpEphemeral(code));
        } catch (err) {
          if (err.code === 'not_found') forgetCode(code);
          continue;
        }
        ctx.rooms.add(roomRecord(name, fields(name)));
      }
    },

    /** After a successful join: remembered for the next visit. */
    joined(room) {
      rememberCode(room.code);
      room.topic = topicOf(room);
    },

    /** The room on screen changed: the countdown runs only for an ephemeral room shown. */
    shown(room) {
      clearInterval(ticker);
      ticker = null;
      if (room?.kind !== 'ephemeral' || room.closed) return;
      tick(room);
      ticker = setInterval(() => tick(room), TICK_MS);
    },

    /** `room_removed` with `expired`: the room is over; its log stays readable. */
    expired(slug) {
      const room = ctx.rooms.get(slug);
      forgetCode(codeOf(slug));
      if (!room) return;
      room.closed = true;
      room.topic = topicOf(room);
      room.pane?.typing.clear();
      room.pane?.members.reset([]);
      room.pane?.log.addNotice('This room has closed: its time ran out. Nothing more can be sent.', 'closed');
      if (ctx.isShown(slug)) {
        clearInterval(ticker);
        ctx.refreshView(room);
      } else {
        ctx.banner.show(`Room ${room.code} has closed: its time ran out.`);
      }
      ctx.render();
    },

    /** Leaves the room for good on this page (it can be joined again with the link). */
    leave(slug) {
      const room = ctx.rooms.get(slug);
      if (room && !room.closed) ctx.gateway()?.request('leave', { room: slug }).catch(() => {});
      forgetCode(codeOf(slug));
      ctx.forget(slug);
    },

    /** Stops the countdown and the re-checks (sign-out). */
    stop() {
      clearInterval(ticker);
      clearTimeout(recheck);
      ticker = null;
      doors.clear();
    },
  };
}
