/**
 * The settings panel's "Account" tab.
 *
 * For an account: its name (`POST /api/user/@me/username`: the old name stays reserved for
 * its holder for 30 days, and everyone sees the change live through `user_renamed`), its
 * e-mail (`POST /api/user/@me/email`, `null` removes it), its password (`POST /api/password`,
 * which signs out every other session — and this one too, replaced by a new one: the chat is
 * told beforehand through the panel's hooks and carries on in the new session; end-to-end
 * keys are re-wrapped with the new password first, e2e-account.js, so history stays readable),
 * or for a key account its key (settings-key.js), the active sessions (settings-sessions.js)
 * and deleting the account (settings-delete.js). The profile is read when the tab is shown.
 *
 * For a guest: what an account would keep, and the offer to keep its name as one
 * (`#prefs-upgrade`, which account-upgrade.js opens; the panel closes first).
 */

import { h } from './dom.js';
import { get, post } from './api.js';
import { errorText } from './error-text.js';
import { settingsForm } from './settings-form.js';
import { createKeySection } from './settings-key.js';
import { createSessionsSection } from './settings-sessions.js';
import { createDeleteSection } from './settings-delete.js';
import { rewrapForPassword } from './e2e-account.js';

/** Whether a Profile is a key account (signs in with a key, has no password). */
export const isKeyAccount = (profile) => profile?.key_account === true;

const WRONG_PASSWORD = { invalid_credentials: 'That password is wrong.' };

