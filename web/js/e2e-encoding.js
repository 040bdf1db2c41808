/**
 * How end-to-end encryption writes bytes (docs/e2ee.md): standard base64 with padding on the
 * wire, lower-case hex for fingerprints, and RFC 4648 base32 for the recovery key people write
 * down (52 characters in 13 groups of 4) and type back (any case, spaces and dashes ignored).
 * Pure functions; no WebCrypto, no DOM.
 */

/** Standard base64 with padding of bytes. */
export function toB64(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i += 0x8000) binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The bytes of standard base64 (throws on anything else). */
export function fromB64(text) {
  if (typeof text !== 'string') throw new TypeError('not base64');
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
export function toBase32(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The bytes of base32 as people type it back: any case, spaces and dashes ignored. */
export function fromBase32(text) {
  const clean = String(text).toUpperCase().replace(/[\s-]/g, '').replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error('not base32');
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** A recovery key for writing down: 52 base32 characters in 13 groups of 4. */
export const formatRecoveryKey = (bytes) => toBase32(bytes).match(/.{1,4}/g).join(' ');

/** The 32 bytes of a typed recovery key, or null when it is not one. */
export function parseRecoveryKey(text) {
  try {
    const bytes = fromBase32(text);
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

/** Lower-case hex of bytes (how the server writes a fingerprint). */
export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
