/**
 * The chat view of one signed-in identity: the gateway connection and everything around the
 * rooms.
 *
 * Owns the session life cycle (`enter()` starts one, `leave()` tears it down, so switching
 * identities never leaks sockets or timers), the gateway handshake (identify, then the rooms
 * join theirs), the header (identity, connection state, logout, "download my data" in
 * data-export.js), the two narrow-screen drawers
 * (rooms on the left, members on the right), the composer with outbound typing and its files
 * (attachment tray, attach button, drops, pastes, voice notes), the reply bar and mention
 * autocomplete (reply-bar.js, mention-complete.js), message search for accounts (search.js),
 * and the unread count in the tab title (tab-title.js). When a moderator closes the connection
 * it stops reconnecting and shows the blocking screen (closing-screen.js). Everything about
 * rooms is delegated to rooms.js, the admin panel (staff only, at `/admin`) to admin.js, the
 * settings panel to settings.js (which hears the identity and the events about preferences,
 * premium and renames).
 *
 * A guest may keep its name as an account (account-upgrade.js). The server then ends the guest
 * session, and its `closing` `session_revoked` is expected rather than news: the session is
 * marked as upgrading before the request goes out, so no "signed out" screen shows, and the
 * page enters the chat as the account the way a login does (`onSignedIn`), carrying the open
 * whisper tabs over. A password change and a deletion from the settings panel end the session
 * the same way: the first reconnects with the new session's cookie, the second signs out.
 */

import { get, post, describeError } from './api.js';
import { Gateway, gatewayUrl } from './net.js';
import { badgeFor, nameKey } from './members.js';
import { createTypingNotifier } from './typing.js';
import { createComposer } from './composer.js';
import { createAttachTray } from './attach-tray.js';
import { createComposerFiles } from './composer-files.js';
import { createRooms } from './rooms.js';
import { onRouteChange } from './router.js';
import { createAdminPanel } from './admin.js';
import { createClosingScreen } from './closing-screen.js';
import { createDataExport } from './data-export.js';
import { settingsPanel } from './settings.js';
import { noteUnread, resetTitle } from './tab-title.js';
import { createAccountUpgrade } from './account-upgrade.js';
import { createReplyBar } from './reply-bar.js';
import { createMentionComplete } from './mention-complete.js';
import { setSelfName } from './mentions.js';
import { createSearch } from './search.js';

const STATE_LABELS = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const isUser = (user) => Boolean(user) && typeof user.name === 'string';

/** The composer's placeholder for the room on screen (null: a state card). */
function placeholderFor(room) {
  switch (room?.kind) {
    case 'room': return `Message #${room.slug}`;
    case 'pm': return `Message ${room.peer}`;
    case 'whisper': return `Whisper to ${room.peer} (not stored)`;
    case 'ephemeral': return `Message ${room.name}`;
    default: return 'Message the lobby';
  }
}

/** The room typing indicators go to: not whisper tabs (no room on the server) or closed rooms. */
function typingRoomOf(room) {
  return room && room.kind !== 'whisper' && !room.closed ? room.slug : null;
}

/**
 * Wires the chat view once.
 * @param {object} options
 * @param {(message: string) => void} options.onSignedOut called after the session ends
 * @param {(profile: object) => void} options.onSignedIn enters the chat as `profile`, as a login
 *   does (a guest became an account)
 * @returns {{enter: (profile: object, route: object) => void, leave: () => void}}
 */
