/**
 * Comparing safety numbers with someone (docs/e2ee.md, "The fingerprint"): the member menu's
 * "Safety number…" opens a dialog with their safety number (six groups of five digits, worked
 * out here from their public keys) beside the user's own, a warning when their keys changed
 * since they were last seen (e2e-trust.js), and "We compared them" to say they match — which
 * takes the warning away. Built once, with text only.
 */

import { h } from './dom.js';
import { publicKeysOf, keyWarning, markCompared, compared } from './e2e-trust.js';
import { state as accountState } from './e2e-account.js';

let dialog = null;
let parts = null;

function build() {
  parts = {
    title: h('h2', { className: 'dialog-title', id: 'e2e-verify-title' }),
    theirs: h('p', { className: 'e2e-safety', id: 'e2e-verify-theirs' }),
    theirsLabel: h('p', { className: 'e2e-safety-label' }),
    mine: h('p', { className: 'e2e-safety', id: 'e2e-verify-mine' }),
    warning: h('p', { className: 'e2e-verify-warning', id: 'e2e-verify-warning', role: 'alert', hidden: true }),
    status: h('p', { className: 'hint', id: 'e2e-verify-status', role: 'status', 'aria-live': 'polite' }),
    confirm: h('button', { type: 'button', id: 'e2e-verify-confirm', className: 'button button-primary', text: 'We compared them: they match' }),
  };
  const close = h('button', { type: 'button', className: 'button button-quiet', text: 'Close', on: { click: () => dialog.close() } });
  dialog = h('dialog', { id: 'e2e-verify-dialog', className: 'dialog', 'aria-labelledby': 'e2e-verify-title' },
    h('div', { className: 'dialog-form' },
      parts.title,
      h('p', { className: 'hint', text: 'Compare these numbers in person or on a call you trust. If they match on both screens, nobody stands between you: not even this server.' }),
      parts.warning,
      parts.theirsLabel, parts.theirs,
      h('p', { className: 'e2e-safety-label', text: 'Yours' }), parts.mine,
      parts.status,
      h('div', { className: 'dialog-buttons' }, close, parts.confirm)));
  document.body.append(dialog);
}

/** Opens the dialog about the account `name`. */
export async function openSafetyNumber(name) {
  if (!dialog) build();
  const { title, theirs, theirsLabel, mine, warning, status, confirm } = parts;
  title.textContent = `Safety number with ${name}`;
  theirsLabel.textContent = name;
  theirs.textContent = 'Reading…';
  mine.textContent = accountState().safetyNumber || 'You have not set up encryption (Settings → Encryption).';
  warning.hidden = true;
  status.textContent = '';
  confirm.hidden = true;
  confirm.onclick = () => {
    markCompared(name);
    warning.hidden = true;
    confirm.hidden = true;
    status.textContent = `Marked as compared: ${name}’s keys are the ones you checked.`;
  };
  if (!dialog.open) dialog.showModal();
  const keys = await publicKeysOf(name, { fresh: true });
  if (!keys) {
    theirs.textContent = `${name} has not set up encryption.`;
    return;
  }
  theirs.textContent = keys.safetyNumber;
  warning.hidden = !keyWarning(name);
  warning.textContent = `⚠ ${name}’s keys changed since you last saw them. Compare the new safety number before you trust their messages.`;
  confirm.hidden = false;
  if (compared(name)) status.textContent = 'You compared this safety number before.';
}
