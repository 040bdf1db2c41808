/**
 * Room keys by epoch (docs/e2ee.md, "Room keys by epoch"): which rooms are end-to-end, the keys
 * of each that this account could open, and the client procedure of "What a client does". On
 * opening an end-to-end room and on every `room_keys` event for it, `GET /api/rooms/{room}/e2e`
 * is read; every key sealed to us is opened after checking its sealer's signature; when nobody
 * holds the current epoch's key, one is made here and stored (`PUT …/e2e/keys`) sealed to us;
 * when we hold it and members with keys do not, it is sealed to them — so a key made here
 * reaches the others once read back, in a second `PUT` (see `share`); a 409 (`stale_epoch`,
 * `epoch_key_exists`) means reading again. When others hold the key and we do not, we wait
 * for their `room_keys`.
 *
 * Room keys live in memory only (they are opened again after a reload). Listeners hear a room
 * whose keys changed, so its messages can be decrypted again (e2e-messages.js). No DOM.
 */

import { get, request } from './api.js';
import { importRoomKey, newSecret, openRoomKey, sealRoomKey } from './e2e-crypto.js';
import { onAccountChange, unlockedKeys } from './e2e-account.js';
import { observe, publicKeysOf } from './e2e-trust.js';

const PUT_BATCH = 500;
const ATTEMPTS = 5; // making a key takes two: ours, then the others'

const rooms = new Map(); // wire name → {epoch, keys: Map<epoch, {raw, key}>, members, loaded, syncing, again}
const e2eNames = new Set();
const listeners = new Set();
let owner = null; // the account the keys were opened for

const path = (room) => `/api/rooms/${encodeURIComponent(room)}/e2e`;

/** A local refusal with a code, the way ApiErrors carry theirs (error-text.js words it). */
export const e2eError = (code, message) => Object.assign(new Error(message), { code });

function entry(room) {
  let state = rooms.get(room);
  if (!state) {
    state = { epoch: 0, keys: new Map(), members: [], loaded: false, syncing: null, again: false };
    rooms.set(room, state);
  }
  return state;
}

function notify(room) {
  for (const fn of [...listeners]) fn(room);
}

