/**
 * The "Create a room" dialog: address (slug), name, topic, the private switch and "End-to-end
 * encrypted" (for good; offered once the account has keys — e2e-account.js — and explained
 * when it has none).
 *
 * The server checks the rules, so its codes (`room_taken`, `invalid_room`, …) reach the user
 * explained in the dialog. On success the new room is handed to `onCreated`. Opened from the
 * state card of an address nobody can see into, `room_taken` for that address means a private
 * room holds it: the dialog closes and `onTaken` explains (and offers to ask to join).
 */

import { createRoom } from './room-api.js';
import { wireDialog, showError, whileBusy } from './dialog.js';
import { state as e2eState } from './e2e-account.js';

/** Why the end-to-end switch is off, by the account's key status (none: it is offered). */
const E2E_NOTES = {
  none: 'To create an end-to-end encrypted room, set up encryption first (Settings → Encryption).',
  unavailable: 'End-to-end encrypted rooms are for registered accounts.',
  checking: 'Looking at your encryption keys…',
  locked: 'Unlock encryption (Settings → Encryption) to write in an end-to-end encrypted room.',
};

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
          e2e: $('create-room-e2e').checked,
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
      const { status } = e2eState();
      $('create-room-e2e').disabled = !['unlocked', 'locked'].includes(status);
      $('create-room-e2e-note').textContent = E2E_NOTES[status] ?? '';
      $('create-room-e2e-note').hidden = !E2E_NOTES[status];
      slugInput.value = slug;
      dialog.open();
      (slug ? $('create-room-name') : slugInput).focus();
    },
  };
}
