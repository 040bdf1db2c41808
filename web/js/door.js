/**
 * The door of an ephemeral 1-on-1 room (`#door-view`): what someone signed out sees at its share
 * link `/room/<CODE>`.
 *
 * It looks the code up (`GET /api/ephemeral/{code}`, no session needed). Before the host
 * activates the room it says so and checks again every few seconds; once the room is open it
 * offers the display names the server suggests: picking one creates a guest with that nick
 * (`POST /api/guest`) and hands the profile to `onJoined`, and the chat then joins the room with
 * this browser's device id. When the lookup says no place is left (`places_left: 0`) and this
 * browser has not joined the room before (device.js remembers the codes it joined, and the
 * server recognises its device id), the door says at once that the room is locked: no names,
 * no guest created for nothing. Logging in instead is `onAccount`.
 */

import { post, describeError } from './api.js';
import { lookUpEphemeral, explainPrivateError } from './conversation-api.js';
import { joinedCodes } from './device.js';

const RECHECK_MS = 5000;

/**
 * @param {HTMLElement} root `#door-view`
 * @param {object} handlers
 * @param {(profile: object) => void} handlers.onJoined a guest was created with the chosen name
 * @param {(code: string, options: {locked: boolean}) => void} handlers.onAccount the visitor
 *   wants to log in or register (`locked`: the room has no place for this browser)
 */
export function createDoorView(root, { onJoined, onAccount }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const text = $('door-text');
  const names = $('door-names');
  const errorLine = $('door-error');
  const account = $('door-account');
  let code = null;
  let timer = null;
  let busy = false;
  let locked = false;

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
    // An admitted device may always come back; any other finds the room full.
    locked = door.places_left === 0 && !joinedCodes().includes(code);
    const state = locked ? 'locked' : door.active ? 'open' : 'waiting';
    root.dataset.state = state;
    text.textContent = {
      locked: 'This room is locked to two devices. Only the two that joined it first can come back; '
        + 'ask the person who shared the link for a new room.',
      open: 'A private 1-on-1 room. Pick a name to join as a guest. The room admits two devices; this browser will be one of them.',
      waiting: 'Waiting for the host to open this room. This page checks again every few seconds.',
    }[state];
    const offered = state === 'open' && Array.isArray(door.names) ? door.names : [];
    names.replaceChildren(...offered.map(nameButton));
    names.hidden = state !== 'open';
    account.textContent = locked ? 'Go to the sign-in page' : 'Log in or register instead';
    if (state === 'waiting') timer = setTimeout(() => { if (!root.hidden) refresh(); }, RECHECK_MS);
    return true;
  }

  async function pick(nick) {
    if (busy || locked) return;
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

  account.addEventListener('click', () => {
    clearTimeout(timer);
    onAccount(code, { locked });
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
