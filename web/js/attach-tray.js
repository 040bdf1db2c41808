/**
 * The files waiting to go with the next message: one chip per file above the composer, with a
 * progress bar while it uploads, its error when refused, and × to cancel or drop it.
 *
 * Files upload as soon as they are picked (upload.js; sealed first in an end-to-end room,
 * e2e-files.js), for the room on screen: the server ties an upload to one room, so each room
 * keeps its own chips, like its draft, and switching rooms shows the other room's. A message carries the `id`s of the finished ones (`ids()`); while one
 * is still uploading the message waits (`busy()`). Chips that failed stay until dismissed so the
 * reason can be read, and are never sent.
 */

import { describeError } from './api.js';
import { uploadFor } from './e2e-files.js';
import { displayName, formatDuration, humanSize, iconElement, nameElement } from './file-kinds.js';

/** The most files one message may carry (the server's limit too). */
export const MAX_ATTACHMENTS = 10;

/**
 * @param {HTMLUListElement} listEl `#attach-tray`
 * @param {object} hooks
 * @param {() => void} hooks.onChange a chip was added, finished, failed or went away
 */
export function createAttachTray(listEl, { onChange }) {
  let entries = []; // {room, kind, state, view, handle, chip, progress, error, durationMs}
  let room = null;

  const here = () => entries.filter((e) => e.room === room);

  function render() {
    listEl.replaceChildren(...here().map((e) => e.chip));
    listEl.hidden = listEl.childElementCount === 0;
  }

  function remove(entry) {
    entries = entries.filter((e) => e !== entry);
    entry.chip.remove();
    listEl.hidden = listEl.childElementCount === 0;
    onChange();
  }

  function setState(entry, state, message = '') {
    entry.state = state;
    entry.chip.dataset.state = state;
    entry.progress.hidden = state !== 'uploading';
    entry.error.textContent = message;
    entry.error.hidden = !message;
    entry.remove.title = state === 'uploading' ? 'Cancel the upload' : 'Remove';
    entry.remove.setAttribute('aria-label', `${entry.remove.title}: ${displayName(entry.name)}`);
  }

  function chipFor(entry) {
    const chip = document.createElement('li');
    chip.className = 'attach-chip';
    chip.dataset.kind = entry.kind;
    const icon = iconElement(entry, 'attach-chip-icon');
    const body = document.createElement('span');
    body.className = 'attach-chip-body';
    const meta = document.createElement('span');
    meta.className = 'attach-chip-meta';
    meta.textContent = Number.isFinite(entry.durationMs)
      ? formatDuration(entry.durationMs) : humanSize(entry.size);
    entry.progress = document.createElement('progress');
    entry.progress.className = 'attach-chip-progress';
    entry.progress.max = 1;
    entry.progress.value = 0;
    entry.error = document.createElement('span');
    entry.error.className = 'attach-chip-error';
    entry.error.setAttribute('role', 'alert');
    body.append(nameElement(entry.name, 'attach-chip-name'), meta, entry.progress, entry.error);
    entry.remove = document.createElement('button');
    entry.remove.type = 'button';
    entry.remove.className = 'attach-chip-remove';
    entry.remove.textContent = '×';
    entry.remove.addEventListener('click', () => {
      if (entry.state === 'uploading') entry.handle.abort(); // the rejection removes it
      else remove(entry);
    });
    chip.append(icon, body, entry.remove);
    entry.chip = chip;
    entry.icon = icon;
  }

  /** A finished image shows its thumbnail (the uploader may read a file not yet sent). */
  function finished(entry, view) {
    entry.view = view;
    entry.chip.dataset.id = view.id;
    setState(entry, 'done');
    if (view.kind === 'image' && typeof view.thumbnail_url === 'string') {
      const thumb = document.createElement('img');
      thumb.className = 'attach-chip-thumb';
      thumb.alt = '';
      thumb.width = 32;
      thumb.height = 32;
      thumb.src = view.thumbnail_url;
      entry.icon.replaceWith(thumb);
    }
  }

  return {
    /** Shows the chips of room `slug` (null: none). */
    setRoom(slug) {
      room = slug;
      render();
      onChange();
    },

    /**
     * Adds `file` for the room on screen and starts its upload, or shows why not.
     * @param {Blob} file
     * @param {object} options
     * @param {string} options.kind the kind it will likely get (file-kinds.js)
     * @param {string} [options.name] defaults to the file's own
     * @param {number} [options.durationMs] for a voice note
     * @param {string|null} [options.refusal] a reason to refuse it without uploading
     */
    add(file, { kind, name = file.name, durationMs, refusal = null }) {
      if (room === null) return;
      const entry = { room, kind, name, size: file.size, durationMs, mime: file.type, state: '', view: null };
      chipFor(entry);
      entries.push(entry);
      listEl.append(entry.chip);
      listEl.hidden = false;
      const waiting = here().filter((e) => e.state !== 'error');
      const reason = refusal
        ?? (waiting.length > MAX_ATTACHMENTS ? `At most ${MAX_ATTACHMENTS} files go with one message.` : null);
      if (reason) {
        setState(entry, 'error', reason);
        onChange();
        return;
      }
      setState(entry, 'uploading');
      entry.handle = uploadFor(file, { // sealed first in an end-to-end room
        room,
        name,
        durationMs,
        onProgress: (loaded, total) => {
          entry.progress.value = total > 0 ? Math.min(1, loaded / total) : 0;
        },
      });
      onChange();
      entry.handle.done.then((view) => {
        if (!entries.includes(entry)) return;
        finished(entry, view);
        onChange();
      }, (err) => {
        if (!entries.includes(entry)) return;
        if (err.code === 'aborted') {
          remove(entry);
          return;
        }
        setState(entry, 'error', describeError(err));
        onChange();
      });
    },

    /** The ids of the finished uploads of the room on screen, in the order they were added. */
    ids: () => here().filter((e) => e.state === 'done').map((e) => e.view.id),

    /** Whether a file of the room on screen is still uploading. */
    busy: () => here().some((e) => e.state === 'uploading'),

    /** The message with these ids was sent: their chips go. */
    sent(ids) {
      const gone = new Set(ids);
      for (const entry of entries.filter((e) => e.view && gone.has(e.view.id))) remove(entry);
    },

    /** Cancels and forgets everything (a new identity). */
    reset() {
      for (const entry of entries) if (entry.state === 'uploading') entry.handle.abort();
      entries = [];
      render();
      onChange();
    },
  };
}
