/**
 * REST calls for private conversations and ephemeral 1-on-1 rooms, and plain-language text for
 * the error codes they answer with.
 *
 * One function per endpoint, so views never build these paths by hand (room names, codes and
 * user names are URL-encoded here). Errors are the `ApiError`s of api.js.
 */

import { get, post, del, describeError } from './api.js';

const conversationPath = (room) => `/api/conversations/${encodeURIComponent(room)}`;
const ephemeralPath = (code) => `/api/ephemeral/${encodeURIComponent(code)}`;

/** The caller's conversations that are not closed: `[{room, peer, state, unread, last_seq}]`. */
export async function listConversations() {
  const answer = await get('/api/conversations');
  return Array.isArray(answer?.conversations) ? answer.conversations : [];
}

/** Opens (or shows again) a conversation with the account `user`; resolves with it. */
export const openConversation = (user) => post('/api/conversations', { user });

export const acceptConversation = (room) => post(`${conversationPath(room)}/accept`);

export const declineConversation = (room) => post(`${conversationPath(room)}/decline`);

/** Hides a conversation for the caller until the peer writes again. */
export const closeConversation = (room) => del(conversationPath(room));

/** Creates an ephemeral room hosted by the caller: `{code, room, active, expires_at, created_at}`. */
export const createEphemeral = () => post('/api/ephemeral');

/** The caller's live ephemeral rooms, newest first. */
export async function hostedEphemeral() {
  const answer = await get('/api/ephemeral');
  return Array.isArray(answer?.rooms) ? answer.rooms : [];
}

/** Starts a room's timer (host only). */
export const activateEphemeral = (code) => post(`${ephemeralPath(code)}/activate`);

/** What a code opens onto, without a session: `{code, room, active, expires_at, names}`. */
export const lookUpEphemeral = (code) => get(ephemeralPath(code));

const EXPLANATIONS = {
  not_found: 'There is nobody by that name.',
  forbidden: 'You both have accounts: start a conversation instead of whispering.',
  registration_required: 'Conversations are for registered accounts.',
  invalid_room: 'That is not possible',
  room_not_active: 'The host has not opened this room yet.',
  room_locked: 'This room is locked to the two devices that joined it first.',
  nick_taken: 'Someone is using that name right now.',
};

/**
 * A sentence for a conversation, whisper or ephemeral-room error, ending with its code.
 * `invalid_room` keeps the server's message, which says what was wrong.
 */
export function explainPrivateError(err) {
  const text = EXPLANATIONS[err?.code];
  if (!text) return describeError(err);
  if (err.code === 'invalid_room' && err.message) return `${text}: ${err.message} (${err.code})`;
  return `${text} (${err.code})`;
}
