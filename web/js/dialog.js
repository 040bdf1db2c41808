/**
 * What the app's modal dialogs (`<dialog class="dialog">` in index.html) share: opening as a
 * modal, closing from any `[data-close]` button (Escape is the browser's), an error line
 * that shows a room error's sentence and keeps its code in `data-code`, and copying a link.
 */

import { explainRoomError } from './room-api.js';

/** Wires the close buttons of `dialog` once; returns open/close helpers. */
export function wireDialog(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => dialog.close());
  }
  return {
    open() {
      if (!dialog.open) dialog.showModal();
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}

/** Shows `err` in the error line `el`, or clears it when `err` is null. */
export function showError(el, err) {
  el.textContent = err ? explainRoomError(err) : '';
  el.dataset.code = err?.code ?? '';
}

/** Runs `task` with `button` disabled; a second click while it runs is ignored. */
export async function whileBusy(button, task) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    await task();
  } finally {
    button.disabled = false;
  }
}

/**
 * Copies the text of `input` and says so in `status`. Uses the Clipboard API where the page
 * may, and falls back to selecting the text (plain-http deployments on another host have no
 * Clipboard API).
 */
export async function copyField(input, status) {
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = 'Copied to the clipboard.';
  } catch {
    input.select();
    status.textContent = 'Press Ctrl+C (⌘C) to copy the selected link.';
  }
}
