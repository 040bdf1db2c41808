/**
 * The preferences of whoever uses this page: theme, font size, clock, Enter-to-send, density,
 * sounds, and the two privacy choices the server enforces (`dm_from`, `show_online`).
 *
 * One copy per page, held here. Every change is applied at once: the three look attributes
 * on <html> (`data-theme`, `data-font-size`, `data-density`, which themes.css styles; the
 * same ones theme-boot.js sets before the first paint) and whoever listens (`onPreferences`:
 * the clock, the composers' keys, the settings panel). The last applied preferences are
 * cached in localStorage (`parlor.prefs`), which is all a guest has (the server answers a guest
 * `registration_required`). For an account the server's copy wins: it is read when the chat
 * starts (`usePreferencesOf`), each change is written back (`PUT`, debounced, the whole
 * document since absent fields mean defaults), and `preferences_changed` from another device
 * applies live — unless a change of this page is still on its way, whose own echo settles it.
 * An account that never chose any takes the ones a guest (or a visitor) chose in this browser.
 * "Follow the system" keeps following the device's light or dark mode while the page is open.
 */

import { get, request } from './api.js';

/** The themes, in the order the settings panel shows them. */
export const THEMES = [
  { value: 'midnight-purple', label: 'Midnight Purple' },
  { value: 'crimson-noir', label: 'Crimson Noir' },
  { value: 'ocean-deep', label: 'Ocean Deep' },
  { value: 'ember', label: 'Ember' },
  { value: 'neon-green', label: 'Neon Green' },
  { value: 'cyberpunk', label: 'Cyberpunk' },
  { value: 'rose-gold', label: 'Rose Gold' },
  { value: 'arctic', label: 'Arctic' },
  { value: 'daylight', label: 'Daylight' },
  { value: 'midnight-blue', label: 'Midnight Blue' },
];

export const FONT_SIZES = { min: 12, max: 20 };

export const DEFAULTS = Object.freeze({
  theme: 'midnight-purple',
  font_size: 15,
  clock: '24h',
  enter_to_send: true,
  density: 'comfortable',
  sounds: true,
  dm_from: 'everyone',
  show_online: true,
});

const STORAGE_KEY = 'parlor.prefs';
/** Whose the cached preferences are: `account` (read from or saved to one) or `local`. */
const OWNER_KEY = 'parlor.prefs.owner';
const SAVE_DELAY_MS = 400;
const CHOICES = {
  theme: [...THEMES.map((t) => t.value), 'system'],
  clock: ['24h', '12h'],
  density: ['comfortable', 'compact'],
  dm_from: ['everyone', 'registered', 'nobody'],
};
const SWITCHES = ['enter_to_send', 'sounds', 'show_online'];
const lightQuery = window.matchMedia('(prefers-color-scheme: light)');

/** A complete, valid Preferences document from anything (unknown or bad values: defaults). */
export function normalise(value) {
  const out = { ...DEFAULTS };
  if (!value || typeof value !== 'object') return out;
  for (const [key, allowed] of Object.entries(CHOICES)) {
    if (allowed.includes(value[key])) out[key] = value[key];
  }
  for (const key of SWITCHES) if (typeof value[key] === 'boolean') out[key] = value[key];
  const size = value.font_size;
  if (Number.isInteger(size) && size >= FONT_SIZES.min && size <= FONT_SIZES.max) out.font_size = size;
  return out;
}

/** The theme in effect for choice `theme`: "system" is Daylight on a light device. */
export function resolvedTheme(theme) {
  if (theme !== 'system') return theme;
  return lightQuery.matches ? 'daylight' : 'midnight-purple';
}

function readCache() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return null; // storage disabled, or not ours
  }
}

function writeCache(value) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    localStorage.setItem(OWNER_KEY, account ? 'account' : 'local');
  } catch {
    // Kept for this page only.
  }
}

/** What theme-boot.js put on <html> (it also reads the old light/dark toggle's choice). */
function fromBoot() {
  const { themeChoice, fontSize, density } = document.documentElement.dataset;
  return { theme: themeChoice, font_size: Number(fontSize), density };
}

