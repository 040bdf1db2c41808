/**
 * Moves a persistent room's read pointer (`read {room, seq}`) to its newest loaded message
 * while the room is on screen, so the server's `unread` and `mentions` counts in
 * `GET /api/rooms` and the next join's `last_read_seq` (the "new since you were here" divider)
 * follow what the user has seen. The server never moves a pointer back, so a stale send is
 * harmless; a failed one is tried again the next time. (Conversations keep their own marker,
 * conversations.js.)
 */

/**
 * @param {import('./net.js').Gateway|null} gateway
 * @param {object} room a record with a pane (rooms.js); `readSeq` remembers what was sent
 */
export function markRead(gateway, room) {
  const seq = room.pane?.log.newestSeq() ?? 0;
  if (!gateway || gateway.state !== 'online' || seq <= (room.readSeq ?? 0)) return;
  room.readSeq = seq;
  gateway.request('read', { room: room.slug, seq }).catch(() => {
    room.readSeq = 0;
  });
}
