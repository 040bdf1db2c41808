/**
 * Times of day as the reader's clock preference says: `14:05` (24-hour) or `2:05 PM`
 * (12-hour), in local time. Every `<time>` the logs and the admin reader show is written through
 * `clockTime`, and when the preference changes the ones on the page are rewritten from their
 * `datetime` attribute, so no reload is needed.
 */

import { preferences, onPreferences } from './preferences.js';

/** The `<time>` elements that show a time of day (not a date) and follow the preference. */
const CLOCK_TIMES = 'time.message-time[datetime], time.notice-time[datetime], time.admin-line-time[datetime]';

/** `date` (a Date, or epoch milliseconds) as a time of day; '' for an invalid one. */
export function clockTime(date) {
  const when = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(when.getTime())) return '';
  const minutes = String(when.getMinutes()).padStart(2, '0');
  const hours = when.getHours();
  if (preferences().clock === '12h') {
    return `${hours % 12 || 12}:${minutes} ${hours < 12 ? 'AM' : 'PM'}`;
  }
  return `${String(hours).padStart(2, '0')}:${minutes}`;
}

onPreferences((now, before) => {
  if (now.clock === before.clock) return;
  for (const el of document.querySelectorAll(CLOCK_TIMES)) el.textContent = clockTime(new Date(el.dateTime));
});
