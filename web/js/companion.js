/**
 * The AI companion in the web app: its entry in the sidebar (`#companion-entry`), the bar over
 * its conversation (`#companion-bar`: what happens to messages sent to it, the free messages
 * left, "Forget our conversation"), the streaming reply (companion-stream.js) and the paywall
 * (paywall.js).
 *
 * Everything hangs on `GET /api/companion`: a 404 (`ai_disabled`) means this server has no
 * companion and the app shows nothing of it (nor asks again until the next sign-in: the
 * server's configuration does not change while it runs). The answer is read again at every connect, after
 * each join of the conversation (its `writing` catches up a reply that was streaming before
 * the page opened or while the connection was down), after each stored reply and on
 * `premium_changed`, so the count of free messages is the server's, never a local guess.
 *
 * The conversation itself is an ordinary one (conversations.js opens it; the server opens it
 * at once, nobody accepts): this module only recognises it by its peer's name. Guests cannot
 * hold conversations, so their click explains how to get one instead of asking the server.
 */

import { get, del, describeError } from './api.js';
import { retryAfter } from './error-text.js';
import { nameKey } from './members.js';
import { wireDialog, whileBusy } from './dialog.js';
import { createCompanionStream } from './companion-stream.js';
import { createPaywall } from './paywall.js';

const COMPANION_PATH = '/api/companion';
const MEMORY_PATH = '/api/companion/memory';

/** What the companion's refusals of a stored message mean, by `error` event code. */
const REFUSALS = {
  ai_busy: (name) => `${name} is still answering your previous message. Wait for the reply, then write again.`,
  rate_limited: (name, err) => {
    const wait = retryAfter(err);
    return `You are writing to ${name} too quickly. Wait ${wait ? `${Math.ceil(wait)} s` : 'a moment'} before the next message.`;
  },
};

/** The companion's name while the server has one and someone is signed in, else ''. */
let currentName = '';

/** The companion's name ('' without one): room settings offer to let it answer mentions. */
export const companionName = () => currentName;

/** "2 of 3 free messages left", or '' with premium (no limit to show). */
export function quotaText(view) {
  if (!view || view.premium) return '';
  const free = Number(view.free_messages) || 0;
  const left = Math.max(free - (Number(view.used) || 0), 0);
  return `${left} of ${free} free message${free === 1 ? '' : 's'} left`;
}

/**
 * @param {object} ctx the coordinator (rooms.js)
 * @param {{start: (name: string) => Promise<void>}} conversations opens a conversation by name
 */
