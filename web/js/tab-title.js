/**
 * The tab's title counts the messages from others that arrived while the tab was hidden,
 * "(3) Parlor", and goes back to "Parlor" when the tab is seen again or the session ends.
 */

const TITLE = document.title;
let unread = 0;

/** Someone else's message arrived: counted while the tab is hidden. */
export function noteUnread() {
  if (!document.hidden) return;
  unread += 1;
  document.title = `(${unread}) ${TITLE}`;
}

/** Back to the plain title (the session ended). */
export function resetTitle() {
  unread = 0;
  document.title = TITLE;
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && unread) resetTitle();
});
