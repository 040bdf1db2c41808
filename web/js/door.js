/**
 * The door of an ephemeral 1-on-1 room (`#door-view`): what someone signed out sees at its share
 * link `/room/<CODE>`.
 *
 * It looks the code up (`GET /api/ephemeral/{code}`, no session needed). Before the host
 * activates the room it says so and checks again every few seconds; once the room is open it
 * offers the display names the server suggests: picking one creates a guest with that nick
 * (`POST /api/guest`) and hands the profile to `onJoined`, and the chat then joins the room with
 * this browser's device id. A room locked to two other devices can only be told by that join
 * (the lookup does not say), so the chat shows it. Logging in instead is `onAccount`.
 */

import { post, describeError } from './api.js';
import { lookUpEphemeral, explainPrivateError } from './conversation-api.js';

const RECHECK_MS = 5000;

/**
 * @param {HTMLElement} root `#door-view`
 * @param {object} handlers
 * @param {(profile: object) => void} handlers.onJoined a guest was created with the chosen name
 * @param {(code: string) => void} handlers.onAccount the visitor wants to log in or register
 */
export function createDoorView(root, { onJoined, onAccount }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const text = $('door-text');
  const names = $('door-names');
  const errorLine = $('door-error');
  let code = null;
  let timer = null;
  let busy = false;

  function setError(message, errCode = '') {
    errorLine.textContent = message;
    errorLine.dataset.kind = message ? 'error' : '';
    errorLine.dataset.code = errCode;
  }

  function nameButton(name) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button door-name';
    button.dataset.name = name;
    button.textContent = name;
    button.addEventListener('click', () => pick(name));
    return button;
  }

  /** Shows what the lookup said; false when no live room has the code. */
  async function refresh() {
    clearTimeout(timer);
    let door;
    try {
      door = await lookUpEphemeral(code);
    } catch (err) {
      if (err.code === 'not_found') return false;
      setError(describeError(err), err.code);
      door = { active: false, names: [] };
    }
    root.dataset.state = door.active ? 'open' : 'waiting';
    text.textContent = door.active
      ? 'A private 1-on-1 room. Pick a name to join as a guest. The room admits two devices; this browser will be one of them.'
      : 'Waiting for the host to open this room. This page checks again every few seconds.';
    names.replaceChildren(...(door.active ? door.names.map(nameButton) : []));
    names.hidden = !door.active;
    if (!door.active) timer = setTimeout(() => { if (!root.hidden) refresh(); }, RECHECK_MS);
    return true;
  }

  async function pick(nick) {
    if (busy) return;
    busy = true;
    root.setAttribute('aria-busy', 'true');
    setError('');
    try {
      const answer = await post('/api/guest', { nick });
      clearTimeout(timer);
      onJoined(answer.user);
    } catch (err) {
      setError(explainPrivateError(err), err.code);
      await refresh(); // fresh names: that one may be taken now
    } finally {
      busy = false;
      root.removeAttribute('aria-busy');
    }
  }

  $('door-account').addEventListener('click', () => {
    clearTimeout(timer);
    onAccount(code);
  });

  return {
    /** Looks `roomCode` up and fills the screen; resolves false when no live room has it. */
    async show(roomCode) {
      code = roomCode;
      $('door-title').textContent = `Room ${roomCode}`;
      setError('');
      return refresh();
    },
  };
}
