/**
 * The message composer: auto-growing `#composer` textarea and `#send` button.
 *
 * Enter sends and Shift+Enter inserts a newline, or, with Enter-to-send off, Enter inserts a
 * newline and Ctrl/⌘+Enter sends (send-keys.js; the box's tooltip says which). The text stays
 * in the box until the send is acknowledged, so a rejected message (`rate_limited`,
 * `message_too_long`, offline) can be fixed and sent again. A message may be
 * text, the finished uploads of the attachment tray (attach-tray.js), or both; while a file is
 * still uploading, sending waits (the button is disabled). Whether and how to send is the
 * caller's business (`onSend`).
 */

import { isSendKey, sendKeysText } from './send-keys.js';
import { onPreferences } from './preferences.js';

const MAX_HEIGHT_PX = 200;
/** No attachment tray: text only. */
const NO_FILES = { ids: () => [], busy: () => false, sent: () => {} };

/**
 * @param {object} elements
 * @param {HTMLFormElement} elements.form `#composer-form`
 * @param {HTMLTextAreaElement} elements.textarea `#composer`
 * @param {HTMLButtonElement} elements.button `#send`
 * @param {object} handlers
 * @param {(text: string, attachments: string[]) => Promise<boolean>} handlers.onSend resolves
 *   true when accepted
 * @param {(hasText: boolean) => void} handlers.onInput each edit
 * @param {{ids: () => string[], busy: () => boolean, sent: (ids: string[]) => void}} [attachments]
 *   the tray of files to send along
 */
export function createComposer({ form, textarea, button }, { onSend, onInput }, attachments = NO_FILES) {
  let sending = false;

  /** The send button follows whether a send or an upload is under way. */
  function refresh() {
    const uploading = attachments.busy();
    button.disabled = sending || uploading;
    button.title = uploading ? 'Waiting for the uploads to finish' : '';
  }

  function autoGrow() {
    if (textarea.value === '') {
      // Chromium counts a wrapped placeholder in scrollHeight; an empty box keeps its CSS height.
      textarea.style.height = '';
      textarea.classList.remove('composer-scrolls');
      return;
    }
    textarea.style.height = 'auto';
    const height = Math.min(textarea.scrollHeight, MAX_HEIGHT_PX);
    textarea.style.height = `${height}px`;
    textarea.classList.toggle('composer-scrolls', textarea.scrollHeight > MAX_HEIGHT_PX);
  }

  async function submit() {
    const text = textarea.value;
    if (sending || attachments.busy()) return;
    const ids = attachments.ids();
    if (text.trim() === '' && ids.length === 0) return;
    sending = true;
    refresh();
    form.setAttribute('aria-busy', 'true');
    try {
      const accepted = await onSend(text, ids);
      // Clear only if the user did not keep editing while the send was in flight.
      if (accepted && textarea.value === text) {
        textarea.value = '';
        autoGrow();
      }
      if (accepted) attachments.sent(ids);
    } finally {
      sending = false;
      refresh();
      form.removeAttribute('aria-busy');
    }
  }

  textarea.addEventListener('input', () => {
    autoGrow();
    onInput(textarea.value.trim() !== '');
  });

  textarea.addEventListener('keydown', (event) => {
    if (!isSendKey(event)) return;
    event.preventDefault();
    submit();
  });
  const sayKeys = () => { textarea.title = sendKeysText(); };
  sayKeys();
  onPreferences(sayKeys);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
    textarea.focus();
  });

  return {
    focus: () => textarea.focus(),
    /** The attachments changed (an upload started or ended): the send button follows. */
    refresh,
    /** Empties the box (a new identity must not inherit a draft). */
    reset() {
      textarea.value = '';
      autoGrow();
    },
    /** Replaces the text (another room's draft) and returns what was there. */
    swap(text) {
      const previous = textarea.value;
      textarea.value = text;
      autoGrow();
      return previous;
    },
  };
}
