/**
 * The host's view of their ephemeral 1-on-1 rooms (`#host-dialog`, for accounts and guests
 * alike; a guest's new rooms count against its address's budget for new identities, so the
 * server may answer `rate_limited` with the wait): create one,
 * see its code and share link (`/room/<CODE>`), activate it (which starts its timer), see the
 * time left, and join it (once active) like anyone else.
 *
 * The list is `GET /api/ephemeral` each time the dialog opens; the time left ticks every second
 * while it is open. Joining is the caller's (`onJoin`), as is what it learns about a room
 * (`onLearn`, so a joined room's countdown follows an activation made here).
 */

import { wireDialog, showError, whileBusy, copyField } from './dialog.js';
import { createEphemeral, hostedEphemeral, activateEphemeral } from './conversation-api.js';
import { formatRemaining } from './countdown.js';
import { errorText, retryAfter, waitText } from './error-text.js';

const TICK_MS = 1000;

const shareUrl = (code) => new URL(`/room/${code}`, location.origin).href;

/** What reads differently here: too many new rooms (or guests) from this address. */
const HOSTING = {
  rate_limited: (err) => `You have made as many new rooms as you may for now — wait ${waitText(retryAfter(err))} and try again.`,
};

/** Shows `err` (null: nothing) in the dialog's error line, as a sentence; the code in `data-code`. */
function showHostError(el, err) {
  if (err?.code !== 'rate_limited') {
    showError(el, err);
    return;
  }
  el.textContent = errorText(err, HOSTING);
  el.dataset.code = err.code;
}

/**
 * @param {object} handlers
 * @param {(room: object) => void} handlers.onLearn a room's state as the host now knows it
 * @param {(room: object) => void} handlers.onJoin the host wants to enter the room
 */
export function createHostDialog({ onLearn, onJoin }) {
  const $ = (id) => document.getElementById(id);
  const element = $('host-dialog');
  const list = $('host-rooms');
  const errorLine = $('host-error');
  const dialog = wireDialog(element);
  let rooms = []; // newest first, as the server lists them
  let ticker = null;

  function button(label, className, onClick) {
    const el = document.createElement('button');
    el.type = 'button';
    el.className = className;
    el.textContent = label;
    el.addEventListener('click', () => onClick(el));
    return el;
  }

  function statusText(room) {
    return room.active && room.expires_at
      ? `Open · closes in ${formatRemaining(room.expires_at)}`
      : 'Not open yet: activate it when you are ready (the timer starts then).';
  }

  function roomItem(room) {
    const item = document.createElement('li');
    item.className = 'host-room';
    item.dataset.code = room.code;
    item.dataset.active = String(Boolean(room.active));

    const code = document.createElement('p');
    code.className = 'host-code';
    code.textContent = room.code;
    const status = document.createElement('p');
    status.className = 'host-status';
    status.textContent = statusText(room);

    const link = document.createElement('input');
    link.type = 'text';
    link.readOnly = true;
    link.className = 'host-link';
    link.value = shareUrl(room.code);
    link.setAttribute('aria-label', `Share link of room ${room.code}`);
    const copied = document.createElement('p');
    copied.className = 'hint host-copied';
    copied.setAttribute('aria-live', 'polite');
    const copyRow = document.createElement('div');
    copyRow.className = 'copy-row';
    copyRow.append(link, button('Copy', 'button host-copy', () => copyField(link, copied)));

    const actions = document.createElement('div');
    actions.className = 'host-actions';
    if (room.active) {
      actions.append(button('Join', 'button button-primary host-join', () => {
        dialog.close();
        onLearn(room);
        onJoin(room);
      }));
    } else {
      actions.append(button('Activate', 'button button-primary host-activate', (el) => activate(room.code, el)));
    }

    item.append(code, status, copyRow, copied, actions);
    return item;
  }

  function render() {
    list.replaceChildren(...rooms.map(roomItem));
  }

  function tick() {
    for (const room of rooms) {
      const status = list.querySelector(`.host-room[data-code="${room.code}"] .host-status`);
      if (status) status.textContent = statusText(room);
    }
  }

  /** Puts a room's new state in the list (first if it is new). */
  function replace(room) {
    const index = rooms.findIndex((r) => r.code === room.code);
    if (index >= 0) rooms[index] = room;
    else rooms.unshift(room);
    onLearn(room);
    render();
  }

  async function activate(code, el) {
    await whileBusy(el, async () => {
      showError(errorLine, null);
      try {
        replace(await activateEphemeral(code));
      } catch (err) {
        showError(errorLine, err);
      }
    });
  }

  $('host-create').addEventListener('click', (event) => {
    whileBusy(event.currentTarget, async () => {
      showError(errorLine, null);
      try {
        replace(await createEphemeral());
      } catch (err) {
        showHostError(errorLine, err);
      }
    });
  });
  element.addEventListener('close', () => {
    clearInterval(ticker);
    ticker = null;
  });

  return {
    async open() {
      showError(errorLine, null);
      rooms = [];
      render();
      dialog.open();
      clearInterval(ticker);
      ticker = setInterval(tick, TICK_MS);
      try {
        rooms = await hostedEphemeral();
        render();
      } catch (err) {
        showError(errorLine, err);
      }
    },
    close: () => dialog.close(),
  };
}
