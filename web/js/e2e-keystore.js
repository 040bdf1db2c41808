/**
 * This browser's unlocked end-to-end keys, one entry per account, in IndexedDB: the two private
 * keys as non-extractable CryptoKeys (IndexedDB keeps CryptoKeys as they are, so the bytes can
 * never be read back out) beside the public keys they belong to. A reload opens them without
 * the password; logging out deletes the entry (e2e-account.js).
 *
 * No DOM, no network. Every call resolves even when IndexedDB is unavailable (a private window
 * that refuses it): the keys then live only as long as the page.
 */

const DB_NAME = 'parlor-e2e';
const STORE = 'accounts';

let opening = null;

function db() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => {
      // Another page deleting the database (or upgrading it) must not wait for this one.
      request.result.onversionchange = () => {
        request.result.close();
        opening = null;
      };
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  }).catch(() => null);
  return opening;
}

async function run(mode, fn) {
  const handle = await db();
  if (!handle) return null;
  return new Promise((resolve) => {
    const tx = handle.transaction(STORE, mode);
    const request = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result ?? null);
    tx.onerror = () => resolve(null);
    tx.onabort = () => resolve(null);
  });
}

/** The key an account's entry goes under (names compare case-insensitively). */
const entryKey = (account) => String(account).toLowerCase();

/**
 * The stored keys of `account`: `{agreement, signing, agreement_public, signing_public,
 * fingerprint}` (the first two CryptoKeys), or null.
 */
export async function loadKeys(account) {
  const entry = await run('readonly', (store) => store.get(entryKey(account)));
  const usable = entry && entry.agreement instanceof CryptoKey && entry.signing instanceof CryptoKey;
  return usable ? entry : null;
}

/** Keeps `keys` (as loadKeys() returns them) for `account`. */
export async function saveKeys(account, keys) {
  await run('readwrite', (store) => store.put(keys, entryKey(account)));
}

/** Forgets the keys of `account` in this browser. */
export async function forgetKeys(account) {
  await run('readwrite', (store) => store.delete(entryKey(account)));
}