export function createCompanion(ctx, conversations) {
  const $ = (id) => document.getElementById(id);
  const entry = $('companion-entry');
  const openButton = $('companion-open');
  const bar = $('companion-bar');
  const forgetButton = $('companion-forget');
  const forgetDialog = wireDialog($('companion-forget-dialog'));
  const forgetError = $('companion-forget-error');

  let view = null; // the last `GET /api/companion` answer; null: no companion (or signed out)
  let shownRoom = null; // the companion conversation's record while it is on screen
  let generation = 0; // a sign-out makes answers still under way stale
  let disabled = false; // the server said it has no companion

  const name = () => view?.name ?? '';
  const stream = createCompanionStream(ctx, name);
  const paywall = createPaywall();

  const isCompanionRoom = (room) => Boolean(view) && room?.kind === 'pm'
    && typeof room.peer === 'string' && nameKey(room.peer) === nameKey(view.name);
  const companionRoom = () => ctx.rooms.values().find(isCompanionRoom) ?? null;

  /** A notice in the companion conversation's log (if it is joined here). */
  function notice(text, kind = 'info', slug = companionRoom()?.slug) {
    ctx.rooms.get(slug)?.pane?.log.addNotice(text, kind);
  }

  function renderEntry() {
    entry.hidden = !view;
    if (!view) return;
    $('companion-name').textContent = view.name;
    const dot = $('companion-dot');
    dot.dataset.state = view.failing ? 'failing' : 'online';
    dot.title = view.failing ? 'Replies are delayed: the AI model is not answering right now' : 'Online';
    dot.setAttribute('aria-label', dot.title);
    openButton.title = ctx.isGuest()
      ? `${view.name}, the AI companion (for registered accounts)`
      : `Talk with ${view.name}, the AI companion`;
    if (shownRoom) openButton.setAttribute('aria-current', 'page');
    else openButton.removeAttribute('aria-current');
  }

  function renderBar() {
    bar.hidden = !(view && shownRoom);
    if (bar.hidden) return;
    $('companion-note').textContent = `Messages to ${view.name} are processed by this server’s AI model. `
      + `${view.name} remembers your last messages until you make it forget them.`;
    const quota = $('companion-quota');
    quota.textContent = quotaText(view);
    quota.hidden = !quota.textContent;
  }

  function render() {
    renderEntry();
    renderBar();
  }

  /** Reads the companion and the caller's standing with it; resolves with the view (or null). */
  async function refresh() {
    const ticket = generation;
    if (disabled) return null;
    let answer;
    try {
      answer = await get(COMPANION_PATH);
    } catch (err) {
      if (ticket !== generation) return null;
      if (err.code === 'ai_disabled' || err.status === 404) {
        disabled = true;
        view = null;
        currentName = '';
        shownRoom = null;
        render();
      }
      return view; // a network hiccup keeps what was known
    }
    if (ticket !== generation || !answer || typeof answer.name !== 'string') return null;
    view = answer;
    currentName = answer.name;
    render();
    return view;
  }

  /** After a join of the conversation: catch up with a reply on its way, drop finished ones. */
  async function catchUp(room) {
    const current = await refresh();
    if (!current || !ctx.rooms.get(room.slug)?.pane) return;
    const writing = current.writing?.room === room.slug ? current.writing : null;
    stream.settle(room.slug, writing?.message_id ?? null);
    stream.catchUp(writing);
  }

  /** The sidebar entry: the conversation for accounts, a sign-up prompt for guests. */
  async function open() {
    if (!view) return;
    if (ctx.isGuest()) {
      const free = Number(view.free_messages) || 0;
      const offer = view.free_messages > 0 ? ` — ${free} free message${free === 1 ? '' : 's'}` : '';
      ctx.showState(null, `Create an account to talk with ${view.name}${offer}. `
        + 'Conversations are for registered accounts; you can keep the name you are using.', {
        heading: view.name,
        code: 'companion_signup',
        actions: [ctx.toAccount, ctx.toLobby],
      });
      return;
    }
    const existing = companionRoom();
    if (existing?.pane) {
      await ctx.open(existing.slug);
      return;
    }
    try {
      await conversations.start(view.name);
    } catch (err) {
      ctx.banner.show(`Could not open the conversation with ${view.name}: ${describeError(err)}`, 'error');
    }
  }

  async function forget() {
    forgetError.textContent = '';
    try {
      await del(MEMORY_PATH);
    } catch (err) {
      forgetError.textContent = `Could not make ${name()} forget: ${describeError(err)}`;
      return;
    }
    forgetDialog.close();
    notice(`${name()} has forgotten your conversation: what you write next starts afresh. `
      + 'The messages stay in this log.', 'info');
  }

  openButton.addEventListener('click', () => open());
  forgetButton.addEventListener('click', () => {
    forgetError.textContent = '';
    $('companion-forget-text').textContent = `${name()} will no longer remember anything you said before. `
      + 'The messages stay in this conversation’s log.';
    forgetDialog.open();
  });
  $('companion-forget-confirm').addEventListener('click', (event) => whileBusy(event.currentTarget, forget));

  function limitReached(data) {
    if (view) view = { ...view, used: Math.max(Number(view.used) || 0, Number(data.free_messages) || 0) };
    renderBar();
    notice(`Your free messages to ${name()} are used up: this message gets no answer.`, 'error', data.room);
    paywall.open(name(), data.free_messages);
  }

  function premiumChanged(data) {
    if (data.active === true && paywall.premiumActive()) {
      notice(`Premium is active: write to ${name()} as much as you like.`, 'info');
      ctx.banner.show('Premium is active.');
    }
    refresh();
  }

  return {
    /** At every connect (before the joins): is there a companion, where does the caller stand. */
    refresh,

    /** After every join of a conversation. */
    joined(room) {
      if (isCompanionRoom(room)) catchUp(room);
    },

    /** The room on screen changed (null: a state card). */
    shown(room) {
      shownRoom = isCompanionRoom(room) ? room : null;
      render();
    },

    /** Events only the companion knows, and the messages that end a streamed reply. */
    handleEvent(event, data) {
      switch (event) {
        case 'ai_delta': stream.delta(data); return true;
        case 'ai_queued': stream.queued(data); return true;
        case 'ai_limit_reached': limitReached(data); return true;
        case 'premium_changed': premiumChanged(data); return true;
        case 'message':
          stream.stored(data);
          if (data.author?.bot === true) refresh(); // one free message fewer (or the fallback)
          return false; // the log adds it as usual
        case 'error': {
          const room = companionRoom();
          const refusal = REFUSALS[data.code];
          if (!view || !room?.pane || !refusal) return false;
          if (data.code !== 'ai_busy' && shownRoom !== room) return false;
          notice(refusal(view.name, data), 'error', room.slug);
          return true;
        }
        default: return false;
      }
    },

    /** Sign-out: nothing of the companion stays on screen. */
    stop() {
      generation += 1;
      disabled = false;
      view = null;
      currentName = '';
      shownRoom = null;
      stream.clear();
      paywall.close();
      forgetDialog.close();
      render();
    },
  };
}
