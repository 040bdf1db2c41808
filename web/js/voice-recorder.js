/**
 * Voice notes: the composer's microphone button records with MediaRecorder (Opus in WebM where
 * the browser can, which the server knows as `audio/webm`), shows the time while recording,
 * and on the second press hands over a `voice-<timestamp>.webm` File with its measured length.
 * "Discard" throws a recording away; so does switching rooms (the note was meant for the room
 * it was started in).
 *
 * The microphone is only asked for on the first press, and released as soon as a recording
 * ends. Where the browser cannot record (no MediaRecorder, or a page that is not a secure
 * context) the button stays hidden.
 */

import { formatDuration } from './file-kinds.js';

/** A recording stops by itself after this long (a forgotten microphone). */
const MAX_RECORDING_MS = 15 * 60 * 1000;
const TICK_MS = 250;
const PREFERRED_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus'];

/** Whether this browser can record here. */
export const canRecord = () => typeof MediaRecorder !== 'undefined'
  && typeof navigator.mediaDevices?.getUserMedia === 'function';

/** `20261206-151042`: a file-name-safe local time stamp. */
function stamp(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-`
    + `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

const extensionOf = (type) => (type.startsWith('audio/ogg') ? 'ogg' : type.startsWith('audio/mp4') ? 'm4a' : 'webm');

/**
 * @param {object} elements
 * @param {HTMLButtonElement} elements.button `#record`, pressed to start and to stop
 * @param {HTMLElement} elements.time `#record-time`, the elapsed time while recording
 * @param {HTMLButtonElement} elements.discard `#record-discard`
 * @param {object} hooks
 * @param {(file: File, durationMs: number) => void} hooks.onRecorded a finished voice note
 * @param {(message: string) => void} hooks.onError the microphone could not be used
 */
export function createVoiceRecorder({ button, time, discard }, { onRecorded, onError }) {
  let current = null; // {recorder, stream, chunks, started, timer, keep}
  let starting = false;
  let idleTitle = 'Record a voice note';

  function show(recording) {
    button.setAttribute('aria-pressed', String(recording));
    button.classList.toggle('recording', recording);
    button.title = recording ? 'Stop and attach the voice note' : idleTitle;
    button.querySelector('[aria-hidden]').textContent = recording ? '⏹' : '🎤';
    time.hidden = !recording;
    discard.hidden = !recording;
    if (recording) time.textContent = '0:00';
  }

  function tick() {
    const elapsed = performance.now() - current.started;
    time.textContent = formatDuration(Math.floor(elapsed / 1000) * 1000);
    if (elapsed >= MAX_RECORDING_MS) stop(true);
  }

  async function start() {
    if (current || starting) return;
    starting = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      starting = false;
      onError(`The microphone is not available: ${err?.message || err?.name || 'permission denied'}.`);
      return;
    }
    starting = false;
    const type = PREFERRED_TYPES.find((t) => MediaRecorder.isTypeSupported?.(t));
    let recorder;
    try {
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      onError(`This browser cannot record audio: ${err?.message || err}.`);
      return;
    }
    const rec = { recorder, stream, chunks: [], started: performance.now(), timer: null, keep: false, ended: 0 };
    recorder.addEventListener('dataavailable', (event) => {
      if (event.data && event.data.size > 0) rec.chunks.push(event.data);
    });
    recorder.addEventListener('stop', () => finish(rec));
    current = rec;
    recorder.start();
    rec.timer = setInterval(tick, TICK_MS);
    show(true);
  }

  /** Ends the recording; `keep` hands it over, otherwise it is thrown away. */
  function stop(keep) {
    const rec = current;
    if (!rec) return;
    current = null;
    rec.keep = keep;
    rec.ended = performance.now();
    clearInterval(rec.timer);
    show(false);
    if (rec.recorder.state !== 'inactive') rec.recorder.stop();
    else finish(rec);
  }

  function finish(rec) {
    for (const track of rec.stream.getTracks()) track.stop();
    if (!rec.keep || rec.chunks.length === 0) return;
    const type = (rec.recorder.mimeType || rec.chunks[0].type || 'audio/webm').split(';')[0];
    const blob = new Blob(rec.chunks, { type });
    const file = new File([blob], `voice-${stamp(new Date())}.${extensionOf(type)}`, { type });
    onRecorded(file, Math.round(rec.ended - rec.started));
  }

  button.hidden = !canRecord();
  button.addEventListener('click', () => (current ? stop(true) : start()));
  discard.addEventListener('click', () => stop(false));
  show(false);

  return {
    /** What the idle button says, and whether the room on screen takes voice notes at all. */
    setPolicy(title, allowed) {
      idleTitle = title;
      button.disabled = !allowed && !current;
      if (!current) button.title = title;
    },
    /** Throws away a recording under way (the room changed, the session ended). */
    cancel: () => stop(false),
    /** Whether a recording is under way. */
    recording: () => current !== null,
  };
}
