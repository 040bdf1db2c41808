/**
 * "Download my data" (`#export-data` in the header): the signed-in account's data — profile,
 * sessions, rooms, its own messages everywhere and both sides of its conversations, its files
 * and the audit entries about it — as one zip archive from `GET /api/user/@me/export`.
 *
 * The archive is fetched rather than followed as a link, so that a refusal (an export of this
 * account already under way, the server busy) is said in the banner instead of being saved as
 * a file; once it has arrived it is handed to the browser as a download. Making the export can
 * take a while, so the button says so and stays disabled meanwhile. Guests have nothing stored
 * to download: the button is hidden for them.
 */

import { ApiError, describeError } from './api.js';
import { createBanner } from './banner.js';

const EXPORT_PATH = '/api/user/@me/export';
const LABEL = 'My data';

/** The file name in a `Content-Disposition` header, or a fallback. */
function fileNameOf(response) {
  const disposition = response.headers.get('content-disposition') || '';
  const match = /filename="([^"]+)"/.exec(disposition);
  return match ? match[1] : 'parlor-export.zip';
}

/** The error of a refused export, read from its `{"error": {code, message}}` body. */
async function refusalOf(response) {
  let error = null;
  try {
    error = (await response.json())?.error;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(error?.code || `http_${response.status}`,
    error?.message || response.statusText || 'The export failed.', response.status);
}

/** Hands `blob` to the browser as a download named `name`. */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the blob by the next turn; free it a little later to be safe.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Wires the button once.
 * @param {HTMLButtonElement} button `#export-data`
 * @returns {{setIdentity: (me: object | null) => void}}
 */
export function createDataExport(button) {
  const banner = createBanner();
  const label = button.querySelector('.export-data-label');
  let running = false;

  function setRunning(on) {
    running = on;
    button.disabled = on;
    button.setAttribute('aria-busy', String(on));
    if (label) label.textContent = on ? 'Preparing…' : LABEL;
  }

  button.addEventListener('click', async () => {
    if (running) return;
    setRunning(true);
    banner.show('Preparing your data: messages, conversations and files. The download starts when it is ready.');
    try {
      let response;
      try {
        response = await fetch(EXPORT_PATH, { credentials: 'same-origin', cache: 'no-store' });
      } catch {
        throw new ApiError('network', 'Cannot reach the server. Check your connection.', 0);
      }
      if (!response.ok) throw await refusalOf(response);
      const blob = await response.blob();
      save(blob, fileNameOf(response));
      banner.show('Your data is downloaded: open the zip file and start with export.html.');
    } catch (err) {
      banner.show(`Could not download your data: ${describeError(err)}`, 'error');
    } finally {
      setRunning(false);
    }
  });

  return {
    /** Shows the button to registered accounts only (`me`: the chat's identity, or null). */
    setIdentity(me) {
      button.hidden = !me || me.kind === 'guest';
    },
  };
}
