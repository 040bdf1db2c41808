/**
 * The signed-in account's end-to-end keys (docs/e2ee.md, "Account keys"): whether it has any,
 * whether this browser holds them unlocked, and every way to change that — setting them up
 * (both pairs made here, wrapped with the password and a new recovery key), unlocking with the
 * password (silently, right after a password login: join.js hands the password over) or with
 * the recovery key (which then re-wraps them with the current password), a new recovery key,
 * and re-wrapping with a new password before a password change.
 *
 * One state per page, told to listeners (`onAccountChange`). Unlocked keys go to IndexedDB
 * (e2e-keystore.js), so a reload needs no password; "Log out" deletes them. The password and
 * the private keys' bytes are never stored; the password typed at login is kept in memory only
 * until the keys are settled. Nothing here touches the DOM.
 */

import { get, request } from './api.js';
import {
  generateAccountKeys, wrapWithPassword, wrapWithRecovery, unwrap, importPrivateKeys, secretsMatch,
  fingerprint, safetyNumber, toHex, newSecret, formatRecoveryKey, parseRecoveryKey,
} from './e2e-crypto.js';
import { loadKeys, saveKeys, forgetKeys } from './e2e-keystore.js';

const OWN = '/api/user/@me/keys';

let me = null; // the account's name; null when signed out or a guest
let status = 'unavailable'; // unavailable | checking | none | locked | unlocked
let keys = null; // unlocked: {agreement, signing, agreement_public, signing_public, fingerprint}
let ownSafety = '';
let needsRecovery = false; // the password typed at login did not open the keys
let loginPassword = null; // typed at login, until the keys are settled
let leaving = null; // the account "Log out" was pressed for
let loading = Promise.resolve();
const listeners = new Set();

/** A refusal of this module, as a sentence (settings forms show it as is). */
const refuse = (sentence) => new Error(sentence);

function changed() {
  const snapshot = state();
  for (const fn of [...listeners]) fn(snapshot);
}

/** `{me, status, needsRecovery, safetyNumber, fingerprint}` now. */
export function state() {
  return { me, status, needsRecovery, safetyNumber: ownSafety, fingerprint: keys?.fingerprint ?? '' };
}

/** Calls `fn(state)` on every change; returns a function that stops it. */
export function onAccountChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The unlocked keys, or null. */
export const unlockedKeys = () => keys;

/** Resolves once the keys of the current account have been looked at. */
export const whenSettled = () => loading;

/** A password login is under way with `password` (join.js): it may unlock the keys silently. */
export function rememberLogin(password) {
  loginPassword = typeof password === 'string' && password ? password : null;
}

document.getElementById('logout')?.addEventListener('click', () => { leaving = me; });

const sameName = (a, b) => Boolean(a) && Boolean(b) && a.toLowerCase() === b.toLowerCase();

/** Who is signed in (the chat's identity, or null): loads that account's keys. */
export function setAccount(identity) {
  const name = identity && identity.kind !== 'guest' && typeof identity.name === 'string' ? identity.name : null;
  if (sameName(name, me)) return loading;
  if (name && me) { // a rename (another account always comes after a sign-out): the entry follows
    const was = me;
    me = name;
    if (keys) saveKeys(name, keys).then(() => forgetKeys(was));
    changed();
    return loading;
  }
  if (!name && leaving && sameName(leaving, me)) forgetKeys(leaving);
  leaving = null;
  me = name;
  keys = null;
  ownSafety = '';
  needsRecovery = false;
  status = name ? 'checking' : 'unavailable';
  if (!name) loginPassword = null;
  changed();
  loading = name ? load(name) : Promise.resolve();
  return loading;
}

async function ownKeys() {
  try {
    return await get(OWN);
  } catch (err) {
    if (err.code === 'not_found') return null;
    throw err;
  }
}

async function load(name) {
  const stored = await loadKeys(name);
  let view;
  try {
    view = await ownKeys();
  } catch {
    view = stored; // offline: what this browser holds is the best there is
  }
  if (!sameName(name, me)) return;
  keys = null;
  if (!view) {
    status = 'none';
    if (stored) forgetKeys(name);
  } else if (stored && stored.agreement_public === view.agreement_public && stored.signing_public === view.signing_public) {
    keys = stored;
    status = 'unlocked';
    ownSafety = safetyNumber(await fingerprint(view.agreement_public, view.signing_public));
  } else {
    if (stored) forgetKeys(name); // replaced on another device
    status = 'locked';
    ownSafety = safetyNumber(await fingerprint(view.agreement_public, view.signing_public));
    if (loginPassword && !await unlockWithPassword(loginPassword).catch(() => false)) needsRecovery = true;
  }
  if (status === 'unlocked' || status === 'none') loginPassword = null;
  changed();
}

