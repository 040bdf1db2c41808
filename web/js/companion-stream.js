/**
 * The AI companion's reply while it is being written: one "streaming" bubble per reply in the
 * conversation's log, fed by `ai_delta` pieces (appended as text) and `ai_queued` places
 * ("waiting — you are #2 in line"), until the stored reply arrives as an ordinary `message`
 * whose `client_msg_id` is the pieces' `message_id` and takes its place.
 *
 * Why a module of its own: the pieces are not messages (no id, no seq, never in history), so
 * the log must not count or deduplicate them; and a page opened (or reconnected) mid-reply
 * catches up from `GET /api/companion`'s `writing`, whose text may lag behind pieces already
 * shown or miss the ones that came while it was read, so the two are joined where they
 * overlap rather than one replacing the other. A bubble whose stored message is already
 * in the log is never drawn, which keeps exactly one copy of each reply however the events,
 * join acks and catch-ups interleave. Text goes in with `textContent` only.
 */

import { botTagFor } from './members.js';

/** The line under a waiting reply. */
export const waitingText = (position) => `Waiting — you are #${position} in line`;

/**
 * The text of a reply from a snapshot of it (`writing.text`) and the pieces shown so far: the
 * longer where one extends the other, else the snapshot followed by what the pieces add past
 * their longest overlap with its end.
 */
export function joinText(snapshot, shown) {
  if (snapshot.startsWith(shown)) return snapshot;
  if (shown.startsWith(snapshot)) return shown;
  for (let k = Math.min(snapshot.length, shown.length); k > 0; k -= 1) {
    if (snapshot.endsWith(shown.slice(0, k))) return snapshot + shown.slice(k);
  }
  return snapshot + shown;
}

/**
 * @param {object} ctx the coordinator (rooms.js): `rooms` (records with panes)
 * @param {() => string} botName the companion's name, for the bubble's header
 */
export function createCompanionStream(ctx, botName) {
  const bubbles = new Map(); // message_id → {room, item, textEl, statusEl, text}

  function draw(id, slug) {
    const item = document.createElement('li');
    item.className = 'message message-bot message-streaming';
    item.dataset.streamId = id;
    item.setAttribute('aria-busy', 'true');
    const header = document.createElement('div');
    header.className = 'message-header';
    const name = document.createElement('span');
    name.className = 'message-author';
    name.textContent = botName();
    const state = document.createElement('span');
    state.className = 'stream-state';
    state.textContent = 'writing…';
    header.append(name, botTagFor({ bot: true }), state);
    const textEl = document.createElement('div');
    textEl.className = 'message-text';
    const statusEl = document.createElement('div');
    statusEl.className = 'stream-status';
    statusEl.hidden = true;
    item.append(header, textEl, statusEl);
    return { room: slug, item, textEl, statusEl, text: '' };
  }

  /** The bubble of reply `id` in room `slug`, drawn if needed; null when none belongs there. */
  function bubbleFor(slug, id) {
    if (typeof slug !== 'string' || typeof id !== 'string' || !id) return null;
    const log = ctx.rooms.get(slug)?.pane?.log;
    if (!log || log.hasClientMsg(id)) return null; // not joined here, or already stored
    let bubble = bubbles.get(id);
    if (bubble && !bubble.item.isConnected) { // the log was cleared under it
      bubbles.delete(id);
      bubble = null;
    }
    if (!bubble) {
      bubble = draw(id, slug);
      bubbles.set(id, bubble);
      log.addLine(bubble.item);
    }
    return bubble;
  }

  function setText(bubble, text) {
    bubble.text = text;
    bubble.textEl.textContent = text;
  }

  function setWaiting(bubble, position) {
    const waiting = Number.isInteger(position) && position > 0;
    bubble.statusEl.hidden = !waiting;
    bubble.statusEl.textContent = waiting ? waitingText(position) : '';
  }

  function remove(id) {
    const bubble = bubbles.get(id);
    if (!bubble) return;
    bubbles.delete(id);
    bubble.item.remove();
  }

  return {
    /**
     * `ai_delta`: the next piece of a reply, starting `at` characters (UTF-16 units) into it.
     * A catch-up may already hold it (the snapshot was read after the piece was sent): only
     * what lies past the shown text is added.
     */
    delta({ room, message_id: id, text, at }) {
      const bubble = bubbleFor(room, id);
      if (!bubble || typeof text !== 'string') return;
      setWaiting(bubble, null);
      const held = Number.isInteger(at) ? Math.max(0, Math.min(text.length, bubble.text.length - at)) : 0;
      if (held < text.length) setText(bubble, bubble.text + text.slice(held));
    },

    /** `ai_queued`: the reply waits for the model, `position` 1 next. */
    queued({ room, message_id: id, position }) {
      const bubble = bubbleFor(room, id);
      if (bubble) setWaiting(bubble, position);
    },

    /**
     * Catches up from `GET /api/companion`'s `writing` (null: nothing on its way) after a join
     * or a reconnect.
     */
    catchUp(writing) {
      if (!writing) return;
      const bubble = bubbleFor(writing.room, writing.message_id);
      if (!bubble) return;
      if (typeof writing.text === 'string') setText(bubble, joinText(writing.text, bubble.text));
      setWaiting(bubble, bubble.text ? null : writing.position);
    },

    /** A `message` arrived: the bubble of the reply it stores goes (the log shows the message). */
    stored(message) {
      if (typeof message?.client_msg_id === 'string') remove(message.client_msg_id);
    },

    /**
     * After a join of room `slug`: bubbles whose reply is now in the log go, and so do those the
     * server no longer writes (`writingId`: the reply still on its way, if any).
     */
    settle(slug, writingId) {
      for (const [id, bubble] of [...bubbles]) {
        if (bubble.room !== slug) continue;
        const log = ctx.rooms.get(slug)?.pane?.log;
        if (!log || log.hasClientMsg(id) || id !== writingId || !bubble.item.isConnected) remove(id);
      }
    },

    /** Drops every bubble (sign-out). */
    clear() {
      for (const id of [...bubbles.keys()]) remove(id);
    },
  };
}
