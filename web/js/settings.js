/**
 * The settings panel: the gear in the header (`#prefs-open`, on every screen) and, for
 * accounts, "Account" (`#account-open`) open one dialog (`#prefs-dialog`) with tabs:
 *
 * - Account (settings-account.js): name, e-mail, password, sessions, key, deletion; for a
 *   guest, the offer to keep its name as an account (account-upgrade.js opens it).
 * - Appearance & chat (settings-appearance.js): theme, text size, clock, Enter-to-send,
 *   density, sounds — for everyone; a guest's stay in this browser (preferences.js).
 * - Privacy (settings-privacy.js): the ignore list, who may write first, showing as online.
 * - Encryption (e2e-settings.js), for accounts: end-to-end keys — set up, unlock, the safety
 *   number, a new recovery key.
 * - Companion and Premium (account-panel.js), when this server has the AI companion.
 *
 * A dialog on wide screens, the whole page at 600 px and narrower (settings.css). The tabs
 * follow the WAI-ARIA tabs pattern (arrow keys, Home, End). Each tab module builds its own
 * panel with dom.js and gets `ctx`: who is signed in, the chat's session hooks (a password
 * change or a deletion ends this session on purpose; see `connect`), and ways to show a tab
 * or close the panel. There is one panel per page (`settingsPanel()`), created at boot so the
 * gear works on the join screen too; chat.js tells it the identity and the events it cares
 * about.
 */

import { h } from './dom.js';
import { usePreferencesOf, preferencesChanged, onSaveFailed } from './preferences.js';
import { errorText } from './error-text.js';
import { loadIgnores } from './ignores.js';
import { createAccountTab } from './settings-account.js';
import { createAppearanceTab } from './settings-appearance.js';
import { createPrivacyTab } from './settings-privacy.js';
import { createEncryptionTab } from './e2e-settings.js';
import { createAccountTabs } from './account-panel.js';

let shared = null;

/** The page's settings panel (made on first use). */
export function settingsPanel() {
  shared ??= createSettingsPanel();
  return shared;
}

