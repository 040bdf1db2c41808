/**
 * The rooms of one signed-in session: the lobby plus the persistent rooms of `GET /api/rooms`,
 * which one is open, and what server events do to them.
 *
 * Every room the user is a member of is joined on every (re)connect, so its events arrive even
 * while another room is on screen (they count as unread). Opening a room that is not joined
 * yet (a public room, a link) joins it; one the caller cannot see gets a state card with the
 * options that make sense. The open room is mirrored in the address bar. Per-room DOM lives in
 * room-pane.js, the records in room-list.js, gateway traffic in room-sync.js, in-room events in
 * room-events.js, the dialogs in their own modules.
 */

import {
  LOBBY, listRooms, leaveRoom, redeemInvite, requestAccess, isCreatableSlug, explainRoomError,
} from './room-api.js';
import { createRoomList, roomRecord, merge } from './room-list.js';
import { createRoomPane } from './room-pane.js';
import { joinRoom, loadOlder, sendMessage } from './room-sync.js';
import { applyPaneEvent } from './room-events.js';
import { createSidebar } from './sidebar.js';
import { createRoomView } from './room-view.js';
import { createRoomDialog } from './create-room.js';
import { createInviteDialog } from './invite.js';
import { createSettingsDialog } from './room-settings.js';
import { createRequests } from './requests.js';
import { createBanner } from './banner.js';
import { roomUrl, setUrl } from './router.js';
import { nameKey } from './members.js';

/** How long opening a room waits for the connection. */
const CONNECT_WAIT_MS = 10000;
const CONNECTION_ERRORS = new Set(['disconnected', 'timeout', 'offline']);
const MODERATORS = new Set(['owner', 'admin']);
const REMOVED = {
  left: (slug) => `You left #${slug}.`,
  removed: (slug) => `You were removed from #${slug}.`,
  banned: (slug) => `You were banned from #${slug}.`,
  deleted: (slug) => `#${slug} was deleted.`,
};

/**
 * @param {object} hooks
 * @param {(room: object|null, previous: string|null) => void} hooks.onSwitch the open room changed
 * @param {(count: number) => void} hooks.onMemberCount the open room's member count
 * @param {(total: number) => void} hooks.onUnreadTotal unread messages outside the open room
 * @param {() => void} hooks.onIncoming someone else's message arrived (any room)
 */
