/**
 * The "Room settings" dialog for owners and admins: name, topic, private, whether guests
 * (people without an account) may come in, which kinds of attachment members may send, whether
 * the AI companion (when the server has one) answers messages that mention it, slow mode and
 * retention; owners also get "Delete room", which asks for the room's address to be typed
 * before it deletes anything.
 *
 * Saving sends every field (`retention_days: null` means keep forever); the server validates
 * and its `invalid_room` message says which setting broke a rule. An attachment flag (or
 * `allow_guests`) the Room does not carry (an older server) is neither shown nor sent. Turning
 * guests away closes the room for the guests in it (the server tells them: `room_removed`).
 */

import { updateRoom, deleteRoom } from './room-api.js';
import { wireDialog, showError, whileBusy } from './dialog.js';
import { companionName } from './companion.js';

/** The Room's attachment flags and their checkboxes. */
const ATTACHMENT_FLAGS = [
  ['allow_images', 'settings-allow-images'],
  ['allow_videos', 'settings-allow-videos'],
  ['allow_audio', 'settings-allow-audio'],
  ['allow_files', 'settings-allow-files'],
];

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
  let flags = []; // the attachment flags the room carries

  /** The attachment flags as the checkboxes say. */
  function attachmentChanges() {
    return Object.fromEntries(ATTACHMENT_FLAGS
      .filter(([flag]) => flags.includes(flag))
      .map(([flag, id]) => [flag, $(id).checked]));
  }

  let mentions = false; // the room carries `ai_mentions` and the server has a companion
  let guests = false; // the room carries `allow_guests`

  /** `allow_guests` as the checkbox says, when it is offered. */
  function guestChange() {
    return guests ? { allow_guests: $('settings-allow-guests').checked } : {};
  }

  /** A private room lets nobody in uninvited, guests least of all: the box waits for public. */
  function privateChanged() {
    $('settings-allow-guests').disabled = $('settings-private').checked;
  }
  $('settings-private').addEventListener('change', privateChanged);

  /** `ai_mentions` as the checkbox says, when it is offered. */
  function mentionChange() {
    return mentions ? { ai_mentions: $('settings-ai-mentions').checked } : {};
  }

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
          ...attachmentChanges(),
          ...mentionChange(),
          ...guestChange(),
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
      guests = typeof room.allow_guests === 'boolean';
      $('settings-allow-guests-row').hidden = !guests;
      $('settings-allow-guests').checked = room.allow_guests === true;
      privateChanged();
      $('settings-slow-mode').value = String(room.slow_mode_secs ?? 0);
      $('settings-retention').value = room.retention_days == null ? '' : String(room.retention_days);
      flags = ATTACHMENT_FLAGS.map(([flag]) => flag).filter((flag) => typeof room[flag] === 'boolean');
      for (const [flag, id] of ATTACHMENT_FLAGS) {
        $(id).checked = room[flag] === true;
        $(id).closest('label').hidden = !flags.includes(flag);
      }
      $('settings-attachments').hidden = flags.length === 0;
      const bot = companionName();
      mentions = Boolean(bot) && typeof room.ai_mentions === 'boolean';
      $('settings-ai-mentions-row').hidden = !mentions;
      $('settings-ai-mentions').checked = room.ai_mentions === true;
      $('settings-ai-name').textContent = bot;
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
