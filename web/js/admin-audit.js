/**
 * The admin panel's "Audit log" tab: entries newest first under a filter (IP, identity, actor,
 * room, action, text, date range), paged with the server's `next` cursor ("Older", and "Newer"
 * back through the cursors already used), and CSV / JSON Lines export links for the filter.
 * An entry's address or identity is a button that filters by it.
 *
 * What the text search covers (and that message text and end-to-end-encrypted content are not
 * searchable) is stated next to the form in index.html.
 */

import { AUDIT_FILTERS, auditExportUrl, readAudit } from './admin-api.js';
import { element, row, showTable, when } from './admin-table.js';

const LABELS = ['Time', 'Actor', 'Identity', 'Address', 'Action', 'Target', 'Room', 'Details'];
const PAGE = 50;
const DATE_FIELDS = new Set(['from', 'to']);

/** @param {object} ctx what the admin panel's tabs share (admin.js) */
export function createAuditTab(ctx) {
  const $ = (id) => document.getElementById(id);
  const form = $('admin-audit-form');
  const list = $('admin-audit-list');
  const newer = $('admin-audit-newer');
  const olderButton = $('admin-audit-older');
  let filter = {};
  let cursors = [undefined]; // the `before` of each page up to the one shown (last)
  let next = null; // the `before` of the older page, if any

  /** The filter in the form: trimmed texts, dates as epoch milliseconds (local time). */
  function readForm() {
    const fields = {};
    for (const key of AUDIT_FILTERS) {
      const value = $(`admin-audit-${key}`).value.trim();
      if (!value) continue;
      if (DATE_FIELDS.has(key)) {
        const ms = new Date(value).getTime();
        if (Number.isFinite(ms)) fields[key] = key === 'to' ? ms + 59999 : ms; // `to` takes its whole minute
      } else {
        fields[key] = value;
      }
    }
    return fields;
  }

  /** A cell value that filters by itself when pressed. */
  function filterButton(key, value) {
    if (!value) return null;
    const button = element('button', 'admin-link', value);
    button.type = 'button';
    button.title = `Show only entries with ${key} ${value}`;
    button.addEventListener('click', () => {
      $(`admin-audit-${key}`).value = value;
      apply();
    });
    return button;
  }

  function entryRow(entry) {
    return row(LABELS, [
      when(entry.ts),
      filterButton('actor', entry.actor),
      filterButton('identity', entry.identity),
      filterButton('ip', entry.actor_ip),
      element('span', 'admin-audit-action', entry.action),
      entry.target,
      entry.room,
      entry.detail,
    ], { id: String(entry.id), action: entry.action, target: entry.target ?? '' });
  }

  function showExports() {
    $('admin-audit-csv').href = auditExportUrl(filter, 'csv');
    $('admin-audit-jsonl').href = auditExportUrl(filter, 'jsonl');
  }

  async function load() {
    const before = cursors[cursors.length - 1];
    const page = await ctx.load(() => readAudit(filter, { before, limit: PAGE }), 'the audit log');
    if (!page) return;
    const entries = Array.isArray(page.entries) ? page.entries : [];
    next = Number.isInteger(page.next) ? page.next : null;
    showTable(list, LABELS, entries.map(entryRow), 'No entries match this filter.');
    newer.disabled = cursors.length < 2;
    olderButton.disabled = next === null;
  }

  /** Reads the form and shows the newest page of its filter. */
  function apply() {
    filter = readForm();
    cursors = [undefined];
    showExports();
    return load();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  // After the browser has emptied the fields.
  form.addEventListener('reset', () => setTimeout(apply));
  olderButton.addEventListener('click', () => {
    if (next === null) return;
    cursors.push(next);
    load();
  });
  newer.addEventListener('click', () => {
    if (cursors.length < 2) return;
    cursors.pop();
    load();
  });
  showExports();

  return { load };
}
