/**
 * Other accounts' end-to-end public keys, and what this browser has seen of them: the keys of a
 * name (`GET /api/user/{name}/keys`, cached; a room's member list hands them over too), with
 * the fingerprint and safety number worked out here — never taken from the server's word —
 * and, per viewing account in localStorage, the fingerprint last seen of each person. When a
 * person's keys differ from the ones seen (on `keys_changed`, or when a room shows other keys)
 * a ⚠ shows beside their name in every member list until the user says they compared the new
 * safety number (e2e-verify.js).
 *
 * No network beyond the key directory; the member-list mark is the only DOM it touches
 * (`keyWarningMark` for members.js, and the marks already drawn when a warning changes).
 */

import { get } from './api.js';
import { fingerprint, safetyNumber, toHex } from './e2e-crypto.js';

const lower = (name) => String(name ?? '').toLowerCase();
const STORE_PREFIX = 'parlor.e2e.seen.';

const cache = new Map(); // lower name → Promise<keys|null>
let viewer = ''; // whose record of seen keys is in use
let seen = {}; // lower name → {name, fp, warn}
const listeners = new Set();

function readSeen() {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORE_PREFIX + lower(viewer)) ?? '{}');
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

function writeSeen() {
  try {
    localStorage.setItem(STORE_PREFIX + lower(viewer), JSON.stringify(seen));
  } catch {
    // A full or refused storage: the warnings last as long as the page.
  }
}

/** The account whose browser this is now ('' when signed out): its record of seen keys. */
export function setViewer(name) {
  const next = typeof name === 'string' ? name : '';
  if (lower(next) === lower(viewer)) return;
  viewer = next;
  seen = viewer ? readSeen() : {};
  cache.clear();
  refreshMarks();
}

/** Calls `fn(name)` when the warning about `name` changes. */
export function onTrustChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** `{agreement_public, signing_public, fingerprint, safetyNumber}` worked out from public keys. */
async function describe(view) {
  const fp = await fingerprint(view.agreement_public, view.signing_public);
  return {
    agreement_public: view.agreement_public,
    signing_public: view.signing_public,
    fingerprint: toHex(fp),
    safetyNumber: safetyNumber(fp),
  };
}

/**
 * Public keys the server gave for `name` (the key directory, a room's member list): described,
 * cached, and compared with those seen before. Resolves with the description, or null.
 */
export async function observe(name, view) {
  if (typeof view?.agreement_public !== 'string' || typeof view?.signing_public !== 'string') return null;
  let keys;
  try {
    keys = await describe(view);
  } catch {
    return null; // not a key at all
  }
  cache.set(lower(name), Promise.resolve(keys));
  if (viewer && lower(name) !== lower(viewer)) remember(name, keys.fingerprint);
  return keys;
}

function remember(name, fp) {
  const key = lower(name);
  const entry = seen[key];
  if (entry?.fp === fp) return;
  seen[key] = { name, fp, warn: Boolean(entry) };
  writeSeen();
  refreshMarks();
  for (const fn of [...listeners]) fn(name);
}

async function fetchKeys(name) {
  try {
    return await observe(name, await get(`/api/user/${encodeURIComponent(name)}/keys`));
  } catch {
    cache.delete(lower(name)); // none, or not now: asked again next time
    return null;
  }
}

/** The public keys of `name` (see observe), read once per page unless `fresh`; null: none. */
export function publicKeysOf(name, { fresh = false } = {}) {
  const key = lower(name);
  if (fresh || !cache.has(key)) cache.set(key, fetchKeys(name));
  return cache.get(key);
}

/** `keys_changed` `{user}`: that person's keys are read again (and warned of if seen before). */
export function keysChanged(data) {
  if (typeof data?.user !== 'string') return;
  cache.delete(lower(data.user));
  if (seen[lower(data.user)] || lower(data.user) === lower(viewer)) publicKeysOf(data.user, { fresh: true });
}

/** Whether `name`'s keys changed since they were last seen and compared. */
export const keyWarning = (name) => Boolean(seen[lower(name)]?.warn);

/** The user compared `name`'s current safety number: the warning goes. */
export function markCompared(name) {
  const entry = seen[lower(name)];
  if (!entry) return;
  entry.warn = false;
  entry.compared = true;
  writeSeen();
  refreshMarks();
  for (const fn of [...listeners]) fn(name);
}

/** Whether the user said they compared `name`'s current safety number in person. */
export const compared = (name) => Boolean(seen[lower(name)]?.compared) && !keyWarning(name);

/** The ⚠ beside a member whose keys changed, or null (members.js). */
export function keyWarningMark(name) {
  if (!keyWarning(name)) return null;
  const mark = document.createElement('span');
  mark.className = 'e2e-key-warning';
  mark.textContent = '⚠';
  mark.title = `${name}’s encryption keys changed. Compare safety numbers before trusting them.`;
  mark.setAttribute('role', 'img');
  mark.setAttribute('aria-label', `${name}’s encryption keys changed`);
  return mark;
}

/** Puts the marks of every member list drawn so far in step with the warnings. */
function refreshMarks() {
  for (const item of document.querySelectorAll('#members .member[data-name]')) {
    const holder = item.querySelector('.member-button') ?? item;
    holder.querySelector('.e2e-key-warning')?.remove();
    const mark = keyWarningMark(item.dataset.name);
    if (mark) holder.querySelector('.member-name')?.after(mark);
  }
}
