/**
 * The blocking screen (`#closed-screen`) shown when a moderator closed this page's connection:
 * kicked (with a "Reconnect" button: a kick does not keep anyone out) or banned ("You have been
 * banned", with the moderator's reason if there is one, and only a way back to the start page).
 * The caller stops reconnecting before showing it.
 *
 * The `closing` event does not carry a ban's reason, and a banned session is revoked, so the
 * reason is asked for where the server states it: creating a guest under the banned name is
 * refused with `banned` and the reason. Should that not be refused (the ban was already lifted),
 * the new guest session is ended again at once, so looking never signs anyone in.
 */

import { post } from './api.js';

const BANNED_PREFIX = /^you are banned from this chat:\s*/i;

/**
 * Why the server bans `name` (or this address): the reason, '' when it gave none, or null
 * when it could not be learned.
 */
export async function lookUpBanReason(name) {
  try {
    await post('/api/guest', { nick: name });
  } catch (err) {
    if (err.code !== 'banned') return null;
    const message = err.message ?? '';
    return BANNED_PREFIX.test(message) ? message.replace(BANNED_PREFIX, '') : '';
  }
  await post('/api/logout').catch(() => {});
  return null;
}

/** Wires the screen once. */
export function createClosingScreen() {
  const $ = (id) => document.getElementById(id);
  const screen = $('closed-screen');
  const reasonLine = $('closed-reason');
  let shown = 0; // counts show() calls, so a late reason never lands on a newer screen
  let blocking = false;

  // Escape must not dismiss it: what happened still holds. (Browsers let a repeated Escape
  // close a modal dialog anyway, so it comes straight back.)
  screen.addEventListener('cancel', (event) => event.preventDefault());
  screen.addEventListener('close', () => {
    if (blocking) screen.showModal();
  });

  function button(label, onClick, primary) {
    const el = document.createElement('button');
    el.type = 'button';
    el.className = primary ? 'button button-primary' : 'button';
    el.textContent = label;
    el.addEventListener('click', onClick);
    return el;
  }

  function show({ kind, icon, title, text, actions }) {
    shown += 1;
    for (const open of document.querySelectorAll('dialog[open]')) if (open !== screen) open.close();
    screen.dataset.kind = kind;
    $('closed-icon').textContent = icon;
    $('closed-title').textContent = title;
    $('closed-text').textContent = text;
    reasonLine.hidden = true;
    reasonLine.textContent = '';
    $('closed-actions').replaceChildren(...actions.map(({ label, onClick, primary }) => button(label, onClick, primary)));
    blocking = true;
    if (!screen.open) screen.showModal();
    screen.querySelector('.closed-actions button')?.focus();
    return shown;
  }

  function hide() {
    shown += 1;
    blocking = false;
    if (screen.open) screen.close();
  }

  return {
    /** Kicked: says so and offers to reconnect (`onReconnect`). */
    kicked(message, onReconnect) {
      show({
        kind: 'kicked',
        icon: '🚪',
        title: 'You were disconnected by a moderator',
        text: `${capitalize(message || 'a moderator removed you from the chat')}. You can reconnect.`,
        actions: [{ label: 'Reconnect', primary: true, onClick: () => { hide(); onReconnect(); } }],
      });
    },

    /** Banned: says so, then adds the reason once `reason` (a promise of it) settles. */
    async banned(message, reason, onLeave) {
      const ticket = show({
        kind: 'banned',
        icon: '⛔',
        title: 'You have been banned',
        text: `${capitalize(message || 'you are banned from this chat')}. The chat will not reconnect.`,
        actions: [{ label: 'Back to the start page', onClick: () => { hide(); onLeave(); } }],
      });
      const why = await reason;
      if (ticket !== shown || why === null) return;
      reasonLine.textContent = why ? `Reason: ${why}` : 'No reason was given.';
      reasonLine.hidden = false;
    },

    hide,
  };
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
