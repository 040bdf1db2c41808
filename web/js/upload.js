/**
 * One file upload: `POST /api/files?room=…&name=…[&duration_ms=…]` with the file's raw bytes.
 *
 * XMLHttpRequest rather than fetch because only it reports upload progress. The session cookie
 * rides along (same origin). The answer is the FileView the message will refer to by `id`; a
 * refusal becomes the same `ApiError` (stable `code`, the server's `message`) that api.js
 * throws, and `abort()` rejects with the code `aborted`. This module knows nothing of the DOM.
 */

import { ApiError } from './api.js';

/**
 * Starts uploading `file` for room `room` (its wire name).
 * @param {Blob} file the bytes (a File; its `name` is sent unless `name` is given)
 * @param {object} options
 * @param {string} options.room the room the file is for
 * @param {string} [options.name] the name to show
 * @param {number} [options.durationMs] an audio or video length measured here
 * @param {(loaded: number, total: number) => void} [options.onProgress] bytes sent so far
 * @returns {{done: Promise<object>, abort: () => void}} `done` resolves with the FileView
 */
export function uploadFile(file, { room, name = file.name, durationMs, onProgress }) {
  const query = new URLSearchParams({ room, name: name || 'file' });
  if (Number.isFinite(durationMs)) query.set('duration_ms', String(Math.round(durationMs)));
  const xhr = new XMLHttpRequest();

  const done = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/files?${query}`);
    xhr.setRequestHeader('Accept', 'application/json');
    // The server reads the type from the bytes; this only keeps the body from looking like
    // a form.
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'text';
    if (onProgress) {
      xhr.upload.addEventListener('progress', (event) => {
        onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
      });
    }
    xhr.addEventListener('load', () => {
      const payload = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300 && payload && typeof payload.id === 'string') {
        resolve(payload);
        return;
      }
      const error = payload && typeof payload.error === 'object' ? payload.error : null;
      reject(new ApiError(
        error?.code || `http_${xhr.status}`,
        error?.message || xhr.statusText || 'The upload failed.',
        xhr.status,
      ));
    });
    xhr.addEventListener('error', () => {
      reject(new ApiError('network', 'Cannot reach the server. Check your connection.', 0));
    });
    xhr.addEventListener('abort', () => reject(new ApiError('aborted', 'Upload cancelled.', 0)));
    xhr.send(file);
  });

  return { done, abort: () => xhr.abort() };
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
