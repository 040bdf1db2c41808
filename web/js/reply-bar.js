/**
 * The "Replying to NAME: snippet" bar over the composer, with its cancel button (Escape in an
 * empty-handed composer cancels too). It remembers which message of which room the next send
 * answers; chat.js reads that when sending (`seqFor`) and clears it once the reply is sent or
 * the room changes. Names and text go in as text.
 */

import { snippet } from './message-parts.js';

/**
 * @param {HTMLFormElement} form `#composer-form` (the bar goes first in it)
 * @param {HTMLTextAreaElement} textarea `#composer`
 */
export function createReplyBar(form, textarea) {
  const bar = document.createElement('div');
  bar.className = 'reply-bar';
  bar.id = 'reply-bar';
  bar.hidden = true;
  const text = document.createElement('p');
  text.className = 'reply-bar-text';
  text.setAttribute('aria-live', 'polite');
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'icon-button reply-bar-cancel';
  cancel.title = 'Cancel the reply';
  cancel.setAttribute('aria-label', 'Cancel the reply');
  cancel.textContent = '×';
  bar.append(text, cancel);
  form.prepend(bar);

  let target = null; // {room, seq}

  function clear() {
    target = null;
    bar.hidden = true;
    text.replaceChildren();
    delete bar.dataset.seq;
  }

  cancel.addEventListener('click', () => {
    clear();
    textarea.focus();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && target) {
      event.preventDefault();
      clear();
    }
  });

  return {
    /** The next send in room `slug` answers `quote` (`{seq, author, text}`). */
    set(slug, { seq, author, text: body }) {
      target = { room: slug, seq };
      bar.dataset.seq = String(seq);
      const name = document.createElement('strong');
      name.className = 'reply-bar-author';
      name.textContent = author;
      const quoted = snippet(body);
      text.replaceChildren('Replying to ', name, quoted ? `: ${quoted}` : '');
      bar.hidden = false;
    },
    /** The seq the next send in room `slug` answers, or null. */
    seqFor: (slug) => (target && target.room === slug ? target.seq : null),
    clear,
  };
}
