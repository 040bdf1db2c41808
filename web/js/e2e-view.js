/**
 * What the frame around the open room says about end-to-end encryption: the lock in the header
 * of an end-to-end room or conversation (`#room-e2e`), and the banner over the log
 * (`#e2e-banner`) while this browser cannot read such a room — "Set up or unlock encryption to
 * read this room", with a button to the settings' Encryption tab (e2e-settings.js). When the
 * password typed at login did not open the account's keys (an administrator reset it), the
 * banner asks for the recovery key in every room, end-to-end or not, until they are unlocked.
 *
 * room-view.js calls `showE2E` with the room it shows (null: a state card); the account's
 * state comes from e2e-account.js. Text only, no markup from anyone.
 */

import { onAccountChange, state as accountState } from './e2e-account.js';
import { noteRoom, isE2E } from './e2e-rooms.js';

let current = null; // the room on screen, or null
let openSettings = () => {};

const $ = (id) => document.getElementById(id);

/** What the banner says and offers now, or null for none. */
function bannerFor(room) {
  const { status, needsRecovery } = accountState();
  if (needsRecovery && status === 'locked') {
    return {
      code: 'recovery',
      text: 'Your password no longer opens your encryption keys (it may have been reset by an administrator). '
        + 'Unlock them with your recovery key to read your end-to-end encrypted rooms and conversations.',
      action: 'Unlock with recovery key',
    };
  }
  if (!room || !isE2E(room.slug)) return null;
  if (status === 'unavailable') {
    return { code: 'guest', text: 'This room is end-to-end encrypted: only accounts with encryption keys can read it.', action: '' };
  }
  if (status === 'none') {
    return { code: 'setup', text: 'Set up or unlock encryption to read this room: it is end-to-end encrypted and your account has no keys yet.', action: 'Set up encryption' };
  }
  if (status === 'locked') {
    return { code: 'unlock', text: 'Set up or unlock encryption to read this room: this browser does not hold your keys yet.', action: 'Unlock encryption' };
  }
  return null;
}

function render() {
  const lock = $('room-e2e');
  const banner = $('e2e-banner');
  if (!lock || !banner) return;
  lock.hidden = !(current && isE2E(current.slug));
  const shown = bannerFor(current);
  banner.hidden = !shown;
  banner.dataset.code = shown?.code ?? '';
  $('e2e-banner-text').textContent = shown?.text ?? '';
  $('e2e-banner-action').textContent = shown?.action ?? '';
  $('e2e-banner-action').hidden = !shown?.action;
}

/** The room on screen (a record of rooms.js), or null while a state card is shown. */
export function showE2E(room) {
  current = room ?? null;
  if (room?.e2e === true) noteRoom(room.slug, room);
  render();
}

/** How the banner's button opens the settings' Encryption tab (`open(section)`). */
export function onE2EAction(open) {
  openSettings = open;
}

$('e2e-banner-action')?.addEventListener('click', () => openSettings($('e2e-banner').dataset.code));
onAccountChange(render);
