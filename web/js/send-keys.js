/**
 * Which key sends, by the Enter-to-send preference, for every composer (the message box and
 * the in-place editor):
 * - on (the default): Enter sends, Shift+Enter starts a new line;
 * - off: Enter starts a new line, Ctrl+Enter (⌘+Enter on a Mac) sends.
 * Ctrl/⌘+Enter sends either way. Enter while an input method is composing is the IME's.
 */

import { preferences } from './preferences.js';

/** Whether the key press `event` in a composer should send (the caller prevents its default). */
export function isSendKey(event) {
  if (event.key !== 'Enter' || event.isComposing || event.keyCode === 229) return false;
  if (event.ctrlKey || event.metaKey) return true;
  return preferences().enter_to_send && !event.shiftKey && !event.altKey;
}

/** How the keys work now, e.g. "Enter sends · Shift+Enter new line" (`verb`: sends, saves). */
export function sendKeysText(verb = 'sends') {
  return preferences().enter_to_send
    ? `Enter ${verb} · Shift+Enter new line`
    : `Ctrl+Enter (⌘+Enter) ${verb} · Enter new line`;
}
