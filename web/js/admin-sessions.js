/**
 * The admin panel's "Live sessions" tab: every open connection on every node — its id, who it
 * is (guests included, unlike the users tab), its address, the node it is on, the rooms it is
 * in and since when — with
 * "Kick" (closes that one connection: `closing: kicked`), "Move…" (admins: into a room, which
 * the user's pages then open) and "Ban…" (the name, and on request the address).
 */

import { act, closeConnection, listConnections } from './admin-api.js';
import { element, row, rowButton, showTable, userCell, when } from './admin-table.js';
import { mayActOn, rankOf } from './roles.js';

const LABELS = ['Connection', 'Identity', 'Address', 'Node', 'Rooms', 'Since', 'Actions'];
const OUT_OF_REACH = 'Only for users with a lower role than yours';

/** @param {object} ctx what the admin panel's tabs share (admin.js) */
export function createSessionsTab(ctx) {
  const list = document.getElementById('admin-sessions-list');

  function actions(connection) {
    const user = connection.user;
    const reachable = !user || mayActOn(ctx.me().role, user.role);
    const options = { disabled: !reachable, title: reachable ? '' : OUT_OF_REACH };
    const who = user ? `${user.name}’s connection ${connection.id}` : `connection ${connection.id}`;
    const box = element('span', 'admin-actions');
    box.append(rowButton('Kick',
      () => ctx.run(() => closeConnection(connection.id), `Closed ${who}.`, `Could not close ${who}`),
      { ...options, action: 'kick', title: options.title || 'Close this connection; they may come back' }));
    if (user && rankOf(ctx.me().role) <= rankOf('admin')) {
      box.append(rowButton('Move…', () => move(user.name), { ...options, action: 'move' }));
    }
    if (user) {
      box.append(rowButton('Ban…', () => ctx.moderate('ban', user.name), { ...options, danger: true, action: 'ban' }));
    }
    return box;
  }

  /** Asks for a room and moves `name` there. */
  function move(name) {
    const room = window.prompt(`Move ${name} into which room? (its address, or lobby)`, 'lobby');
    if (!room?.trim()) return;
    const slug = room.trim();
    ctx.run(() => act('move', { user: name, room: slug }), `Moved ${name} to ${slug}.`, `Could not move ${name}`);
  }

  function connectionRow(connection) {
    const rooms = Array.isArray(connection.rooms) ? connection.rooms : [];
    return row(LABELS, [
      element('code', '', connection.id),
      connection.user ? userCell(connection.user) : element('span', 'admin-muted', 'not identified yet'),
      element('code', '', connection.ip),
      connection.node ?? '',
      rooms.join(', '),
      when(connection.since),
      actions(connection),
    ], { conn: String(connection.id), name: connection.user?.name ?? '', ip: connection.ip ?? '' });
  }

  async function load() {
    const connections = await ctx.load(listConnections, 'live sessions');
    if (!connections) return;
    connections.sort((a, b) => (a.since ?? 0) - (b.since ?? 0));
    showTable(list, LABELS, connections.map(connectionRow), 'No open connections.');
  }

  document.getElementById('admin-sessions-refresh').addEventListener('click', load);

  return { load };
}
