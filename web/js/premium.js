/**
 * Premium as the server states it: `premium_until` (UTC milliseconds, or null) and whether it
 * is in force. The end is a point in time, so a page holding it is right without being told
 * when premium runs out; "for ever" is one far-away moment, not a separate flag.
 */

/** `premium_until` meaning "for ever" (9999-12-31T23:59:59.999Z) and anything past it. */
export const PREMIUM_FOREVER = 253402300799999;

/** Whether `until` (ms or null) is premium in force now. */
export const premiumActive = (until) => Number.isFinite(until) && until > Date.now();

/** "for ever", "until 7 Jan 2027, 14:00", "ended 7 Jan 2027, 14:00" or "not active". */
export function premiumText(until) {
  if (!Number.isFinite(until)) return 'not active';
  if (until >= PREMIUM_FOREVER) return 'active for ever';
  const when = new Date(until).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return premiumActive(until) ? `active until ${when}` : `ended ${when}`;
}
