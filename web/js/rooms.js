/**
 * The rooms of one signed-in session: the lobby, the persistent rooms of `GET /api/rooms`, and
 * the private ones (conversations, whisper tabs, ephemeral 1-on-1 rooms); which one is open,
 * and what server events do to them.
 *
 * Every room the user is in is joined on every (re)connect, so its events arrive even while
 * another room is on screen (they count as unread). Opening a room that is not joined yet (a
 * public room, a link) joins it; one the caller cannot see gets a state card with the options
 * that make sense. The open room is mirrored in the address bar. This module is the one owner
 * of records and panes; what differs per kind lives in persistent-rooms.js and
 * private-rooms.js, which it calls at those points. Per-room DOM is room-pane.js's, the
 * records room-list.js's, gateway traffic room-sync.js's, in-room events room-events.js's,
 * what a stored message can do (reply, react, edit, delete) message-actions.js's, which also
 * jumps to a message a search result names (`showMessage`).
 * Someone else's new message, in any room, goes through `incoming`: a mention of the user in a
 * room not on screen marks its badge (mentions.js), and notify.js may alert.
 */

import { setRoomRefs } from './markup.js';
import { LOBBY, explainRoomError } from './room-api.js';
import { createRoomList, roomRecord, merge } from './room-list.js';
import { createRoomPane } from './room-pane.js';
import { joinRoom, loadOlder, memberPaging, sendMessage } from './room-sync.js';
import { applyPaneEvent } from './room-events.js';
import { createSidebar } from './sidebar.js';
import { createRoomView } from './room-view.js';
import { createBanner } from './banner.js';
import { roomUrl, setUrl } from './router.js';
import { nameKey } from './members.js';
import { createPersistentRooms } from './persistent-rooms.js';
import { createPrivateRooms } from './private-rooms.js';
import { explainPrivateError } from './conversation-api.js';
import { roomKind, roomHeading } from './room-names.js';
import { createMessageActions } from './message-actions.js';
import { errorText, SENDING } from './error-text.js';
import { mentionsMe } from './mentions.js';
import { createNotifier } from './notify.js';

/** How long opening a room waits for the connection. */
const CONNECT_WAIT_MS = 10000;
const CONNECTION_ERRORS = new Set(['disconnected', 'timeout', 'offline']);
/** Send refusals that pass by themselves: a toast, not a line in the log. */
const PASSING_ERRORS = new Set(['rate_limited', ...CONNECTION_ERRORS]);
/** The lobby's topic line: it keeps nothing. */
const LOBBY_TOPIC = 'The lobby is not stored: messages vanish when you leave or the server restarts.';
/** Why a room went away, by `room_removed` reason; `label` is `#slug` or a private room's name. */
const REMOVED = {
  left: (label) => `You left ${label}.`,
  removed: (label) => `You were removed from ${label}.`,
  banned: (label) => `You were banned from ${label}.`,
  deleted: (label) => `${label} was deleted.`,
};

/** A sentence for `err` about `room` (a record or a wire name). */
function explain(room, err) {
  const kind = typeof room === 'string' ? roomKind(room) : room.kind;
  return kind === 'room' || kind === 'lobby' ? explainRoomError(err) : explainPrivateError(err);
}

/**
 * @param {object} hooks
 * @param {(room: object|null, previous: string|null) => void} hooks.onSwitch the open room changed
 * @param {(count: number) => void} hooks.onMemberCount the open room's member count
 * @param {(total: number, mentions: number) => void} hooks.onUnreadTotal unread messages
 *   outside the open room, and how many of them mention the user
 * @param {() => void} hooks.onIncoming someone else's message arrived (any room)
 * @param {(room: object) => void} [hooks.onRoomUpdated] the open room's settings changed
 * @param {(room: object, quote: {seq: number, author: string, text: string}) => void} [hooks.onReply]
 *   "Reply" was pressed on a message of `room`
 * @param {() => void} [hooks.onUpgrade] a guest chose to keep its name as an account (a state
 *   card that says something needs one)
 */
