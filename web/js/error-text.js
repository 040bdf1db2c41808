/**
 * Errors as sentences: every error code the server has (src/error.rs, docs/protocol.md) and the
 * local ones of api.js and net.js (`network`, `offline`, `timeout`, `disconnected`), turned into
 * what a person reads. Nothing here shows a raw code: the code stays on elements as
 * `data-code` for scripts and tests. A code this module does not know (a newer server) falls
 * back to the server's own message. A `rate_limited` refusal says how long to wait, from the
 * error's `retry_after` (seconds) when the server sends it, else from a "wait N s" in its
 * message (slow mode says so), else "a moment".
 *
 * Callers with a context (rooms, conversations, the composer) pass overrides for the codes that
 * read differently there (`not_found` in a conversation is "nobody by that name"). No DOM, no
 * network.
 */

/** `n s` or `n min` for a wait in seconds ('a moment' when unknown). */
export function waitText(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'a moment';
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

/** Seconds to wait before trying again, if the error says. */
export function retryAfter(err) {
  const given = Number(err?.retryAfter ?? err?.retry_after);
  if (Number.isFinite(given) && given > 0) return given;
  const said = /wait (\d+) ?s\b/i.exec(String(err?.message ?? ''));
  return said ? Number(said[1]) : null;
}

/** The first number in the server's message (a limit it names), or null. */
function numberIn(message) {
  const m = /(\d+)/.exec(String(message ?? ''));
  return m ? Number(m[1]) : null;
}

/** The server's message as a sentence: capitalised, with a full stop. */
function asSentence(message) {
  const text = String(message ?? '').trim();
  if (!text) return '';
  const first = text[0].toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/**
 * Sentence makers by code. Each gets the error (`code`, `message`, maybe `retry_after`);
 * most ignore it.
 */
const SENTENCES = {
  // The request itself
  invalid_request: () => 'The server could not read that request. Reload the page and try again.',
  payload_too_large: () => 'That is too large to send.',
  unsupported_media_type: () => 'The server does not take that kind of file.',
  method_not_allowed: () => 'The server does not allow that here.',
  invalid_frame: () => 'The app sent something the server did not understand. Reload the page and try again.',
  unknown_command: () => 'This server does not know that action yet. Reload the page and try again.',
  invalid_payload: () => 'That could not be done: the server did not accept the request.',
  // Names, accounts and sessions
  invalid_username: () => 'Names are 1–20 letters, digits, “_” or “-”.',
  invalid_nick: () => 'Names are 1–20 letters, digits, “_” or “-”.',
  invalid_email: () => 'That is not a valid e-mail address.',
  password_too_short: (err) => {
    const min = numberIn(err.message);
    return min ? `That password is too short: use at least ${min} characters.` : 'That password is too short.';
  },
  no_password: () => 'This account signs in with a key: it has no password to change.',
  username_taken: () => 'That user name is taken. Pick another one.',
  nick_taken: () => 'Someone is using that name right now. Pick another one.',
  email_taken: () => 'Another account already uses that e-mail address.',
  already_connected: () => 'That name is already connected from somewhere else.',
  invalid_credentials: () => 'Wrong user name or password.',
  unauthenticated: () => 'You are not signed in, or your session has ended. Please sign in again.',
  already_identified: () => 'This connection is already signed in. Reload the page.',
  origin_not_allowed: () => 'The server does not accept requests from this page’s address.',
  // Permissions and places
  forbidden: () => 'You are not allowed to do that.',
  not_found: () => 'That does not exist, or you cannot see it.',
  not_in_room: () => 'You are not in that room (any more). Open it again to write there.',
  registration_required: () => 'That is for registered accounts — create one to do it.',
  not_accepting_messages: () => 'They do not accept private messages from you: their settings allow only some people to write to them first.',
  banned: () => 'You are banned.',
  room_taken: () => 'Another room already uses that address.',
  invalid_room: (err) => (err.message
    ? `That does not fit the rules for rooms: ${err.message}.`.replace(/\.\.$/, '.')
    : 'That does not fit the rules for rooms.'),
  invite_unusable: () => 'This invite link has expired, was used up or was revoked.',
  room_not_active: () => 'The host has not opened this room yet.',
  room_locked: () => 'This room is locked to the two devices that joined it first.',
  // Writing
  muted: () => 'You are muted, so you can read but not write for now.',
  empty_message: () => 'The message is empty. Write something first.',
  message_too_long: (err) => {
    const max = numberIn(err.message);
    return max ? `That message is too long: at most ${max} characters.` : 'That message is too long.';
  },
  rate_limited: (err) => `Too many tries at once — wait ${waitText(retryAfter(err))} and try again.`,
  edit_window_closed: () => 'That message can no longer be edited: the time for edits has passed.',
  too_many_reactions: () => 'That message has as many reactions as it can take.',
  too_many_mentions: () => 'That message mentions too many people. Mention fewer and send it again.',
  mention_not_allowed: () => 'Only the room’s owner and admins can mention everyone (@here, @room, @everyone).',
  // Files
  quota_exceeded: () => 'You have uploaded as much as you may for now. Try again later.',
  media_not_allowed: () => 'This room does not take that kind of file.',
  unreadable_file: () => 'That file could not be read: an image that does not open, or one too large.',
  attachment_unavailable: () => 'That file is no longer waiting to be sent. Attach it again.',
  // End-to-end encryption (docs/e2ee.md); the e2e_* codes are the app's own (e2e-rooms.js)
  keys_required: () => 'Set up encryption first (Settings → Encryption): that needs your keys.',
  invalid_keys: () => 'The server did not accept those encryption keys.',
  e2e_required: () => 'This room is end-to-end encrypted: reload the page so that your browser encrypts what you send.',
  not_e2e: () => 'This room is not end-to-end encrypted.',
  stale_epoch: () => 'The room’s keys changed while you wrote. Send it again.',
  epoch_key_exists: () => 'Another member shared the room’s key first. Try again.',
  epoch_key_missing: () => 'This browser does not hold the room’s current key yet: a member’s browser shares it in a moment. Try again then.',
  e2e_locked: () => 'Set up or unlock encryption (Settings → Encryption) to write in this room.',
  e2e_waiting: () => 'Waiting for another member’s browser to share this room’s key. Try again in a moment.',
  e2e_file_unsealed: () => 'A file was attached before this room was known to be encrypted: remove it and attach it again.',
  // The AI companion and payments
  ai_disabled: () => 'The AI companion is not available on this server.',
  ai_busy: () => 'The AI companion is busy. Try again in a moment.',
  invalid_signature: () => 'The payment notice was refused: its signature does not match.',
  stale_signature: () => 'The payment notice was refused: it was signed too long ago.',
  unknown_account: () => 'The payment is for an account that does not exist.',
  // The server and the connection
  unavailable: () => 'The server is unavailable right now. Try again in a moment.',
  internal: () => 'Something went wrong on the server. Try again.',
  network: () => 'Cannot reach the server. Check your connection.',
  offline: () => 'Not connected. Try again once the connection is back.',
  timeout: () => 'The server did not answer in time. Try again.',
  disconnected: () => 'The connection was lost. Try again.',
  aborted: () => 'Cancelled.',
};

/** Sentences for writing in a room (the composer): being too fast means sending too fast. */
export const SENDING = {
  rate_limited: (err) => `You are sending too fast — wait ${waitText(retryAfter(err))}.`,
};

/**
 * A sentence for `err`: an ApiError, a GatewayError, an `error` event's data or any Error.
 * @param {object} err
 * @param {object} [overrides] code → `(err) => sentence` (or a plain sentence) for a context
 * @returns {string}
 */
export function errorText(err, overrides = {}) {
  const code = typeof err?.code === 'string' ? err.code : '';
  const maker = overrides[code] ?? SENTENCES[code];
  if (typeof maker === 'function') return maker(err ?? {});
  if (typeof maker === 'string') return maker;
  const http = /^http_(\d{3})$/.exec(code);
  if (http) return `The server could not answer (HTTP ${http[1]}). Try again in a moment.`;
  if (err?.message && err.message !== code) return asSentence(err.message);
  if (code) return 'Something went wrong. Try again.';
  return asSentence(err?.message ?? err) || 'Something went wrong. Try again.';
}
