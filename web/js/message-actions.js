/**
 * What can be done with a stored message, from its actions toolbar: Reply, React, Edit (your
 * own) and Delete (your own; others' when you are the room's owner or admin, or staff — the
 * server decides and its refusal is shown). Also the reaction chips (a press gives or takes
 * back that emoji) and a reply's quote (a press scrolls to the original, loading older pages
 * until it is there, and highlights it). That jump is `jumpTo(seq)` for others too: a search
 * result opens its room and jumps the same way (search.js through rooms.js).
 *
 * Stored rooms and conversations have all of it; ephemeral rooms replies and reactions only
 * (their transcripts stay as written); the lobby and whisper tabs store nothing, so they get
 * none (`createMessageActions` answers null). The toolbar shows on hover and keyboard focus
 * (one tab stop per message; arrow keys move inside it, as in an ARIA toolbar) and, on touch
 * screens, on a tap on the message. The parts it draws are message-parts.js's. In end-to-end
 * rooms a message's envelope is opened by e2e-messages.js and an edit is sealed by e2e-send.js.
 */

import {
  decorateMessage, stateOf, snippet, gaveReaction, applyReaction, messageEdited, messageDeleted,
} from './message-parts.js';
import { openPicker, closePicker } from './emoji-picker.js';
import { openEditor } from './message-editor.js';
import { wireDialog } from './dialog.js';
import { describeError } from './api.js';
import { moderates } from './roles.js';
import { nameKey } from './members.js';
import { decorateEnvelope } from './e2e-messages.js';
import { editSealed } from './e2e-send.js';

/** What each kind of room lets a message do beyond replies and reactions. */
const CHANGES = { room: { edit: true }, pm: { edit: true }, ephemeral: { edit: false } };
const ROOM_MODERATORS = new Set(['owner', 'admin']);
const HIGHLIGHT_MS = 2500;
/** Older pages read at most to find a reply's original (50 messages each). */
const MAX_PAGES = 40;

const ACTIONS = {
  reply: { icon: '↩', label: 'Reply' },
  react: { icon: '☺', label: 'Add a reaction' },
  edit: { icon: '✎', label: 'Edit' },
  delete: { icon: '🗑', label: 'Delete' },
};

let deleteDialog = null;

/** Asks whether to delete the message quoted by `preview`; resolves true to go ahead. */
function confirmDelete(preview) {
  const $ = (id) => document.getElementById(id);
  const dialog = $('delete-message-dialog');
  deleteDialog ??= wireDialog(dialog);
  $('delete-message-text').textContent = preview;
  return new Promise((resolve) => {
    const confirm = $('delete-message-confirm');
    const yes = () => {
      resolve(true);
      deleteDialog.close();
    };
    confirm.addEventListener('click', yes, { once: true });
    dialog.addEventListener('close', () => {
      confirm.removeEventListener('click', yes);
      resolve(false);
    }, { once: true });
    deleteDialog.open();
  });
}

