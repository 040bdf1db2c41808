/**
 * Building DOM for the views that make their own (the settings panel and its tabs, the staff
 * dialogs): one element with its attributes and children in one call. Text always goes in as
 * text nodes (`textContent`), never parsed as markup, so user data is safe here. No state.
 */

/**
 * `h('button', {className: 'button', type: 'button', on: {click}}, 'Save')`.
 * @param {string} tag
 * @param {object} [props] `className`, `text`, `dataset` (object), `on` (event → handler),
 *   `hidden`, and any other key as an attribute (`true`: present, `false`/null: left out)
 * @param {...(Node|string|null|false)} children strings become text; null/false are skipped
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'hidden') el.hidden = Boolean(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.filter((child) => child !== null && child !== false && child !== undefined));
  return el;
}

/** A labelled field: `<label for>` and its control, plus an optional hint under it. */
export function field(label, control, hint = '') {
  const parts = [h('label', { for: control.id, text: label }), control];
  if (hint) {
    const note = h('p', { className: 'hint', id: `${control.id}-hint`, text: hint });
    control.setAttribute('aria-describedby', note.id);
    parts.push(note);
  }
  return parts;
}

/** A status line that screen readers announce; `say(text, kind)` sets it ('' clears). */
export function statusLine(id) {
  const el = h('p', { className: 'prefs-status', id, role: 'status', 'aria-live': 'polite' });
  el.say = (text, kind = 'info') => {
    el.textContent = text;
    el.dataset.kind = kind;
  };
  return el;
}