function createSettingsPanel() {
  const gear = document.getElementById('prefs-open');
  const accountButton = document.getElementById('account-open');
  let me = null;
  let hooks = {};
  let selected = null;

  const ctx = {
    me: () => me,
    /** The chat's session hooks (`connect`); empty while no chat has connected them. */
    hooks: () => hooks,
    open: (tab) => open(tab),
    close: () => close(),
    /** A tab's visibility may have changed (the companion turned out to exist). */
    refreshTabs: () => renderTabs(),
  };
  const tabs = [createAccountTab(ctx), createAppearanceTab(ctx), createPrivacyTab(ctx), createEncryptionTab(ctx),
    ...createAccountTabs(ctx)];

  const status = h('p', { className: 'prefs-status', id: 'prefs-status', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { className: 'prefs-tabs', role: 'tablist', 'aria-label': 'Settings sections' });
  const panels = h('div', { className: 'prefs-panels' });
  for (const tab of tabs) {
    tab.button = h('button', {
      type: 'button', role: 'tab', id: `prefs-tab-${tab.id}`, className: 'prefs-tab',
      'aria-controls': `prefs-panel-${tab.id}`, 'aria-selected': 'false', tabindex: '-1',
      dataset: { tab: tab.id }, text: tab.label,
      on: { click: () => select(tab.id, { focus: false }) },
    });
    Object.assign(tab.panel, { id: `prefs-panel-${tab.id}`, hidden: true });
    tab.panel.classList.add('prefs-panel');
    tab.panel.setAttribute('role', 'tabpanel');
    tab.panel.setAttribute('aria-labelledby', tab.button.id);
    tab.panel.tabIndex = 0;
    list.append(tab.button);
    panels.append(tab.panel);
  }
  const closeButton = h('button', {
    type: 'button', id: 'prefs-close', className: 'icon-button prefs-close', title: 'Close (Esc)',
    on: { click: () => close() },
  }, h('span', { 'aria-hidden': 'true', text: '×' }), h('span', { className: 'visually-hidden', text: 'Close settings' }));
  const dialog = h('dialog', { id: 'prefs-dialog', className: 'prefs-dialog', 'aria-labelledby': 'prefs-title' },
    h('div', { className: 'prefs-head' },
      h('h2', { id: 'prefs-title', className: 'prefs-title', text: 'Settings' }), closeButton),
    h('div', { className: 'prefs-body' }, list, h('div', { className: 'prefs-main' }, status, panels)));
  document.body.append(dialog);

  const visibleTabs = () => tabs.filter((tab) => tab.visible(me));
  const byId = (id) => tabs.find((tab) => tab.id === id);

  function renderTabs() {
    const visible = visibleTabs();
    for (const tab of tabs) tab.button.hidden = !visible.includes(tab);
    if (!visible.includes(byId(selected))) select(visible.includes(byId('appearance')) ? 'appearance' : visible[0]?.id);
  }

  function select(id, { focus = false } = {}) {
    const target = byId(id);
    if (!target) return;
    selected = id;
    for (const tab of tabs) {
      const on = tab === target;
      tab.button.setAttribute('aria-selected', String(on));
      tab.button.tabIndex = on ? 0 : -1;
      tab.panel.hidden = !on;
    }
    if (focus) target.button.focus();
    // On a phone the tabs are one row that scrolls: the chosen one comes fully into view.
    if (dialog.open) target.button.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (dialog.open) target.shown?.();
  }

  function open(id = selected ?? 'appearance') {
    status.textContent = '';
    renderTabs();
    if (!dialog.open) dialog.showModal();
    select(visibleTabs().includes(byId(id)) ? id : 'appearance');
    byId(selected)?.button.focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  list.addEventListener('keydown', (event) => {
    const visible = visibleTabs();
    const at = visible.indexOf(byId(selected));
    const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: visible.length - 1 };
    if (!(event.key in moves) || !visible.length) return;
    event.preventDefault();
    const next = visible[(moves[event.key] + visible.length) % visible.length];
    select(next.id, { focus: true });
  });
  gear.addEventListener('click', () => open());
  accountButton.addEventListener('click', () => open('account'));
  onSaveFailed((err) => {
    status.textContent = `Your settings apply on this device but were not saved to your account: ${errorText(err)}`;
  });
  for (const tab of tabs) tab.setIdentity?.(null, { changed: true });
  renderTabs();

  return {
    /** Opens the panel at tab `id` (account, appearance, privacy, encryption, companion, premium). */
    open,
    close,

    /**
     * The chat's session hooks: `onStart()` before a request of ours that ends this session
     * (returns a token for the others), `onDone(token, profile)` when the account carries on in
     * a new session (a password change), `onFailed(token)` when the request failed, and
     * `onSignedOut(token, message)` when it is gone (a deletion).
     */
    connect(chatHooks) {
      hooks = chatHooks;
    },

    /** Who is signed in (the chat's identity), or null when signed out. */
    setIdentity(identity) {
      // Another identity always comes after a sign-out (null); a badge or a rename is the same one.
      const changed = !identity || !me || identity.kind !== me.kind;
      me = identity ?? null;
      accountButton.hidden = !me || me.kind === 'guest';
      usePreferencesOf(me);
      if (changed) {
        loadIgnores(me);
        if (!me) close();
      }
      for (const tab of tabs) tab.setIdentity?.(me, { changed });
      renderTabs();
    },

    /** Server events: preferences from another device, premium, renames. */
    handleEvent(event, data) {
      if (event === 'preferences_changed') preferencesChanged(data);
      for (const tab of tabs) tab.handleEvent?.(event, data, { open: dialog.open && selected === tab.id });
    },
  };
}
