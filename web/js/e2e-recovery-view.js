/**
 * A recovery key shown once, for writing down (the settings' Encryption tab): the 13 groups of
 * 4 characters in large monospace, what it is for, a copy button, and "I wrote it down", which
 * must be ticked before "Done" takes it off the screen for good. Nothing keeps it: once done,
 * only the paper knows it.
 */

import { h } from './dom.js';

/** Copies `text`, or selects it in `el` for Ctrl+C where the page may not write the clipboard. */
async function copy(text, el, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied to the clipboard.';
  } catch {
    getSelection()?.selectAllChildren(el);
    status.textContent = 'Press Ctrl+C (⌘C) to copy the selected key.';
  }
}

/** @param {() => void} onDone the key was written down and taken off the screen */
export function createRecoveryView(onDone = () => {}) {
  // Large, in groups that wrap like words: three or four lines to copy onto paper.
  const key = h('p', { id: 'prefs-e2e-recovery-key', className: 'e2e-recovery-key', 'aria-describedby': 'prefs-e2e-recovery-about' });
  const copied = h('p', { className: 'hint', 'aria-live': 'polite' });
  const confirm = h('input', { type: 'checkbox', id: 'prefs-e2e-recovery-confirm' });
  const done = h('button', {
    type: 'button', id: 'prefs-e2e-recovery-done', className: 'button button-primary', text: 'Done', disabled: true,
  });
  const element = h('div', { className: 'prefs-block e2e-recovery', id: 'prefs-e2e-recovery', hidden: true, role: 'region', 'aria-labelledby': 'prefs-e2e-recovery-title' },
    h('h4', { className: 'prefs-subheading', id: 'prefs-e2e-recovery-title', text: 'Your recovery key — write it down now' }),
    h('p', { id: 'prefs-e2e-recovery-about', className: 'hint', text: 'This is the only time it is shown. If you forget your password, or an administrator resets it, this key is the only way to read your encrypted history again. Keep it on paper or in a password manager, away from this device.' }),
    key,
    h('div', { className: 'prefs-buttons' }, h('button', {
      type: 'button', id: 'prefs-e2e-recovery-copy', className: 'button', text: 'Copy',
      on: { click: () => copy(key.textContent, key, copied) },
    })),
    copied,
    h('label', { className: 'check', for: confirm.id }, confirm, ' I wrote it down and keep it somewhere safe'),
    h('div', { className: 'prefs-buttons' }, done));

  confirm.addEventListener('change', () => { done.disabled = !confirm.checked; });
  done.addEventListener('click', () => {
    if (!confirm.checked) return;
    hide();
    onDone();
  });

  function hide() {
    key.textContent = '';
    confirm.checked = false;
    done.disabled = true;
    copied.textContent = '';
    element.hidden = true;
  }

  return {
    element,
    /** Shows `text` (a formatted recovery key) until it is written down. */
    show(text) {
      key.textContent = text;
      confirm.checked = false;
      done.disabled = true;
      element.hidden = false;
      element.scrollIntoView({ block: 'nearest' });
      confirm.focus();
    },
    /** Whether a key is on screen, waiting to be written down. */
    showing: () => !element.hidden,
    hide,
  };
}
