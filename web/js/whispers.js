/**
 * Whisper tabs: unstored private messages with a guest, one tab per peer, in this page only.
 *
 * The server stores nothing and has no room for them: `whisper {to, text}` sends, and the
 * `whisper` event reaches every connection of both sides (the sender's included, which is how
 * a sent whisper appears). So a tab is a record and a pane of its own (room-names.js names it
 * `w:<peer>`), created when the user opens it or when a whisper arrives, and gone on reload or
 * close. It says so in its topic, its list entry and the top of its log.
 *
 * `ctx` is the coordinator's side (rooms.js).
 */

import { roomRecord } from './room-list.js';
import { whisperName } from './room-names.js';
import { explainPrivateError } from './conversation-api.js';

const SEND_WAIT_MS = 10000;
const NOT_STORED = 'Whispers are not stored: they are gone when you reload or sign out.';

const isUser = (user) => Boolean(user) && typeof user.name === 'string';

/** @param {object} ctx the coordinator (see rooms.js, `privateContext`) */
export function createWhispers(ctx) {
  /** The tab with `peer` (a User, or `{name}` when only the name is known), created if needed. */
  function tab(peer) {
    const slug = whisperName(peer.name);
    const existing = ctx.rooms.get(slug);
    if (existing) return existing;
    const room = roomRecord(slug, { name: peer.name, peer: peer.name, access: 'member', topic: NOT_STORED });
    ctx.rooms.add(room);
    const pane = ctx.ensurePane(room);
    pane.members.reset([ctx.me(), peer]);
    pane.log.setEdge('start', `Whispers with ${peer.name} are not stored: only this page shows them.`);
    return room;
  }

  return {
    /** Opens the tab with `user` (from a member list). */
    open(user) {
      const room = tab(user);
      ctx.open(room.slug);
    },

    /** A `whisper` event: sent by us (from any tab of ours) or to us. */
    received(data) {
      if (!isUser(data.from) || typeof data.to !== 'string' || data.id === undefined) return;
      const own = ctx.isOwn(data.from);
      const room = tab(own ? { name: data.to } : data.from);
      const message = { id: `w${data.id}`, ts: data.ts, author: data.from, text: data.text };
      if (room.pane.log.addMessage(message, { own }) && !own) {
        ctx.countUnread(room, 1);
        ctx.onIncoming(room, message);
      }
      ctx.render();
    },

    /**
     * Whispers `text` to the tab's peer. Not retried: nothing on the server makes a second
     * attempt harmless. Throws with a sentence the log can show.
     */
    async send(room, text) {
      const gateway = ctx.gateway();
      try {
        if (gateway.state !== 'online') await gateway.whenOnline(SEND_WAIT_MS);
        await gateway.request('whisper', { to: room.peer, text });
      } catch (err) {
        const reason = err.code === 'not_found' ? `${room.peer} is not online.` : explainPrivateError(err);
        // The code and wait ride along, so a refusal for speed reads like any other send's.
        throw Object.assign(new Error(reason), { code: err.code, retryAfter: err.retryAfter ?? null });
      }
    },

    /** Closes the tab; what it showed is gone. */
    close(slug) {
      ctx.forget(slug);
    },
  };
}