export function createRooms({
  onSwitch, onMemberCount, onUnreadTotal, onIncoming, onRoomUpdated = () => {}, onReply = () => {},
  onUpgrade = () => {},
}) {
  const $ = (id) => document.getElementById(id);
  const rooms = createRoomList();
  let session = null; // {gateway, me}
  let shown = null; // slug of the room or state card on screen
  let showingRoom = false; // false while a state card is shown
  let openCount = 0; // newest open(); older ones that finish late must not switch rooms
  let whenReady = null; // the first handshake's promise: routes wait for the room list

  const banner = createBanner();
  const notifier = createNotifier({ bell: $('notify-toggle'), select: $('room-notify') }, {
    onOpen: (slug) => { if (session) open(slug); },
    onNote: (text) => banner.show(text),
  });
  // `#room` in messages links to the rooms this identity's list holds (markup.js).
  setRoomRefs({
    visible: (slug) => {
      const room = rooms.get(slug);
      return Boolean(room) && (room.kind === 'lobby' || (room.kind === 'room' && room.access !== 'requested'));
    },
    open: (slug) => { open(slug); },
  });
  const toLobby = { label: 'Go to the lobby', onClick: () => open(LOBBY) };
  /** A guest's way past "needs an account": keep the name as one (account-upgrade.js). */
  const toAccount = {
    label: 'Keep your name — create an account', id: 'room-state-upgrade', primary: true, onClick: () => onUpgrade(),
  };
  const persistent = createPersistentRooms(kindContext());
  const privateRooms = createPrivateRooms(kindContext());
  const sidebar = createSidebar($('room-list'), {
    onSelect: (slug) => open(slug),
    onAction: (action, slug) => privateRooms.action(action, slug),
    onGroupAction: (id) => privateRooms.groupAction(id),
  });
  const view = createRoomView({
    onInvite: () => persistent.invite(shown),
    onSettings: () => persistent.settings(rooms.get(shown)),
    onRequests: () => persistent.requests(shown),
    onLeave: () => persistent.leave(shown),
  });

  const isGuest = () => session?.me.kind === 'guest';
  const isOwn = (author) => typeof author?.name === 'string' && Boolean(session)
    && nameKey(author.name) === nameKey(session.me.name);
  const isShown = (slug) => showingRoom && shown === slug;
  const activeRoom = () => (showingRoom ? rooms.get(shown) ?? null : null);
  /** How sentences name a room: `#slug`, or a private room's name (the peer, `Room CODE`). */
  const label = (slug) => {
    const room = rooms.get(slug);
    return room && room.kind !== 'room' ? room.name : `#${slug}`;
  };

  function render() {
    sidebar.render(rooms.ordered(), shown, { actions: session ? privateRooms.groupActions() : {} });
    onUnreadTotal(rooms.unreadTotal(), rooms.mentionTotal());
  }

  function ensurePane(room) {
    if (!room.pane) {
      // Kept on the record too: a search result jumps to a message through it (showMessage).
      room.actions = createMessageActions(room, {
        me: () => session?.me ?? null,
        gateway: () => session?.gateway ?? null,
        loadOlder: () => (session ? loadOlder(session.gateway, room, isOwn) : Promise.resolve()),
        onReply,
      });
      room.pane = createRoomPane(room.slug, {
        onNearTop: () => loadOlder(session.gateway, room, isOwn),
        onMemberCount,
        messages: room.actions,
      });
      room.pane.members.setSelf(session.me.name);
    }
    return room.pane;
  }

  // ---- joining ------------------------------------------------------------------------------

  /** Joins (or re-joins) a member room, conversation or 1-on-1 room on the current connection. */
  async function join(room) {
    ensurePane(room);
    const { room: ack, missed } = await joinRoom(session.gateway, room, isOwn);
    merge(room, ack);
    if (room.kind === 'room') persistent.joined(room);
    else privateRooms.joined(room);
    // A conversation's or a room's unread count comes from the server's list (read again
    // before every join), which already holds these.
    const others = missed.filter((m) => !isOwn(m.author));
    if (others.length && room.kind === 'ephemeral') {
      countMentions(room, others.filter(mentionsMe).length);
      countUnread(room, others.length);
    }
  }

  /** Joins a room in the background (an event made it appear); else the next connect does. */
  function attach(room) {
    if (session?.gateway.state !== 'online') return;
    const s = session;
    join(room).then(render, (err) => {
      if (s === session && !CONNECTION_ERRORS.has(err.code)) drop(room.slug, `${label(room.slug)}: ${explain(room, err)}`);
    });
  }

  /** The handshake's part, on every connect: the lobby, the lists, every room to be in. */
  async function handshake(gw) {
    const lobby = rooms.get(LOBBY);
    const joined = await gw.request('join', { room: LOBBY });
    lobby.pane.members.reset(joined.members, memberPaging(gw, LOBBY, joined));
    await persistent.refreshList();
    await privateRooms.refresh({ guest: isGuest() });
    await Promise.all(rooms.joinable().map((room) => join(room).catch((err) => {
      if (CONNECTION_ERRORS.has(err.code)) throw err; // the handshake fails and is retried
      drop(room.slug, `${label(room.slug)}: ${explain(room, err)}`);
    })));
    render();
  }

  // ---- showing ------------------------------------------------------------------------------

  /** Puts `path` in the address bar; `push` undefined (or no path) leaves the address alone. */
  function syncUrl(path, push) {
    if (push !== undefined && path) setUrl(path, { replace: !push });
  }

  function select(room, { push } = {}) {
    const previous = showingRoom ? shown : null;
    for (const other of rooms.values()) if (other !== room) other.pane?.hide();
    room.pane.show();
    shown = room.slug;
    showingRoom = true;
    room.unread = 0;
    room.mentions = 0;
    view.showRoom(room);
    notifier.setRoom(room);
    syncUrl(roomUrl(room.slug), push);
    render();
    onSwitch(room, previous);
    persistent.shown(room);
    privateRooms.shown(room);
  }

  /**
   * Shows the state card about `slug` (null: about no room, such as an invite).
   * @param {object} options `push` as for select(); `heading`, `code` and `actions` for the card
   */
  function showState(slug, text, { push, heading = roomHeading(slug), code = '', actions = [] } = {}) {
    const previous = showingRoom ? shown : null;
    for (const room of rooms.values()) room.pane?.hide();
    shown = slug;
    showingRoom = false;
    view.showState(heading, text, { code, actions });
    notifier.setRoom(null);
    if (slug) syncUrl(roomUrl(slug), push);
    render();
    onSwitch(null, previous);
    privateRooms.shown(null);
  }

  /** Opens a room by name: shows it, joins it first, or explains why it cannot be shown. */
  async function open(slug, { push = true } = {}) {
    const ticket = ++openCount;
    const room = rooms.get(slug);
    const kind = roomKind(slug);
    if (room?.pane) {
      select(room, { push });
      return;
    }
    if (kind === 'whisper') { // a closed whisper tab has nothing to show
      open(LOBBY, { push: false });
      return;
    }
    if (privateRooms.showUnjoined(room, { push }) || persistent.showUnjoined(slug, room, { push })) return;
    if (isGuest() && kind === 'pm') { // a guest's rooms: persistent-rooms.js, guest-rooms.js
      showState(slug, explain(slug, { code: 'registration_required' }),
        { push, code: 'registration_required', actions: [toAccount, toLobby] });
      return;
    }
    showState(slug, `Opening ${label(slug)}…`, { push, code: 'opening' });
    const record = room ?? roomRecord(slug, privateRooms.fields(slug));
    try {
      if (session.gateway.state !== 'online') await session.gateway.whenOnline(CONNECT_WAIT_MS);
      await join(record);
    } catch (err) {
      if (!room?.pane) {
        record.pane?.destroy();
        record.pane = null;
      }
      if (ticket === openCount) unavailable(slug, err);
      return;
    }
    rooms.add(record);
    if (ticket === openCount) select(record, { push: false });
    else render();
  }

  /** The state card for a room that could not be opened. */
  function unavailable(slug, err) {
    if (roomKind(slug) === 'room') {
      persistent.unavailable(slug, err);
      return;
    }
    const card = privateRooms.unavailable(slug, err);
    if (!rooms.get(slug)?.pane && !CONNECTION_ERRORS.has(err.code)) rooms.delete(slug);
    showState(slug, card?.text ?? explain(slug, err), { code: err.code, actions: [...(card?.actions ?? []), toLobby] });
  }

  /** Forgets a room; if it was on screen, the lobby takes its place. */
  function forget(slug) {
    const room = rooms.get(slug);
    if (!room) return false;
    room.pane?.destroy();
    rooms.delete(slug);
    persistent.forget(slug);
    if (shown === slug) open(LOBBY, { push: false });
    else render();
    return true;
  }

  /** Forgets a room the user is no longer in, saying why. */
  function drop(slug, message) {
    if (forget(slug)) banner.show(message);
  }

  // ---- server events ------------------------------------------------------------------------

  function countUnread(room, count) {
    if (isShown(room.slug)) return;
    room.unread += count;
    render();
  }

  /** Messages mentioning the user arrived in a room not on screen: its badge says so. */
  function countMentions(room, count) {
    if (!count || isShown(room.slug)) return;
    room.mentions = (room.mentions ?? 0) + count;
  }

  /** Someone else's new message in `room`: mention badge, alert, the tab title's count. */
  function incoming(room, message) {
    countMentions(room, mentionsMe(message) ? 1 : 0);
    notifier.message(room, message);
    render();
    onIncoming();
  }

  /** A badge or a name (`was`) changed: every member list showing that user follows. */
  function userUpdated(user, was) {
    if (typeof user?.name !== 'string') return;
    for (const room of rooms.values()) room.pane?.members.update(user, was);
  }

  /**
   * Applies a server event (those about the connection itself are chat.js's); true when one
   * of the private kinds took it (chat.js asks so about `error` events, which the companion
   * explains in its conversation).
   */
  function handleEvent(event, data) {
    if (privateRooms.handleEvent(event, data)) return true;
    if (event === 'user_updated' || event === 'user_renamed') {
      userUpdated(data.user, data.from);
      return;
    }
    if (event === 'rooms_changed') {
      persistent.roomsChanged();
      return;
    }
    if (event === 'moved' && typeof data.room === 'string') {
      const moved = `${data.by ?? 'An admin'} moved you here.`;
      open(data.room).then(() => rooms.get(data.room)?.pane?.log.addNotice(moved, 'info'));
      return;
    }
    const slug = typeof data.room === 'string' ? data.room : data.room?.slug;
    if (typeof slug !== 'string' || persistent.handleEvent(event, slug, data)) return;
    if (event === 'room_removed') {
      drop(slug, (REMOVED[data.reason] ?? REMOVED.removed)(label(slug)));
      return;
    }
    const room = rooms.get(slug);
    if (!room?.pane) return;
    if (applyPaneEvent(room.pane, slug, event, data, isOwn)) {
      countUnread(room, 1);
      incoming(room, data);
    }
    if (event === 'message') {
      privateRooms.afterMessage(room, data.seq);
      persistent.afterMessage(room);
    }
  }

  /** What the per-kind modules may do with the rooms of the session. */
  function kindContext() {
    return {
      rooms,
      banner,
      toLobby,
      toAccount,
      session: () => session,
      gateway: () => session?.gateway ?? null,
      me: () => session?.me ?? null,
      isGuest: () => isGuest(),
      isOwn: (user) => isOwn(user),
      isShown: (slug) => isShown(slug),
      /** Whether the state card about `slug` is on screen. */
      stateShown: (slug) => !showingRoom && shown === slug,
      ensurePane: (room) => ensurePane(room),
      join: (room) => join(room),
      attach: (room) => attach(room),
      open: (slug, options) => open(slug, options),
      showState: (slug, text, options) => showState(slug, text, options),
      forget: (slug) => forget(slug),
      drop: (slug, message) => drop(slug, message),
      render: () => render(),
      countUnread: (room, count) => countUnread(room, count),
      /** Someone else's new message in `room` (`message` as the log shows it). */
      onIncoming: (room, message) => incoming(room, message),
      /** Redraws the header of `room` if it is on screen (its state or topic changed). */
      refreshView: (room) => {
        if (!isShown(room.slug)) return;
        view.showRoom(room);
        onRoomUpdated(room);
      },
      setTopic: (slug, text) => {
        if (isShown(slug)) view.setTopic(text);
      },
      setRequestCount: (slug, count) => {
        if (shown === slug) view.setRequestCount(count);
      },
    };
  }

  // ---- the session --------------------------------------------------------------------------

  return {
    handshake,
    handleEvent,

    /** Starts with a new identity: only the lobby, shown. */
    begin(s, ready) {
      session = s;
      whenReady = ready;
      const lobby = roomRecord(LOBBY, { name: 'Lobby', topic: LOBBY_TOPIC, access: 'member' });
      rooms.add(lobby);
      ensurePane(lobby);
      persistent.begin(isGuest());
      select(lobby);
    },

    /** Forgets everything of the identity (sign-out). */
    end() {
      privateRooms.stop();
      for (const room of rooms.values()) room.pane?.destroy();
      rooms.clear();
      session = null;
      shown = null;
      showingRoom = false;
      banner.hide();
      sidebar.render([], null);
    },

    /**
     * Takes the whisper tabs out of the session, panes and all, so that end() leaves them: a
     * guest who became an account keeps them (adoptWhispers() puts them back). Returns them
     * and the one on screen, if any.
     */
    takeWhispers() {
      const tabs = rooms.values().filter((room) => room.kind === 'whisper' && room.pane);
      const onScreen = tabs.find((room) => isShown(room.slug)) ?? null;
      for (const room of tabs) {
        rooms.delete(room.slug);
        room.pane.hide();
      }
      return { tabs, onScreen };
    },

    /**
     * Puts back the whisper tabs of the guest this session's account was (takeWhispers()),
     * says in each what changed, and shows again the one that was on screen.
     */
    adoptWhispers({ tabs, onScreen }) {
      if (!session) {
        for (const room of tabs) room.pane.destroy();
        return;
      }
      for (const room of tabs) {
        rooms.add(room);
        room.pane.members.setSelf(session.me.name);
        room.pane.members.update(session.me);
        room.pane.log.addNotice(`You have an account now. Whispers need a guest on one side: if ${room.peer} `
          + 'has an account too, start a conversation to keep talking. This tab stays until you reload.', 'info');
      }
      if (onScreen && rooms.get(onScreen.slug) === onScreen) select(onScreen);
      else render();
    },

    /** Opens what a route names, once the room list is known. */
    async openRoute(route, { push = false } = {}) {
      const s = session;
      if (route.name !== 'lobby') {
        const heading = route.name === 'invite' ? 'Invite' : roomHeading(route.slug);
        showState(route.slug ?? null, 'Connecting…', { heading, code: 'opening' });
        await whenReady;
      }
      if (s !== session) return;
      if (route.name === 'invite') {
        await persistent.redeem(route.token);
      } else if (route.name === 'room') {
        const slug = await privateRooms.resolve(route.slug); // a share link `/room/<CODE>`?
        if (s === session) await open(slug, { push });
      } else {
        await open(LOBBY, { push });
      }
    },

    /** The open room's record, or null while a state card is shown. */
    activeRoom,

    /** The rooms a search may be narrowed to: joined rooms, conversations, live 1-on-1s. */
    searchable: () => rooms.joinable().filter((room) => room.pane),

    /**
     * Opens room `slug` and shows its message `seq` in context (older history loaded until
     * it is there), highlighted; a search result's way in. Resolves whether it was shown.
     */
    async showMessage(slug, seq) {
      const s = session;
      if (!s || typeof slug !== 'string') return false;
      await open(slug);
      const room = rooms.get(slug);
      if (s !== session || !room?.actions || !isShown(slug)) return false;
      // Let the freshly shown log lay out (and settle at its end) before scrolling inside it.
      await new Promise((resolve) => { requestAnimationFrame(() => requestAnimationFrame(resolve)); });
      if (s !== session || !isShown(slug)) return false;
      return room.actions.jumpTo(seq, 'That message is no longer in this room’s history.');
    },

    /**
     * Sends to the open room, with the ids of uploaded files and the seq of the message it
     * replies to; resolves true when the server took it.
     */
    async send(text, attachments = [], { replyTo = null } = {}) {
      const room = activeRoom();
      if (!room || !session || room.closed) return false;
      const s = session;
      if (attachments.length && room.kind === 'whisper') {
        room.pane?.log.addNotice('Whispers cannot carry files.', 'error');
        return false;
      }
      try {
        if (!await privateRooms.send(room, text)) await sendMessage(s.gateway, room, text, attachments, replyTo);
        return true;
      } catch (err) {
        if (s !== session) return false;
        // A whisper's refusal comes as its own sentence (whispers.js), naming the peer.
        const why = SENDING[err.code] ? errorText(err, SENDING)
          : room.kind === 'whisper' ? err.message : explain(room, err);
        // A refusal that passes (too fast, offline) is a toast; one that lasts stays in the log.
        if (PASSING_ERRORS.has(err.code)) banner.show(`Message not sent: ${why}`, 'error');
        else room.pane?.log.addNotice(`Message not sent: ${why}`, 'error');
        return false;
      }
    },

    /** A connection notice in the open room (or the lobby behind a state card). */
    notice(text, kind) {
      (activeRoom() ?? rooms.get(LOBBY))?.pane?.log.addNotice(text, kind);
    },

    /** Forgets who is typing everywhere (the connection dropped). */
    clearTyping() {
      for (const room of rooms.values()) room.pane?.typing.clear();
    },
  };
}
