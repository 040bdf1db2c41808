/**
 * Time left until an ephemeral room closes, in words that fit a header or a list line:
 * "23 h 59 min" for long spans, "4:59" in the last hour, "closing…" once it is due.
 */

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;

/** How long until `expiresAt` (epoch ms), from `now`. */
export function formatRemaining(expiresAt, now = Date.now()) {
  const left = expiresAt - now;
  if (!(left > 0)) return 'closing…';
  if (left >= HOUR_MS) {
    const hours = Math.floor(left / HOUR_MS);
    const minutes = Math.floor((left % HOUR_MS) / MINUTE_MS);
    return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  }
  const seconds = Math.floor(left / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
