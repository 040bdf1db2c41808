/**
 * Access requests to private rooms, for their owners and admins: the "Requests to join"
 * dialog listing the pending ones, and the approve/deny call shared with the in-log notice
 * that appears when a request arrives live (`access_requested`).
 */

import { listRequests, decideRequest } from './room-api.js';
import { wireDialog, showError } from './dialog.js';

/**
 * @param {{onDecided: (slug: string, name: string, approve: boolean) => void}} handlers
 *   called after the server accepted a decision
 */
export function createRequests({ onDecided }) {
  const $ = (id) => document.getElementById(id);
  const list = $('requests-list');
  const errorLine = $('requests-error');
  const dialog = wireDialog($('requests-dialog'));

  /** Approves or denies; resolves with null when the server accepted it, else the error. */
  async function decide(slug, name, approve) {
    try {
      await decideRequest(slug, name, approve);
      onDecided(slug, name, approve);
      return null;
    } catch (err) {
      return err;
    }
  }

  function row(slug, name) {
    const item = document.createElement('li');
    item.className = 'request';
    item.dataset.name = name;
    const label = document.createElement('span');
    label.className = 'request-name';
    label.textContent = name;
    item.append(label);
    for (const [text, approve] of [['Approve', true], ['Deny', false]]) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = approve ? 'button button-primary' : 'button';
      button.textContent = text;
      button.addEventListener('click', async () => {
        button.disabled = true;
        const err = await decide(slug, name, approve);
        showError(errorLine, err);
        if (err) button.disabled = false;
        else item.remove();
      });
      item.append(button);
    }
    return item;
  }

  return {
    decide,
    /** Opens the dialog with the pending requests of `slug`; resolves with their names. */
    async open(slug) {
      showError(errorLine, null);
      $('requests-title').textContent = `Requests to join #${slug}`;
      list.replaceChildren();
      dialog.open();
      try {
        const requests = await listRequests(slug);
        list.replaceChildren(...requests.map((r) => row(slug, r.name)));
        return requests.map((r) => r.name);
      } catch (err) {
        showError(errorLine, err);
        return null;
      }
    },
  };
}
