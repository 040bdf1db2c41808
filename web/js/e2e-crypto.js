/**
 * The algorithms of end-to-end encryption (docs/e2ee.md), with WebCrypto only: the account's
 * two P-256 key pairs, wrapping their private keys with the password (PBKDF2-SHA-256) or the
 * recovery key (HKDF-SHA-256), the fingerprint and safety number, a room key sealed to one
 * member (ephemeral ECDH, HKDF, AES-256-GCM, signed by the sealer), a message's envelope and an
 * attachment's bytes. Signatures are WebCrypto's 64-byte `r ‖ s`, as the document asks.
 *
 * Pure functions over bytes, strings and CryptoKeys: no DOM, no network, no storage. Private
 * keys are imported non-extractable; the PKCS #8 bytes exist only while being wrapped. How
 * bytes are written (base64, base32, hex) is e2e-encoding.js's.
 */

import { toB64, fromB64 } from './e2e-encoding.js';

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

const PBKDF2_ITERATIONS = 600000;
const KEYS_AD = 'parlor keys v1';
const RECOVERY_INFO = 'parlor recovery v1';
const FILE_AD = 'parlor file v1';
const EC = { namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

export { toB64, fromB64, toHex, formatRecoveryKey, parseRecoveryKey } from './e2e-encoding.js';

const random = (n) => crypto.getRandomValues(new Uint8Array(n));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

// ---- symmetric pieces -----------------------------------------------------------------------

const aesKey = (raw, usages = ['encrypt', 'decrypt']) => subtle.importKey('raw', raw, 'AES-GCM', false, usages);

async function seal(key, nonce, plaintext, ad) {
  return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(ad) }, key, plaintext));
}

async function open(key, nonce, ciphertext, ad) {
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(ad) }, key, ciphertext));
}

async function hkdf(ikm, salt, info) {
  const base = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8.encode(info) }, base, 256));
}

async function pbkdf2(password, salt, iterations) {
  const base = await subtle.importKey('raw', utf8.encode(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256));
}

/** An AES-256-GCM room key from its 32 bytes. */
export const importRoomKey = (raw) => aesKey(raw);

/** 32 fresh random bytes: a room key or a recovery key. */
export const newSecret = () => random(32);

// ---- account keys ---------------------------------------------------------------------------

/**
 * Two fresh key pairs: `{publics: {agreement_public, signing_public}, secrets: {agreement,
 * signing}}` (b64 of spki, b64 of pkcs8). The secrets go straight into wrap().
 */
export async function generateAccountKeys() {
  const agreement = await subtle.generateKey({ name: 'ECDH', ...EC }, true, ['deriveBits']);
  const signing = await subtle.generateKey({ name: 'ECDSA', ...EC }, true, ['sign', 'verify']);
  const spki = async (key) => toB64(await subtle.exportKey('spki', key));
  const pkcs8 = async (key) => toB64(await subtle.exportKey('pkcs8', key));
  return {
    publics: { agreement_public: await spki(agreement.publicKey), signing_public: await spki(signing.publicKey) },
    secrets: { agreement: await pkcs8(agreement.privateKey), signing: await pkcs8(signing.privateKey) },
  };
}

/** Wraps the secrets with a password: a `pbkdf2-sha256` wrapped-keys document. */
export async function wrapWithPassword(secrets, password) {
  const salt = random(16);
  const key = await aesKey(await pbkdf2(password, salt, PBKDF2_ITERATIONS));
  return wrapDoc({ v: 1, kdf: 'pbkdf2-sha256', iterations: PBKDF2_ITERATIONS, salt: toB64(salt) }, key, secrets);
}

/** Wraps the secrets with a recovery key's 32 bytes: an `hkdf-sha256` document. */
export async function wrapWithRecovery(secrets, recovery) {
  const salt = random(16);
  const key = await aesKey(await hkdf(recovery, salt, RECOVERY_INFO));
  return wrapDoc({ v: 1, kdf: 'hkdf-sha256', salt: toB64(salt) }, key, secrets);
}

async function wrapDoc(head, key, secrets) {
  const nonce = random(12);
  const plaintext = utf8.encode(JSON.stringify({ agreement: secrets.agreement, signing: secrets.signing }));
  return { ...head, nonce: toB64(nonce), ciphertext: toB64(await seal(key, nonce, plaintext, KEYS_AD)) };
}