export function createChat({ onSignedOut, onSignedIn }) {
  const $ = (id) => document.getElementById(id);
  const view = $('chat-view');
  const connState = $('conn-state');
  const connLabel = $('conn-label');
  const logoutButton = $('logout');

  /** The current session, or null while signed out. Callbacks compare against it to drop stale work. */
  let session = null;
  let countdown = null;
  const drafts = new Map(); // room slug → unsent composer text
  let typingRoom = null; // the room the outbound typing state is about

  const rooms = createRooms({
    onSwitch: switched,
    onMemberCount: (count) => {
      $('member-count').textContent = String(count);
      $('members-toggle-count').textContent = String(count);
    },
    onUnreadTotal: (total, mentions) => {
      $('sidebar-unread').textContent = total > 0 ? String(total) : '';
      $('sidebar-unread').classList.toggle('badge-mention', mentions > 0);
    },
    onIncoming: noteUnread,
    onRoomUpdated: (room) => files.setRoom(room),
    onReply: (room, quote) => {
      if (rooms.activeRoom() !== room) return;
      replyBar.set(room.slug, quote);
      composer.focus();
    },
    onUpgrade: () => upgrade.open(),
  });
  const typingOut = createTypingNotifier((active) => {
    if (active) typingRoom = typingRoomOf(rooms.activeRoom());
    if (typingRoom) session?.gateway.request('typing', { room: typingRoom, active }).catch(() => {});
  });
  const tray = createAttachTray($('attach-tray'), { onChange: () => composer.refresh() });
  const composer = createComposer(
    { form: $('composer-form'), textarea: $('composer'), button: $('send') },
    {
      onSend: async (text, attachments) => {
        typingOut.stop();
        const replyTo = replyBar.seqFor(rooms.activeRoom()?.slug);
        const sent = await rooms.send(text, attachments, { replyTo });
        if (sent && replyTo !== null && replyBar.seqFor(rooms.activeRoom()?.slug) === replyTo) replyBar.clear();
        return sent;
      },
      onInput: (hasText) => {
        if (session?.gateway.state === 'online' && typingRoomOf(rooms.activeRoom())) typingOut.input(hasText);
      },
    },
    tray,
  );
  const replyBar = createReplyBar($('composer-form'), $('composer'));
  const mentions = createMentionComplete($('composer-form'), $('composer'),
    () => (session && rooms.activeRoom() ? { room: rooms.activeRoom(), me: session.me } : null));
  const files = createComposerFiles({
    attach: $('attach'),
    input: $('attach-input'),
    record: $('record'),
    recordTime: $('record-time'),
    recordDiscard: $('record-discard'),
    dropZone: view.querySelector('.chat-main'),
    textarea: $('composer'),
  }, { tray, onError: (text) => rooms.notice(text, 'error') });
  const admin = createAdminPanel();
  const closingScreen = createClosingScreen();
  const dataExport = createDataExport($('export-data'));
  const account = settingsPanel(); // with Premium and Companion
  account.connect({ // a password change or a deletion ends this session as an upgrade does
    onStart: upgradeStarting, onDone: sessionReplaced, onFailed: upgradeFailed,
    onSignedOut: (s, message) => { if (s && s === session) signOut(message); },
  });
  const search = createSearch([$('search-open'), $('search-open-rooms')], {
    rooms: () => (session ? rooms.searchable() : []),
    onOpen: (hit) => { if (session) rooms.showMessage(hit.room, hit.seq); },
  });
  const upgrade = createAccountUpgrade([$('upgrade-open'), $('rooms-upgrade'), $('prefs-upgrade')], {
    onStart: upgradeStarting,
    onDone: upgraded,
    onFailed: upgradeFailed,
  });
  onRouteChange((route) => session && openRoute(route));

  /** Opens what an address names: the admin panel over the chat, or a room. */
  function openRoute(route) {
    if (route.name === 'admin' && admin.open({ push: false })) return;
    admin.close({ push: false });
    // Not staff (any more): the lobby, which also takes `/admin` out of the address bar.
    rooms.openRoute(route.name === 'admin' ? { name: 'lobby' } : route);
  }

  // ---- session life cycle -------------------------------------------------------------------

  /** Starts a session for `profile` (a REST Profile) and opens `route` once connected. */
  function enter(profile, route) {
    leave();
    let ready;
    const s = {
      me: { name: profile.username ?? profile.name, kind: profile.kind, role: profile.role },
      gateway: null,
      ready: new Promise((resolve) => { ready = resolve; }),
      markReady: () => ready(),
      joinedBefore: false,
      wasOnline: false,
      expectClose: false,
      loggingOut: false,
      upgrading: false, // a guest is becoming an account: the end of its session is expected
      revoked: false, // the guest session ended while upgrading
    };
    drafts.clear();
    composer.reset();
    tray.reset();
    s.gateway = new Gateway({
      url: gatewayUrl(),
      handshake: (gw) => handshake(s, gw),
      onEvent: (event, data) => { if (s === session) handleEvent(event, data); },
      onState: (state, info) => { if (s === session) renderState(state, info); },
    });
    session = s;
    renderMe();
    rooms.begin(s, s.ready);
    s.gateway.start();
    openRoute(route);
    composer.focus();
  }

  function leave() {
    if (!session) return;
    const s = session;
    session = null;
    s.gateway.stop();
    rooms.end();
    admin.setIdentity(null);
    dataExport.setIdentity(null);
    account.setIdentity(null);
    upgrade.setIdentity(null);
    search.setIdentity(null);
    closingScreen.hide();
    clearInterval(countdown);
    typingOut.reset();
    files.reset();
    tray.reset();
    replyBar.clear();
    mentions.close();
    setDrawer(null);
    setSelfName('');
    logoutButton.disabled = false;
    resetTitle();
  }

  function signOut(message = '') {
    if (!session) return;
    leave();
    onSignedOut(message);
  }

  async function handshake(s, gw) {
    try {
      const identity = await gw.request('identify', {});
      if (s !== session) throw new Error('stale session');
      if (isUser(identity.user)) {
        const was = s.me.name; // a rename (`closing: renamed`) comes back under the new name
        s.me = identity.user;
        renderMe();
        if (nameKey(was) !== nameKey(s.me.name)) rooms.handleEvent('user_renamed', { from: was, user: s.me });
      }
      await rooms.handshake(gw);
      if (s !== session) throw new Error('stale session');
      if (s.joinedBefore) rooms.notice('Reconnected.', 'connection');
      s.joinedBefore = true;
      s.markReady();
    } catch (err) {
      if (s === session) {
        if (err.code === 'unauthenticated') {
          if (!s.upgrading) signOut('Your session has ended. Please sign in again.');
        } else if (err.code && !['disconnected', 'timeout', 'offline'].includes(err.code)) {
          rooms.notice(`Could not connect: ${describeError(err)}`, 'error');
        }
      }
      throw err;
    }
  }

  // ---- server events ------------------------------------------------------------------------

  function handleEvent(event, data) {
    if (event === 'error') {
      if (!rooms.handleEvent(event, data)) rooms.notice(describeError(data), 'error');
    } else if (event === 'closing') {
      handleClosing(data);
    } else {
      if (event === 'user_updated') selfUpdated(data.user);
      account.handleEvent(event, data); // premium, preferences from another device, renames
      rooms.handleEvent(event, data);
    }
  }

  /** Our own role or verified badge changed. */
  function selfUpdated(user) {
    if (!isUser(user) || user.name.toLowerCase() !== session.me.name.toLowerCase()) return;
    session.me = { ...session.me, ...user };
    renderMe();
  }

  function handleClosing({ reason, message, detail }) {
    session.expectClose = true; // the close that follows needs no "connection lost" notice
    if (reason === 'session_revoked') {
      if (session.upgrading) {
        // The guest became an account: upgraded() carries on once the POST returns. No
        // reconnecting meanwhile: the old session's cookie opens nothing any more.
        session.revoked = true;
        session.gateway.stop();
        return;
      }
      // During our own logout the click handler finishes the job once the POST returns.
      if (!session.loggingOut) signOut('You were signed out: this session was ended.');
      return;
    }
    if (reason === 'session_expired') {
      signOut('You were signed out: this session expired.');
      return;
    }
    if (reason === 'banned' || reason === 'kicked') {
      closedByModerator(reason, message, detail);
      return;
    }
    const text = reason === 'shutdown' ? 'The server is restarting. Reconnecting…'
      : reason === 'renamed' ? 'Your name changed. Reconnecting under the new one…'
        : `Disconnected by the server (${message || reason}). Reconnecting…`;
    rooms.notice(text, 'connection');
  }

  /**
   * Kicked or banned: no reconnecting behind the blocking screen. A kick may come back at once
   * ("Reconnect"); a ban only leaves (its session is revoked anyway).
   */
  function closedByModerator(reason, message, detail) {
    const s = session;
    s.gateway.stop();
    admin.close();
    if (reason === 'kicked') {
      rooms.notice('A moderator disconnected you.', 'error');
      closingScreen.kicked(message, () => s === session && s.gateway.start());
      return;
    }
    rooms.notice('You have been banned.', 'error');
    closingScreen.banned(message, detail ?? '',
      () => s === session && signOut('You are banned from this chat.'));
  }

  // ---- a guest becomes an account ------------------------------------------------------------

  /** The upgrade's request is about to go out; returns the session it is about. */
  function upgradeStarting() {
    if (session) session.upgrading = true;
    return session;
  }

  /** The account exists: the page enters the chat as it, keeping the open whisper tabs. */
  function upgraded(s, profile) {
    if (!s || s !== session) return;
    const whispers = rooms.takeWhispers();
    onSignedIn(profile);
    rooms.adoptWhispers(whispers);
  }

  /** Our password changed: the server replaced this session, so reconnect with the new cookie. */
  function sessionReplaced(s) {
    if (!s || s !== session) return;
    Object.assign(s, { upgrading: false, revoked: false, expectClose: true });
    s.gateway.stop();
    s.gateway.start();
  }

  /**
   * The upgrade was refused, or its answer lost. If the guest session ended all the same (the
   * account was made), the server knows who this page is now.
   */
  async function upgradeFailed(s) {
    if (!s || s !== session) return;
    s.upgrading = false;
    if (!s.revoked) return;
    try {
      const profile = await get('/api/user/@me');
      if (s === session) upgraded(s, profile);
    } catch {
      if (s === session) signOut('You were signed out: this session was ended.');
    }
  }

  // ---- switching rooms ----------------------------------------------------------------------

  /** The open room changed: typing stops there, the draft stays with it, drawers close. */
  function switched(room, previous) {
    typingOut.stop();
    if (previous !== (room?.slug ?? null)) replyBar.clear();
    mentions.close();
    const next = room?.slug ?? null;
    if (previous !== next) {
      const draft = composer.swap(drafts.get(next) ?? '');
      drafts.delete(next);
      if (previous && draft.trim()) drafts.set(previous, draft);
    }
    $('composer').placeholder = placeholderFor(room);
    files.setRoom(room);
    if (!room) {
      $('member-count').textContent = '';
      $('members-toggle-count').textContent = '';
    }
    setDrawer(null);
  }

  // ---- header: identity, connection state, logout, drawers ----------------------------------

  function renderMe() {
    const me = session.me;
    setSelfName(me.name);
    $('me').textContent = me.name;
    const badge = badgeFor(me);
    $('me-badge').replaceChildren(...(badge ? [badge] : []));
    $('me-guest').hidden = me.kind !== 'guest';
    admin.setIdentity(me);
    dataExport.setIdentity(me);
    account.setIdentity(me);
    upgrade.setIdentity(me);
    search.setIdentity(me);
  }

  function renderState(state, { retryAt }) {
    const s = session;
    connState.dataset.state = state;
    clearInterval(countdown);
    countdown = null;
    if (state === 'reconnecting' && retryAt) {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
        connLabel.textContent = `Reconnecting in ${seconds}s`;
      };
      tick();
      countdown = setInterval(tick, 1000);
    } else {
      connLabel.textContent = STATE_LABELS[state] ?? state;
    }
    connState.title = connLabel.textContent;

    if (state === 'online') {
      s.wasOnline = true;
      s.expectClose = false;
    } else if (s.wasOnline && state !== 'connecting') {
      s.wasOnline = false;
      rooms.clearTyping();
      typingOut.reset();
      if (!s.expectClose) {
        rooms.notice(state === 'offline'
          ? 'You are offline. Waiting for the network…'
          : 'Connection lost. Reconnecting…', 'connection');
      }
    }
  }

  logoutButton.addEventListener('click', async () => {
    const s = session;
    if (!s || s.loggingOut) return;
    s.loggingOut = true;
    logoutButton.disabled = true;
    try {
      await post('/api/logout');
    } catch (err) {
      // Already signed out server-side is fine; anything else keeps the user here.
      if (err.code !== 'unauthenticated') {
        if (s === session) {
          s.loggingOut = false;
          logoutButton.disabled = false;
          rooms.notice(`Could not log out: ${describeError(err)}`, 'error');
        }
        return;
      }
    }
    if (s === session) signOut('');
  });

  // On narrow screens the room list and the member list are drawers; at most one is open.
  const drawers = {
    sidebar: { toggle: $('sidebar-toggle'), label: 'rooms' },
    members: { toggle: $('members-toggle'), label: 'members' },
  };
  let openDrawer = null;

  function setDrawer(name) {
    openDrawer = name;
    for (const [key, { toggle, label }] of Object.entries(drawers)) {
      const open = key === name;
      view.classList.toggle(`${key}-open`, open);
      toggle.setAttribute('aria-expanded', String(open));
      toggle.title = open ? `Hide ${label}` : `Show ${label}`;
    }
  }
  for (const [key, { toggle }] of Object.entries(drawers)) {
    toggle.addEventListener('click', () => setDrawer(openDrawer === key ? null : key));
  }
  view.querySelector('.chat-main').addEventListener('pointerdown', () => setDrawer(null));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && openDrawer) {
      const toggle = drawers[openDrawer].toggle;
      setDrawer(null);
      toggle.focus();
    }
  });

  return { enter, leave };
}
