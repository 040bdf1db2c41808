/**
 * Boot and view routing for the Parlor browser app.
 *
 * Applies the theme, asks the server who we are (`GET /api/user/@me` with the session cookie)
 * and shows either the chat (200: a reload restores the same identity without typing) or the
 * join screen (401). The address bar names what to open (`/`, `/room/<slug>`,
 * `/invite/<token>`); it is read when the chat starts, so an invite opened while signed out is
 * redeemed right after logging in or registering. Afterwards this module only switches between
 * the two views; each view module owns its own DOM and behaviour.
 */

import { get, describeError } from './api.js';
import { initTheme } from './settings.js';
import { createJoinView } from './join.js';
import { createChat } from './chat.js';
import { currentRoute } from './router.js';

const $ = (id) => document.getElementById(id);

const joinView = $('join-view');
const chatView = $('chat-view');

initTheme($('theme-toggle'));

const join = createJoinView(joinView, { onJoined: showChat });
const chat = createChat({ onSignedOut: showJoin });

function showView(name) {
  $('boot').hidden = true;
  joinView.hidden = name !== 'join';
  chatView.hidden = name !== 'chat';
  $('chat-tools').hidden = name !== 'chat';
  $('sidebar-toggle').hidden = name !== 'chat';
}

/** Why the join screen is shown for the address in the bar, if it is about a room. */
function routeMessage() {
  const route = currentRoute();
  if (route.name === 'invite') return 'You have been invited to a room. Log in or register to join it.';
  if (route.name === 'room') return `Log in or register to open #${route.slug}.`;
  return '';
}

/** Shows the join screen, with an optional message explaining why. */
function showJoin(message = '') {
  chat.leave();
  showView('join');
  const aboutRoom = currentRoute().name !== 'lobby';
  join.show(message || routeMessage(), aboutRoom ? { tab: 'register' } : {});
}

/** Enters the chat as `profile` (a REST Profile), opening what the address bar names. */
function showChat(profile) {
  showView('chat');
  chat.enter(profile, currentRoute());
}

async function boot() {
  try {
    showChat(await get('/api/user/@me'));
  } catch (err) {
    showJoin(err.code === 'unauthenticated' || err.status === 401 ? '' : describeError(err));
  }
}

boot();
