/**
 * The settings panel's "Companion" and "Premium" tabs, for accounts on a server with the AI
 * companion (a server without one answers `GET /api/companion` with 404, and both tabs stay
 * hidden unless the account has premium anyway):
 *
 * - Premium: in force or not, until when, and what it unlocks on this server.
 * - Companion: free messages left of how many (or unlimited with premium), how many were used,
 *   and "Forget our conversation".
 *
 * Everything is read from the server when a tab is shown (`GET /api/user/@me`,
 * `GET /api/companion`) and again when premium changes while it is open (`premium_changed`),
 * so it never shows a local guess.
 */

import { get, del, describeError } from './api.js';
import { h } from './dom.js';
import { whileBusy } from './dialog.js';
import { premiumText } from './premium.js';

async function companionView() {
  try {
    return await get('/api/companion');
  } catch (err) {
    if (err.code === 'ai_disabled' || err.status === 404) return null;
    throw err;
  }
}

/** @returns {object[]} the two tabs, for settings.js */
export function createAccountTabs(ctx) {
  let companion = null; // GET /api/companion, while the server has one
  let premium = false;
  let generation = 0; // a newer read (or another identity) makes answers still under way stale

  const status = h('p', { id: 'account-status', className: 'prefs-status account-status', role: 'status' });
  const say = (text) => { status.textContent = text; };
  const premiumLine = h('p', { id: 'account-premium' });
  const unlocks = h('p', { id: 'account-premium-unlocks', className: 'hint' });
  const companionName = h('span', { id: 'account-companion-name' });
  const quota = h('p', { id: 'account-quota' });
  const forget = h('button', { type: 'button', id: 'account-forget', className: 'button', text: 'Forget our conversation' });

  const premiumPanel = h('section', { className: 'prefs-section' },
    h('h3', { className: 'prefs-heading', text: 'Premium' }), premiumLine, unlocks);
  const companionPanel = h('section', { className: 'prefs-section', id: 'account-companion' },
    h('h3', { className: 'prefs-heading' }, 'AI companion: ', companionName),
    quota,
    h('p', { className: 'hint', text: 'Messages to the companion are processed by this server’s AI model, and its last turns with you are remembered until you forget them.' }),
    h('div', { className: 'prefs-buttons' }, forget), status);

  function render(me, view) {
    const until = Number.isFinite(me?.premium_until) ? me.premium_until : null;
    premium = me?.premium === true;
    premiumLine.textContent = `Premium: ${premiumText(until)}.`;
    premiumLine.dataset.active = String(premium);
    unlocks.textContent = view
      ? `Premium unlocks unlimited messages to ${view.name}. An administrator grants it, or a payment.`
      : 'Premium is granted by an administrator or by a payment.';
    if (!view) return;
    companionName.textContent = view.name;
    const free = Number(view.free_messages) || 0;
    const used = Number(view.used) || 0;
    quota.textContent = premium
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
      companion = view;
      render(me, view);
      ctx.refreshTabs();
    } catch (err) {
      if (ticket === generation) say(`Could not load your account: ${describeError(err)}`);
    }
  }

  forget.addEventListener('click', () => whileBusy(forget, async () => {
    say('');
    try {
      await del('/api/companion/memory');
      say('Done: the companion has forgotten your conversation.');
    } catch (err) {
      say(`Could not forget: ${describeError(err)}`);
    }
  }));

  const isAccount = (me) => Boolean(me) && me.kind !== 'guest';
  const common = {
    setIdentity(me, { changed }) {
      if (!changed) return;
      generation += 1;
      companion = null;
      premium = false;
      if (isAccount(me)) refresh(); // learns whether the tabs are there at all
    },
    shown: refresh,
    handleEvent(event, data, { open }) {
      if (event === 'premium_changed' && open) refresh();
    },
  };
  return [
    { ...common, id: 'companion', label: 'Companion', panel: companionPanel, visible: (me) => isAccount(me) && Boolean(companion) },
    {
      ...common, id: 'premium', label: 'Premium', panel: premiumPanel, visible: (me) => isAccount(me) && (Boolean(companion) || premium),
      // One read serves both tabs: only the premium tab follows identities.
      setIdentity: () => {},
    },
  ];
}
