/**
 * How a message's attachments (FileViews) are shown: images as thumbnails that open the
 * lightbox, videos and audio in the browser's own players, anything else as a row with an
 * icon, the name, the size and a download link.
 *
 * Everything is laid out from the metadata before a byte is fetched: an image or video gets
 * `width`/`height` scaled into the same box as the server's thumbnails, so the log does not
 * jump when it loads, and players only read metadata until asked to play. Files are served
 * from this origin with the session cookie, so plain `src` attributes work. Names are
 * display-only and go in as text (file-kinds.js).
 */

import { displayName, formatDuration, humanSize, iconElement, nameElement } from './file-kinds.js';
import { openLightbox } from './lightbox.js';

/** The box thumbnails fit in (the server makes them no larger). */
const BOX_PX = 320;

/** Image types that may move: shown from the original, since a thumbnail would be still. */
const ANIMATED = new Set(['image/gif', 'image/webp', 'image/apng']);

/** Only this server's file addresses become links and sources (never `javascript:` and such). */
const isFileUrl = (url) => typeof url === 'string' && url.startsWith('/api/files/');

/** `{width, height}` scaled down to fit the box, or null when the size is unknown. */
export function fitBox(width, height, box = BOX_PX) {
  if (!(width > 0 && height > 0)) return null;
  const scale = Math.min(1, box / width, box / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function sized(el, file) {
  const size = fitBox(file.width, file.height);
  if (size) {
    el.width = size.width;
    el.height = size.height;
  }
  return el;
}

function imageElement(file) {
  const link = document.createElement('a');
  link.className = 'attachment attachment-image';
  link.href = file.url;
  link.title = displayName(file.name);
  link.addEventListener('click', (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openLightbox(file);
  });
  const img = sized(document.createElement('img'), file);
  img.alt = displayName(file.name);
  img.loading = 'lazy';
  img.decoding = 'async';
  const still = isFileUrl(file.thumbnail_url) && !ANIMATED.has(file.mime);
  img.src = still ? file.thumbnail_url : file.url;
  link.append(img);
  return link;
}

function videoElement(file) {
  const video = sized(document.createElement('video'), file);
  video.className = 'attachment attachment-video';
  video.controls = true;
  video.preload = 'metadata';
  video.playsInline = true;
  if (isFileUrl(file.thumbnail_url)) video.poster = file.thumbnail_url;
  video.src = file.url;
  video.title = displayName(file.name);
  return video;
}

function audioElement(file) {
  const row = document.createElement('div');
  row.className = 'attachment attachment-audio';
  const audio = document.createElement('audio');
  audio.controls = true;
  audio.preload = 'metadata';
  audio.src = file.url;
  audio.title = displayName(file.name);
  row.append(audio);
  if (Number.isFinite(file.duration_ms)) {
    const length = document.createElement('span');
    length.className = 'attachment-duration';
    length.textContent = formatDuration(file.duration_ms);
    row.append(length);
  }
  return row;
}

function fileElement(file) {
  const row = document.createElement('div');
  row.className = 'attachment attachment-file';
  row.dataset.kind = file.kind;
  const icon = iconElement(file, 'attachment-icon');
  const size = document.createElement('span');
  size.className = 'attachment-size';
  size.textContent = humanSize(file.size);
  row.append(icon, nameElement(file.name, 'attachment-name'), size);
  if (isFileUrl(file.url)) {
    const download = document.createElement('a');
    download.className = 'button attachment-download';
    download.href = `${file.url}?download=1`;
    download.setAttribute('download', ''); // the server's Content-Disposition names it
    download.textContent = 'Download';
    download.setAttribute('aria-label', `Download ${displayName(file.name)}`);
    row.append(download);
  }
  return row;
}

const RENDERERS = { image: imageElement, video: videoElement, audio: audioElement };

/** The element showing one attachment (a FileView); unknown or broken ones are file rows. */
export function attachmentElement(file) {
  const render = (isFileUrl(file.url) && RENDERERS[file.kind]) || fileElement;
  const el = render(file);
  el.dataset.id = String(file.id ?? '');
  return el;
}

/** The attachments of a message, or null when it has none. */
export function attachmentsElement(files) {
  const list = Array.isArray(files) ? files.filter((f) => f && typeof f === 'object') : [];
  if (list.length === 0) return null;
  const box = document.createElement('div');
  box.className = 'message-attachments';
  box.append(...list.map(attachmentElement));
  return box;
}
