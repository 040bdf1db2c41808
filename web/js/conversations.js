/**
 * Private conversations between two accounts, as entries of the room list.
 *
 * A conversation is the room `pm:<id>:<id>` on the wire: once open (or pending, for the one who
 * opened it) it is joined, synced and sent to like any room by rooms.js. This module adds what
 * is particular to it: the list from `GET /api/conversations` (with unread counts) at every
 * connect, `conversation_updated` events (invited, accepted, shown again), starting one,
 * accepting, declining, closing, and moving the read marker (`read`) while it is on screen.
 *
 * `ctx` is the coordinator's side (rooms.js): the room records and what can be done with them.
 */

import {
  listConversations, openConversation, acceptConversation, declineConversation,
  closeConversation, explainPrivateError,
} from './conversation-api.js';
import { roomRecord } from './room-list.js';

const TOPICS = {
  open: (peer) => `Private conversation with ${peer}`,
  pending: (peer) => `Waiting for ${peer} to accept. You can write already; ${peer} reads it after accepting.`,
  invited: (peer) => `${peer} wants to talk with you.`,
};

/** @param {object} ctx the coordinator (see rooms.js, `privateContext`) */
export function createConversations(ctx) {
  const conversationRecords = () => ctx.rooms.values().filter((room) => room.kind === 'pm');

  /** Creates or updates the record of a Conversation; returns it. */
  function upsert(conversation) {
    const slug = conversation.room;
    const room = ctx.rooms.get(slug) ?? roomRecord(slug);
    const { peer, state } = conversation;
    Object.assign(room, {
      name: peer,
      peer,
      state,
      e2e: conversation.e2e === true || room.e2e === true, // chosen for the conversation's life
      access: state === 'invited' ? 'invited' : 'member',
      topic: (TOPICS[state] ?? TOPICS.open)(peer),
      last_seq: Math.max(room.last_seq ?? 0, conversation.last_seq ?? 0),
    });
    // The server's count is the truth, except for the conversation being read right now.
    if (!ctx.isShown(slug)) room.unread = Number(conversation.unread) || 0;
    ctx.rooms.add(room);
    return room;
  }

  /** Reloads the list; conversations closed elsewhere disappear (unless on screen). */
  async function refresh() {
    let listed;
    try {
      listed = await listConversations();
    } catch (err) {
      ctx.banner.show(`Could not load the conversations: ${explainPrivateError(err)}`, 'error');
      return;
    }
    const rooms = new Set(listed.map((c) => c.room));
    for (const room of conversationRecords()) {
      if (!rooms.has(room.slug) && !ctx.isShown(room.slug)) ctx.forget(room.slug);
    }
    for (const conversation of listed) upsert(conversation);
  }

  /** `conversation_updated`: invited, accepted by the peer, or shown again by a message. */
  function updated(conversation) {
    if (!conversation || typeof conversation.room !== 'string') return;
    const before = ctx.rooms.get(conversation.room)?.state;
    const room = upsert(conversation);
    const { peer, state } = conversation;
    if (state === 'invited' && before !== 'invited') {
      ctx.banner.show(`${peer} wants to start a private conversation with you.`);
    } else if (state === 'open' && before === 'pending') {
      ctx.banner.show(`${peer} accepted your conversation.`);
    }
    if (state !== 'invited' && !room.pane) ctx.attach(room);
    ctx.refreshView(room);
    ctx.render();
  }

  /** Starts (or shows again) a conversation with `name` and opens it; throws an ApiError. */
  async function start(name) {
    const room = upsert(await openConversation(name));
    ctx.render();
    await ctx.open(room.slug);
  }

  async function accept(slug) {
    let conversation;
    try {
      conversation = await acceptConversation(slug);
    } catch (err) {
      ctx.banner.show(`Could not accept: ${explainPrivateError(err)}`, 'error');
      return;
    }
    upsert(conversation);
    await ctx.open(slug);
  }

  async function decline(slug) {
    try {
      await declineConversation(slug);
    } catch (err) {
      ctx.banner.show(`Could not decline: ${explainPrivateError(err)}`, 'error');
      return;
    }
    ctx.forget(slug);
  }

  /** Hides the conversation until the peer writes again; live events stop too. */
  async function close(slug) {
    try {
      await closeConversation(slug);
    } catch (err) {
      ctx.banner.show(`Could not close the conversation: ${explainPrivateError(err)}`, 'error');
      return;
    }
    ctx.gateway()?.request('leave', { room: slug }).catch(() => {});
    ctx.forget(slug);
  }

  return {
    refresh,
    updated,
    start,
    accept,
    decline,
    close,

    /** The state card of an invitation, with the answers. */
    showInvitation(room, { push } = {}) {
      ctx.showState(room.slug, `${room.peer} wants to start a private conversation with you.`, {
        push,
        heading: room.peer,
        code: 'invited',
        actions: [
          { label: 'Accept', id: 'room-state-accept', primary: true, onClick: () => accept(room.slug) },
          { label: 'Decline', id: 'room-state-decline', onClick: () => decline(room.slug) },
        ],
      });
    },

    /** Moves the read marker to the newest message of a conversation on screen. */
    markRead(room) {
      const seq = Math.max(room.pane?.log.newestSeq() ?? 0, room.last_seq ?? 0);
      const gateway = ctx.gateway();
      if (!gateway || gateway.state !== 'online' || seq <= (room.readSeq ?? 0)) return;
      room.readSeq = seq;
      gateway.request('read', { room: room.slug, seq }).catch(() => {
        room.readSeq = 0; // tried again the next time it is shown
      });
    },
  };
}
