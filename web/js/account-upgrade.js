/**
 * "Keep your name — create an account", for a signed-in guest: the header button
 * (`#upgrade-open`, where accounts have "Account"), the one under the room list
 * (`#rooms-upgrade`) and the state cards that tell a guest something needs an account all open
 * one dialog (`#upgrade-dialog`).
 *
 * The dialog registers with the guest's own session cookie (`POST /api/register`), which lets
 * the account take the nick the guest is online under; the nick is filled in and may be
 * changed. Once the account exists the server ends the guest session: its connections get
 * `closing` `session_revoked`. That end is expected, not news, so the chat is told before the
 * request goes out (`onStart`) and carries on as the account after it (`onDone`, with the new
 * profile); `onFailed` lets it take back the expectation. The public rooms the guest had open
 * are joined again by the account (guest-rooms.js), which makes it their member. Refusals
 * read as sentences (error-text.js), the code kept in `data-code`.
 *
 * The password hint names the server's minimum, read once from the OpenAPI document (the
 * register schema's `minLength`); without it the hint stays general and a refusal names it.
 */

import { get, post } from './api.js';
import { errorText } from './error-text.js';
import { wireDialog } from './dialog.js';
import { carryOver } from './guest-rooms.js';

/** What reads differently here: the name may be held by an account or by someone online. */
const UPGRADE_SENTENCES = {
  username_taken: 'That name is taken: an account has it, or someone else is online under it. Pick another one.',
};

/** The server's shortest password, or null when it cannot be read (asked once per page). */
let minLength;
function passwordMinLength() {
  minLength ??= get('/api/openapi.json').then(
    (doc) => {
      const value = doc?.components?.schemas?.RegisterRequest?.properties?.password?.minLength;
      return Number.isInteger(value) && value > 0 ? value : null;
    },
    () => null,
  );
  return minLength;
}

/**
 * Wires the offer once.
 * @param {HTMLButtonElement[]} buttons the buttons that open the dialog (shown to guests only)
 * @param {object} hooks
 * @param {() => object|null} hooks.onStart the request is about to go out; returns a token
 *   (the chat's session) handed back to the other hooks
 * @param {(token: object, profile: object) => void} hooks.onDone the account exists
 * @param {(token: object, err: Error) => void} hooks.onFailed the request was refused or lost
 * @returns {{setIdentity: (me: object|null) => void, open: () => void}}
 */
export function createAccountUpgrade(buttons, { onStart, onDone, onFailed }) {
  const $ = (id) => document.getElementById(id);
  const dialog = wireDialog($('upgrade-dialog'));
  const form = $('upgrade-form');
  const username = $('upgrade-username');
  const password = $('upgrade-password');
  const email = $('upgrade-email');
  const submit = $('upgrade-submit');
  const errorLine = $('upgrade-error');
  let me = null; // the guest, while one is signed in
  let busy = false;

  function say(text, code = '') {
    errorLine.textContent = text;
    errorLine.dataset.code = code;
  }

  async function showMinimum() {
    const hint = $('upgrade-password-hint');
    const min = await passwordMinLength();
    hint.textContent = min
      ? `At least ${min} characters. Choose one you do not use elsewhere.`
      : 'Choose a password you do not use elsewhere.';
    hint.dataset.min = min ? String(min) : '';
  }

  function open() {
    if (!me) return;
    if (!$('upgrade-dialog').open) {
      username.value = me.name;
      password.value = '';
      say('');
      $('upgrade-nick').textContent = me.name;
    }
    dialog.open();
    showMinimum();
    requestAnimationFrame(() => (username.value ? password : username).focus());
  }

  for (const button of buttons) button.addEventListener('click', open);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || !me) return;
    const body = { username: username.value.trim(), password: password.value };
    if (!body.username || !body.password) {
      say('Choose a name and a password.');
      (body.username ? password : username).focus();
      return;
    }
    if (email.value.trim()) body.email = email.value.trim();
    const guestName = me.name;
    busy = true;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    say('');
    const token = onStart();
    let answer;
    try {
      answer = await post('/api/register', body);
    } catch (err) {
      say(errorText(err, UPGRADE_SENTENCES), err.code || '');
      onFailed(token, err);
      return;
    } finally {
      busy = false;
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
    password.value = '';
    dialog.close();
    carryOver(guestName, answer.user?.username ?? body.username); // the rooms it had open
    onDone(token, answer.user);
  });

  return {
    /** Shows the offer to guests only (`me`: the chat's identity, or null). */
    setIdentity(identity) {
      me = identity?.kind === 'guest' ? identity : null;
      for (const button of buttons) button.hidden = !me;
      if (!me) {
        password.value = '';
        dialog.close();
      }
    },

    /** Opens the dialog (a state card's "create an account"). */
    open,
  };
}