export function createAccountTab(ctx) {
  let profile = null;
  const nameShown = h('strong', { id: 'prefs-account-name' });
  const emailShown = h('span', { id: 'prefs-account-email' });
  const signIn = h('span', { id: 'prefs-account-kind' });

  const username = settingsForm({
    id: 'prefs-username',
    inputs: [
      { name: 'username', label: 'New name', autocomplete: 'username',
        hint: '1–20 letters, digits, “_” or “-”. Everyone sees the new name at once; your old name stays reserved for you for 30 days.' },
      { name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' },
    ],
    submit: 'Change name',
    sentences: {
      ...WRONG_PASSWORD,
      username_taken: 'That name is taken, or someone gave it up less than 30 days ago. Pick another one.',
    },
    async onSubmit({ username: name, password }) {
      const body = { username: name.trim() };
      if (!body.username) throw new Error('Type the new name first.');
      if (password !== undefined) body.password = password;
      profile = await post('/api/user/@me/username', body);
      render();
      username.reset({ keepStatus: true });
      return `Done: you are ${profile.username} now.`;
    },
  });

  const email = settingsForm({
    id: 'prefs-email',
    inputs: [
      { name: 'email', label: 'New e-mail', type: 'email', autocomplete: 'email' },
      { name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' },
    ],
    submit: 'Save e-mail',
    sentences: WRONG_PASSWORD,
    async onSubmit(values) {
      const address = values.email.trim();
      if (!address) throw new Error('Type the e-mail address first (or remove the one you have).');
      return saveEmail(address, values.password);
    },
  });
  const removeEmail = h('button', { type: 'button', id: 'prefs-email-remove', className: 'button button-quiet', text: 'Remove e-mail' });
  email.button.after(removeEmail);
  removeEmail.addEventListener('click', async () => {
    removeEmail.disabled = true;
    try {
      email.say(await saveEmail(null, email.controls.password.value));
    } catch (err) {
      email.say(errorText(err, WRONG_PASSWORD), 'error', err.code ?? '');
    } finally {
      removeEmail.disabled = false;
    }
  });

  async function saveEmail(address, password) {
    const body = { email: address };
    if (!isKeyAccount(profile)) body.password = password ?? '';
    profile = await post('/api/user/@me/email', body);
    render();
    email.reset({ keepStatus: true });
    return address ? `Saved: your e-mail is ${profile.email ?? address}.` : 'Removed: your account has no e-mail now.';
  }

  const password = settingsForm({
    id: 'prefs-password',
    inputs: [
      { name: 'current', label: 'Current password', type: 'password', autocomplete: 'current-password' },
      { name: 'next', label: 'New password', type: 'password', autocomplete: 'new-password' },
      { name: 'repeat', label: 'New password again', type: 'password', autocomplete: 'new-password' },
    ],
    submit: 'Change password',
    sentences: { invalid_credentials: 'Your current password is wrong.' },
    async onSubmit({ current, next, repeat }) {
      if (!current || !next) throw new Error('Type your current password and the new one.');
      if (next !== repeat) throw new Error('The two new passwords differ. Type the same one twice.');
      // The keys first: once the password changes, only the new one will open them.
      const keys = await rewrapForPassword(current, next);
      const hooks = ctx.hooks();
      const token = hooks.onStart?.();
      let answer;
      try {
        answer = await post('/api/password', { current_password: current, new_password: next });
      } catch (err) {
        await keys.undo();
        hooks.onFailed?.(token, err);
        throw err;
      }
      password.reset();
      hooks.onDone?.(token, answer.user); // the chat carries on in the new session
      ctx.open('account');
      const stale = keys.hadKeys && !keys.rewrapped
        ? ' Your encryption keys are still locked with an older password: unlock them with your recovery key (Encryption tab).' : '';
      return `Password changed. All your other sessions were signed out; this one stays signed in.${stale}`;
    },
  });
  const passwordNote = h('p', { className: 'hint', id: 'prefs-password-note',
    text: 'Changing your password signs out all your other sessions — your other browsers and devices. This one stays signed in.' });
  const passwordSection = h('div', { className: 'prefs-block', id: 'prefs-password-section' },
    h('h4', { className: 'prefs-subheading', text: 'Password' }), passwordNote, password.form);
  const key = createKeySection();
  const sessions = createSessionsSection();
  const deletion = createDeleteSection(ctx);

  const upgradeButton = h('button', {
    type: 'button', id: 'prefs-upgrade', className: 'button button-primary', text: 'Keep your name — create an account',
    on: { click: () => ctx.close() }, // account-upgrade.js opens its dialog from the same click
  });
  const guestName = h('strong', { id: 'prefs-guest-name' });
  const guest = h('div', { className: 'prefs-block', id: 'prefs-guest' },
    h('p', {}, 'You are here as the guest ', guestName, '. Your settings are kept in this browser only.'),
    h('p', { text: 'An account keeps your name — nobody else can take it — and your settings on every device, with rooms, stored conversations and reactions.' }),
    upgradeButton);

  const accountView = h('div', { id: 'prefs-account' },
    h('p', { className: 'prefs-summary' }, 'Signed in as ', nameShown, ' · ', signIn, h('br'), 'E-mail: ', emailShown),
    h('div', { className: 'prefs-block' }, h('h4', { className: 'prefs-subheading', text: 'Name' }), username.form),
    h('div', { className: 'prefs-block' }, h('h4', { className: 'prefs-subheading', text: 'E-mail' }), email.form),
    passwordSection, key.element, sessions.element, deletion.element);
  const panel = h('section', { className: 'prefs-section' }, h('h3', { className: 'prefs-heading', text: 'Account' }), guest, accountView);

  function render() {
    const keyed = isKeyAccount(profile);
    nameShown.textContent = profile?.username ?? ctx.me()?.name ?? '';
    emailShown.textContent = profile?.email || 'none';
    signIn.textContent = keyed ? 'signs in with a key' : 'signs in with a password';
    removeEmail.hidden = !profile?.email;
    for (const form of [username, email]) form.showInput('password', !keyed);
    passwordSection.hidden = keyed;
    key.element.hidden = !keyed;
    deletion.setProfile(profile);
  }

  async function refresh() {
    try {
      profile = await get('/api/user/@me');
      render();
    } catch {
      // The forms still work; the summary waits for the next time the tab is shown.
    }
  }

  return {
    id: 'account',
    label: 'Account',
    panel,
    visible: (me) => Boolean(me),
    setIdentity(me, { changed }) {
      const isGuest = me?.kind === 'guest';
      guest.hidden = !isGuest;
      accountView.hidden = !me || isGuest;
      guestName.textContent = isGuest ? me.name : '';
      if (changed) {
        profile = null;
        for (const form of [username, email, password]) form.reset();
        key.reset();
        sessions.reset();
        deletion.reset();
        render();
      }
    },
    shown() {
      if (ctx.me()?.kind === 'guest') return;
      refresh();
      sessions.refresh();
    },
    handleEvent(event, data, { open }) {
      if (event === 'user_renamed' && open) refresh();
    },
  };
}