/**
 * Opens a wrapped-keys document with `{password}` or `{recovery}` (32 bytes); resolves with the
 * secrets, or rejects when it does not open (a wrong password).
 */
export async function unwrap(doc, { password, recovery }) {
  const salt = fromB64(doc.salt);
  let raw;
  const iterations = Number(doc.iterations);
  if (doc.kdf === 'pbkdf2-sha256' && typeof password === 'string') {
    // The server's bounds: fewer would be weak, more would hang the page.
    if (!(iterations >= PBKDF2_ITERATIONS && iterations <= 10000000)) throw new Error('unexpected iterations');
    raw = await pbkdf2(password, salt, iterations);
  } else if (doc.kdf === 'hkdf-sha256' && recovery) {
    raw = await hkdf(recovery, salt, RECOVERY_INFO);
  } else {
    throw new Error('this document is wrapped another way');
  }
  const plaintext = await open(await aesKey(raw), fromB64(doc.nonce), fromB64(doc.ciphertext), KEYS_AD);
  const secrets = JSON.parse(fromUtf8.decode(plaintext));
  if (typeof secrets?.agreement !== 'string' || typeof secrets?.signing !== 'string') throw new Error('not a keys document');
  return secrets;
}

/** The private CryptoKeys of the secrets, non-extractable: `{agreement, signing}`. */
export async function importPrivateKeys(secrets) {
  return {
    agreement: await subtle.importKey('pkcs8', fromB64(secrets.agreement), { name: 'ECDH', ...EC }, false, ['deriveBits']),
    signing: await subtle.importKey('pkcs8', fromB64(secrets.signing), { name: 'ECDSA', ...EC }, false, ['sign']),
  };
}

/** Whether the secrets' private keys are those of these public keys (b64 spki). */
export async function secretsMatch(secrets, { agreement_public: agreementPublic, signing_public: signingPublic }) {
  try {
    const keys = await importPrivateKeys(secrets);
    const probe = utf8.encode('parlor key check');
    const signature = await subtle.sign(SIGN, keys.signing, probe);
    if (!await verify(signingPublic, signature, probe)) return false;
    const other = await subtle.generateKey({ name: 'ECDH', ...EC }, false, ['deriveBits']);
    const mine = await subtle.deriveBits({ name: 'ECDH', public: other.publicKey }, keys.agreement, 256);
    const theirs = await subtle.deriveBits({ name: 'ECDH', public: await agreementKey(agreementPublic) }, other.privateKey, 256);
    return toB64(mine) === toB64(theirs);
  } catch {
    return false;
  }
}

// ---- fingerprints ---------------------------------------------------------------------------

/** SHA-256(spki(agreement) ‖ spki(signing)), as bytes. */
export async function fingerprint(agreementPublic, signingPublic) {
  const digest = await subtle.digest('SHA-256', concat(fromB64(agreementPublic), fromB64(signingPublic)));
  return new Uint8Array(digest);
}


/** The safety number of a fingerprint: six groups of five digits. */
export function safetyNumber(fp) {
  const groups = [];
  for (let i = 0; i < 30; i += 5) {
    let n = 0n;
    for (const byte of fp.subarray(i, i + 5)) n = (n << 8n) | BigInt(byte);
    groups.push(String(n % 100000n).padStart(5, '0'));
  }
  return groups.join(' ');
}

// ---- signatures and public keys -------------------------------------------------------------

const signingKey = (b64) => subtle.importKey('spki', fromB64(b64), { name: 'ECDSA', ...EC }, false, ['verify']);
const agreementKey = (b64) => subtle.importKey('spki', fromB64(b64), { name: 'ECDH', ...EC }, false, []);

async function sign(privateKey, text) {
  return toB64(await subtle.sign(SIGN, privateKey, utf8.encode(text)));
}

/** Whether `signature` (64 bytes, r ‖ s) over `data` verifies with a b64 spki signing key. */
async function verify(publicB64, signature, data) {
  try {
    return await subtle.verify(SIGN, await signingKey(publicB64), signature, data);
  } catch {
    return false;
  }
}

// ---- sealed room keys -----------------------------------------------------------------------

