/**
 * How the app talks about files: the four kinds a room's policy is made of (`image`, `video`,
 * `audio`, `file`), a guess of a local file's kind before it is uploaded, and the words, icons
 * and sizes used to show one.
 *
 * The guess is only for refusing early and saying why: the server decides the kind from the
 * bytes, whatever the browser or the name claims. A file name is display-only and may hold
 * anything (direction overrides, quotes, `../`); `displayName` takes out the invisible
 * direction controls that could make `gpj.exe` read as `exe.jpg`, and callers still insert it
 * with `textContent` only.
 */

/** Every kind, in the order sentences list them. */
export const KINDS = ['image', 'video', 'audio', 'file'];

const PLURALS = { image: 'images', video: 'videos', audio: 'audio', file: 'other files' };

/** Types a browser would render as a page (scripts inside): the server keeps them as files. */
const SCRIPTABLE = new Set(['image/svg+xml', 'text/html', 'application/xhtml+xml', 'text/xml', 'application/xml']);

/** The kind the server will most likely give `file` (a File or Blob), from its type. */
export function guessKind(file) {
  const type = (file.type || '').toLowerCase().split(';')[0].trim();
  if (SCRIPTABLE.has(type)) return 'file';
  for (const kind of ['image', 'video', 'audio']) {
    if (type.startsWith(`${kind}/`)) return kind;
  }
  return 'file';
}

/** The kinds a room takes: its `accepts` when known, else everything (lobby, conversations). */
export function acceptedKinds(room) {
  return Array.isArray(room?.accepts) ? KINDS.filter((k) => room.accepts.includes(k)) : [...KINDS];
}

/** `images, audio` — how a sentence lists kinds. */
export function listKinds(kinds) {
  return kinds.length ? kinds.map((k) => PLURALS[k]).join(', ') : 'no attachments';
}

/** Why a room taking `accepted` refuses a file of `kind`, or null when it takes it. */
export function refusal(kind, accepted) {
  if (accepted.includes(kind)) return null;
  return `This room does not take ${PLURALS[kind]}; it takes ${listKinds(accepted)}.`;
}

/** An icon for a file row, by kind and, for other files, by type. */
export function iconFor({ kind, mime }) {
  if (kind === 'image') return '🖼️';
  if (kind === 'video') return '🎞️';
  if (kind === 'audio') return '🎵';
  const type = String(mime ?? '');
  if (type === 'application/pdf') return '📕';
  if (type.startsWith('text/')) return '📝';
  if (/zip|compressed|tar|rar|7z/.test(type)) return '🗜️';
  return '📄';
}

/** A decorative `<span>` holding a file's icon (hidden from screen readers). */
export function iconElement(file, className) {
  const icon = document.createElement('span');
  icon.className = className;
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = iconFor(file);
  return icon;
}

/** `834 B`, `12 KB`, `3.4 MB` (binary units, as file managers show them). */
export function humanSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * `0:07`, `12:34`, `1:02:03` from milliseconds, in whole seconds down as players count them
 * (anything shorter than a second but not nothing shows as `0:01`).
 */
export function formatDuration(ms) {
  const n = Number(ms);
  const total = n > 0 ? Math.max(1, Math.floor(n / 1000)) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Bidirectional embedding, override and isolate controls, and the invisible marks. */
const DIRECTION_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A file name fit to show: its direction controls removed, never empty. */
export function displayName(name) {
  const shown = String(name ?? '').replace(DIRECTION_CONTROLS, '').trim();
  return shown || 'file';
}

/**
 * `<bdi>` holding a file name as text, so a right-to-left name cannot reorder what is around
 * it either.
 */
export function nameElement(name, className) {
  const el = document.createElement('bdi');
  el.className = className;
  el.textContent = displayName(name);
  return el;
}
