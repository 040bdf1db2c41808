/**
 * One confirmation dialog for actions that need a "yes" (and sometimes one more value): the
 * member menu's ignore, verify, role and move. It says what will happen, may ask for a value
 * (a select or a text field), runs the action on "yes" and stays open with a sentence if the
 * server refuses (the code kept in `data-code`), so nothing happens by a slip of the finger.
 * Built once with dom.js and shared; text goes in as text.
 */

import { h } from './dom.js';
import { errorText } from './error-text.js';

let shared = null;

function build() {
  const title = h('h2', { className: 'dialog-title', id: 'confirm-title' });
  const text = h('p', { id: 'confirm-text' });
  const fieldBox = h('div', { className: 'field-group', id: 'confirm-field' });
  const error = h('p', { className: 'form-error', id: 'confirm-error', role: 'alert' });
  const cancel = h('button', { type: 'button', className: 'button button-quiet', text: 'Cancel' });
  const submit = h('button', { type: 'submit', id: 'confirm-submit', className: 'button' });
  const form = h('form', { className: 'dialog-form', novalidate: true },
    title, text, fieldBox, error, h('div', { className: 'dialog-buttons' }, cancel, submit));
  const dialog = h('dialog', { className: 'dialog', id: 'confirm-dialog', 'aria-labelledby': title.id, 'aria-describedby': text.id }, form);
  document.body.append(dialog);
  let current = null; // {perform, resolve, control}

  function finish(done) {
    const resolve = current?.resolve;
    current = null;
    if (dialog.open) dialog.close();
    resolve?.(done);
  }

  cancel.addEventListener('click', () => finish(false));
  dialog.addEventListener('close', () => { if (current) finish(false); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current || submit.disabled) return;
    const value = current.control ? current.control.value.trim() : undefined;
    if (current.control && !value) {
      error.textContent = 'Fill this in first.';
      current.control.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = '';
    try {
      await current.perform(value);
      finish(true);
    } catch (err) {
      error.textContent = errorText(err);
      error.dataset.code = err?.code ?? '';
    } finally {
      submit.disabled = false;
    }
  });

  /**
   * @param {object} spec
   * @param {string} spec.title
   * @param {string} spec.text what happens
   * @param {string} spec.confirm the "yes" button's label
   * @param {boolean} [spec.danger]
   * @param {{label: string, options?: {value: string, label: string}[], placeholder?: string}} [spec.field]
   * @param {(value?: string) => Promise<void>} spec.perform
   * @returns {Promise<boolean>} whether it was done
   */
  function ask({ title: heading, text: body, confirm, danger = false, field, perform }) {
    if (current) finish(false);
    title.textContent = heading;
    text.textContent = body;
    submit.textContent = confirm;
    submit.className = `button ${danger ? 'button-danger' : 'button-primary'}`;
    error.textContent = '';
    let control = null;
    fieldBox.replaceChildren();
    if (field) {
      control = field.options
        ? h('select', { id: 'confirm-value' }, ...field.options.map((o) => h('option', { value: o.value, text: o.label })))
        : h('input', { id: 'confirm-value', type: 'text', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', placeholder: field.placeholder ?? '' });
      fieldBox.append(h('label', { for: control.id, text: field.label }), control);
    }
    fieldBox.hidden = !field;
    return new Promise((resolve) => {
      current = { perform, resolve, control };
      dialog.showModal();
      (control ?? submit).focus();
    });
  }

  return { ask };
}

/** The page's confirmation dialog. */
export function confirmDialog() {
  shared ??= build();
  return shared;
}
