/**
 * REST calls of the admin API (`/api/admin/…`, moderators on an admin network), and plain
 * sentences for its refusals.
 *
 * One function per endpoint the admin panel uses, so views never build these paths or query
 * strings by hand (names and slugs are URL-encoded here). Errors are the `ApiError`s of
 * api.js. Changes go out as same-origin `fetch`es, which carry the `Origin` the server asks of
 * cookie-authenticated admin changes.
 */

import { get, post, del, request, describeError } from './api.js';

/** Audit filter fields, in the order the API documents them. */
export const AUDIT_FILTERS = ['ip', 'identity', 'actor', 'room', 'action', 'text', 'from', 'to'];
/** The most entries one audit export holds (the server's cap on `limit`). */
const EXPORT_LIMIT = 10000;

/** `?a=1&b=2` of the fields that have a value, or ''. */
function query(fields) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const list = (key) => (answer) => (Array.isArray(answer?.[key]) ? answer[key] : []);

/** Accounts whose name contains `q`: `[{name, role, verified, online, created_at}]`. */
export const searchUsers = ({ q, limit, offset }) =>
  get(`/api/admin/users${query({ q, limit, offset })}`).then(list('users'));

/** `{bans: [Sanction], mutes: [Sanction]}` in force. */
export const listSanctions = () => get('/api/admin/sanctions');

/** Live connections on every node: `[{id, node, user, ip, rooms, since}]`. */
export const listConnections = () => get('/api/admin/connections').then(list('connections'));

/** Closes one connection (it gets `closing: kicked`). */
export const closeConnection = (id) => del(`/api/admin/connections/${encodeURIComponent(id)}`);

/** Runs a moderation action with the gateway command's data. */
export const act = (action, data) => post(`/api/admin/actions/${encodeURIComponent(action)}`, data);

/**
 * Grants premium (admins and root): `{days}` more, `{until}` (ms) exactly, or `{forever: true}`.
 * Answers `{premium_until, active}`; the account's open pages hear it at once.
 */
export const grantPremium = (name, grant) =>
  request('PUT', `/api/admin/users/${encodeURIComponent(name)}/premium`, grant);

/** Revokes an account's premium: `{premium_until: null, active: false}`. */
export const revokePremium = (name) => del(`/api/admin/users/${encodeURIComponent(name)}/premium`);

/** Every room, conversation and live 1-on-1 room, with its `kind` and `expires_at`. */
export const listAllRooms = () => get('/api/admin/rooms').then(list('rooms'));

/** A page of any room's transcript, oldest first (the read is audited). */
export const readTranscript = (slug, { before, limit }) =>
  get(`/api/admin/rooms/${encodeURIComponent(slug)}/messages${query({ before, limit })}`).then(list('messages'));

/** Archives of expired 1-on-1 rooms, newest first, opened (the read is audited). */
export const listArchives = ({ before, limit }) =>
  get(`/api/admin/archives${query({ before, limit })}`).then(list('archives'));

/** The audit URL for `filter` (fields of AUDIT_FILTERS) with paging or an export format. */
export function auditUrl(filter, { before, limit, format } = {}) {
  const fields = Object.fromEntries(AUDIT_FILTERS.map((key) => [key, filter[key]]));
  return `/api/admin/audit${query({ ...fields, before, limit, format })}`;
}

/** A page of the audit log: `{entries, next}` (`next` is the `before` of the older page). */
export const readAudit = (filter, { before, limit }) => get(auditUrl(filter, { before, limit }));

/** The export link of `filter` as `csv` or `jsonl`. */
export const auditExportUrl = (filter, format) => auditUrl(filter, { format, limit: EXPORT_LIMIT });

/** Whether `err` means the admin API will not answer this caller at all. */
export const isDenied = (err) => err?.status === 403 && err.code === 'forbidden';

/**
 * A sentence for a failed admin request or moderation command (the gateway's errors have the
 * same codes): a refusal keeps the server's reason, which says what may not be done.
 */
export function explainAdminError(err) {
  switch (err?.code) {
    case 'forbidden':
      return `Not allowed: ${err.message || 'you may not do that'}.`.replace(/\.\.$/, '.');
    case 'origin_not_allowed':
      return 'The server refused the change: this page’s address is not one of its own.';
    default:
      return describeError(err);
  }
}
