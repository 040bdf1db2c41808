/**
 * The moderation dialog (`#moderate-dialog`): kick, mute or ban someone with an optional reason,
 * a duration (mute, ban) and, for bans, their address too. A ban may also name no one, for
 * an address alone or a name that is not online (the admin panel's "Ban a name or address").
 *
 * It only gathers the command's data; the caller sends it (over the gateway from the member
 * menu, over the admin API from the panel) through `perform`, and a failure stays in the
 * dialog as a sentence with its code. There is one such element, so the dialog is wired once
 * and shared (`moderateDialog()`).
 */

import { wireDialog } from './dialog.js';
import { explainAdminError } from './admin-api.js';

const TITLES = { kick: 'Kick', mute: 'Mute', ban: 'Ban' };
/** What the action does, for the line under the title. */
const EFFECTS = {
  kick: 'Closes their connections now; they can come back.',
  mute: 'They can still read, but cannot write.',
  ban: 'Closes their connections and ends their sessions; they cannot come back while banned.',
};
const DEFAULT_DURATION = { mute: '3600', ban: '' };

let shared = null;

/** The one moderation dialog of the page. */
export function moderateDialog() {
  shared ??= createModerateDialog();
  return shared;
}

function createModerateDialog() {
  const $ = (id) => document.getElementById(id);
  const element = $('moderate-dialog');
  const dialog = wireDialog(element);
  const fields = {
    user: $('moderate-user'),
    ip: $('moderate-ip'),
    reason: $('moderate-reason'),
    duration: $('moderate-duration'),
    withIp: $('moderate-with-ip'),
  };
  const submit = $('moderate-submit');
  const error = $('moderate-error');
  let current = null; // {action, user, room, perform, resolve}

  function setError(text) {
    error.textContent = text;
  }

  /** The command's data from the form, or throws with a sentence when it is incomplete. */
  function data() {
    const { action, user, room } = current;
    const body = { user: user ?? (fields.user.value.trim() || undefined), room };
    const reason = fields.reason.value.trim();
    if (reason) body.reason = reason;
    if (action !== 'kick' && fields.duration.value) body.duration_secs = Number(fields.duration.value);
    if (action === 'ban') {
      const ip = user ? '' : fields.ip.value.trim();
      if (ip) body.ip = ip;
      if (user && fields.withIp.checked) body.with_ip = true;
      if (!body.user && !body.ip) throw new Error('Enter a name, an address, or both.');
    }
    return body;
  }

  element.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current || submit.disabled) return;
    let body;
    try {
      body = data();
    } catch (err) {
      setError(err.message);
      return;
    }
    const task = current;
    submit.disabled = true;
    setError('');
    try {
      await task.perform(body);
      if (task !== current) return;
      current = null;
      dialog.close();
      task.resolve(true);
    } catch (err) {
      if (task === current) setError(explainAdminError(err));
    } finally {
      submit.disabled = false;
    }
  });
  element.addEventListener('close', () => {
    const task = current;
    current = null;
    task?.resolve(false);
  });

  return {
    /**
     * Opens the dialog; resolves true once `perform` succeeded, false when cancelled.
     * @param {object} options
     * @param {'kick'|'mute'|'ban'} options.action
     * @param {string} [options.user] who; none (bans only) lets the moderator type a name or address
     * @param {string} [options.room] where the notice goes (the lobby when absent)
     * @param {string} [options.where] how to say where it happens, e.g. `in #book-club`
     * @param {(data: object) => Promise<unknown>} perform sends the command's data
     */
    open({ action, user, room, where = '' }, perform) {
      current?.resolve(false);
      const free = action === 'ban' && !user;
      $('moderate-title').textContent = user ? `${TITLES[action]} ${user}` : 'Ban a name or an address';
      $('moderate-about').textContent = [EFFECTS[action], where].filter(Boolean).join(' ');
      $('moderate-target').hidden = !free;
      $('moderate-duration-field').hidden = action === 'kick';
      $('moderate-with-ip-field').hidden = action !== 'ban' || free;
      submit.textContent = TITLES[action];
      for (const input of [fields.user, fields.ip, fields.reason]) input.value = '';
      fields.withIp.checked = false;
      fields.duration.value = DEFAULT_DURATION[action] ?? '';
      setError('');
      return new Promise((resolve) => {
        current = { action, user, room, perform, resolve };
        dialog.open();
        (free ? fields.user : fields.reason).focus();
      });
    },

    /** Closes the dialog (sign-out); a pending `open` resolves false. */
    close: () => dialog.close(),
  };
}
