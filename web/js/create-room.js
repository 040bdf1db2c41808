/**
 * The "Create a room" dialog: address (slug), name, topic and the private switch.
 *
 * The server checks the rules, so its codes (`room_taken`, `invalid_room`, …) reach the user
 * unchanged, explained in the dialog. On success the new room is handed to `onCreated`.
 */

import { createRoom } from './room-api.js';
import { wireDialog, showError, whileBusy } from './dialog.js';

/** @param {{onCreated: (room: object) => void}} handlers */
export function createRoomDialog({ onCreated }) {
  const $ = (id) => document.getElementById(id);
  const form = $('create-room-form');
  const slugInput = $('create-room-slug');
  const errorLine = $('create-room-error');
  const dialog = wireDialog($('create-room-dialog'));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy($('create-room-submit'), async () => {
      showError(errorLine, null);
      try {
        const room = await createRoom({
          slug: slugInput.value.trim().toLowerCase(),
          name: $('create-room-name').value.trim(),
          topic: $('create-room-topic').value.trim(),
          isPrivate: $('create-room-private').checked,
        });
        dialog.close();
        onCreated(room);
      } catch (err) {
        showError(errorLine, err);
        slugInput.focus();
      }
    });
  });

  return {
    /** Opens the dialog empty, or with the address filled in (creating a missing room). */
    open(slug = '') {
      form.reset();
      showError(errorLine, null);
      slugInput.value = slug;
      dialog.open();
      (slug ? $('create-room-name') : slugInput).focus();
    },
  };
}
