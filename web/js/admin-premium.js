/**
 * Premium in the admin panel's Users tab: one cell per account saying whether premium is in
 * force and until when, with the controls to change it — grant 30 days (added to a running
 * period), grant for ever, or revoke. Only admins and root get the controls: the server
 * refuses moderators (`forbidden`), so they see the state alone.
 *
 * The end is a point in time (`premium_until`, ms): a past one reads "lapsed", so the cell is
 * right without the server telling us when premium runs out.
 */

import { grantPremium, revokePremium } from './admin-api.js';
import { element, rowButton, when } from './admin-table.js';
import { rankOf } from './roles.js';
import { PREMIUM_FOREVER, premiumActive } from './premium.js';

/** Days one "Grant" click adds. */
const GRANT_DAYS = 30;


/** The state as text and, for admins and root, the buttons that change it. */
export function premiumCell(ctx, user) {
  const until = user.premium_until;
  const box = element('span', 'admin-premium');
  if (!Number.isFinite(until)) box.append(element('span', 'admin-muted', 'no'));
  else if (until >= PREMIUM_FOREVER) box.append(element('span', 'admin-premium-on', 'for ever'));
  else if (premiumActive(until)) box.append(element('span', 'admin-premium-on', 'until '), when(until));
  else box.append(element('span', 'admin-muted', 'lapsed '), when(until));
  if (rankOf(ctx.me().role) > rankOf('admin')) return box;
  const name = user.name;
  box.append(
    rowButton(`+${GRANT_DAYS} days`,
      () => ctx.run(() => grantPremium(name, { days: GRANT_DAYS }),
        `${name} has ${GRANT_DAYS} more days of premium.`, `Could not grant premium to ${name}`),
      { action: 'premium_grant' }),
    rowButton('For ever',
      () => ctx.run(() => grantPremium(name, { forever: true }),
        `${name} has premium for ever.`, `Could not grant premium to ${name}`),
      { action: 'premium_forever' }),
  );
  if (Number.isFinite(until)) {
    box.append(rowButton('Revoke', () => revoke(ctx, name), { danger: true, action: 'premium_revoke' }));
  }
  return box;
}

function revoke(ctx, name) {
  if (!window.confirm(`Revoke ${name}'s premium? Their open pages lose it at once.`)) return undefined;
  return ctx.run(() => revokePremium(name), `${name} no longer has premium.`,
    `Could not revoke ${name}'s premium`);
}
