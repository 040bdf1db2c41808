/**
 * The chat view: the lobby room over the gateway.
 *
 * Glues the pieces together for one signed-in identity: the gateway connection (identify + join
 * on every connect), the member list, the message log, typing indicators, the composer, the
 * connection-state chip, logout and the narrow-screen member drawer. DOM listeners are wired
 * once; `enter()` starts a session and `leave()` tears it down, so switching identities never
 * leaks sockets or timers. Rendering details live in members.js / messages.js / typing.js.
 */

import { post, describeError } from './api.js';
import { Gateway, gatewayUrl } from './net.js';
import { createMemberList, badgeFor, nameKey } from './members.js';
import { createMessageLog } from './messages.js';
import { createTypingIndicator, createTypingNotifier } from './typing.js';
import { createComposer } from './composer.js';

const ROOM = 'lobby';
/** How long a send typed while (re)connecting waits for the connection before failing. */
const SEND_WAIT_MS = 10000;
const TITLE = document.title;

const STATE_LABELS = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const isUser = (user) => Boolean(user) && typeof user.name === 'string';

/**
 * Wires the chat view once.
 * @param {{onSignedOut: (message: string) => void}} options called after the session ends
 * @returns {{enter: (profile: object) => void, leave: () => void}}
 */
export function createLobby({ onSignedOut }) {
  const $ = (id) => document.getElementById(id);
  const view = $('chat-view');
  const connState = $('conn-state');
  const connLabel = $('conn-label');
  const logoutButton = $('logout');
  const membersToggle = $('members-toggle');

  /** The current session, or null while signed out. Callbacks compare against it to drop stale work. */
  let session = null;
  let countdown = null;
  let unread = 0;

  const log = createMessageLog($('messages'), $('jump-latest'));
  const members = createMemberList($('members'), (count) => {
    $('member-count').textContent = String(count);
    $('members-toggle-count').textContent = String(count);
  });
  const typingIn = createTypingIndicator($('typing'));
  const typingOut = createTypingNotifier((active) => {
    session?.gateway.request('typing', { room: ROOM, active }).catch(() => {});
  });
  const composer = createComposer(
    { form: $('composer-form'), textarea: $('composer'), button: $('send') },
    {
      onSend: send,
      onInput: (hasText) => {
        if (session?.gateway.state === 'online') typingOut.input(hasText);
      },
    },
  );

  const isMe = (user) => Boolean(session) && isUser(user) && nameKey(user.name) === nameKey(session.me.name);

  // ---- session life cycle -------------------------------------------------------------------

  function enter(profile) {
    leave();
    const s = {
      me: { name: profile.username ?? profile.name, kind: profile.kind, role: profile.role },
      gateway: null,
      joinedBefore: false,
      wasOnline: false,
      expectClose: false,
      loggingOut: false,
    };
    log.clear();
    members.clear();
    typingIn.clear();
    composer.reset();
    s.gateway = new Gateway({
      url: gatewayUrl(),
      handshake: (gw) => handshake(s, gw),
      onEvent: (event, data) => { if (s === session) handleEvent(event, data); },
      onState: (state, info) => { if (s === session) renderState(state, info); },
    });
    session = s;
    renderMe();
    s.gateway.start();
    composer.focus();
  }

  function leave() {
    if (!session) return;
    const s = session;
    session = null;
    s.gateway.stop();
    clearInterval(countdown);
    typingOut.reset();
    typingIn.clear();
    setMembersOpen(false);
    logoutButton.disabled = false;
    unread = 0;
    document.title = TITLE;
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
        s.me = identity.user;
        renderMe();
      }
      const joined = await gw.request('join', { room: ROOM });
      if (s !== session) throw new Error('stale session');
      members.reset(joined.members);
      if (s.joinedBefore) log.addNotice('Reconnected.', 'connection');
      s.joinedBefore = true;
    } catch (err) {
      if (s === session) {
        if (err.code === 'unauthenticated') {
          signOut('Your session has ended. Please sign in again.');
        } else if (!['disconnected', 'timeout', 'offline'].includes(err.code)) {
          log.addNotice(`Could not join the lobby: ${describeError(err)}`, 'error');
        }
      }
      throw err;
    }
  }

  // ---- server events ------------------------------------------------------------------------

  function handleEvent(event, data) {
    if (data.room !== undefined && data.room !== ROOM) return;
    switch (event) {
      case 'message':
        if (!isUser(data.author) || data.id === undefined) return;
        typingIn.remove(data.author.name);
        if (log.addMessage(data, { own: isMe(data.author) }) && !isMe(data.author)) noteUnread();
        break;
      case 'member_joined':
        if (!isUser(data.user)) return;
        if (members.add(data.user)) log.addNotice(`${data.user.name} joined`, 'join');
        break;
      case 'member_left':
        if (!isUser(data.user)) return;
        typingIn.remove(data.user.name);
        if (members.remove(data.user)) log.addNotice(`${data.user.name} left`, 'leave');
        break;
      case 'typing':
        if (isUser(data.user) && !isMe(data.user)) typingIn.update(data.user, Boolean(data.active));
        break;
      case 'error':
        log.addNotice(`Error: ${describeError(data)}`, 'error');
        break;
      case 'closing':
        handleClosing(data);
        break;
      default:
        break; // events from later protocol versions are ignored
    }
  }

  function handleClosing({ reason, message }) {
    session.expectClose = true; // the close that follows needs no "connection lost" notice
    if (reason === 'session_revoked') {
      // During our own logout the click handler finishes the job once the POST returns.
      if (!session.loggingOut) signOut('You were signed out: this session was ended.');
      return;
    }
    const text = reason === 'shutdown'
      ? 'The server is restarting. Reconnecting…'
      : `Disconnected by the server (${message || reason}). Reconnecting…`;
    log.addNotice(text, 'connection');
  }

  // ---- sending ------------------------------------------------------------------------------

  async function send(text) {
    const s = session;
    if (!s) return false;
    typingOut.stop();
    try {
      if (s.gateway.state !== 'online') await s.gateway.whenOnline(SEND_WAIT_MS);
      await s.gateway.request('send', { room: ROOM, text });
      return true;
    } catch (err) {
      if (s === session) log.addNotice(`Message not sent: ${describeError(err)}`, 'error');
      return false;
    }
  }

  // ---- header: identity, connection state, logout, drawer -----------------------------------

  function renderMe() {
    const me = session.me;
    $('me').textContent = me.name;
    const badge = badgeFor(me);
    $('me-badge').replaceChildren(...(badge ? [badge] : []));
    $('me-guest').hidden = me.kind !== 'guest';
    members.setSelf(me.name);
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
      typingIn.clear();
      typingOut.reset();
      if (!s.expectClose) {
        log.addNotice(state === 'offline'
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
          log.addNotice(`Could not log out: ${describeError(err)}`, 'error');
        }
        return;
      }
    }
    if (s === session) signOut('');
  });

  function setMembersOpen(open) {
    view.classList.toggle('members-open', open);
    membersToggle.setAttribute('aria-expanded', String(open));
    membersToggle.title = open ? 'Hide members' : 'Show members';
  }
  membersToggle.addEventListener('click', () => {
    setMembersOpen(!view.classList.contains('members-open'));
  });
  view.querySelector('.chat-main').addEventListener('pointerdown', () => setMembersOpen(false));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && view.classList.contains('members-open')) {
      setMembersOpen(false);
      membersToggle.focus();
    }
  });

  // ---- unread count in the tab title while hidden -------------------------------------------

  function noteUnread() {
    if (!document.hidden) return;
    unread += 1;
    document.title = `(${unread}) ${TITLE}`;
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && unread) {
      unread = 0;
      document.title = TITLE;
    }
  });

  return { enter, leave };
}
