/**
 * The ways a file reaches the composer: the attach button (a hidden multi-file input), files
 * dropped anywhere on the open room, files pasted into the message box (a screenshot), and
 * voice notes (voice-recorder.js). Each goes to the tray (attach-tray.js), which uploads it.
 *
 * It also says what the room on screen takes: the attach button's tooltip lists the kinds (a
 * room's `accepts`; the lobby, conversations and 1-on-1 rooms take every kind the server
 * does), and a file of another kind is refused here with that sentence instead of uploaded —
 * the server refuses it too. Whisper tabs take no files (a whisper is not stored). In an
 * end-to-end room every file is sealed before upload, so the server sees an "other file".
 */

import { acceptedKinds, guessKind, listKinds, refusal } from './file-kinds.js';
import { canRecord, createVoiceRecorder } from './voice-recorder.js';
import { isE2E } from './e2e-rooms.js';

/** The file input's `accept` for kinds (every type when other files are allowed). */
function acceptAttribute(kinds) {
  if (kinds.includes('file')) return '';
  return kinds.filter((k) => k !== 'file').map((k) => `${k}/*`).join(',');
}

/**
 * @param {object} elements
 * @param {HTMLButtonElement} elements.attach `#attach`
 * @param {HTMLInputElement} elements.input `#attach-input` (type=file, multiple)
 * @param {HTMLButtonElement} elements.record `#record`
 * @param {HTMLElement} elements.recordTime `#record-time`
 * @param {HTMLButtonElement} elements.recordDiscard `#record-discard`
 * @param {HTMLElement} elements.dropZone the open room (`.chat-main`)
 * @param {HTMLTextAreaElement} elements.textarea `#composer`
 * @param {object} deps
 * @param {ReturnType<import('./attach-tray.js').createAttachTray>} deps.tray
 * @param {(message: string) => void} deps.onError something to tell (the microphone failed)
 */
export function createComposerFiles(
  { attach, input, record, recordTime, recordDiscard, dropZone, textarea },
  { tray, onError },
) {
  let slug = null; // the room files go to; null: none (a state card, a whisper tab)
  let accepted = [];

  const recorder = createVoiceRecorder({ button: record, time: recordTime, discard: recordDiscard }, {
    onRecorded: (file, durationMs) => add(file, { durationMs }),
    onError,
  });

  /** Sends files to the tray, each refused here if the room does not take its kind. */
  function addFiles(files) {
    for (const file of files) add(file);
  }

  function add(file, { durationMs } = {}) {
    if (slug === null) return;
    const kind = guessKind(file);
    // An end-to-end room's server sees every file as a sealed "other file".
    tray.add(file, { kind, durationMs, refusal: refusal(isE2E(slug) ? 'file' : kind, accepted) });
  }

  attach.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    addFiles([...input.files]);
    input.value = ''; // picking the same file again still fires `change`
  });

  textarea.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0 || slug === null) return; // plain text pastes as usual
    event.preventDefault();
    addFiles(files);
  });

  // Dropping files anywhere on the open room; elsewhere the browser would open the file in
  // place of the app, so such drops are swallowed.
  let depth = 0;
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  const setActive = (on) => dropZone.classList.toggle('drop-active', on);
  dropZone.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    setActive(slug !== null);
  });
  dropZone.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = slug === null ? 'none' : 'copy';
  });
  dropZone.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) setActive(false);
  });
  dropZone.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    setActive(false);
    addFiles([...event.dataTransfer.files]);
  });

  return {
    /**
     * The room on screen (a record of rooms.js, or null): where files go and what it takes.
     * Called again for the same room when its settings change.
     */
    setRoom(room) {
      const next = room && room.kind !== 'whisper' && !room.closed ? room.slug : null;
      if (next !== slug && recorder.recording()) recorder.cancel();
      slug = next;
      accepted = next === null ? [] : acceptedKinds(room);
      const takes = listKinds(accepted);
      attach.hidden = next === null;
      attach.disabled = accepted.length === 0;
      attach.title = room?.kind === 'room'
        ? `Attach files (this room takes ${takes})`
        : `Attach files (${takes})`;
      input.accept = acceptAttribute(accepted);
      record.hidden = next === null || !canRecord();
      const voice = accepted.includes(isE2E(next) ? 'file' : 'audio'); // sealed, a note is a file
      recorder.setPolicy(voice ? 'Record a voice note' : `No voice notes here (this room takes ${takes})`, voice);
      tray.setRoom(next);
    },

    /** Stops a recording (sign-out). */
    reset() {
      if (recorder.recording()) recorder.cancel();
    },
  };
}
