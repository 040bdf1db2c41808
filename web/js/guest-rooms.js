/**
 * Persistent rooms for a guest (an identity without an account), behind one face for
 * persistent-rooms.js.
 *
 * A guest may join a public room that lets guests in (`allow_guests`), but the server keeps no
 * membership for it: the guest is in the room while connected, and its `GET /api/rooms` lists
 * such rooms as `public` only. So this browser remembers which rooms the guest has open
 * (localStorage, under the guest's name) and marks them joined in each listing, which makes the
 * coordinator join them again on every (re)connect and after a reload. A room the listing no
 * longer holds, or one the server takes away (`room_removed` with `guests_not_allowed`: its
 * owner stopped letting guests in), is closed with a sentence that offers an account.
 *
 * When the guest keeps its name as an account (account-upgrade.js, `carryOver`), the rooms it
 * had open are joined again by the account, which makes it a member of them.
 *
 * `ctx` is the coordinator's side (rooms.js, `kindContext`). No other module reads the storage.
 */

import { nameKey } from './members.js';
import { closedCodeNote } from './room-names.js';

const STORAGE_KEY = 'parlor.guest-rooms';
/** The one `room_removed` reason this module explains. */
export const GUESTS_NOT_ALLOWED = 'guests_not_allowed';

let memory = null; // when localStorage cannot be used, the value lives as long as the page

/** `{guest, slugs, carryTo?}`: whose rooms these are, and the account they go to, if any. */
function read() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    return value && typeof value.guest === 'string' && Array.isArray(value.slugs) ? value : null;
  } catch {
    return memory;
  }
}

function write(value) {
  memory = value;
  try {
    if (value) localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Kept in memory only.
  }
}

/**
 * The guest `guestName` became the account `accountName`: the rooms it had open are for the
 * account to join (once; see `adjust`).
 */
export function carryOver(guestName, accountName) {
  const stored = read();
  if (!stored || stored.guest !== nameKey(guestName) || stored.slugs.length === 0) {
    write(null);
    return;
  }
  write({ ...stored, carryTo: nameKey(accountName) });
}

/** What a guest is told when a room it is in stops letting guests in. */
export const noLongerAdmitted = (slug) => `#${slug} no longer admits guests — create an account to stay.`;

/** @param {object} ctx the coordinator (see rooms.js, `kindContext`) */
export function createGuestRooms(ctx) {
  const me = () => nameKey(ctx.me()?.name ?? '');

  /** The slugs remembered for the guest signed in now. */
  function remembered() {
    const stored = read();
    return ctx.isGuest() && stored && !stored.carryTo && stored.guest === me() ? stored.slugs : [];
  }

  function remember(slug) {
    const slugs = remembered();
    if (!slugs.includes(slug)) write({ guest: me(), slugs: [...slugs, slug] });
  }

  function forget(slug) {
    const slugs = remembered();
    if (slugs.includes(slug)) write({ guest: me(), slugs: slugs.filter((s) => s !== slug) });
  }

  /** Closes the guest's room `slug` with `text`: a card in its place if it is on screen. */
  function close(slug, text, code) {
    forget(slug);
    if (!ctx.isShown(slug)) {
      if (!ctx.stateShown(slug)) ctx.drop(slug, text);
      return;
    }
    ctx.forget(slug);
    ctx.showState(slug, text, { push: false, code, actions: [ctx.toAccount, ctx.toLobby] });
  }

  return {
    /**
     * Adjusts a fresh `GET /api/rooms` answer before it is applied. For a guest, the rooms it
     * has open are joined (the server lists them as public); remembered rooms no longer listed
     * are forgotten. For an account that was this browser's guest, the rooms the guest had open
     * become rooms to join (once): joining makes the account a member.
     */
    adjust(listing) {
      const stored = read();
      let slugs = [];
      let role = null;
      if (ctx.isGuest()) {
        slugs = remembered();
        role = 'guest';
      } else if (stored?.carryTo && stored.carryTo === me()) {
        slugs = stored.slugs;
        write(null);
      }
      if (slugs.length === 0) return listing;
      const open = new Set(slugs);
      const rooms = listing.rooms.map((item) => (open.has(item.slug) && item.access === 'public'
        ? { ...item, access: 'member', role } : item));
      if (ctx.isGuest()) {
        const listed = new Set(listing.rooms.map((item) => item.slug));
        for (const slug of slugs) if (!listed.has(slug)) forget(slug);
      }
      return { ...listing, rooms };
    },

    /** A guest joined room `record`: it is joined again on every connect. */
    joined(room) {
      if (ctx.isGuest()) remember(room.slug);
    },

    /** A room went away (left, removed, deleted): no longer joined on connect. */
    forget(slug) {
      if (ctx.isGuest()) forget(slug);
    },

    /** "Leave" for a guest: stops the room's events here (there is no membership to end). */
    leave(slug) {
      ctx.gateway()?.request('leave', { room: slug }).catch(() => {});
      forget(slug);
      ctx.drop(slug, `You left #${slug}.`);
    },

    /**
     * `room_removed` about one of the guest's rooms; true when this module explained it (the
     * room stopped letting guests in).
     */
    removed(slug, reason) {
      if (reason !== GUESTS_NOT_ALLOWED) return false;
      close(slug, noLongerAdmitted(slug), GUESTS_NOT_ALLOWED);
      return true;
    },

    /** A room the guest had open is no longer listed for it (changed while it was away). */
    lost(slug) {
      close(slug, noLongerAdmitted(slug), GUESTS_NOT_ALLOWED);
    },

    /**
     * The state card for a room a guest could not open; false when the generic one fits.
     * `registration_required`: the room does not let guests in. `not_found`: nothing a guest
     * can see (a private room answers the same), and nothing to create or ask for.
     */
    unavailable(slug, err) {
      if (!ctx.isGuest()) return false;
      const actions = [ctx.toAccount, ctx.toLobby];
      if (err.code === 'registration_required') {
        ctx.showState(slug, `#${slug} is for registered accounts: it does not let guests in.${closedCodeNote(slug)}`,
          { code: err.code, actions });
        return true;
      }
      if (err.code === 'not_found') {
        ctx.showState(slug, `There is no room here that you can see.${closedCodeNote(slug)} `
          + 'Private rooms, and creating rooms, are for registered accounts.', { code: err.code, actions });
        return true;
      }
      return false;
    },
  };
}
