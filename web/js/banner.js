/**
 * The banner (`#banner`): one short app-wide notice at a time, for things that happen outside
 * the open room (a room was deleted, a request was approved, someone asks to join). It hides
 * itself after a while or when dismissed; the kind (`info` | `error`) only changes its colour.
 * It sits at the top, under the app header (app.css), so it never covers the composer. Send
 * refusals that pass by themselves (too fast, offline) are shown here too.
 */

const SHOW_MS = 8000;

export function createBanner() {
  const banner = document.getElementById('banner');
  const text = document.getElementById('banner-text');
  let timer = null;

  function hide() {
    clearTimeout(timer);
    banner.hidden = true;
  }
  document.getElementById('banner-close').addEventListener('click', hide);

  return {
    /** Shows `message` (plain text), replacing any earlier one. */
    show(message, kind = 'info') {
      clearTimeout(timer);
      text.textContent = message;
      banner.dataset.kind = kind;
      banner.hidden = false;
      timer = setTimeout(hide, SHOW_MS);
    },
    hide,
  };
}
