/**
 * The signed-in account's ignore list, as the server keeps it (`GET /api/ignores`,
 * `PUT`/`DELETE /api/ignores/{name}`). Ignoring is stealthy and done by the server: messages,
 * typing, whispers and invitations from an ignored name are simply not delivered any more,
 * and the ignored side is not told. This module keeps the page's copy so the member menu can
 * offer "Ignore" or "Unignore" and the Privacy tab can list it. Names compare case-insensitively
 * (the server lists them case-folded). Guests have no list.
 */

import { get, request } from './api.js';

let names = new Set();
let account = false;
let generation = 0;
const listeners = new Set();

const keyOf = (name) => String(name).toLowerCase();

function changed() {
  for (const listener of listeners) listener([...names].sort());
}

/** Reads the list of `me` (a chat identity, or null); a guest's or nobody's is empty. */
export async function loadIgnores(me) {
  account = Boolean(me) && me.kind !== 'guest';
  names = new Set();
  changed();
  await readList();
}

async function readList() {
  const ticket = ++generation;
  if (!account) return;
  try {
    const answer = await get('/api/ignores');
    if (ticket !== generation) return;
    names = new Set((answer?.ignores ?? []).map(keyOf));
    changed();
  } catch {
    // Offline: the menu offers "Ignore" until the next read; the server knows better anyway.
  }
}

/** Reads the list again (the Privacy tab, when shown). */
export const refreshIgnores = () => readList();

/** Whether the account ignores `name`. */
export const isIgnored = (name) => names.has(keyOf(name));

/** The ignored names, sorted. */
export const ignoredNames = () => [...names].sort();

/** Calls `listener(names)` whenever the list changes; returns a function that stops it. */
export function onIgnores(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Ignores (`on`) or stops ignoring `name`; rejects with the server's ApiError. */
export async function setIgnored(name, on) {
  await request(on ? 'PUT' : 'DELETE', `/api/ignores/${encodeURIComponent(name)}`);
  generation += 1; // a read still under way predates this
  if (on) names.add(keyOf(name));
  else names.delete(keyOf(name));
  changed();
}
