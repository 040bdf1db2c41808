/**
 * The paywall (`#paywall-dialog`): shown when `ai_limit_reached` says the caller's free messages
 * to the AI companion are spent (their message was stored, but no reply comes).
 *
 * It explains what unlocks more — premium, granted by an administrator or by a payment — and
 * nothing else: the web app takes no payments itself. Premium reaches the page live
 * (`premium_changed`), so the dialog closes by itself when it becomes active and the
 * conversation simply goes on; nobody has to reload. Names are inserted as text.
 */

import { wireDialog } from './dialog.js';

export function createPaywall() {
  const $ = (id) => document.getElementById(id);
  const dialog = $('paywall-dialog');
  const controls = wireDialog(dialog);

  return {
    /**
     * Opens the dialog.
     * @param {string} name the companion's name
     * @param {number} free how many free messages every account gets
     */
    open(name, free) {
      $('paywall-title').textContent = 'Your free messages are used up';
      const count = Number.isInteger(free) ? `${free} free message${free === 1 ? '' : 's'}` : 'free messages';
      $('paywall-text').textContent = `You have used your ${count} to ${name}, so this message gets no answer. `
        + `Premium unlocks unlimited messages to ${name}: an administrator of this server can grant it, `
        + 'or it comes with a payment. It works at once, without reloading.';
      controls.open();
    },

    /** Premium became active: closes the dialog if it was open; returns whether it was. */
    premiumActive() {
      const wasOpen = dialog.open;
      controls.close();
      return wasOpen;
    },

    close: () => controls.close(),
  };
}
