/**
 * What this browser keeps for ephemeral rooms in localStorage: its device id and the codes of
 * the rooms it has joined.
 *
 * An ephemeral room admits two devices; the device id is how the server recognises this
 * browser when it comes back (after a reload, or signed in as someone else), so it is drawn
 * once and kept. The joined codes let a reload find those rooms again: the server lists an
 * ephemeral room only to its host. Storage can be unavailable (private modes, sandboxes); the
 * values then live as long as the page.
 */

const DEVICE_KEY = 'parlor.device';
const CODES_KEY = 'parlor.ephemeral-rooms';
const DEVICE_PATTERN = /^[0-9a-f]{32}$/;

const memory = new Map();

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}

function write(key, value) {
  memory.set(key, value);
  try {
    localStorage.setItem(key, value);
  } catch {
    // Kept in memory only.
  }
}

/** This browser's device id (32 hex digits), drawn on first use. */
export function deviceId() {
  const stored = read(DEVICE_KEY);
  if (stored && DEVICE_PATTERN.test(stored)) return stored;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  write(DEVICE_KEY, id);
  return id;
}

/** The codes of the ephemeral rooms joined from this browser. */
export function joinedCodes() {
  try {
    const codes = JSON.parse(read(CODES_KEY) ?? '[]');
    return Array.isArray(codes) ? codes.filter((c) => typeof c === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberCode(code) {
  const codes = joinedCodes();
  if (!codes.includes(code)) write(CODES_KEY, JSON.stringify([...codes, code]));
}

export function forgetCode(code) {
  write(CODES_KEY, JSON.stringify(joinedCodes().filter((c) => c !== code)));
}
