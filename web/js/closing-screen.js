/**
 * The blocking screen (`#closed-screen`) shown when a moderator closed this page's connection:
 * kicked (with a "Reconnect" button: a kick does not keep anyone out) or banned ("You have been
 * banned", with the moderator's reason if there is one, and only a way back to the start page).
 * The caller stops reconnecting before showing it.
 *
 * The ban's reason comes with the `closing` event (`detail`).
 */

/** Wires the screen once. */
export function createClosingScreen() {
  const $ = (id) => document.getElementById(id);
  const screen = $('closed-screen');
  const reasonLine = $('closed-reason');
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
  }

  function hide() {
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

    /** Banned: says so, with the moderator's `reason` (or that none was given). */
    banned(message, reason, onLeave) {
      show({
        kind: 'banned',
        icon: '⛔',
        title: 'You have been banned',
        text: `${capitalize(message || 'you are banned from this chat')}. The chat will not reconnect.`,
        actions: [{ label: 'Back to the start page', onClick: () => { hide(); onLeave(); } }],
      });
      reasonLine.textContent = reason ? `Reason: ${reason}` : 'No reason was given.';
      reasonLine.hidden = false;
    },

    hide,
  };
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
