/**
 * The frame around the open room: the header (name, topic, and the actions the caller's room
 * role allows) and the state card that stands in for the log and composer when there is no
 * room to show (no such room, a pending request, an unusable invite, rooms for guests).
 *
 * Which actions exist is decided here from the room's kind and `role` (only persistent rooms
 * have any); what they do is the caller's. The lock and banner of end-to-end rooms are
 * e2e-view.js's.
 */

import { showE2E } from './e2e-view.js';

const MODERATORS = new Set(['owner', 'admin']);
const CONFIRM_MS = 4000;

/**
 * @param {object} actions called when the matching header button is pressed
 * @param {() => void} actions.onInvite
 * @param {() => void} actions.onSettings
 * @param {() => void} actions.onRequests
 * @param {() => void} actions.onLeave
 */
export function createRoomView({ onInvite, onSettings, onRequests, onLeave }) {
  const $ = (id) => document.getElementById(id);
  const title = $('room-title');
  const topic = $('room-topic');
  const state = $('room-state');
  const roomParts = [$('messages'), $('typing'), $('composer-form')];
  const buttons = {
    invite: $('room-invite'),
    settings: $('room-settings'),
    requests: $('room-requests'),
    leave: $('room-leave'),
  };
  buttons.invite.addEventListener('click', onInvite);
  buttons.settings.addEventListener('click', onSettings);
  buttons.requests.addEventListener('click', onRequests);

  // Leaving a private room cannot be undone without a new invite: the first press only asks.
  let leaveTimer = null;
  function resetLeave() {
    clearTimeout(leaveTimer);
    delete buttons.leave.dataset.confirm;
    buttons.leave.textContent = 'Leave';
  }
  buttons.leave.addEventListener('click', () => {
    if (buttons.leave.dataset.confirm) {
      resetLeave();
      onLeave();
      return;
    }
    buttons.leave.dataset.confirm = 'true';
    buttons.leave.textContent = 'Really leave?';
    leaveTimer = setTimeout(resetLeave, CONFIRM_MS);
  });

  function setHeading(text, topicText, dataRoom) {
    title.textContent = text;
    title.dataset.room = dataRoom;
    topic.textContent = topicText;
    topic.hidden = !topicText;
  }

  function showActions(room) {
    resetLeave();
    const persistent = room?.kind === 'room';
    const moderates = persistent && MODERATORS.has(room.role);
    buttons.invite.hidden = !moderates;
    buttons.settings.hidden = !moderates;
    buttons.requests.hidden = !(moderates && room.private);
    buttons.leave.hidden = !(persistent && room.role && room.role !== 'owner');
  }

  return {
    /**
     * Shows a joined room (`{slug, kind, name, topic, private, role, closed}`); a closed one
     * (an expired 1-on-1 room) keeps its log but loses the composer.
     */
    showRoom(room) {
      setHeading(room.name, room.topic ?? '', room.slug);
      showActions(room);
      showE2E(room);
      state.hidden = true;
      for (const part of roomParts) part.hidden = false;
      $('composer-form').hidden = Boolean(room.closed);
    },

    /** Replaces the topic line of the room on screen (a countdown). */
    setTopic(text) {
      topic.textContent = text;
      topic.hidden = !text;
    },

    /**
     * Shows the state card instead of a room.
     * @param {string} heading e.g. `#book-club`
     * @param {string} text what happened, in a sentence
     * @param {object} [options]
     * @param {string} [options.code] machine-readable reason (kept in `data-code`)
     * @param {Array<{label: string, id?: string, primary?: boolean, onClick: () => void}>} [options.actions]
     */
    showState(heading, text, { code = '', actions = [] } = {}) {
      setHeading(heading, '', '');
      showActions(null);
      showE2E(null);
      for (const part of roomParts) part.hidden = true;
      $('room-state-text').textContent = text;
      state.dataset.code = code;
      $('room-state-actions').replaceChildren(...actions.map(({ label, id, primary, onClick }) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = primary ? 'button button-primary' : 'button';
        if (id) button.id = id;
        button.textContent = label;
        button.addEventListener('click', onClick);
        return button;
      }));
      state.hidden = false;
    },

    /** The pending-request count on the Requests button (0 hides the number). */
    setRequestCount(count) {
      $('room-requests-count').textContent = count > 0 ? String(count) : '';
    },
  };
}
