/**
 * The admin panel's "Bans" and "Mutes" tabs: the sanctions in force (by name, address or both;
 * reason, who, since when, until when), each with its way back — unban or unmute. The bans tab
 * also bans a name or an address that is not in any list (the moderation dialog's free form).
 */

import { listSanctions } from './admin-api.js';
import { element, row, rowButton, showTable, when } from './admin-table.js';

const LABELS = ['Name', 'Address', 'Reason', 'By', 'Since', 'Until', 'Actions'];
const KINDS = {
  ban: { key: 'bans', tab: 'bans', lift: 'unban', label: 'Unban', empty: 'Nobody is banned.' },
  mute: { key: 'mutes', tab: 'mutes', lift: 'unmute', label: 'Unmute', empty: 'Nobody is muted.' },
};

/** The data of the command that lifts `sanction`. */
function liftData(kind, sanction) {
  if (kind === 'mute') return { user: sanction.name_key };
  const data = {};
  if (sanction.name_key) data.user = sanction.name_key;
  if (sanction.ip) data.ip = sanction.ip;
  return data;
}

/**
 * @param {object} ctx what the admin panel's tabs share (admin.js)
 * @param {'ban'|'mute'} kind
 */
export function createSanctionsTab(ctx, kind) {
  const $ = (id) => document.getElementById(id);
  const { key, tab, lift, label, empty } = KINDS[kind];
  const list = $(`admin-${tab}-list`);

  function sanctionRow(sanction) {
    const who = sanction.name_key ?? sanction.ip;
    const button = rowButton(label,
      () => ctx.act(lift, liftData(kind, sanction), `${who} is no longer ${kind === 'ban' ? 'banned' : 'muted'}.`),
      { action: lift });
    return row(LABELS, [
      sanction.name_key ? element('span', 'admin-user-name', sanction.name_key) : null,
      sanction.ip,
      sanction.reason,
      sanction.created_by,
      when(sanction.created_at),
      sanction.expires_at ? when(sanction.expires_at) : 'until lifted',
      button,
    ], { id: String(sanction.id), name: sanction.name_key ?? '', ip: sanction.ip ?? '' });
  }

  async function load() {
    const sanctions = await ctx.load(listSanctions, tab);
    if (!sanctions) return;
    const rows = Array.isArray(sanctions[key]) ? sanctions[key] : [];
    showTable(list, LABELS, rows.map(sanctionRow), empty);
  }

  $(`admin-${tab}-refresh`).addEventListener('click', load);
  if (kind === 'ban') $('admin-bans-new').addEventListener('click', () => ctx.moderate('ban'));

  return { load };
}
