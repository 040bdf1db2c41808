/**
 * Deleting the account, at the end of the settings panel's Account tab: what goes (and what
 * stays), the password (a key account gives none), a box to tick, then
 * `DELETE /api/user/@me`. The server ends every session of the account, this page's too, so
 * the chat is told beforehand (the panel's `onStart` hook) and shows the signed-out screen with
 * a sentence when it is done (`onSignedOut`), or carries on if it was refused (`onFailed`).
 */

import { h } from './dom.js';
import { request } from './api.js';
import { errorText } from './error-text.js';

const GOES = [
  'your account, your settings and every session (every device is signed out);',
  'the rooms you own, with their messages and files;',
  'your place in your private conversations, and your ignore list;',
  'what the AI companion remembers of you.',
];

export function createDeleteSection(ctx) {
  let keyed = false;
  const password = h('input', { id: 'prefs-delete-password', type: 'password', autocomplete: 'current-password' });
  const passwordField = h('div', { className: 'prefs-field' }, h('label', { for: password.id, text: 'Your password' }), password);
  const sure = h('input', { type: 'checkbox', id: 'prefs-delete-sure' });
  const submit = h('button', { type: 'submit', id: 'prefs-delete-submit', className: 'button button-danger', text: 'Delete my account', disabled: true });
  const status = h('p', { className: 'prefs-status', id: 'prefs-delete-status', role: 'alert' });
  const form = h('form', { className: 'prefs-form', id: 'prefs-delete-form', novalidate: true },
    passwordField,
    h('label', { className: 'check', for: sure.id }, sure, h('span', { text: 'I understand that this cannot be undone' })),
    h('div', { className: 'prefs-buttons' }, submit), status);

  sure.addEventListener('change', () => { submit.disabled = !sure.checked; });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submit.disabled || !sure.checked) return;
    if (!keyed && !password.value) {
      status.textContent = 'Type your password to delete the account.';
      password.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = '';
    const hooks = ctx.hooks();
    const token = hooks.onStart?.();
    try {
      await request('DELETE', '/api/user/@me', keyed ? {} : { password: password.value });
    } catch (err) {
      hooks.onFailed?.(token, err);
      status.textContent = errorText(err, { invalid_credentials: 'That password is wrong.' });
      submit.disabled = false;
      return;
    }
    password.value = '';
    ctx.close();
    hooks.onSignedOut?.(token, 'Your account was deleted. Thank you for having been here.');
  });

  const element = h('div', { className: 'prefs-block prefs-danger', id: 'prefs-delete-section' },
    h('h4', { className: 'prefs-subheading', text: 'Delete your account' }),
    h('p', { text: 'Deleting your account removes, for good:' }),
    h('ul', { className: 'prefs-goes', id: 'prefs-delete-list' }, ...GOES.map((line) => h('li', { text: line }))),
    h('p', { className: 'hint', text: 'Your messages in other people’s rooms stay, under your name as it is now.' }),
    form);

  return {
    element,
    /** The profile read from the server: a key account has no password to give. */
    setProfile(profile) {
      keyed = profile?.key_account === true;
      passwordField.hidden = keyed;
    },
    reset() {
      password.value = '';
      sure.checked = false;
      submit.disabled = true;
      status.textContent = '';
    },
  };
}