/** The account's keys may have changed elsewhere (`keys_changed` about it): looked again. */
export function recheck() {
  if (me) loading = load(me);
  return loading;
}

/** Takes unwrapped secrets as this account's keys, in this browser. */
async function adopt(secrets, view) {
  if (!await secretsMatch(secrets, view)) throw refuse('These keys do not belong to the public keys your account shows.');
  const imported = await importPrivateKeys(secrets);
  const fp = await fingerprint(view.agreement_public, view.signing_public);
  keys = {
    ...imported, agreement_public: view.agreement_public, signing_public: view.signing_public, fingerprint: toHex(fp),
  };
  ownSafety = safetyNumber(fp);
  if (me) await saveKeys(me, keys);
  status = 'unlocked';
  needsRecovery = false;
  changed();
}

/**
 * Makes both key pairs, wraps them with `password` and a new recovery key, and publishes them.
 * Resolves with the recovery key formatted for writing down (shown once, never kept).
 */
export async function setUp(password) {
  if (!me) throw refuse('Encryption is for registered accounts.');
  if (!password) throw refuse('Type your password: it unlocks your keys on a new browser.');
  const { publics, secrets } = await generateAccountKeys();
  const recovery = newSecret();
  const view = await request('PUT', OWN, {
    ...publics,
    password_wrapped: await wrapWithPassword(secrets, password),
    recovery_wrapped: await wrapWithRecovery(secrets, recovery),
  });
  await adopt(secrets, view);
  loginPassword = null;
  return formatRecoveryKey(recovery);
}

/** Unlocks with the password; resolves false when it does not open them (never unlocks then). */
export async function unlockWithPassword(password) {
  const view = await ownKeys();
  if (!view?.password_wrapped) return false;
  let secrets;
  try {
    secrets = await unwrap(view.password_wrapped, { password });
  } catch {
    return false;
  }
  await adopt(secrets, view);
  return true;
}

/**
 * Unlocks with the recovery key as typed. With `password` (the current one; the one typed at
 * login when there was one), re-wraps the keys with it so that the next login unlocks them.
 * Resolves `{rewrapped}`; rejects with a sentence when the key is wrong.
 */
export async function unlockWithRecovery(text, password = loginPassword) {
  const recovery = parseRecoveryKey(text);
  if (!recovery) throw refuse('That is not a recovery key: it has 52 letters and digits, in 13 groups.');
  const view = await ownKeys();
  if (!view) throw refuse('Your account has no encryption keys yet.');
  let secrets;
  try {
    secrets = await unwrap(view.recovery_wrapped, { recovery });
  } catch {
    throw refuse('That recovery key does not open your keys.');
  }
  await adopt(secrets, view);
  if (!password) return { rewrapped: false };
  await request('PUT', `${OWN}/wrapped`, { password_wrapped: await wrapWithPassword(secrets, password) });
  loginPassword = null;
  return { rewrapped: true };
}

/** The secrets, opened with the password (rejects with a sentence when it is wrong). */
async function secretsBy(password) {
  const view = await ownKeys();
  if (!view) throw refuse('Your account has no encryption keys yet.');
  try {
    return { view, secrets: await unwrap(view.password_wrapped, { password }) };
  } catch {
    throw refuse('That password does not open your keys.');
  }
}

/** Re-wraps the keys with a new recovery key; resolves with it, formatted (shown once). */
export async function newRecoveryKey(password) {
  const { secrets } = await secretsBy(password);
  const recovery = newSecret();
  await request('PUT', `${OWN}/wrapped`, { recovery_wrapped: await wrapWithRecovery(secrets, recovery) });
  return formatRecoveryKey(recovery);
}

/**
 * Before a password change: re-wraps `password_wrapped` with `next` when `current` opens it.
 * Resolves with a way back (`undo()`, for a change the server then refuses) and whether the
 * keys were re-wrapped; an account without keys needs nothing.
 */
export async function rewrapForPassword(current, next) {
  const view = await ownKeys().catch(() => null);
  if (!view?.password_wrapped) return { rewrapped: false, hadKeys: Boolean(view), undo: async () => {} };
  let secrets;
  try {
    secrets = await unwrap(view.password_wrapped, { password: current });
  } catch {
    return { rewrapped: false, hadKeys: true, undo: async () => {} }; // the server judges the password
  }
  await request('PUT', `${OWN}/wrapped`, { password_wrapped: await wrapWithPassword(secrets, next) });
  const undo = () => request('PUT', `${OWN}/wrapped`, { password_wrapped: view.password_wrapped }).catch(() => {});
  return { rewrapped: true, hadKeys: true, undo };
}
