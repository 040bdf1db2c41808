/**
 * Boot and view routing for the Parlor browser app.
 *
 * Wires the settings panel (the look itself was applied by theme-boot.js), asks the server who
 * we are (`GET /api/user/@me` with the session cookie) and shows either the chat (200: a
 * reload restores the same identity without typing) or the join screen (401). The address bar names what to open (`/`, `/room/<slug>`,
 * `/invite/<token>`, `/admin`); it is read when the chat starts, so an invite opened while
 * signed out is redeemed right after logging in or registering. The share link of a live ephemeral room
 * (`/room/<CODE>`) opened while signed out shows that room's door instead of the join screen.
 * Afterwards this module only switches between the views; each view module owns its own DOM
 * and behaviour.
 */

import { get, describeError } from './api.js';
import { settingsPanel } from './settings.js';
import { createJoinView } from './join.js';
import { createChat } from './chat.js';
import { currentRoute } from './router.js';
import { createDoorView } from './door.js';
import { asRoomCode, closedCodeNote } from './room-names.js';
import { installAppCache } from './app-cache.js';

const $ = (id) => document.getElementById(id);

const joinView = $('join-view');
const chatView = $('chat-view');
const doorView = $('door-view');

settingsPanel(); // the gear works on every screen; the look was set by theme-boot.js

const join = createJoinView(joinView, { onJoined: showChat });
const chat = createChat({ onSignedOut: showSignedOut, onSignedIn: showChat });
const door = createDoorView(doorView, {
  onJoined: showChat,
  onAccount: (code, { locked }) => showJoin(locked
    ? `Room ${code} is locked to two devices, but the rest of Parlor is open: log in, register or join as a guest.`
    : `Log in or register to join room ${code}.`),
});

function showView(name) {
  $('boot').hidden = true;
  joinView.hidden = name !== 'join';
  chatView.hidden = name !== 'chat';
  doorView.hidden = name !== 'door';
  $('chat-tools').hidden = name !== 'chat';
  $('sidebar-toggle').hidden = name !== 'chat';
}

/** Why the join screen is shown for the address in the bar, if it is about a room. */
function routeMessage() {
  const route = currentRoute();
  if (route.name === 'invite') return 'You have been invited to a room. Log in or register to join it.';
  if (route.name === 'admin') return 'Log in with a moderator account to open the admin panel.';
  if (route.name === 'room') {
    return `Log in or register to open #${route.slug} — or join as a guest, if the room lets guests in.`
      + closedCodeNote(route.slug);
  }
  return '';
}

/** Shows the join screen, with an optional message explaining why. */
function showJoin(message = '') {
  chat.leave();
  showView('join');
  const aboutRoom = !['lobby', 'admin'].includes(currentRoute().name);
  join.show(message || routeMessage(), aboutRoom ? { tab: 'register' } : {});
}

/** The code in the address bar, if it could be an ephemeral room's share link. */
function routeCode() {
  const route = currentRoute();
  return route.name === 'room' ? asRoomCode(route.slug.replace(/^e:/, '')) : null;
}

/**
 * Signed out: the door of the ephemeral room the address names, if it is one that is live,
 * else the join screen (always the join screen when there is a message to show).
 */
async function showSignedOut(message = '') {
  const code = routeCode();
  if (!message && code) {
    chat.leave();
    if (await door.show(code)) {
      showView('door');
      return;
    }
  }
  showJoin(message);
}

/**
 * Enters the chat as `profile` (a REST Profile), opening what the address bar names: after a
 * login, a registration, or a guest keeping its name as an account (chat.js).
 */
function showChat(profile) {
  showView('chat');
  chat.enter(profile, currentRoute());
}

/**
 * Without the server's `signed_in` hint cookie nobody signed in from this browser lately: the
 * first screen shows at once instead of after a round trip that would say so, and the session
 * check still runs (a session older than the hint switches to the chat when it answers).
 */
async function boot() {
  const hinted = document.cookie.split(/;\s*/).includes('signed_in=1');
  if (!hinted) showSignedOut();
  try {
    showChat(await get('/api/user/@me'));
  } catch (err) {
    const signedOut = err.code === 'unauthenticated' || err.status === 401;
    if (hinted || !signedOut) showSignedOut(signedOut ? '' : describeError(err));
  }
}

boot();
installAppCache();
