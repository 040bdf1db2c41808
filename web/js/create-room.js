/**
 * The "Create a room" dialog: address (slug), name, topic and the private switch.
 *
 * The server checks the rules, so its codes (`room_taken`, `invalid_room`, …) reach the user
 * explained in the dialog. On success the new room is handed to `onCreated`. Opened from the
 * state card of an address nobody can see into, `room_taken` for that address means a private
 * room holds it: the dialog closes and `onTaken` explains (and offers to ask to join).
 */

import { createRoom } from './room-api.js';
import { wireDialog, showError, whileBusy } from './dialog.js';

/**
 * @param {object} handlers
 * @param {(room: object) => void} handlers.onCreated
 * @param {(slug: string) => void} [handlers.onTaken] a state card's address is taken
 */
export function createRoomDialog({ onCreated, onTaken = () => {} }) {
  const $ = (id) => document.getElementById(id);
  const form = $('create-room-form');
  const slugInput = $('create-room-slug');
  const errorLine = $('create-room-error');
  const dialog = wireDialog($('create-room-dialog'));
  let cardSlug = null; // the address of the state card the dialog was opened from

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy($('create-room-submit'), async () => {
      showError(errorLine, null);
      const slug = slugInput.value.trim().toLowerCase();
      try {
        const room = await createRoom({
          slug,
          name: $('create-room-name').value.trim(),
          topic: $('create-room-topic').value.trim(),
          isPrivate: $('create-room-private').checked,
        });
        dialog.close();
        onCreated(room);
      } catch (err) {
        if (err.code === 'room_taken' && cardSlug && slug === cardSlug) {
          dialog.close();
          onTaken(slug);
          return;
        }
        showError(errorLine, err);
        slugInput.focus();
      }
    });
  });

  return {
    /**
     * Opens the dialog empty, or with the address filled in (`fromCard`: the state card of an
     * address the user cannot see into).
     */
    open(slug = '', { fromCard = false } = {}) {
      cardSlug = fromCard ? slug : null;
      form.reset();
      showError(errorLine, null);
      slugInput.value = slug;
      dialog.open();
      (slug ? $('create-room-name') : slugInput).focus();
    },
  };
}