const sealedInfo = (room, epoch) => `parlor room key v1|${room}|${epoch}`;

/**
 * Seals a room key's 32 bytes to a member's agreement public key (b64 spki), signed by the
 * sealer's signing key: the Sealed document.
 */
export async function sealRoomKey({ raw, room, epoch, recipient, signer }) {
  const info = sealedInfo(room, epoch);
  const ephemeral = await subtle.generateKey({ name: 'ECDH', ...EC }, true, ['deriveBits']);
  const shared = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: await agreementKey(recipient) }, ephemeral.privateKey, 256));
  const k = await aesKey(await hkdf(shared, new Uint8Array(0), info));
  const nonce = random(12);
  const epk = toB64(await subtle.exportKey('spki', ephemeral.publicKey));
  const ciphertext = toB64(await seal(k, nonce, raw, info));
  const n = toB64(nonce);
  const signature = await sign(signer, `parlor sealed key v1|${room}|${epoch}|${epk}|${n}|${ciphertext}`);
  return { v: 1, epk, nonce: n, ciphertext, signature };
}

/**
 * Opens a Sealed document with the caller's agreement private key, after checking the
 * signature of its sealer (b64 spki signing key); resolves with the 32 bytes or rejects.
 */
export async function openRoomKey({ sealed, room, epoch, agreement, sealer }) {
  const { epk, nonce, ciphertext, signature } = sealed ?? {};
  const signed = utf8.encode(`parlor sealed key v1|${room}|${epoch}|${epk}|${nonce}|${ciphertext}`);
  if (!sealer || !await verify(sealer, fromB64(signature), signed)) throw new Error('the sealed key is not signed by its sealer');
  const info = sealedInfo(room, epoch);
  const shared = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: await agreementKey(epk) }, agreement, 256));
  const raw = await open(await aesKey(await hkdf(shared, new Uint8Array(0), info)), fromB64(nonce), fromB64(ciphertext), info);
  if (raw.length !== 32) throw new Error('a room key is 32 bytes');
  return raw;
}

// ---- messages -------------------------------------------------------------------------------

const msgAd = (room, epoch) => `parlor msg v1|${room}|${epoch}`;

/** The envelope of `payload` (`{text, files?}`) under a room key, signed by the author. */
export async function sealEnvelope({ payload, room, epoch, key, signer }) {
  const nonce = random(12);
  const ciphertext = toB64(await seal(key, nonce, utf8.encode(JSON.stringify(payload)), msgAd(room, epoch)));
  const n = toB64(nonce);
  const signature = await sign(signer, `${msgAd(room, epoch)}|${n}|${ciphertext}`);
  return { v: 1, epoch, nonce: n, ciphertext, signature };
}

/**
 * Opens an envelope with its epoch's room key: `{payload, verified}` (`verified`: the signature
 * checks with the author's signing key, b64 spki, when one is given). Rejects when it does not
 * open or its plaintext is not a payload.
 */
export async function openEnvelope({ envelope, room, key, author }) {
  const { epoch, nonce, ciphertext, signature } = envelope;
  const plaintext = await open(key, fromB64(nonce), fromB64(ciphertext), msgAd(room, epoch));
  const payload = JSON.parse(fromUtf8.decode(plaintext));
  if (typeof payload?.text !== 'string') throw new Error('not a message payload');
  let verified = false;
  if (author && typeof signature === 'string') {
    try {
      verified = await verify(author, fromB64(signature), utf8.encode(`${msgAd(room, epoch)}|${nonce}|${ciphertext}`));
    } catch {
      verified = false;
    }
  }
  return { payload, verified };
}

// ---- files ----------------------------------------------------------------------------------

/** Encrypts a file's bytes with a fresh key: `{data, key, nonce}` (key and nonce in b64). */
export async function encryptFile(bytes) {
  const raw = random(32);
  const nonce = random(12);
  const data = await seal(await aesKey(raw, ['encrypt']), nonce, bytes, FILE_AD);
  return { data, key: toB64(raw), nonce: toB64(nonce) };
}

/** The bytes of an encrypted file (rejects when they do not open). */
export async function decryptFile(bytes, { key, nonce }) {
  return open(await aesKey(fromB64(key), ['decrypt']), fromB64(nonce), new Uint8Array(bytes), FILE_AD);
}