export function createRooms({ onSwitch, onMemberCount, onUnreadTotal, onIncoming }) {
  const $ = (id) => document.getElementById(id);
  const rooms = createRoomList();
  let session = null; // {gateway, me}
  let shown = null; // slug of the room or state card on screen
  let showingRoom = false; // false while a state card is shown
  let openCount = 0; // newest open(); older ones that finish late must not switch rooms
  let whenReady = null; // the first handshake's promise: routes wait for the room list

  const banner = createBanner();
  const sidebar = createSidebar($('room-list'), { onSelect: (slug) => open(slug) });
  const view = createRoomView({
    onInvite: () => inviteDialog.open(shown),
    onSettings: () => settingsDialog.open(rooms.get(shown), { isOwner: rooms.get(shown)?.role === 'owner' }),
    onRequests: () => requests.open(shown),
    onLeave: () => leave(shown),
  });
  const createDialog = createRoomDialog({ onCreated: (room) => created(room) });
  const inviteDialog = createInviteDialog();
  const settingsDialog = createSettingsDialog({
    onSaved: (room) => updated(room),
    onDeleted: (slug) => drop(slug, REMOVED.deleted(slug)),
  });
  const requests = createRequests({
    onCount: (slug, count) => {
      if (shown === slug) view.setRequestCount(count);
    },
  });
  $('room-new').addEventListener('click', () => createDialog.open());

  const isGuest = () => session?.me.kind === 'guest';
  const isOwn = (author) => typeof author?.name === 'string' && nameKey(author.name) === nameKey(session.me.name);
  const activeRoom = () => (showingRoom ? rooms.get(shown) ?? null : null);

  function render() {
    sidebar.render(rooms.ordered(), shown);
    onUnreadTotal(rooms.unreadTotal());
  }

  function ensurePane(room) {
    if (!room.pane) {
      room.pane = createRoomPane(room.slug, {
        onNearTop: () => loadOlder(session.gateway, room, isOwn),
        onMemberCount,
      });
      room.pane.members.setSelf(session.me.name);
    }
    return room.pane;
  }

  // ---- the room list ------------------------------------------------------------------------

  /** Reloads `GET /api/rooms`; rooms the user has lost while away are closed. */
  async function refreshList() {
    if (!session || isGuest()) return;
    const s = session;
    let listed;
    try {
      listed = await listRooms();
    } catch (err) {
      if (s === session) banner.show(`Could not load the rooms: ${explainRoomError(err)}`, 'error');
      return;
    }
    if (s !== session) return;
    for (const room of rooms.applyListing(listed)) {
      drop(room.slug, `You are no longer a member of #${room.slug}.`);
      const item = listed.find((l) => l.slug === room.slug);
      if (item) rooms.add(roomRecord(item.slug, item)); // still listed, e.g. a public room
    }
    render();
  }

  // ---- joining ------------------------------------------------------------------------------

  /** Joins (or re-joins) a member room on the current connection. */
  async function join(room) {
    ensurePane(room);
    const { room: ack, missed } = await joinRoom(session.gateway, room, isOwn);
    merge(room, ack);
    room.access = 'member';
    const others = missed.filter((m) => !isOwn(m.author));
    if (others.length) countUnread(room, others.length);
  }

  /** The handshake's part, on every connect: the lobby, the room list, every member room. */
  async function handshake(gw) {
    const lobby = rooms.get(LOBBY);
    const joined = await gw.request('join', { room: LOBBY });
    lobby.pane.members.reset(joined.members);
    if (isGuest()) {
      render();
      return;
    }
    await refreshList();
    await Promise.all(rooms.memberRooms().map((room) => join(room).catch((err) => {
      if (CONNECTION_ERRORS.has(err.code)) throw err; // the handshake fails and is retried
      drop(room.slug, `#${room.slug}: ${explainRoomError(err)}`);
    })));
    render();
  }

  // ---- opening ------------------------------------------------------------------------------

  /** Puts `path` in the address bar; `push` undefined leaves the address alone. */
  function syncUrl(path, push) {
    if (push !== undefined) setUrl(path, { replace: !push });
  }

  function select(room, { push } = {}) {
    const previous = showingRoom ? shown : null;
    for (const other of rooms.values()) if (other !== room) other.pane?.hide();
    room.pane.show();
    shown = room.slug;
    showingRoom = true;
    room.unread = 0;
    view.showRoom(room);
    syncUrl(roomUrl(room.slug), push);
    render();
    onSwitch(room, previous);
    view.setRequestCount(requests.count(room.slug));
    if (MODERATORS.has(room.role) && room.private) requests.load(room.slug);
  }

  /**
   * Shows the state card about `slug` (null: about no room, such as an invite).
   * @param {object} options `push` as for select(); `heading`, `code` and `actions` for the card
   */
  function showState(slug, text, { push, heading = `#${slug}`, code = '', actions = [] } = {}) {
    const previous = showingRoom ? shown : null;
    for (const room of rooms.values()) room.pane?.hide();
    shown = slug;
    showingRoom = false;
    view.showState(heading, text, { code, actions });
    if (slug) syncUrl(roomUrl(slug), push);
    render();
    onSwitch(null, previous);
  }

  const toLobby = { label: 'Go to the lobby', onClick: () => open(LOBBY) };

  /** Opens a room by slug: shows it, joins it first, or explains why it cannot be shown. */
  async function open(slug, { push = true } = {}) {
    const ticket = ++openCount;
    const room = rooms.get(slug);
    if (room?.pane) {
      select(room, { push });
      return;
    }
    if (isGuest()) {
      showState(slug, explainRoomError({ code: 'registration_required' }),
        { push, code: 'registration_required', actions: [toLobby] });
      return;
    }
    if (room?.access === 'requested') {
      showState(slug, `You asked to join #${slug}. Its owner has not decided yet.`, { push, code: 'requested', actions: [toLobby] });
      return;
    }
    if (room?.access === 'invited') {
      showState(slug, `You are invited to #${slug}. Open the invite link you were sent to join it.`,
        { push, code: 'invited', actions: [toLobby] });
      return;
    }
    showState(slug, `Opening #${slug}…`, { push, code: 'opening' });
    const record = room ?? roomRecord(slug);
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
    if (err.code !== 'not_found') {
      showState(slug, explainRoomError(err), { code: err.code, actions: [toLobby] });
      return;
    }
    const actions = [];
    if (isCreatableSlug(slug)) {
      actions.push({ label: `Create #${slug}`, id: 'room-state-create', primary: true, onClick: () => createDialog.open(slug) });
      actions.push({ label: 'Ask to join', id: 'room-state-request', onClick: () => askToJoin(slug) });
    }
    actions.push(toLobby);
    showState(slug, `There is no room #${slug}, or it is private.`, { code: 'not_found', actions });
  }

  async function askToJoin(slug) {
    try {
      await requestAccess(slug);
    } catch (err) {
      showState(slug, explainRoomError(err), { code: err.code, actions: [toLobby] });
      return;
    }
    await refreshList();
    showState(slug, `Request sent. If #${slug} is a private room, its owner will decide.`,
      { code: 'requested', actions: [toLobby] });
  }

  /** Redeems `/invite/<token>` and opens its room in place of the invite address. */
  async function redeem(token) {
    const heading = 'Invite';
    if (isGuest()) {
      showState(null, explainRoomError({ code: 'registration_required' }),
        { heading, code: 'registration_required', actions: [toLobby] });
      return;
    }
    showState(null, 'Opening the invite…', { heading, code: 'opening' });
    let room;
    try {
      room = await redeemInvite(token);
    } catch (err) {
      const text = err.code === 'not_found' ? 'This invite link is not valid.' : explainRoomError(err);
      showState(null, text, { heading, code: err.code, actions: [toLobby] });
      return;
    }
    await refreshList();
    await open(room.slug, { push: false });
  }

  // ---- changes made here --------------------------------------------------------------------

  async function created(made) {
    await refreshList();
    if (!rooms.has(made.slug)) rooms.add(roomRecord(made.slug, { access: 'member' }));
    merge(rooms.get(made.slug), made);
    await open(made.slug);
  }

  function updated(changed) {
    const room = rooms.get(changed?.slug);
    if (!room) return;
    merge(room, changed);
    if (shown === room.slug && showingRoom) view.showRoom(room);
    render();
  }

  async function leave(slug) {
    try {
      await leaveRoom(slug);
    } catch (err) {
      banner.show(`Could not leave #${slug}: ${explainRoomError(err)}`, 'error');
      return;
    }
    drop(slug, REMOVED.left(slug));
    refreshList();
  }

  /** Forgets a room the user is no longer in; if it was open, the lobby takes its place. */
  function drop(slug, message) {
    const room = rooms.get(slug);
    if (!room) return;
    room.pane?.destroy();
    rooms.delete(slug);
    requests.forget(slug);
    if (shown === slug) open(LOBBY, { push: false });
    else render();
    banner.show(message);
  }

  function requestArrived(slug, user) {
    requests.arrived(slug, user, rooms.get(slug)?.pane?.log);
    if (shown !== slug) banner.show(`${user} asks to join #${slug}.`);
  }

  async function accessDecided(slug, approved) {
    banner.show(approved ? `Your request to join #${slug} was approved.` : `Your request to join #${slug} was denied.`);
    await refreshList();
    const room = rooms.get(slug);
    if (approved && room && shown === slug && !showingRoom) await open(slug, { push: false });
    else if (approved && room && !room.pane) await join(room).catch(() => {});
    render();
  }

  // ---- server events ------------------------------------------------------------------------

  function countUnread(room, count) {
    if (showingRoom && shown === room.slug) return;
    room.unread += count;
    render();
  }

  /** Applies an event that names a room (`data.room`). */
  function handleEvent(event, data) {
    const slug = typeof data.room === 'string' ? data.room : data.room?.slug;
    const room = rooms.get(slug);
    switch (event) {
      case 'room_removed': drop(slug, (REMOVED[data.reason] ?? REMOVED.removed)(slug)); return;
      case 'access_decided': accessDecided(slug, Boolean(data.approved)); return;
      case 'access_requested': if (room) requestArrived(slug, String(data.user)); return;
      case 'room_updated': updated(data.room); return;
      default: break;
    }
    if (room?.pane && applyPaneEvent(room.pane, slug, event, data, isOwn)) {
      countUnread(room, 1);
      onIncoming();
    }
  }

  // ---- the session --------------------------------------------------------------------------

  return {
    handshake,
    handleEvent,

    /** Starts with a new identity: only the lobby, shown. */
    begin(s, ready) {
      session = s;
      whenReady = ready;
      const lobby = roomRecord(LOBBY, { name: 'Lobby', access: 'member' });
      rooms.add(lobby);
      ensurePane(lobby);
      $('room-new').hidden = isGuest();
      $('rooms-note').hidden = !isGuest();
      $('rooms-note').textContent = 'Rooms are for registered accounts.';
      select(lobby);
    },

    /** Forgets everything of the identity (sign-out). */
    end() {
      for (const room of rooms.values()) room.pane?.destroy();
      rooms.clear();
      session = null;
      shown = null;
      showingRoom = false;
      banner.hide();
      sidebar.render([], null);
    },

    /** Opens what a route names, once the room list is known. */
    async openRoute(route, { push = false } = {}) {
      const s = session;
      if (route.name !== 'lobby') {
        const heading = route.name === 'invite' ? 'Invite' : `#${route.slug}`;
        showState(route.slug ?? null, 'Connecting…', { heading, code: 'opening' });
        await whenReady;
      }
      if (s !== session) return;
      if (route.name === 'invite') await redeem(route.token);
      else await open(route.name === 'room' ? route.slug : LOBBY, { push });
    },

    /** The slug of the open room, or null while a state card is shown. */
    activeSlug: () => activeRoom()?.slug ?? null,

    /** Sends to the open room; resolves true when the server stored it. */
    async send(text) {
      const room = activeRoom();
      if (!room || !session) return false;
      const s = session;
      try {
        await sendMessage(s.gateway, room.slug, text);
        return true;
      } catch (err) {
        if (s === session) room.pane?.log.addNotice(`Message not sent: ${explainRoomError(err)}`, 'error');
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
