/**
 * The admin panel (`#admin-panel`, over the chat view) for moderators and above, and the header
 * button that opens it: tabs for users, bans, mutes, live sessions, rooms and the audit log,
 * each a module of its own (admin-*.js) that loads its data whenever it is shown.
 *
 * This module holds what the tabs share (`ctx`): the identity, one status line for results and
 * errors, running moderation actions over the admin API, and the refusal when the admin API
 * does not answer this caller (403: not a moderator any more, or not on an admin network).
 * The panel has its own address, `/admin`; the chat stays connected underneath.
 */

import { act, explainAdminError, isDenied } from './admin-api.js';
import { moderates } from './roles.js';
import { ADMIN_PATH, setUrl } from './router.js';
import { moderateDialog } from './moderate-dialog.js';
import { createUsersTab } from './admin-users.js';
import { createSanctionsTab } from './admin-sanctions.js';
import { createSessionsTab } from './admin-sessions.js';
import { createRoomsTab } from './admin-rooms.js';
import { createAuditTab } from './admin-audit.js';

const TAB_NAMES = ['users', 'bans', 'mutes', 'sessions', 'rooms', 'audit'];

/** Wires the panel once; `setIdentity` decides who sees the button. */
export function createAdminPanel() {
  const $ = (id) => document.getElementById(id);
  const panel = $('admin-panel');
  const toggle = $('admin-toggle');
  const status = $('admin-status');
  const denied = $('admin-denied');
  let me = null;
  let active = 'users';
  let returnPath = '/';

  function report(text, kind = 'info') {
    status.textContent = text;
    status.dataset.kind = text ? kind : '';
    status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  function deny(err) {
    const said = err.message ? ` (“${err.message}”)` : '';
    denied.textContent = `The admin panel is not available from here: the server refused${said}. `
      + 'It answers moderators only when they connect from one of its admin '
      + 'networks; ask an administrator if you should have access.';
    denied.hidden = false;
  }

  const ctx = {
    me: () => me,
    report,
    /** Runs a read for the shown tab; null (and the reason on screen) when it failed. */
    async load(task, what) {
      try {
        const result = await task();
        denied.hidden = true;
        return result;
      } catch (err) {
        if (isDenied(err)) deny(err);
        else report(`Could not load ${what}: ${explainAdminError(err)}`, 'error');
        return null;
      }
    },
    /** Runs a change; says how it went (`done`, or `failure` and why) and refreshes the tab. */
    async run(task, done, failure) {
      try {
        await task();
      } catch (err) {
        report(`${failure}: ${explainAdminError(err)}`, 'error');
        return false;
      }
      report(done, 'ok');
      tabs[active].load();
      return true;
    },
    /** Runs a moderation action over the admin API (see `run`). True when done. */
    act(action, data, done) {
      const target = data.user ?? data.ip ?? '';
      return ctx.run(() => act(action, data), done, `Could not ${action.replace('_', ' ')} ${target}`);
    },
    /** Opens the moderation dialog for `action` on `user` (none: a free ban) and runs it. */
    async moderate(action, user) {
      report('');
      const done = await moderateDialog().open(
        { action, user, where: 'The notice goes to the lobby.' },
        (data) => act(action, data),
      );
      if (!done) return;
      const past = { kick: 'kicked', mute: 'muted', ban: 'banned' }[action];
      report(user ? `${user} was ${past}.` : 'The ban is in force.', 'ok');
      tabs[active].load();
    },
  };
  const tabs = {
    users: createUsersTab(ctx),
    bans: createSanctionsTab(ctx, 'ban'),
    mutes: createSanctionsTab(ctx, 'mute'),
    sessions: createSessionsTab(ctx),
    rooms: createRoomsTab(ctx),
    audit: createAuditTab(ctx),
  };

  function select(name, { focus = false } = {}) {
    active = name;
    for (const tab of TAB_NAMES) {
      const button = $(`admin-tab-${tab}`);
      const selected = tab === name;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`admin-${tab}`).hidden = !selected;
    }
    if (focus) $(`admin-tab-${name}`).focus();
    report('');
    tabs[name].load();
  }

  for (const name of TAB_NAMES) {
    const button = $(`admin-tab-${name}`);
    button.addEventListener('click', () => select(name));
    button.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      select(TAB_NAMES[(TAB_NAMES.indexOf(name) + step + TAB_NAMES.length) % TAB_NAMES.length], { focus: true });
    });
  }

  const isOpen = () => !panel.hidden;

  /** Shows the panel (staff only); `push` puts `/admin` in the address bar. True if shown. */
  function open({ push = true } = {}) {
    if (!moderates(me?.role)) return false;
    if (location.pathname !== ADMIN_PATH) returnPath = location.pathname;
    if (push) setUrl(ADMIN_PATH);
    if (!isOpen()) {
      panel.hidden = false;
      toggle.setAttribute('aria-expanded', 'true');
      select(active);
    }
    return true;
  }

  /** Hides the panel; `push` puts the chat's address back. */
  function close({ push = true } = {}) {
    if (push && location.pathname === ADMIN_PATH) setUrl(returnPath);
    if (!isOpen()) return;
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    moderateDialog().close();
    report('');
  }

  toggle.addEventListener('click', () => (isOpen() ? close() : open()));
  $('admin-close').addEventListener('click', () => close());

  return {
    open,
    close,
    isOpen,
    /** The signed-in identity (or null) changed: the button follows the role. */
    setIdentity(user) {
      me = user;
      toggle.hidden = !moderates(me?.role);
      if (toggle.hidden) close({ push: Boolean(user) });
    },
  };
}
