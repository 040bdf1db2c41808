/**
 * The key of a key account, in the settings panel's Account tab: how the key works, and
 * "Rotate key" (`POST /api/user/@me/key`), asked twice because the old key stops working at
 * once. The new key is shown once, with a copy button; sessions already open stay.
 */

import { h } from './dom.js';
import { post } from './api.js';
import { errorText } from './error-text.js';
import { copyField } from './dialog.js';

export function createKeySection() {
  const rotate = h('button', { type: 'button', id: 'prefs-key-rotate', className: 'button', text: 'Rotate key…' });
  const confirm = h('button', { type: 'button', id: 'prefs-key-confirm', className: 'button button-danger', text: 'Make a new key now' });
  const cancel = h('button', { type: 'button', className: 'button button-quiet', text: 'Cancel' });
  const ask = h('div', { className: 'prefs-confirm', id: 'prefs-key-ask', hidden: true },
    h('p', { text: 'Your current key stops working at once. Sessions already signed in stay signed in.' }),
    h('div', { className: 'prefs-buttons' }, cancel, confirm));
  const value = h('input', { id: 'prefs-key-value', type: 'text', readonly: true, autocomplete: 'off', spellcheck: 'false' });
  const copied = h('p', { className: 'hint', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', className: 'button', text: 'Copy', on: { click: () => copyField(value, copied) } });
  const result = h('div', { className: 'prefs-key-result', id: 'prefs-key-result', hidden: true },
    h('label', { for: value.id, text: 'Your new key — shown only now: copy it somewhere safe' }),
    h('div', { className: 'copy-row' }, value, copy), copied);
  const status = h('p', { className: 'prefs-status', id: 'prefs-key-status', role: 'status', 'aria-live': 'polite' });

  rotate.addEventListener('click', () => {
    ask.hidden = false;
    confirm.focus();
  });
  cancel.addEventListener('click', () => {
    ask.hidden = true;
    rotate.focus();
  });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    status.textContent = '';
    try {
      const answer = await post('/api/user/@me/key');
      value.value = answer.key;
      result.hidden = false;
      ask.hidden = true;
      copied.textContent = '';
      value.focus();
      value.select();
      status.textContent = 'Done: the old key no longer works.';
    } catch (err) {
      status.textContent = `Could not make a new key: ${errorText(err)}`;
    } finally {
      confirm.disabled = false;
    }
  });

  const element = h('div', { className: 'prefs-block', id: 'prefs-key-section', hidden: true },
    h('h4', { className: 'prefs-subheading', text: 'Your key' }),
    h('p', { className: 'hint', text: 'This account signs in with a key instead of a password: whoever holds the key can sign in as you, so keep it in a password manager. If it may have leaked, make a new one.' }),
    h('div', { className: 'prefs-buttons' }, rotate), ask, result, status);

  return {
    element,
    /** Forgets a key on screen (another identity). */
    reset() {
      value.value = '';
      result.hidden = true;
      ask.hidden = true;
      status.textContent = '';
    },
  };
}
