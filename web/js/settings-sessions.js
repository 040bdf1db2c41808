/**
 * The account's active sessions, in the settings panel's Account tab
 * (`GET /api/user/@me/sessions`): each with its device, address and when it was last used,
 * this one marked. Another one can be signed out (`DELETE /api/user/@me/sessions/{id}`: its
 * pages get the signed-out screen), or all others at once (`DELETE /api/user/@me/sessions`).
 * Read when the tab is shown, and again after each change.
 */

import { h } from './dom.js';
import { get, del } from './api.js';
import { errorText } from './error-text.js';
import { clockTime } from './clock.js';

/** "today, 14:05", "yesterday, 2:05 PM" or "12 Mar 2026, 14:05" in local time. */
function whenText(ms) {
  const date = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(date.getTime())) return 'unknown';
  const day = (offset) => {
    const d = new Date();
    d.setDate(d.getDate() - offset);
    return d.toDateString();
  };
  const time = clockTime(date);
  if (date.toDateString() === day(0)) return `today, ${time}`;
  if (date.toDateString() === day(1)) return `yesterday, ${time}`;
  return `${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}, ${time}`;
}

export function createSessionsSection() {
  const list = h('ul', { className: 'prefs-list', id: 'prefs-sessions', 'aria-live': 'polite' });
  const others = h('button', { type: 'button', id: 'prefs-sessions-revoke-others', className: 'button button-danger', text: 'Sign out all other sessions' });
  const status = h('p', { className: 'prefs-status', id: 'prefs-sessions-status', role: 'status', 'aria-live': 'polite' });
  let generation = 0;

  function item(session) {
    const parts = [
      h('span', { className: 'prefs-session-device', text: session.device || 'Unknown device' }),
      session.current ? h('span', { className: 'prefs-session-current', text: 'this session' }) : null,
      h('span', { className: 'hint prefs-session-meta',
        text: `${session.ip || 'unknown address'} · last used ${whenText(session.last_seen_at)} · signed in ${whenText(session.created_at)}` }),
    ];
    const row = h('li', { className: 'prefs-item prefs-session', dataset: { session: session.id, current: String(Boolean(session.current)) } },
      h('div', { className: 'prefs-session-text' }, ...parts));
    if (!session.current) {
      const revoke = h('button', {
        type: 'button', className: 'button prefs-session-revoke', text: 'Sign out',
        'aria-label': `Sign out ${session.device || 'this device'} (${session.ip || 'unknown address'})`,
      });
      revoke.addEventListener('click', () => act(revoke, `/api/user/@me/sessions/${encodeURIComponent(session.id)}`,
        `Signed out ${session.device || 'that session'}.`));
      row.append(revoke);
    }
    return row;
  }

  async function refresh() {
    const ticket = ++generation;
    try {
      const answer = await get('/api/user/@me/sessions');
      if (ticket !== generation) return;
      const sessions = Array.isArray(answer?.sessions) ? answer.sessions : [];
      sessions.sort((a, b) => Number(b.current) - Number(a.current) || (b.last_seen_at ?? 0) - (a.last_seen_at ?? 0));
      list.replaceChildren(...sessions.map(item));
      others.hidden = !sessions.some((s) => !s.current);
    } catch (err) {
      if (ticket === generation) status.textContent = `Could not read your sessions: ${errorText(err)}`;
    }
  }

  async function act(button, path, done) {
    button.disabled = true;
    status.textContent = '';
    try {
      await del(path);
      status.textContent = done;
    } catch (err) {
      status.textContent = errorText(err, { not_found: 'That session had already ended.' });
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  others.addEventListener('click', () => act(others, '/api/user/@me/sessions', 'Signed out every other session.'));

  const element = h('div', { className: 'prefs-block', id: 'prefs-sessions-section' },
    h('h4', { className: 'prefs-subheading', text: 'Where you are signed in' }),
    list, h('div', { className: 'prefs-buttons' }, others), status);

  return {
    element,
    refresh,
    reset() {
      generation += 1;
      list.replaceChildren();
      status.textContent = '';
    },
  };
}
