/**
 * Alerts for messages that arrive while the tab is hidden: a browser notification (Notification
 * API) and a short chime (WebAudio, no sound file).
 *
 * Opt-in, with the bell in the header (`#notify-toggle`): the permission is asked only from that
 * press, a user gesture, which also unlocks audio (browsers keep an AudioContext silent until a
 * gesture; after a reload the first click or key press unlocks it). If the browser refuses
 * notifications the chime still plays. What alerts is per room, `all` | `mentions` | `none`,
 * chosen in the room header (`#room-notify`) and kept in localStorage; the defaults are `all`
 * for conversations (and whisper tabs and 1-on-1 rooms, which are conversations too),
 * `mentions` for rooms and `none` for the lobby. The chime plays only with the "Notification
 * sounds" preference on (preferences.js). Never for the user's own messages, never while
 * the tab is visible. Clicking a notification focuses the tab and opens its room (`onOpen`).
 * Whether a message mentions the user is mentions.js's rule.
 */

import { mentionsMe, isSelf } from './mentions.js';
import { preferences } from './preferences.js';

const ENABLED_KEY = 'parlor.notify';
const LEVELS_KEY = 'parlor.notify.rooms';
export const LEVELS = ['all', 'mentions', 'none'];
const BODY_CHARS = 140;
const CONVERSATION_KINDS = new Set(['pm', 'whisper', 'ephemeral']);

/** What a room alerts for until the user chooses. */
export function defaultLevel(kind) {
  if (CONVERSATION_KINDS.has(kind)) return 'all';
  return kind === 'lobby' ? 'none' : 'mentions';
}

function load(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback; // storage disabled, or not ours
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Kept for this page only.
  }
}

/** The chime: two soft sine notes, a fifth apart, a third of a second in all. */
function createChime() {
  let audio = null;
  const unlock = () => {
    try {
      audio ??= new AudioContext();
      if (audio.state === 'suspended') audio.resume().catch(() => {});
    } catch {
      audio = null; // no WebAudio here: silence
    }
  };
  const play = () => {
    if (!audio || audio.state !== 'running') return;
    const start = audio.currentTime;
    for (const [freq, at] of [[880, 0], [1318.5, 0.11]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.12, start + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + at);
      osc.stop(start + at + 0.25);
    }
  };
  return { unlock, play };
}

/** What the notification's title calls the room a message came from. */
function titleFor(room, author) {
  switch (room.kind) {
    case 'pm': return author;
    case 'whisper': return `${author} (whisper)`;
    case 'ephemeral': return `${author} in ${room.name}`;
    case 'lobby': return `${author} in the lobby`;
    default: return `${author} in #${room.slug}`;
  }
}

function bodyFor(message) {
  if (message.envelope) return 'Sent an encrypted message'; // its words are only in the log
  const text = typeof message.text === 'string' ? message.text.trim() : '';
  if (!text) return Array.isArray(message.attachments) && message.attachments.length ? 'Sent a file' : '';
  return text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS - 1)}…` : text;
}

/**
 * @param {object} elements
 * @param {HTMLButtonElement} elements.bell `#notify-toggle`
 * @param {HTMLSelectElement} elements.select `#room-notify`, the open room's level
 * @param {object} handlers
 * @param {(slug: string) => void} handlers.onOpen a notification was clicked
 * @param {(text: string) => void} handlers.onNote something to tell the user (a refusal)
 */
export function createNotifier({ bell, select }, { onOpen, onNote }) {
  const chime = createChime();
  let enabled = load(ENABLED_KEY, false) === true;
  const levels = load(LEVELS_KEY, {});
  let room = null; // the open room ({slug, kind}), whose level the select shows

  const supported = () => typeof window.Notification === 'function';
  const levelOf = (r) => (LEVELS.includes(levels[r.slug]) ? levels[r.slug] : defaultLevel(r.kind));

  function renderBell() {
    bell.setAttribute('aria-pressed', String(enabled));
    bell.dataset.on = String(enabled);
    bell.querySelector('[data-icon]').textContent = enabled ? '🔔' : '🔕';
    const label = enabled ? 'Notifications are on (press to turn off)' : 'Turn on notifications for new messages';
    bell.title = label;
    bell.setAttribute('aria-label', label);
  }

  async function toggle() {
    chime.unlock(); // inside the gesture
    if (enabled) {
      enabled = false;
    } else {
      enabled = true;
      if (supported() && window.Notification.permission === 'default') {
        try {
          await window.Notification.requestPermission();
        } catch {
          // Older browsers only take a callback; the chime still plays.
        }
      }
      if (!supported() || window.Notification.permission !== 'granted') {
        onNote('This browser does not show notifications for this site, so only a sound will play. '
          + 'Notifications can be allowed in the site settings.');
      }
    }
    save(ENABLED_KEY, enabled);
    renderBell();
  }

  function notify(r, message) {
    if (preferences().sounds) chime.play();
    if (!supported() || window.Notification.permission !== 'granted') return;
    const author = message.author?.name ?? 'Someone';
    let shown;
    try {
      shown = new window.Notification(titleFor(r, author), {
        body: bodyFor(message),
        tag: `parlor:${r.slug}`,
        icon: '/favicon.svg',
      });
    } catch {
      return; // e.g. Android Chrome wants a service worker for this
    }
    shown.onclick = () => {
      window.focus();
      onOpen(r.slug);
      shown.close();
    };
  }

  bell.addEventListener('click', toggle);
  select.addEventListener('change', () => {
    if (!room || !LEVELS.includes(select.value)) return;
    levels[room.slug] = select.value;
    save(LEVELS_KEY, levels);
  });
  // After a reload the opt-in holds, but audio needs a gesture again.
  const unlockOnce = () => { if (enabled) chime.unlock(); };
  document.addEventListener('pointerdown', unlockOnce, { once: true, capture: true });
  document.addEventListener('keydown', unlockOnce, { once: true, capture: true });
  renderBell();

  return {
    /** The room on screen changed (null: a state card): the header's level follows. */
    setRoom(r) {
      room = r;
      select.hidden = !r;
      if (r) select.value = levelOf(r);
    },

    /**
     * Someone else's new message in `r`: alerts when the tab is hidden, the user opted in and
     * the room's level lets it through.
     */
    message(r, message) {
      if (!enabled || !document.hidden || !r || isSelf(message.author?.name ?? '')) return;
      const level = levelOf(r);
      if (level === 'none' || (level === 'mentions' && !mentionsMe(message))) return;
      notify(r, message);
    },
  };
}
