/**
 * REST calls for private conversations and ephemeral 1-on-1 rooms, and plain-language text for
 * the error codes they answer with.
 *
 * One function per endpoint, so views never build these paths by hand (room names, codes and
 * user names are URL-encoded here). Errors are the `ApiError`s of api.js.
 */

import { get, post, del } from './api.js';
import { errorText } from './error-text.js';

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

/** What errors mean for conversations, whispers and 1-on-1 rooms (the rest: error-text.js). */
const PRIVATE_SENTENCES = {
  not_found: 'There is nobody by that name.',
  forbidden: 'You both have accounts: start a conversation instead of whispering.',
  registration_required: 'Conversations are for registered accounts — sign up to start one.',
  invalid_room: (err) => (err.message ? `That is not possible: ${err.message}.`.replace(/\.\.$/, '.') : 'That is not possible.'),
};

/** A sentence for a conversation, whisper or ephemeral-room error (never its code). */
export const explainPrivateError = (err) => errorText(err, PRIVATE_SENTENCES);
