/**
 * One small form of the settings panel's Account tab: labelled inputs, a submit button and a
 * status line that says what happened as a sentence (error-text.js, with the form's own
 * wording for some codes; the code stays in `data-code`). The form is busy (button disabled,
 * `aria-busy`) while its request runs; inputs keep what was typed when it fails.
 */

import { h, field } from './dom.js';
import { errorText } from './error-text.js';

/**
 * @param {object} spec
 * @param {string} spec.id element id prefix (`prefs-email` → `#prefs-email-form`, …)
 * @param {{name: string, label: string, type?: string, autocomplete?: string, hint?: string}[]} spec.inputs
 * @param {string} spec.submit the button's label
 * @param {boolean} [spec.danger] a destructive action
 * @param {object} [spec.sentences] code → sentence overrides for refusals
 * @param {(values: object) => Promise<string>} spec.onSubmit does it; resolves to the success
 *   sentence, or throws a refusal (an Error with a sentence but no code is shown as is)
 */
export function settingsForm({ id, inputs, submit, danger = false, sentences = {}, onSubmit }) {
  const controls = {};
  const parts = [];
  for (const input of inputs) {
    const control = h('input', {
      id: `${id}-${input.name}`, name: input.name, type: input.type ?? 'text',
      autocomplete: input.autocomplete ?? 'off', autocapitalize: 'off', spellcheck: 'false',
    });
    controls[input.name] = control;
    const wrap = h('div', { className: 'prefs-field', dataset: { field: input.name } }, ...field(input.label, control, input.hint));
    parts.push(wrap);
  }
  const button = h('button', {
    type: 'submit', id: `${id}-submit`, className: `button ${danger ? 'button-danger' : 'button-primary'}`, text: submit,
  });
  const status = h('p', { className: 'prefs-status', id: `${id}-status`, role: 'status', 'aria-live': 'polite' });
  const form = h('form', { className: 'prefs-form', id: `${id}-form`, novalidate: true },
    ...parts, h('div', { className: 'prefs-buttons' }, button), status);

  function say(text, kind = 'ok', code = '') {
    status.textContent = text;
    status.dataset.kind = kind;
    status.dataset.code = code;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    const values = {};
    for (const [name, control] of Object.entries(controls)) {
      if (!control.closest('[data-field]').hidden) values[name] = control.value;
    }
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    say('');
    try {
      say(await onSubmit(values));
    } catch (err) {
      say(err?.code ? errorText(err, sentences) : String(err?.message ?? err), 'error', err?.code ?? '');
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  return {
    form,
    controls,
    button,
    say,
    /** Shows or hides input `name` (a key account has no password to give). */
    showInput(name, shown) {
      controls[name].closest('[data-field]').hidden = !shown;
    },
    /** Empties the inputs (and the status line too, unless `keepStatus`). */
    reset({ keepStatus = false } = {}) {
      for (const control of Object.values(controls)) control.value = '';
      if (!keepStatus) say('');
    },
  };
}
