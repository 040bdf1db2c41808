/**
 * Boot and view routing for the Parlor browser app.
 *
 * Applies the theme, asks the server who we are (`GET /api/user/@me` with the session cookie)
 * and shows either the lobby (200: a reload restores the same identity without typing) or the
 * join screen (401). Afterwards it only switches between the two views; each view module owns
 * its own DOM and behaviour.
 */

import { get, describeError } from './api.js';
import { initTheme } from './settings.js';
import { createJoinView } from './join.js';
import { createLobby } from './lobby.js';

const $ = (id) => document.getElementById(id);

const joinView = $('join-view');
const chatView = $('chat-view');
const chatTools = $('chat-tools');

initTheme($('theme-toggle'));

const join = createJoinView(joinView, { onJoined: showLobby });
const lobby = createLobby({ onSignedOut: showJoin });

function showView(name) {
  $('boot').hidden = true;
  joinView.hidden = name !== 'join';
  chatView.hidden = name !== 'chat';
  chatTools.hidden = name !== 'chat';
}

/** Shows the join screen, with an optional message explaining why. */
function showJoin(message = '') {
  lobby.leave();
  showView('join');
  join.show(message);
}

/** Enters the lobby as `profile` (a REST Profile). */
function showLobby(profile) {
  showView('chat');
  lobby.enter(profile);
}

async function boot() {
  try {
    showLobby(await get('/api/user/@me'));
  } catch (err) {
    showJoin(err.code === 'unauthenticated' || err.status === 401 ? '' : describeError(err));
  }
}

boot();