let current = normalise(readCache() ?? fromBoot());
const listeners = new Set();
let account = false; // the server keeps this identity's preferences
let generation = 0; // a newer identity or change makes a read still under way stale
let saveTimer = null;
let saving = 0; // saves on their way
let saveFailed = () => {};

function paint() {
  const root = document.documentElement;
  root.dataset.theme = resolvedTheme(current.theme);
  root.dataset.themeChoice = current.theme;
  root.dataset.fontSize = String(current.font_size);
  root.dataset.density = current.density;
}

function apply(next, { cache = true } = {}) {
  const previous = current;
  current = next;
  if (cache) writeCache(next);
  paint();
  for (const listener of listeners) listener(current, previous);
}

/** The preferences in effect. */
export const preferences = () => current;

/** Calls `listener(now, before)` after every change; returns a function that stops it. */
export function onPreferences(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Where the settings panel hears of a save the server refused (`err`, an ApiError). */
export function onSaveFailed(handler) {
  saveFailed = handler;
}

async function save() {
  saveTimer = null;
  const ticket = generation;
  saving += 1;
  try {
    const stored = await request('PUT', '/api/user/@me/preferences', current);
    if (ticket === generation && !saveTimer && saving === 1) apply(normalise(stored));
  } catch (err) {
    if (ticket === generation) saveFailed(err);
  } finally {
    saving -= 1;
  }
}

/** A change made on this page: applied now, and written to the server for an account. */
export function changePreferences(partial) {
  generation += 1;
  apply(normalise({ ...current, ...partial }));
  if (!account) return;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_DELAY_MS);
}

/**
 * The page is used by `me` (a chat identity, or null when signed out): an account's
 * preferences are read from the server and applied; a guest keeps the ones of this browser.
 */
export async function usePreferencesOf(me) {
  const wasAccount = account;
  account = Boolean(me) && me.kind !== 'guest';
  if (account && wasAccount && (saveTimer || saving)) return; // the same account's change is on its way
  const ticket = ++generation;
  clearTimeout(saveTimer);
  saveTimer = null;
  if (!account) return;
  try {
    const stored = normalise(await get('/api/user/@me/preferences'));
    if (ticket !== generation) return;
    if (adoptsLocal(stored)) changePreferences({}); // saves this browser's choice
    else apply(stored);
  } catch {
    // Offline or refused: the cached ones stay until the next start or change.
  }
}

/**
 * Whether an account whose stored preferences are `stored` takes this browser's instead: the
 * account never chose any (all defaults) and the ones here were chosen without an account — a
 * guest that just kept its name as one, or someone who picked a theme before registering.
 */
function adoptsLocal(stored) {
  const same = (a, b) => Object.keys(DEFAULTS).every((key) => a[key] === b[key]);
  let owner = null;
  try {
    owner = localStorage.getItem(OWNER_KEY);
  } catch {
    return false;
  }
  return owner === 'local' && same(stored, DEFAULTS) && !same(current, DEFAULTS);
}

/** `preferences_changed`: another device (or this page's own save) stored `data`. */
export function preferencesChanged(data) {
  if (!account || saveTimer || saving) return; // this page's newer change settles it
  generation += 1;
  apply(normalise(data));
}

paint();
lightQuery.addEventListener('change', () => {
  if (current.theme === 'system') apply(current, { cache: false });
});
// Another tab of this browser applied new preferences.
window.addEventListener('storage', (event) => {
  if (event.key === STORAGE_KEY) apply(normalise(readCache()), { cache: false });
});
// A change still waiting for its debounce is sent as the page goes away.
window.addEventListener('pagehide', () => {
  if (!saveTimer || !account) return;
  clearTimeout(saveTimer);
  saveTimer = null;
  fetch('/api/user/@me/preferences', {
    method: 'PUT',
    credentials: 'same-origin',
    keepalive: true,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(current),
  }).catch(() => {});
});
