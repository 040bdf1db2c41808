/**
 * Typing indicators, both directions.
 *
 * Inbound: `typing` events keep a set of typists, each forgotten 6 s after its last refresh
 * (so a lost `active:false` cannot leave a ghost), rendered into `#typing` as
 * "alice is typing…" / "alice and bob are typing…" (the AI companion's line carries its "bot"
 * tag: its "typing" is the model writing a reply).
 * Outbound: while the user types, `active:true` goes out at most every 2 s; `active:false`
 * follows 3 s of idleness, an emptied composer, or a send.
 */

import { botTagFor, nameKey } from './members.js';

const EXPIRY_MS = 6000;
const REFRESH_MS = 2000;
const IDLE_MS = 3000;

/** The indicator sentence for a list of names ('' when nobody types). */
export function typingText(names) {
  switch (names.length) {
    case 0: return '';
    case 1: return `${names[0]} is typing…`;
    case 2: return `${names[0]} and ${names[1]} are typing…`;
    case 3: return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
    default: return 'Several people are typing…';
  }
}

/** Inbound indicator rendered into `el`. */
export function createTypingIndicator(el) {
  const typists = new Map(); // key → { name, bot, timer }

  function render() {
    const all = [...typists.values()];
    el.textContent = typingText(all.map((t) => t.name));
    const bot = all.find((t) => t.bot);
    if (bot) el.prepend(botTagFor({ bot: true }), ' ');
  }

  function remove(name) {
    const key = nameKey(name);
    const typist = typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    typists.delete(key);
    render();
  }

  return {
    /** Applies a `typing` event. */
    update(user, active) {
      if (!active) {
        remove(user.name);
        return;
      }
      const key = nameKey(user.name);
      clearTimeout(typists.get(key)?.timer);
      typists.set(key, {
        name: user.name,
        bot: user.bot === true,
        timer: setTimeout(() => remove(user.name), EXPIRY_MS),
      });
      render();
    },
    /** Forgets one typist (they sent a message or left). */
    remove,
    /** Forgets everyone (disconnect, sign-out). */
    clear() {
      for (const { timer } of typists.values()) clearTimeout(timer);
      typists.clear();
      render();
    },
  };
}

/**
 * Outbound notifier.
 * @param {(active: boolean) => void} send fire-and-forget `typing` command
 */
export function createTypingNotifier(send) {
  let active = false;
  let lastSent = 0;
  let idleTimer = null;

  function stop() {
    clearTimeout(idleTimer);
    idleTimer = null;
    if (!active) return;
    active = false;
    lastSent = 0;
    send(false);
  }

  return {
    /** Call on each composer edit with whether it still holds text. */
    input(hasText) {
      if (!hasText) {
        stop();
        return;
      }
      const now = Date.now();
      if (!active || now - lastSent >= REFRESH_MS) {
        active = true;
        lastSent = now;
        send(true);
      }
      clearTimeout(idleTimer);
      idleTimer = setTimeout(stop, IDLE_MS);
    },
    /** Sends `active:false` now if we were typing (on send). */
    stop,
    /** Forgets local state without sending (the connection is gone anyway). */
    reset() {
      clearTimeout(idleTimer);
      idleTimer = null;
      active = false;
      lastSent = 0;
    },
  };
}
