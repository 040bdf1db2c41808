/**
 * The "Room settings" dialog for owners and admins: name, topic, private, slow mode and
 * retention; owners also get "Delete room", which asks for the room's address to be typed
 * before it deletes anything.
 *
 * Saving sends every field (`retention_days: null` means keep forever); the server validates
 * and its `invalid_room` message says which setting broke a rule.
 */

import { updateRoom, deleteRoom } from './room-api.js';
import { wireDialog, showError, whileBusy } from './dialog.js';

/** A whole number from a number field, `null` when empty, or NaN to let the server refuse it. */
function numberOrNull(input) {
  const text = input.value.trim();
  return text === '' ? null : Number(text);
}

/**
 * @param {object} handlers
 * @param {(room: object) => void} handlers.onSaved with the updated Room
 * @param {(slug: string) => void} handlers.onDeleted after the room is gone
 */
export function createSettingsDialog({ onSaved, onDeleted }) {
  const $ = (id) => document.getElementById(id);
  const form = $('settings-form');
  const errorLine = $('settings-error');
  const confirmInput = $('settings-delete-slug');
  const confirmButton = $('settings-delete-confirm-button');
  const dialog = wireDialog($('settings-dialog'));
  let slug = '';

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy($('settings-save'), async () => {
      showError(errorLine, null);
      try {
        const room = await updateRoom(slug, {
          name: $('settings-name').value.trim(),
          topic: $('settings-topic').value.trim(),
          private: $('settings-private').checked,
          slow_mode_secs: numberOrNull($('settings-slow-mode')) ?? 0,
          retention_days: numberOrNull($('settings-retention')),
        });
        dialog.close();
        onSaved(room);
      } catch (err) {
        showError(errorLine, err);
      }
    });
  });

  $('settings-delete').addEventListener('click', () => {
    $('settings-delete-confirm').hidden = false;
    confirmInput.focus();
  });
  confirmInput.addEventListener('input', () => {
    confirmButton.disabled = confirmInput.value.trim().toLowerCase() !== slug;
  });
  confirmButton.addEventListener('click', () => whileBusy(confirmButton, async () => {
    showError(errorLine, null);
    try {
      await deleteRoom(slug);
      dialog.close();
      onDeleted(slug);
    } catch (err) {
      showError(errorLine, err);
    }
  }));

  return {
    /** Opens the dialog filled with `room` (a Room); `isOwner` shows the delete button. */
    open(room, { isOwner }) {
      slug = room.slug;
      showError(errorLine, null);
      $('settings-title').textContent = `Settings of #${room.slug}`;
      $('settings-name').value = room.name ?? '';
      $('settings-topic').value = room.topic ?? '';
      $('settings-private').checked = Boolean(room.private);
      $('settings-slow-mode').value = String(room.slow_mode_secs ?? 0);
      $('settings-retention').value = room.retention_days == null ? '' : String(room.retention_days);
      $('settings-danger').hidden = !isOwner;
      $('settings-delete-confirm').hidden = true;
      $('settings-delete-hint').textContent = room.slug;
      confirmInput.value = '';
      confirmButton.disabled = true;
      dialog.open();
      $('settings-name').focus();
    },
  };
}
