/**
 * Editing a message in place: a textarea where its text was, Enter saves and Shift+Enter starts
 * a new line (or the other way round, Ctrl/⌘+Enter saving, with Enter-to-send off:
 * send-keys.js), Escape (or Cancel) puts the text back unchanged. A refusal (`edit_window_closed`,
 * `forbidden`…) is shown under the box, which stays open so nothing typed is lost. Sending the
 * edit is the caller's (`onSave`, which rejects with the server's error).
 */

import { describeError } from './api.js';
import { isSendKey, sendKeysText } from './send-keys.js';

const MAX_HEIGHT_PX = 240;

function grow(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight, MAX_HEIGHT_PX)}px`;
}

function button(label, className) {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = className;
  el.textContent = label;
  return el;
}

/**
 * Opens the editor on message element `item` (focuses it if it is open already).
 * @param {object} options
 * @param {string} options.text the text as its author typed it
 * @param {(text: string) => Promise<void>} options.onSave
 * @param {() => void} [options.onClose] after saving or cancelling
 */
export function openEditor(item, { text, onSave, onClose = () => {} }) {
  const open = item.querySelector(':scope > .message-editor textarea');
  if (open) {
    open.focus();
    return;
  }
  const body = item.querySelector(':scope > .message-text');
  const editor = document.createElement('div');
  editor.className = 'message-editor';
  const textarea = document.createElement('textarea');
  textarea.className = 'message-editor-input';
  textarea.value = text;
  textarea.rows = 1;
  textarea.setAttribute('aria-label', 'Edit message');
  const hint = document.createElement('p');
  hint.className = 'message-editor-hint';
  hint.textContent = `${sendKeysText('saves')} · Esc cancels`;
  const error = document.createElement('p');
  error.className = 'message-editor-error form-error';
  error.setAttribute('role', 'alert');
  const save = button('Save', 'button button-primary message-editor-save');
  const cancel = button('Cancel', 'button button-quiet message-editor-cancel');
  const row = document.createElement('div');
  row.className = 'message-editor-buttons';
  row.append(hint, cancel, save);
  editor.append(textarea, error, row);

  const anchor = body ?? item.querySelector(':scope > .reply-quote') ?? item.querySelector(':scope > .message-header');
  anchor.after(editor);
  if (body) body.hidden = true;
  let busy = false;

  function close() {
    editor.remove();
    if (body?.isConnected) body.hidden = false;
    onClose();
  }

  async function submit() {
    if (busy) return;
    if (textarea.value === text) {
      close();
      return;
    }
    busy = true;
    save.disabled = true;
    error.textContent = '';
    try {
      await onSave(textarea.value);
      close();
    } catch (err) {
      error.textContent = `Not saved: ${describeError(err)}`;
      error.dataset.code = err?.code ?? '';
    } finally {
      busy = false;
      save.disabled = false;
    }
  }

  textarea.addEventListener('input', () => grow(textarea));
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (isSendKey(event)) {
      event.preventDefault();
      submit();
    }
  });
  save.addEventListener('click', submit);
  cancel.addEventListener('click', close);
  grow(textarea);
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}
