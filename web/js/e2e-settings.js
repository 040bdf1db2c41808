/**
 * The settings panel's "Encryption" tab, for accounts (docs/e2ee.md, "Account keys"):
 *
 * - no keys yet: "Set up encryption" with the account's password — both key pairs are made in
 *   this browser, wrapped with that password and a new recovery key, and published; the
 *   recovery key is then shown once for writing down (e2e-recovery-view.js);
 * - keys this browser does not hold: unlock them with the password, or with the recovery key
 *   (which re-wraps them with the current password, when given, so the next login opens them);
 * - unlocked: the account's own safety number, and "Make a new recovery key" (asks for the
 *   password, re-wraps `recovery_wrapped`, shows the new key once).
 *
 * The tab also hears who is signed in (it loads that account's keys: e2e-account.js, and its
 * record of others' keys: e2e-trust.js) and `keys_changed`. The banner of an end-to-end room
 * opens it (e2e-view.js).
 */

import { h, statusLine } from './dom.js';
import { settingsForm } from './settings-form.js';
import {
  setAccount, state, onAccountChange, setUp, unlockWithPassword, unlockWithRecovery, newRecoveryKey, recheck,
} from './e2e-account.js';
import { setViewer, keysChanged } from './e2e-trust.js';
import { createRecoveryView } from './e2e-recovery-view.js';
import { onE2EAction } from './e2e-view.js';

const ABOUT = 'End-to-end encryption keeps the words and files of encrypted rooms and conversations readable '
  + 'only in your members’ browsers: not by the server, its administrators or anyone who steals its disk. '
  + 'Your keys are kept on the server locked twice — by your password and by a recovery key only you have — '
  + 'so a new browser opens them when you log in.';

