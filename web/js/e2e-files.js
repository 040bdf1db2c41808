/**
 * Attachments of end-to-end rooms (docs/e2ee.md, "Attachments"). Before upload a file is sealed
 * here with a fresh key and nonce (AES-256-GCM, additional data `parlor file v1`) and sent as
 * `encrypted.bin`, `application/octet-stream`: the server sees a generic file and makes no
 * preview. The key, nonce, name, type and size wait here under the upload's id until the
 * message's envelope carries them (`fileSecrets`). Shown, an attachment is fetched, opened and
 * displayed from a `blob:` address: images inline (the lightbox too), audio and video in the
 * browser's players, anything else as a row whose "Download" saves the opened file.
 *
 * The tray calls `uploadFor` for every file (other rooms upload as they are, upload.js).
 */

import { ApiError } from './api.js';
import { uploadFile } from './upload.js';
import { encryptFile, decryptFile } from './e2e-crypto.js';
import { isE2E, e2eError } from './e2e-rooms.js';
import { displayName, humanSize, iconElement, nameElement } from './file-kinds.js';
import { fitBox } from './attachment-view.js';
import { openLightbox } from './lightbox.js';

/** Files larger than this are not opened until asked (a download). */
const INLINE_MAX_BYTES = 25 * 1024 * 1024;
const secrets = new Map(); // upload id → {id, key, nonce, name, type, size}

/**
 * Uploads `file` for `room` as upload.js does, sealed first when the room is end-to-end.
 * @returns {{done: Promise<object>, abort: () => void}}
 */
export function uploadFor(file, options) {
  if (!isE2E(options.room)) return uploadFile(file, options);
  let inner = null;
  let aborted = false;
  const done = (async () => {
    const sealed = await encryptFile(new Uint8Array(await file.arrayBuffer()));
    if (aborted) throw new ApiError('aborted', 'Upload cancelled.', 0);
    const blob = new Blob([sealed.data], { type: 'application/octet-stream' });
    inner = uploadFile(blob, { room: options.room, name: 'encrypted.bin', onProgress: options.onProgress });
    const view = await inner.done;
    secrets.set(view.id, {
      id: view.id,
      key: sealed.key,
      nonce: sealed.nonce,
      name: displayName(options.name ?? file.name),
      type: file.type || 'application/octet-stream',
      size: file.size,
    });
    return view;
  })();
  return { done, abort: () => { aborted = true; inner?.abort(); } };
}

/** What an envelope says of the uploads `ids`; rejects when one was not sealed here. */
export function fileSecrets(ids) {
  return ids.map((id) => {
    const entry = secrets.get(id);
    if (!entry) throw e2eError('e2e_file_unsealed', 'A file was attached before this room was known to be end-to-end: remove it and attach it again.');
    return entry;
  });
}

/** The opened bytes of an attachment, as a Blob of its type. */
async function openFile(url, file) {
  const answer = await fetch(url, { credentials: 'same-origin' });
  if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
  const bytes = await decryptFile(await answer.arrayBuffer(), file);
  return new Blob([bytes], { type: String(file.type || 'application/octet-stream') });
}

const kindOf = (type) => ['image', 'video', 'audio'].find((k) => String(type).startsWith(`${k}/`)) ?? 'file';
const isFileUrl = (url) => typeof url === 'string' && url.startsWith('/api/files/');

function failed(el, text = '🔒 This file could not be decrypted') {
  const note = document.createElement('span');
  note.className = 'attachment-e2e-failed';
  note.textContent = text;
  el.replaceChildren(note);
}

function row(file, url) {
  const el = document.createElement('div');
  el.className = 'attachment attachment-file attachment-e2e';
  const size = document.createElement('span');
  size.className = 'attachment-size';
  size.textContent = humanSize(file.size);
  const download = document.createElement('button');
  download.type = 'button';
  download.className = 'button attachment-download';
  download.textContent = 'Download';
  download.setAttribute('aria-label', `Download ${displayName(file.name)}`);
  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await openFile(url, file));
      link.download = displayName(file.name);
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } catch {
      failed(el);
    } finally {
      download.disabled = false;
    }
  });
  el.append(iconElement({ kind: kindOf(file.type), mime: file.type }, 'attachment-icon'),
    nameElement(file.name, 'attachment-name'), size, download);
  return el;
}

function media(file, url, kind) {
  const name = displayName(file.name);
  let el;
  let target;
  if (kind === 'image') {
    el = document.createElement('a');
    el.className = 'attachment attachment-image attachment-e2e';
    el.href = '#';
    el.title = name;
    target = document.createElement('img');
    target.alt = name;
    const box = fitBox(file.width, file.height);
    if (box) Object.assign(target, box);
    el.append(target);
    el.addEventListener('click', (event) => {
      event.preventDefault();
      if (target.src) openLightbox({ url: target.src, name, id: file.id });
    });
  } else {
    el = document.createElement(kind);
    el.className = `attachment attachment-${kind} attachment-e2e`;
    el.controls = true;
    el.title = name;
    target = el;
  }
  openFile(url, file).then((blob) => {
    target.src = URL.createObjectURL(blob);
    el.dataset.decrypted = 'true';
  }, () => failed(el));
  return el;
}

/**
 * The attachments of an opened envelope (`files` of its payload), matched by id with the
 * message's FileViews (where to fetch them); null when there are none.
 */
export function openedAttachments(files, views) {
  const list = Array.isArray(files) ? files.filter((f) => f && typeof f.id === 'string') : [];
  if (!list.length) return null;
  const box = document.createElement('div');
  box.className = 'message-attachments';
  for (const file of list) {
    const url = (Array.isArray(views) ? views : []).find((v) => v?.id === file.id)?.url;
    const kind = kindOf(file.type);
    let el;
    if (!isFileUrl(url)) {
      el = row(file, url);
      failed(el, `📎 ${displayName(file.name)} is no longer available`);
    } else if (kind !== 'file' && Number(file.size) <= INLINE_MAX_BYTES) {
      el = media(file, url, kind);
    } else {
      el = row(file, url);
    }
    el.dataset.id = file.id;
    box.append(el);
  }
  return box;
}
