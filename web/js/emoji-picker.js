/**
 * The small reaction picker: a row of common emoji under the "React" button of a message.
 *
 * One picker is open at a time. It closes on a pick, Escape (focus goes back to the button
 * that opened it), or a press anywhere else; arrow keys move between the emoji. What a pick
 * means is the caller's (`onPick`).
 */

/** The emoji offered; any other still arrives from other clients and shows as a chip. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

let current = null; // {picker, opener}

/** Closes the open picker, if any; `focus` returns focus to its opener. */
export function closePicker({ focus = false } = {}) {
  if (!current) return;
  const { picker, opener } = current;
  current = null;
  picker.remove();
  opener.setAttribute('aria-expanded', 'false');
  if (focus) opener.focus();
}

document.addEventListener('pointerdown', (event) => {
  if (current && !current.picker.contains(event.target) && !current.opener.contains(event.target)) closePicker();
});

function moveFocus(picker, event) {
  const buttons = [...picker.querySelectorAll('.emoji-pick')];
  const at = buttons.indexOf(document.activeElement);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (event.key === 'Home' || event.key === 'End') {
    buttons[event.key === 'Home' ? 0 : buttons.length - 1].focus();
  } else if (step) {
    buttons[(at + step + buttons.length) % buttons.length].focus();
  } else {
    return;
  }
  event.preventDefault();
}

/**
 * Opens the picker inside `host` (the message), for the button `opener`; a second press of
 * the same button closes it.
 * @param {(emoji: string) => void} onPick
 */
export function openPicker(host, opener, onPick) {
  if (current?.opener === opener) {
    closePicker({ focus: true });
    return;
  }
  closePicker();
  const picker = document.createElement('div');
  picker.className = 'emoji-picker';
  picker.setAttribute('role', 'group');
  picker.setAttribute('aria-label', 'Pick a reaction');
  for (const emoji of COMMON_EMOJI) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'emoji-pick';
    button.dataset.emoji = emoji;
    button.textContent = emoji;
    button.title = `React with ${emoji}`;
    button.setAttribute('aria-label', `React with ${emoji}`);
    button.addEventListener('click', () => {
      closePicker({ focus: true });
      onPick(emoji);
    });
    picker.append(button);
  }
  picker.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      closePicker({ focus: true });
      return;
    }
    moveFocus(picker, event);
  });
  host.append(picker);
  opener.setAttribute('aria-expanded', 'true');
  current = { picker, opener };
  picker.querySelector('.emoji-pick').focus({ preventScroll: true });
}
