/**
 * "Account" (`#account-open` in the header, registered accounts only): where the signed-in
 * account stands with premium and with the AI companion, in one dialog.
 *
 * - Premium: in force or not, until when, and what it unlocks on this server.
 * - The companion (only when the server has one): free messages left of how many (or
 *   unlimited with premium), how many were used, and "Forget our conversation".
 *
 * Everything is read from the server when the dialog opens (`GET /api/user/@me`,
 * `GET /api/companion`) and again when premium changes while it is open (`premium_changed`),
 * so it never shows a local guess. A 404 from the companion endpoint means this server has
 * none: its section stays hidden.
 */

import { get, del, describeError } from './api.js';
import { wireDialog, whileBusy } from './dialog.js';
import { premiumText } from './premium.js';

/** @param {HTMLButtonElement} button `#account-open` */
export function createAccountPanel(button) {
  const $ = (id) => document.getElementById(id);
  const dialog = wireDialog($('account-dialog'));
  const forget = $('account-forget');
  const status = $('account-status');
  let generation = 0; // a newer read (or a sign-out) makes answers still under way stale

  const say = (text) => { status.textContent = text; };

  async function companionView() {
    try {
      return await get('/api/companion');
    } catch (err) {
      if (err.code === 'ai_disabled' || err.status === 404) return null;
      throw err;
    }
  }

  function renderPremium(me) {
    const until = Number.isFinite(me?.premium_until) ? me.premium_until : null;
    $('account-premium').textContent = `Premium: ${premiumText(until)}.`;
    $('account-premium').dataset.active = String(me?.premium === true);
  }

  function renderCompanion(view, premium) {
    $('account-companion').hidden = !view;
    $('account-premium-unlocks').textContent = view
      ? `Premium unlocks unlimited messages to ${view.name}. An administrator grants it, or a payment.`
      : 'Premium is granted by an administrator or by a payment.';
    if (!view) return;
    $('account-companion-name').textContent = view.name;
    const free = Number(view.free_messages) || 0;
    const used = Number(view.used) || 0;
    $('account-quota').textContent = premium
      ? `Unlimited messages (premium). ${used} of your free messages were used before.`
      : `${Math.max(free - used, 0)} of ${free} free messages left (${used} used).`;
    forget.textContent = `Forget our conversation with ${view.name}`;
  }

  async function refresh() {
    const ticket = ++generation;
    say('');
    try {
      const [me, view] = await Promise.all([get('/api/user/@me'), companionView()]);
      if (ticket !== generation) return;
      renderPremium(me);
      renderCompanion(view, me?.premium === true);
    } catch (err) {
      if (ticket === generation) say(`Could not load your account: ${describeError(err)}`);
    }
  }

  button.addEventListener('click', () => {
    dialog.open();
    refresh();
  });

  forget.addEventListener('click', () => whileBusy(forget, async () => {
    say('');
    try {
      await del('/api/companion/memory');
      say('Done: the companion has forgotten your conversation.');
    } catch (err) {
      say(`Could not forget: ${describeError(err)}`);
    }
  }));

  return {
    /** Shows the button to registered accounts only (`me`: the chat's identity, or null). */
    setIdentity(me) {
      button.hidden = !me || me.kind === 'guest';
      if (button.hidden) {
        generation += 1;
        dialog.close();
      }
    },

    /** `premium_changed`: read again if the dialog is open. */
    premiumChanged() {
      if ($('account-dialog').open) refresh();
    },
  };
}