function toolbar(actions, author) {
  const bar = document.createElement('div');
  bar.className = 'message-actions';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', `Actions on ${author}'s message`);
  actions.forEach((action, i) => {
    const { icon, label } = ACTIONS[action];
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'message-action';
    button.dataset.action = action;
    button.tabIndex = i === 0 ? 0 : -1;
    button.title = label;
    button.setAttribute('aria-label', label);
    if (action === 'react') button.setAttribute('aria-expanded', 'false');
    const glyph = document.createElement('span');
    glyph.setAttribute('aria-hidden', 'true');
    glyph.textContent = icon;
    button.append(glyph);
    bar.append(button);
  });
  return bar;
}

/** Arrow keys, Home and End move between the buttons of one toolbar (roving tab stop). */
function rove(event) {
  const current = event.target.closest?.('.message-action');
  if (!current) return;
  const buttons = [...current.parentElement.querySelectorAll('.message-action')];
  const at = buttons.indexOf(current);
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  const target = buttons[(next + buttons.length) % buttons.length];
  for (const button of buttons) button.tabIndex = button === target ? 0 : -1;
  target.focus();
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * @param {object} room the record (rooms.js): `slug`, `kind`, `role`, and `pane` once made
 * @param {object} ctx
 * @param {() => {name: string, role: string}|null} ctx.me the signed-in identity
 * @param {() => import('./net.js').Gateway|null} ctx.gateway
 * @param {() => Promise<void>} ctx.loadOlder reads the page before the oldest message shown
 * @param {(room: object, quote: {seq: number, author: string, text: string}) => void} ctx.onReply
 * @returns {{decorate: Function, attach: (list: HTMLElement) => void,
 *   jumpTo: (seq: number, missing?: string) => Promise<boolean>}|null}
 */
export function createMessageActions(room, ctx) {
  const changes = CHANGES[room.kind];
  if (!changes) return null;
  const isMe = (name) => nameKey(name) === nameKey(ctx.me()?.name ?? '');
  const log = () => room.pane?.log ?? null;
  const notice = (text, kind = 'error') => log()?.addNotice(text, kind);

  const mayModerate = () => room.kind === 'room'
    && (ROOM_MODERATORS.has(room.role) || moderates(ctx.me()?.role));

  function actionsFor(own) {
    // Reactions are for accounts (a guest gets `registration_required`, in any kind of room).
    const list = ctx.me()?.kind === 'guest' ? ['reply'] : ['reply', 'react'];
    if (changes.edit && own) list.push('edit');
    if (changes.edit && (own || mayModerate())) list.push('delete');
    return list;
  }

  /** Sends a command about a message; errors become a notice in the room. */
  async function command(name, data, failure) {
    const gw = ctx.gateway();
    try {
      if (!gw) throw Object.assign(new Error('offline'), { code: 'offline' });
      return await gw.request(name, { room: room.slug, ...data });
    } catch (err) {
      if (failure) notice(`${failure}: ${describeError(err)}`);
      throw err;
    }
  }

  async function toggleReaction(item, emoji) {
    const state = stateOf(item);
    if (!state || state.deleted) return;
    if (ctx.me()?.kind === 'guest') { // a chip pressed: the server would answer registration_required
      notice('Reactions are for registered accounts — create one to react.', 'info');
      return;
    }
    const on = !gaveReaction(item, emoji, isMe);
    const failure = on ? 'Could not add the reaction' : 'Could not take the reaction back';
    const ack = await command(on ? 'react' : 'unreact', { seq: state.seq, emoji }, failure).catch(() => null);
    if (ack) applyReaction(item, { emoji, user: ctx.me()?.name ?? '', on, count: ack.count }, isMe);
  }

  function edit(item) {
    const state = stateOf(item);
    if (!state || state.deleted) return;
    const list = item.parentElement;
    openEditor(item, {
      text: state.text,
      onSave: async (text) => {
        const ack = await editSealed(room, item, text.trim(), (body) => command('edit', { seq: state.seq, ...body }));
        messageEdited(list, { seq: state.seq, text: text.trim(), edited_at: ack.edited_at }, { withMentions: false });
      },
      onClose: () => item.querySelector('.message-action[data-action="edit"]')?.focus({ preventScroll: true }),
    });
  }

  async function remove(item) {
    const state = stateOf(item);
    if (!state || state.deleted) return;
    const preview = state.text ? `${state.author}: ${snippet(state.text)}` : `A message by ${state.author}`;
    if (!await confirmDelete(preview)) return;
    const list = item.parentElement;
    const ack = await command('delete', { seq: state.seq }, 'Could not delete the message').catch(() => null);
    if (ack && list) messageDeleted(list, state.seq, isMe(state.author) ? null : ctx.me()?.name);
  }

  /** The element of message `seq`, reading older pages until it is loaded (null: gone). */
  async function reveal(seq) {
    for (let pages = 0; pages < MAX_PAGES; ) {
      const current = log();
      if (!current) return null;
      const item = current.bySeq(seq);
      if (item) return item;
      const oldest = current.oldestSeq();
      if (current.atStart() || oldest === null || oldest < seq) return null;
      if (room.loadingOlder) {
        await sleep(100);
        continue;
      }
      pages += 1;
      await ctx.loadOlder();
      if (log()?.oldestSeq() === oldest) return log()?.bySeq(seq) ?? null; // nothing came
    }
    return null;
  }

  /**
   * Scrolls to message `seq`, loading older pages until it is there, and highlights it; says
   * `missing` in the room when it is gone. Resolves whether it was found.
   */
  async function jumpTo(seq, missing = 'The original message is no longer in this room’s history.') {
    if (!Number.isInteger(seq)) return false;
    const item = await reveal(seq);
    if (!item) {
      notice(missing, 'info');
      return false;
    }
    item.scrollIntoView({ block: 'center' });
    item.classList.remove('message-highlight');
    void item.offsetWidth; // restart the animation when jumping to the same message again
    item.classList.add('message-highlight');
    item.tabIndex = -1;
    item.focus({ preventScroll: true });
    setTimeout(() => item.classList.remove('message-highlight'), HIGHLIGHT_MS);
    return true;
  }

  function act(action, item, button) {
    const state = stateOf(item);
    if (!state) return;
    if (action === 'reply') ctx.onReply(room, { seq: state.seq, author: state.author, text: state.text });
    else if (action === 'react') openPicker(item, button, (emoji) => toggleReaction(item, emoji));
    else if (action === 'edit') edit(item);
    else if (action === 'delete') remove(item);
  }

  /** On touch screens a tap on a message shows its toolbar (and hides the others'). */
  function tap(list, event) {
    if (event.pointerType !== 'touch' || event.target.closest('button, a, textarea, input, audio, video')) return;
    const item = event.target.closest('.message');
    if (!item?.querySelector(':scope > .message-actions')) return;
    const open = !item.classList.contains('actions-open');
    for (const other of list.querySelectorAll('.message.actions-open')) other.classList.remove('actions-open');
    item.classList.toggle('actions-open', open);
  }

  return {
    jumpTo,

    /** messages.js's hook: the parts of `message`, and its toolbar when it has actions. */
    decorate(item, message, own) {
      decorateMessage(item, message, isMe);
      decorateEnvelope(item, message, room);
      if (!Number.isInteger(message.seq) || message.deleted === true) return;
      item.append(toolbar(actionsFor(own), message.author?.name ?? '?'));
    },

    /** Listens on the room's log once for presses on toolbars, chips and quotes. */
    attach(list) {
      list.addEventListener('click', (event) => {
        const action = event.target.closest('.message-action');
        const item = event.target.closest('.message');
        if (!item) return;
        if (action) {
          act(action.dataset.action, item, action);
          return;
        }
        const chip = event.target.closest('.reaction-chip');
        if (chip) {
          closePicker();
          toggleReaction(item, chip.dataset.emoji);
          return;
        }
        const quote = event.target.closest('.reply-quote');
        if (quote) jumpTo(Number(quote.dataset.replySeq));
      });
      list.addEventListener('keydown', rove);
      list.addEventListener('pointerup', (event) => tap(list, event));
    },
  };
}
