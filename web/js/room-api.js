/**
 * REST calls for persistent rooms, and plain-language text for their error codes.
 *
 * One function per endpoint the app uses, so views never build `/api/rooms/…` paths by hand
 * (slugs, names and tokens are always URL-encoded here). Errors are the `ApiError`s of api.js;
 * `explainRoomError` turns their stable codes into a sentence (error-text.js).
 */

import { get, post, patch, del } from './api.js';
import { errorText } from './error-text.js';

/** The lobby's name: the one room that is not persistent. */
export const LOBBY = 'lobby';
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$/;

const roomPath = (slug) => `/api/rooms/${encodeURIComponent(slug)}`;

/** Whether `slug` follows the server's address rules (so offering to create it makes sense). */
export function isCreatableSlug(slug) {
  return SLUG_PATTERN.test(slug) && slug !== LOBBY;
}

/**
 * `{rooms, requests}`: `rooms` is `[{slug, name, topic, private, access, role}]`, every room the
 * caller may see; `requests` is `[{slug, created_at, expires_at}]`, the caller's own access
 * requests by the address asked for — the server says nothing else about them, the same for a
 * private room as for an address no room holds.
 */
export async function listRooms() {
  const answer = await get('/api/rooms');
  return {
    rooms: Array.isArray(answer?.rooms) ? answer.rooms : [],
    requests: Array.isArray(answer?.requests) ? answer.requests : [],
  };
}

/** Creates a room owned by the caller (`e2e`: end-to-end, for good); resolves with its Room. */
export const createRoom = ({ slug, name, topic, isPrivate, e2e = false }) =>
  post('/api/rooms', { slug, name: name || undefined, topic: topic || undefined, private: isPrivate, e2e: e2e || undefined });

/** Changes settings (only the fields given); resolves with the Room. */
export const updateRoom = (slug, changes) => patch(roomPath(slug), changes);

export const deleteRoom = (slug) => del(roomPath(slug));

/** Gives up membership (not for owners). */
export const leaveRoom = (slug) => del(`${roomPath(slug)}/membership`);

/** Creates an invite link; resolves with `{token, path, invite}`. */
export const createInvite = (slug, { ttlSecs, maxUses }) =>
  post(`${roomPath(slug)}/invites`, { ttl_secs: ttlSecs, max_uses: maxUses ?? undefined });

/** Redeems an invite token; resolves with the Room the caller is now a member of. */
export const redeemInvite = (token) => post(`/api/invites/${encodeURIComponent(token)}`);

/** Asks the owner of a private room to let the caller in (answers the same for unknown rooms). */
export const requestAccess = (slug) => post(`${roomPath(slug)}/requests`);

/** `[{name, role, joined_at}]`, the room's members (present or not). */
export async function listMembers(slug) {
  const answer = await get(`${roomPath(slug)}/members`);
  return Array.isArray(answer?.members) ? answer.members : [];
}

/** `[{name, created_at}]`, the pending requests (owners and admins). */
export async function listRequests(slug) {
  const answer = await get(`${roomPath(slug)}/requests`);
  return Array.isArray(answer?.requests) ? answer.requests : [];
}

export const decideRequest = (slug, name, approve) =>
  post(`${roomPath(slug)}/requests/${encodeURIComponent(name)}`, { approve });

/** What room errors mean in a room's context (the rest read as error-text.js says). */
const ROOM_SENTENCES = {
  registration_required: 'This room is for registered accounts — create one to join it.',
  banned: 'You are banned from this room.',
  not_found: 'There is no room here that you can see.',
  keys_required: 'Set up encryption first (Settings → Encryption): an end-to-end room needs your keys.',
};

/** A sentence for a room error (the code stays out of it; `invalid_room` says which rule). */
export const explainRoomError = (err) => errorText(err, ROOM_SENTENCES);
