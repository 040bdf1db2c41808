/**
 * The image viewer: a modal `<dialog id="lightbox">` over the app showing one image at full
 * size (within the window), with its name. A click anywhere or Escape (the browser's, for a
 * modal dialog) closes it, and focus returns where it was.
 *
 * One viewer serves every room, so it is wired on first use.
 */

import { displayName } from './file-kinds.js';

let viewer = null;

function wire() {
  const dialog = document.getElementById('lightbox');
  const image = document.getElementById('lightbox-image');
  const caption = document.getElementById('lightbox-caption');
  dialog.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    image.removeAttribute('src'); // stops a large download nobody waits for
    delete dialog.dataset.id;
  });
  return { dialog, image, caption };
}

/** Opens the viewer on `file` (a FileView of an image). */
export function openLightbox(file) {
  viewer ??= wire();
  const { dialog, image, caption } = viewer;
  const name = displayName(file.name);
  image.alt = name;
  image.src = file.url;
  caption.textContent = name;
  dialog.setAttribute('aria-label', name);
  dialog.dataset.id = file.id;
  if (!dialog.open) dialog.showModal();
}
