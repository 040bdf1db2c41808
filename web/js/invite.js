/**
 * The "Invite people" dialog for owners and admins: creates an invite link with a lifetime and
 * an optional use limit, then shows the full URL with a copy button.
 *
 * The token is shown only once by the server, so the dialog keeps the URL visible until it is
 * closed.
 */

import { createInvite } from './room-api.js';
import { wireDialog, showError, whileBusy, copyField } from './dialog.js';

export function createInviteDialog() {
  const $ = (id) => document.getElementById(id);
  const form = $('invite-form');
  const urlInput = $('invite-url');
  const copied = $('invite-copied');
  const errorLine = $('invite-error');
  const dialog = wireDialog($('invite-dialog'));
  let slug = '';

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy($('invite-create'), async () => {
      showError(errorLine, null);
      const maxUses = $('invite-max-uses').value.trim();
      try {
        const answer = await createInvite(slug, {
          ttlSecs: Number($('invite-expiry').value),
          maxUses: maxUses ? Number(maxUses) : null,
        });
        urlInput.value = new URL(answer.path, location.origin).href;
        copied.textContent = '';
        $('invite-result').hidden = false;
        urlInput.select();
      } catch (err) {
        showError(errorLine, err);
      }
    });
  });

  $('invite-copy').addEventListener('click', () => copyField(urlInput, copied));

  return {
    /** Opens the dialog for the room `roomSlug`. */
    open(roomSlug) {
      slug = roomSlug;
      form.reset();
      showError(errorLine, null);
      urlInput.value = '';
      $('invite-result').hidden = true;
      $('invite-title').textContent = `Invite people to #${roomSlug}`;
      dialog.open();
      $('invite-expiry').focus();
    },
  };
}
