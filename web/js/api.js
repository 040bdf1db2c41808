/**
 * Shared REST helper for the Parlor API.
 *
 * Every call sends and receives JSON with the session cookie (`credentials: 'same-origin'`).
 * A non-2xx answer of the shape `{"error": {"code", "message"}}` becomes a thrown `ApiError`
 * carrying the stable `code`, so views can react to codes instead of parsing text.
 * This module knows nothing about views or the WebSocket.
 */

import { errorText } from './error-text.js';

/** An API failure with a machine-readable code (`nick_taken`, `unauthenticated`, `network`, …). */
export class ApiError extends Error {
  /**
   * @param {string} code stable error code from the server, or `network` / `http_<status>`
   * @param {string} message human-readable text
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {number|null} [retryAfter] seconds to wait before trying again, when the server says
   */
  constructor(code, message, status, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/**
 * Performs one API request.
 * @param {string} method HTTP method
 * @param {string} path absolute path such as `/api/guest`
 * @param {object} [body] JSON body; omitted when undefined
 * @returns {Promise<any>} the parsed JSON answer (null when the body is empty)
 */
export async function request(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError('network', 'Cannot reach the server. Check your connection.', 0);
  }

  const payload = await readJson(response);
  if (!response.ok) {
    const error = payload && typeof payload.error === 'object' ? payload.error : null;
    throw new ApiError(
      error?.code || `http_${response.status}`,
      error?.message || response.statusText || 'Request failed.',
      response.status,
      Number.isFinite(error?.retry_after) ? error.retry_after : null,
    );
  }
  return payload;
}

/** `GET path`. */
export const get = (path) => request('GET', path);

/** `POST path` with an optional JSON body. */
export const post = (path, body) => request('POST', path, body);

/** `PATCH path` with a JSON body. */
export const patch = (path, body) => request('PATCH', path, body);

/** `DELETE path`. */
export const del = (path) => request('DELETE', path);

/** Reads a JSON body, tolerating empty or non-JSON bodies (proxies, HTML error pages). */
async function readJson(response) {
  let text;
  try {
    text = await response.text();
  } catch {
    return null;
  }
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Formats an error for display as a sentence (error-text.js), e.g. "Wrong user name or
 * password."; the code itself is never shown.
 */
export const describeError = (err) => errorText(err);
