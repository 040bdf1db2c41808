/**
 * The admin panel's "Users" tab: accounts found by name (paged), with role, verified mark and
 * presence, and what may be done to each — give a role (admins and root, below their own),
 * verify or unverify, kick, mute, ban, and (admins and root) delete the account with the rooms
 * it owns, and grant or revoke premium (admin-premium.js). Controls for someone at or above the caller's own
 * level are disabled; the server decides in the end, and its refusals reach the status line.
 */

import { searchUsers } from './admin-api.js';
import { premiumCell } from './admin-premium.js';
import { element, row, rowButton, showTable, userCell, when } from './admin-table.js';
import { assignableRoles, mayActOn, rankOf } from './roles.js';

const LABELS = ['User', 'Role', 'Verified', 'Online', 'Created', 'Premium', 'Actions'];
const PAGE = 25;
const ROLE_NAMES = { root: 'root', admin: 'admin', mod: 'moderator', user: 'user' };
const OUT_OF_REACH = 'Only for users with a lower role than yours';

/** @param {object} ctx what the admin panel's tabs share (admin.js) */
export function createUsersTab(ctx) {
  const $ = (id) => document.getElementById(id);
  const list = $('admin-users-list');
  const input = $('admin-users-q');
  const prev = $('admin-users-prev');
  const next = $('admin-users-next');
  let offset = 0;

  /** The role as text, or a select of the roles the caller may give. */
  function roleControl(user, reachable) {
    const roles = assignableRoles(ctx.me().role);
    if (!reachable || !roles.length) return element('span', 'admin-role', ROLE_NAMES[user.role] ?? user.role);
    const select = element('select', 'admin-role-select');
    select.setAttribute('aria-label', `Role of ${user.name}`);
    for (const role of roles) {
      const option = element('option', '', ROLE_NAMES[role]);
      option.value = role;
      select.append(option);
    }
    select.value = user.role;
    select.addEventListener('change', async () => {
      select.disabled = true;
      const done = await ctx.act('set_role', { user: user.name, role: select.value },
        `${user.name} is now ${ROLE_NAMES[select.value]}.`);
      if (!done && select.isConnected) {
        select.value = user.role;
        select.disabled = false;
      }
    });
    return select;
  }

  function actions(user, reachable) {
    const options = { disabled: !reachable, title: reachable ? '' : OUT_OF_REACH };
    const verify = !user.verified;
    const box = element('span', 'admin-actions');
    box.append(
      rowButton(verify ? 'Verify' : 'Unverify',
        () => ctx.act('verify', { user: user.name, verified: verify },
          `${user.name} is ${verify ? 'now verified' : 'no longer verified'}.`),
        { ...options, action: verify ? 'verify' : 'unverify' }),
      rowButton('Kick…', () => ctx.moderate('kick', user.name),
        { ...options, disabled: options.disabled || !user.online, action: 'kick' }),
      rowButton('Mute…', () => ctx.moderate('mute', user.name), { ...options, action: 'mute' }),
      rowButton('Ban…', () => ctx.moderate('ban', user.name), { ...options, danger: true, action: 'ban' }),
    );
    if (rankOf(ctx.me().role) <= rankOf('admin')) {
      box.append(rowButton('Delete…', () => deleteAccount(user.name),
        { ...options, danger: true, action: 'delete_user' }));
    }
    return box;
  }

  /** Deletes an account after a confirmation naming what goes with it. */
  function deleteAccount(name) {
    const sure = window.confirm(`Delete the account ${name}? Its sessions end and the rooms it owns are deleted with their messages. This cannot be undone.`);
    if (sure) ctx.act('delete_user', { user: name }, `${name}'s account was deleted.`);
  }

  function userRow(user) {
    const reachable = mayActOn(ctx.me().role, user.role);
    return row(LABELS, [
      userCell(user),
      roleControl(user, reachable),
      user.verified ? '✓ verified' : null,
      user.online ? element('span', 'admin-online', 'online') : null,
      when(user.created_at),
      premiumCell(ctx, user),
      actions(user, reachable),
    ], { name: user.name, role: user.role });
  }

  async function load() {
    const q = input.value.trim();
    const users = await ctx.load(() => searchUsers({ q, limit: PAGE + 1, offset }), 'users');
    if (!users) return;
    const page = users.slice(0, PAGE);
    showTable(list, LABELS, page.map(userRow), q ? `No account matches “${q}”.` : 'No accounts yet.');
    prev.disabled = offset === 0;
    next.disabled = users.length <= PAGE;
  }

  $('admin-users-form').addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    load();
  });
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    load();
  });
  next.addEventListener('click', () => {
    offset += PAGE;
    load();
  });

  return { load };
}