export function createEncryptionTab(ctx) {
  const summary = h('p', { className: 'prefs-summary', id: 'prefs-e2e-status', role: 'status', 'aria-live': 'polite' });
  const safety = h('p', { className: 'e2e-safety', id: 'prefs-e2e-safety' });
  // What an unlock did, said where it stays visible (its form hides once the keys open).
  const note = statusLine('prefs-e2e-note');
  const tell = (text) => {
    note.say(text, 'ok');
    return text;
  };
  const recovery = createRecoveryView(() => render());

  const setup = settingsForm({
    id: 'prefs-e2e-setup',
    inputs: [{ name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password',
      hint: 'The one you log in with: it unlocks your keys when you log in on another browser.' }],
    submit: 'Set up encryption',
    async onSubmit({ password }) {
      const key = await setUp(password);
      setup.reset();
      recovery.show(key);
      return 'Encryption is set up. Write down your recovery key now.';
    },
  });
  const unlock = settingsForm({
    id: 'prefs-e2e-unlock',
    inputs: [{ name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' }],
    submit: 'Unlock',
    async onSubmit({ password }) {
      if (!await unlockWithPassword(password)) throw new Error('That password does not open your keys. Try your recovery key.');
      unlock.reset({ keepStatus: true });
      return tell('Unlocked: this browser can read your encrypted rooms.');
    },
  });
  const recover = settingsForm({
    id: 'prefs-e2e-recover',
    inputs: [
      { name: 'key', label: 'Recovery key', autocomplete: 'off', hint: '52 letters and digits, in 13 groups of 4; spaces do not matter.' },
      { name: 'password', label: 'Your current password', type: 'password', autocomplete: 'current-password',
        hint: 'Optional: your keys are then locked with it again, so logging in unlocks them.' },
    ],
    submit: 'Unlock with recovery key',
    async onSubmit({ key, password }) {
      const { rewrapped } = await unlockWithRecovery(key, password || undefined);
      recover.reset({ keepStatus: true });
      return tell(rewrapped
        ? 'Unlocked, and your keys are locked with your current password again.'
        : 'Unlocked. Your password does not open your keys yet: unlock once more with it typed here to fix that.');
    },
  });
  const renew = settingsForm({
    id: 'prefs-e2e-renew',
    inputs: [{ name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' }],
    submit: 'Make a new recovery key',
    async onSubmit({ password }) {
      const key = await newRecoveryKey(password);
      renew.reset();
      recovery.show(key);
      return 'Done: the old recovery key no longer opens your keys.';
    },
  });

  const blocks = {
    setup: h('div', { className: 'prefs-block', id: 'prefs-e2e-setup-section' },
      h('h4', { className: 'prefs-subheading', text: 'Set up encryption' }),
      h('p', { className: 'hint', text: 'Makes your keys in this browser. Then you can create end-to-end encrypted rooms, and your new private conversations with people who have keys are encrypted.' }),
      setup.form),
    unlock: h('div', { className: 'prefs-block', id: 'prefs-e2e-unlock-section' },
      h('h4', { className: 'prefs-subheading', text: 'Unlock with your password' }), unlock.form),
    recover: h('div', { className: 'prefs-block', id: 'prefs-e2e-recover-section' },
      h('h4', { className: 'prefs-subheading', text: 'Unlock with your recovery key' }), recover.form),
    unlocked: h('div', { className: 'prefs-block', id: 'prefs-e2e-unlocked-section' },
      h('h4', { className: 'prefs-subheading', text: 'Your safety number' }),
      h('p', { className: 'hint', text: 'Compare it in person with the one your contacts see for you (in their member menu, “Safety number…”).' }),
      safety),
    renew: h('div', { className: 'prefs-block', id: 'prefs-e2e-renew-section' },
      h('h4', { className: 'prefs-subheading', text: 'Recovery key' }),
      h('p', { className: 'hint', text: 'Lost it, or someone may have seen it? Make a new one: the old one stops working.' }),
      renew.form),
  };

  const panel = h('section', { className: 'prefs-section' }, // #prefs-panel-encryption (settings.js)
    h('h3', { className: 'prefs-heading', text: 'Encryption' }),
    h('p', { className: 'hint', text: ABOUT }),
    summary, note, recovery.element, ...Object.values(blocks));

  const SUMMARIES = {
    checking: 'Looking at your keys…',
    none: 'Encryption is not set up for your account.',
    locked: 'Your account has keys, but this browser does not hold them: unlock them to read your encrypted rooms.',
    unlocked: 'Encryption is on: this browser holds your keys.',
  };

  function render() {
    const { status, needsRecovery, safetyNumber } = state();
    panel.dataset.status = status;
    summary.textContent = needsRecovery && status === 'locked'
      ? 'Your password did not open your keys (it may have been reset by an administrator). Unlock them with your recovery key: your password then locks them again.'
      : SUMMARIES[status] ?? '';
    safety.textContent = safetyNumber;
    const keyShown = recovery.showing();
    blocks.setup.hidden = status !== 'none';
    blocks.unlock.hidden = status !== 'locked';
    blocks.recover.hidden = status !== 'locked';
    blocks.unlocked.hidden = status !== 'unlocked';
    blocks.renew.hidden = status !== 'unlocked' || keyShown;
    if (needsRecovery && blocks.recover.previousElementSibling !== recovery.element) recovery.element.after(blocks.recover);
  }
  onAccountChange(render);
  onE2EAction((code) => {
    ctx.open('encryption');
    const form = code === 'recovery' ? recover : code === 'setup' ? setup : unlock;
    form.form.querySelector('input')?.focus();
  });

  return {
    id: 'encryption',
    label: 'Encryption',
    panel,
    visible: (me) => Boolean(me) && me.kind !== 'guest',
    setIdentity(me) {
      setViewer(me && me.kind !== 'guest' ? me.name : '');
      const before = state().me;
      setAccount(me);
      if (state().me !== before) {
        for (const form of [setup, unlock, recover, renew]) form.reset();
        recovery.hide();
        note.say('');
      }
      render();
    },
    shown: render,
    handleEvent(event, data) {
      if (event !== 'keys_changed') return;
      keysChanged(data);
      if (String(data?.user).toLowerCase() === String(state().me).toLowerCase()) recheck();
    },
  };
}
