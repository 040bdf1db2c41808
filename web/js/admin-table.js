/**
 * How the admin panel draws its lists: a table with a header row whose cells also carry their
 * column's name (`data-label`), so admin.css can turn each row into a small card on narrow
 * screens; row buttons; times; and a user with their role badge and verified mark.
 *
 * Everything is built from elements and `textContent`: names, reasons and message text come
 * from users and are never parsed as HTML.
 */

import { badgeFor, guestTagFor, verifiedTagFor } from './members.js';

/** An element with a class and, optionally, text. */
export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

/** `YYYY-MM-DD HH:MM` in local time (the full date and time as a tooltip), or `—`. */
export function when(ms) {
  if (!Number.isFinite(ms)) return element('span', 'admin-muted', '—');
  const date = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const text = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const time = element('time', 'admin-time', text);
  time.dateTime = date.toISOString();
  time.title = date.toLocaleString();
  return time;
}

/** A name with its role badge, verified mark and guest tag. */
export function userCell(user) {
  const wrap = element('span', 'admin-user');
  const name = element('span', 'admin-user-name', user?.name ?? '?');
  const parts = [badgeFor(user), name, verifiedTagFor(user), guestTagFor(user)];
  wrap.append(...parts.filter(Boolean));
  return wrap;
}

/**
 * A row button; `onClick` gets the button (disabled while a returned promise runs).
 * @param {object} [options] `danger`, `disabled`, `title`, `action` (kept in data-action)
 */
export function rowButton(label, onClick, { danger = false, disabled = false, title = '', action = '' } = {}) {
  const button = element('button', danger ? 'button button-danger admin-action' : 'button admin-action', label);
  button.type = 'button';
  button.disabled = disabled;
  if (title) button.title = title;
  if (action) button.dataset.action = action;
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await onClick(button);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}

/**
 * A row of `labels.length` cells.
 * @param {string[]} labels the column names (each cell's `data-label`)
 * @param {Array<string|number|Node|Node[]|null>} contents one per column
 * @param {object} [data] `data-*` attributes of the row
 */
export function row(labels, contents, data = {}) {
  const tr = document.createElement('tr');
  Object.assign(tr.dataset, data);
  labels.forEach((label, i) => {
    const td = element('td');
    td.dataset.label = label;
    const content = contents[i];
    if (Array.isArray(content)) td.append(...content.filter(Boolean));
    else if (content instanceof Node) td.append(content);
    else if (content !== null && content !== undefined && content !== '') td.textContent = String(content);
    else td.append(element('span', 'admin-muted', '—'));
    tr.append(td);
  });
  return tr;
}

/** Puts a table of `rows` under `labels` into `container`, or the sentence `empty`. */
export function showTable(container, labels, rows, empty) {
  if (!rows.length) {
    container.replaceChildren(element('p', 'admin-empty', empty));
    return;
  }
  const table = element('table', 'admin-table');
  const head = element('tr');
  for (const label of labels) {
    const th = element('th', '', label);
    th.scope = 'col';
    head.append(th);
  }
  const thead = element('thead');
  thead.append(head);
  const tbody = element('tbody');
  tbody.append(...rows);
  table.append(thead, tbody);
  container.replaceChildren(table);
}
