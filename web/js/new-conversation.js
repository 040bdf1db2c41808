/**
 * The "New conversation" dialog: asks for a user name and starts a private conversation with
 * that account. The server decides who exists, so `not_found` (no such user) and the other
 * codes reach the user explained, with the code kept in the error line's `data-code`.
 */

import { wireDialog, whileBusy } from './dialog.js';
import { explainPrivateError } from './conversation-api.js';

/** @param {{onStart: (name: string) => Promise<void>}} handlers starts it; throws an ApiError */
export function createNewConversationDialog({ onStart }) {
  const $ = (id) => document.getElementById(id);
  const form = $('conversation-form');
  const input = $('conversation-user');
  const errorLine = $('conversation-error');
  const dialog = wireDialog($('conversation-dialog'));

  /** Shows why starting a conversation with `name` failed (null clears the line). */
  function showError(err, name) {
    if (!err) errorLine.textContent = '';
    else if (err.code === 'not_found') errorLine.textContent = `There is no account named “${name}”.`;
    else errorLine.textContent = explainPrivateError(err);
    errorLine.dataset.code = err?.code ?? '';
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy($('conversation-submit'), async () => {
      const name = input.value.trim();
      showError(null);
      if (!name) {
        input.focus();
        return;
      }
      try {
        await onStart(name);
        dialog.close();
      } catch (err) {
        showError(err, name);
        input.focus();
      }
    });
  });

  return {
    open() {
      form.reset();
      showError(null);
      dialog.open();
      input.focus();
    },
    close: () => dialog.close(),
  };
}
