/**
 * The private side of a session, behind one face for rooms.js: conversations (conversations.js),
 * whisper tabs (whispers.js) and ephemeral 1-on-1 rooms (ephemeral.js), plus the ways in — the
 * member menu (with its moderation choices), the "New conversation" dialog and the host's
 * 1-on-1 rooms dialog. The AI companion (companion.js) rides along: its conversation is an
 * ordinary one, with a streamed reply, a paywall and events of its own.
 *
 * rooms.js stays the one owner of room records, panes, joining and the screen; it calls the
 * hooks here at the points where these kinds differ from a persistent room, and hands over
 * `ctx`, what the kinds may do with the records (see rooms.js, `privateContext`).
 */

import { createConversations } from './conversations.js';
import { createWhispers } from './whispers.js';
import { createEphemeralRooms } from './ephemeral.js';
import { createCompanion } from './companion.js';
import { createMemberMenu } from './member-menu.js';
import { moderateMember } from './member-moderation.js';
import { moderateDialog } from './moderate-dialog.js';
import { createNewConversationDialog } from './new-conversation.js';
import { createHostDialog } from './ephemeral-host.js';
import { explainPrivateError } from './conversation-api.js';
import { roomKind } from './room-names.js';

/** The title-row buttons of the "Conversations" group: accounts get both, guests may host. */
const HOST_ACTION = { id: 'ephemeral-host', icon: '⏱', label: 'Your 1-on-1 rooms' };
const ACCOUNT_ACTIONS = [{ id: 'conversation-new', icon: '+', label: 'New conversation' }, HOST_ACTION];
const GUEST_ACTIONS = [HOST_ACTION];

/** @param {object} ctx the coordinator (see rooms.js, `privateContext`) */
export function createPrivateRooms(ctx) {
  const conversations = createConversations(ctx);
  const whispers = createWhispers(ctx);
  const ephemeral = createEphemeralRooms(ctx);
  const companion = createCompanion(ctx, conversations);
  const newConversation = createNewConversationDialog({ onStart: (name) => conversations.start(name) });
  const hostDialog = createHostDialog({
    onLearn: (view) => ephemeral.learn(view),
    onJoin: (view) => ctx.open(view.room),
  });

  async function message(name) {
    try {
      await conversations.start(name);
    } catch (err) {
      ctx.banner.show(`Could not start a conversation with ${name}: ${explainPrivateError(err)}`, 'error');
    }
  }
  const memberMenu = createMemberMenu({
    me: ctx.me,
    onMessage: message,
    onWhisper: (user) => whispers.open(user),
    onModerate: (action, user) => moderateMember(ctx.gateway, action, user),
  });

  const closers = { pm: conversations.close, whisper: whispers.close, ephemeral: ephemeral.leave };

  return {
    /** Title-row actions of the sidebar groups for this identity. */
    groupActions: () => ({ conversations: ctx.me()?.kind === 'guest' ? GUEST_ACTIONS : ACCOUNT_ACTIONS }),

    /** At every connect, before joining: the companion, the conversation list, the remembered 1-on-1s. */
    async refresh({ guest }) {
      await companion.refresh();
      if (!guest) await conversations.refresh();
      await ephemeral.refresh();
    },

    /** A new record's fields for a name this module knows better than the generic ones. */
    fields(slug) {
      switch (roomKind(slug)) {
        case 'ephemeral': return ephemeral.fields(slug);
        case 'pm': return { name: 'Conversation', peer: 'Conversation', state: 'open', access: 'member' };
        default: return {};
      }
    },

    resolve: (slug) => ephemeral.resolve(slug),

    /** Shows a record that is not joined and must not be (an invitation); true if it did. */
    showUnjoined(room, options) {
      if (room?.kind !== 'pm' || room.state !== 'invited') return false;
      conversations.showInvitation(room, options);
      return true;
    },

    /** The state card for a private room that could not be joined: `{text, actions}` or null. */
    unavailable(slug, err) {
      return roomKind(slug) === 'ephemeral' ? ephemeral.unavailable(slug, err) : null;
    },

    /** After every successful join of a private room. */
    joined(room) {
      if (room.kind === 'ephemeral') ephemeral.joined(room);
      if (room.kind === 'pm') companion.joined(room);
    },

    /** The room on screen changed (null: a state card). */
    shown(room) {
      ephemeral.shown(room);
      companion.shown(room);
      if (room?.kind === 'pm') conversations.markRead(room);
    },

    /** A message was added to `room` (a shown conversation is read at once). */
    afterMessage(room, seq) {
      if (room.kind !== 'pm') return;
      if (Number.isInteger(seq)) room.last_seq = Math.max(room.last_seq ?? 0, seq);
      if (ctx.isShown(room.slug)) conversations.markRead(room);
    },

    /** Events only these kinds know; true when handled. */
    handleEvent(event, data) {
      if (companion.handleEvent(event, data)) return true;
      switch (event) {
        case 'conversation_updated': conversations.updated(data.conversation); return true;
        case 'whisper': whispers.received(data); return true;
        case 'room_removed':
          if (data.reason !== 'expired') return false;
          ephemeral.expired(data.room);
          return true;
        default: return false;
      }
    },

    /** Sends in a whisper tab (true), or leaves the sending to rooms.js (false). */
    async send(room, text) {
      if (room.kind !== 'whisper') return false;
      await whispers.send(room, text);
      return true;
    },

    /** A button of a sidebar entry: `close`, `accept` or `decline`. */
    action(action, slug) {
      if (action === 'accept') conversations.accept(slug);
      else if (action === 'decline') conversations.decline(slug);
      else if (action === 'close') closers[roomKind(slug)]?.(slug);
    },

    /** A button in the "Conversations" title row. */
    groupAction(id) {
      if (id === 'conversation-new') newConversation.open();
      else if (id === 'ephemeral-host') hostDialog.open();
    },

    /** Sign-out: timers stop, the menu and dialogs close. */
    stop() {
      ephemeral.stop();
      companion.stop();
      memberMenu.close();
      moderateDialog().close();
      newConversation.close();
      hostDialog.close();
    },
  };
}
