/**
 * Access requests to private rooms, for their owners and admins.
 *
 * Keeps the pending requests per room (from `GET …/requests` and live `access_requested`
 * events), puts a notice with Approve/Deny into the room's log when one arrives live, and
 * runs the "Requests to join" dialog that lists them all. A decision taken in either place
 * settles both. Only an approval reaches the requester: a denial is not announced, so that a
 * private room never answers differently from no room at all. Names come from users and are
 * inserted as text.
 */

import { listRequests, decideRequest, explainRoomError } from './room-api.js';
import { wireDialog, showError } from './dialog.js';
import { nameKey } from './members.js';

/** @param {{onCount: (slug: string, count: number) => void}} handlers the pending count changed */
export function createRequests({ onCount }) {
  const $ = (id) => document.getElementById(id);
  const list = $('requests-list');
  const errorLine = $('requests-error');
  const dialog = wireDialog($('requests-dialog'));
  const pending = new Map(); // slug → Map(name key → {name, notice: HTMLElement|null})

  function of(slug) {
    if (!pending.has(slug)) pending.set(slug, new Map());
    return pending.get(slug);
  }

  function remember(slug, name, notice = null) {
    const requests = of(slug);
    const known = requests.get(nameKey(name));
    requests.set(nameKey(name), { name, notice: notice ?? known?.notice ?? null });
  }

  /** Marks a request as answered everywhere it is shown. */
  function settle(slug, name, approve) {
    const requests = of(slug);
    const notice = requests.get(nameKey(name))?.notice;
    if (notice) {
      for (const button of notice.querySelectorAll('button')) button.remove();
      notice.querySelector('.notice-text').textContent =
        `${name} asked to join: ${approve ? 'approved' : 'denied (they are not told)'}.`;
    }
    for (const row of list.querySelectorAll('.request')) {
      if (nameKey(row.dataset.name) === nameKey(name)) row.remove();
    }
    requests.delete(nameKey(name));
    onCount(slug, requests.size);
  }

  /** Approves or denies; resolves with null when the server accepted it, else the error. */
  async function decide(slug, name, approve) {
    try {
      await decideRequest(slug, name, approve);
    } catch (err) {
      return err;
    }
    settle(slug, name, approve);
    return null;
  }

  function decisionButtons(slug, name, onError) {
    return [['Approve', true], ['Deny', false]].map(([label, approve]) => ({
      label,
      approve,
      onClick: async (button) => {
        const siblings = [...button.parentElement.querySelectorAll('button')];
        for (const b of siblings) b.disabled = true;
        const err = await decide(slug, name, approve);
        if (!err) return;
        for (const b of siblings) b.disabled = false;
        onError(err);
      },
    }));
  }

  function row(slug, name) {
    const item = document.createElement('li');
    item.className = 'request';
    item.dataset.name = name;
    const label = document.createElement('span');
    label.className = 'request-name';
    label.textContent = name;
    item.append(label);
    for (const { label: text, approve, onClick } of decisionButtons(slug, name, (err) => showError(errorLine, err))) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = approve ? 'button button-primary' : 'button';
      button.textContent = text;
      button.addEventListener('click', () => onClick(button));
      item.append(button);
    }
    return item;
  }

  return {
    /** The number of pending requests known for `slug`. */
    count: (slug) => of(slug).size,

    /** Fetches the pending requests of `slug` (quietly: the count is a hint). */
    async load(slug) {
      const requests = await listRequests(slug).catch(() => null);
      if (!requests) return;
      for (const { name } of requests) remember(slug, name);
      onCount(slug, of(slug).size);
    },

    /** A live request: remembered, and offered for a decision in the room's log. */
    arrived(slug, name, log) {
      const notice = log?.addNotice(`${name} asks to join #${slug}.`, 'request',
        decisionButtons(slug, name, (err) => {
          log.addNotice(`Could not answer ${name}: ${explainRoomError(err)}`, 'error');
        }));
      remember(slug, name, notice);
      onCount(slug, of(slug).size);
    },

    /** Opens the dialog with the pending requests of `slug`, fresh from the server. */
    async open(slug) {
      showError(errorLine, null);
      $('requests-title').textContent = `Requests to join #${slug}`;
      list.replaceChildren();
      dialog.open();
      let requests;
      try {
        requests = await listRequests(slug);
      } catch (err) {
        showError(errorLine, err);
        return;
      }
      const names = new Set(requests.map((r) => nameKey(r.name)));
      for (const key of [...of(slug).keys()]) if (!names.has(key)) of(slug).delete(key);
      for (const { name } of requests) remember(slug, name);
      list.replaceChildren(...requests.map((r) => row(slug, r.name)));
      onCount(slug, of(slug).size);
    },

    /** Forgets a room's requests (the room is gone). */
    forget(slug) {
      pending.delete(slug);
    },
  };
}
