/**
 * The "New since you were here" line: put before the first message above the user's read
 * pointer (the join ack's `last_read_seq`) when someone else wrote after it. It stays where it
 * is while the room is open (reading moves the pointer, not the line); the next fresh join
 * places it again.
 */

/**
 * @param {{element: HTMLElement}} log the room's message log (messages.js)
 * @param {number|undefined} lastRead the join ack's `last_read_seq`
 */
export function markUnread(log, lastRead) {
  const list = log.element;
  list.querySelector(':scope > .unread-divider')?.remove();
  if (!Number.isInteger(lastRead) || lastRead <= 0) return;
  const newer = [...list.querySelectorAll(':scope > .message[data-seq]')]
    .filter((item) => Number(item.dataset.seq) > lastRead);
  if (!newer.some((item) => !item.classList.contains('message-own'))) return;
  const divider = document.createElement('li');
  divider.className = 'unread-divider';
  divider.setAttribute('role', 'separator');
  divider.textContent = 'New since you were here';
  newer[0].before(divider);
  newer[0].classList.remove('message-grouped'); // its header shows under the line
}