/** Calls `fn(room)` when the keys of `room` (a wire name) may have changed. */
export function onRoomKeys(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Notes what a Room or Conversation says (`e2e`, `epoch`) about the room `name`. */
export function noteRoom(name, fields) {
  if (typeof name !== 'string' || fields?.e2e !== true) return;
  e2eNames.add(name);
  if (Number.isInteger(fields.epoch) && fields.epoch > entry(name).epoch) entry(name).epoch = fields.epoch;
}

/**
 * A room was joined (its join ack's Room in `fields`): an end-to-end one runs the client
 * procedure at once, as the document asks of a client opening it.
 */
export function opened(name, fields) {
  noteRoom(name, fields);
  if (isE2E(name) && unlockedKeys()) sync(name).catch(() => {});
}

/** Whether `name` is known to be an end-to-end room. */
export const isE2E = (name) => e2eNames.has(name);

/** The current members of `room` as its last read said (`[{name, has_key, keys}]`). */
export const membersOf = (room) => rooms.get(room)?.members ?? [];

// A new account (or none), or keys just unlocked: every key is opened again.
onAccountChange(({ me, status }) => {
  if (me !== owner) {
    rooms.clear();
    e2eNames.clear();
    owner = me;
  }
  if (status === 'unlocked') {
    for (const [room, state] of rooms) {
      state.loaded = false;
      notify(room);
    }
  }
});

/** The signing key (b64 spki) of `name`: from the member list, else the key directory. */
async function signerOf(name, members) {
  const me = unlockedKeys();
  if (owner && me && String(name).toLowerCase() === owner.toLowerCase()) return me.signing_public;
  const member = members.find((m) => String(m.name).toLowerCase() === String(name).toLowerCase());
  if (member?.keys?.signing_public) return member.keys.signing_public;
  return (await publicKeysOf(name))?.signing_public ?? null;
}

async function openKeys(room, state, view, mine) {
  for (const item of Array.isArray(view.keys) ? view.keys : []) {
    if (!Number.isInteger(item?.epoch) || state.keys.has(item.epoch)) continue;
    try {
      const sealer = await signerOf(item.sealed_by, view.members);
      const raw = await openRoomKey({ sealed: item.sealed, room, epoch: item.epoch, agreement: mine.agreement, sealer });
      state.keys.set(item.epoch, { raw, key: await importRoomKey(raw) });
    } catch {
      // Not signed by its sealer, or not for our keys: treated as missing.
    }
  }
}

/**
 * Seals the current key where the procedure says: 'retry' to read the room again (after a 409,
 * or after making a key), 'wait' while others hold it and we do not, else 'done'.
 *
 * A key made here is sealed to ourselves alone, and to the others only once read back: two
 * pages of one account (or two members at once) may each make one, and the server keeps the
 * first for each member. Sealing to others only a key the server holds for us means no member
 * can end up with another key than the rest.
 */
async function share(room, state, view, mine) {
  const { epoch } = view;
  const held = state.keys.get(epoch);
  const isSelf = (m) => Boolean(owner) && String(m?.name).toLowerCase() === owner.toLowerCase();
  let raw;
  let targets;
  if (held) {
    raw = held.raw;
    targets = view.members.filter((m) => m?.keys?.agreement_public && !m.has_key && !isSelf(m));
  } else {
    if (view.members.some((m) => m?.has_key)) return 'wait'; // a member's client will seal it to us
    raw = newSecret();
    targets = [view.members.find(isSelf) ?? { name: owner }];
  }
  if (!targets.length) return 'done';
  const sealed = [];
  for (const member of targets) {
    const recipient = isSelf(member) ? mine.agreement_public : member.keys.agreement_public;
    sealed.push({ user: member.name, sealed: await sealRoomKey({ raw, room, epoch, recipient, signer: mine.signing }) });
  }
  try {
    for (let at = 0; at < sealed.length; at += PUT_BATCH) {
      await request('PUT', `${path(room)}/keys`, { epoch, keys: sealed.slice(at, at + PUT_BATCH) });
    }
  } catch (err) {
    if (['stale_epoch', 'epoch_key_exists', 'invalid_keys'].includes(err.code)) return 'retry';
    throw err;
  }
  return held ? 'done' : 'retry';
}

async function syncOnce(room, state) {
  const mine = unlockedKeys();
  if (!mine) return;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const view = await get(path(room));
    if (unlockedKeys() !== mine) return; // locked or replaced meanwhile
    e2eNames.add(room);
    state.epoch = Number.isInteger(view.epoch) ? view.epoch : state.epoch;
    state.members = Array.isArray(view.members) ? view.members : [];
    for (const member of state.members) if (member?.keys) await observe(member.name, member.keys);
    await openKeys(room, state, view, mine);
    state.loaded = true;
    if (await share(room, state, view, mine) !== 'retry') return;
  }
}

/**
 * Runs the client procedure for `room` (one run at a time; a call during a run makes one
 * more). Rejects with the server's refusal (not a member, not end-to-end).
 */
export function sync(room) {
  const state = entry(room);
  if (state.syncing) {
    state.again = true;
    return state.syncing;
  }
  const before = state.keys.size;
  state.syncing = (async () => {
    try {
      do {
        state.again = false;
        await syncOnce(room, state);
      } while (state.again);
    } finally {
      state.syncing = null;
      if (state.keys.size !== before) notify(room); // only news: a listener may read again
    }
  })();
  return state.syncing;
}

/** `room_keys` `{room, epoch}`: the room's keys are read again. */
export function roomKeysEvent(data) {
  if (typeof data?.room !== 'string') return;
  noteRoom(data.room, { e2e: true, epoch: data.epoch });
  if (unlockedKeys()) sync(data.room).catch(() => {});
}

/** The AES key of `room` at `epoch`, reading the room's keys when it may be there; or null. */
export async function roomKey(room, epoch) {
  const state = entry(room);
  if (!state.loaded || (!state.keys.has(epoch) && epoch >= state.epoch)) await sync(room).catch(() => {});
  return state.keys.get(epoch)?.key ?? null;
}

/**
 * The current epoch and its key for sending in `room`; `fresh` reads the room's keys first (a
 * refusal said the epoch moved). Rejects with `e2e_locked` or `e2e_waiting` when there is none.
 */
export async function currentKey(room, { fresh = false } = {}) {
  if (!unlockedKeys()) throw e2eError('e2e_locked', 'Unlock encryption first.');
  const state = entry(room);
  if (fresh || !state.loaded || !state.keys.has(state.epoch)) await sync(room);
  const held = state.keys.get(state.epoch);
  if (!held) throw e2eError('e2e_waiting', 'Waiting for a member to share this room’s key.');
  return { epoch: state.epoch, key: held.key };
}
