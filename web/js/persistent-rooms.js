/**
 * What is particular to persistent rooms, behind one face for rooms.js: the room list of
 * `GET /api/rooms` (read again on `rooms_changed`: rooms added, renamed or removed; its
 * `unread` and `mentions` counts seed the sidebar's badges), the read pointer of the room on
 * screen (read-marker.js), the dialogs (create, invite, settings), access requests, invite links,
 * leaving, and the state cards of rooms that cannot be opened (requested, invited, missing).
 * A guest's side of it (public rooms joined without membership) is guest-rooms.js's.
 *
 * rooms.js stays the one owner of room records, panes, joining and the screen; it calls the
 * hooks here and hands over `ctx`, what may be done with the records (rooms.js, `kindContext`).
 */

import {
  listRooms, leaveRoom, redeemInvite, requestAccess, isCreatableSlug, explainRoomError,
} from './room-api.js';
import { roomRecord, merge } from './room-list.js';
import { closedCodeNote } from './room-names.js';
import { createRoomDialog } from './create-room.js';
import { createInviteDialog } from './invite.js';
import { createSettingsDialog } from './room-settings.js';
import { createRequests } from './requests.js';
import { markRead } from './read-marker.js';
import { createGuestRooms } from './guest-rooms.js';

const MODERATORS = new Set(['owner', 'admin']);

/**
 * What a pending request says: only what the user typed. Whether a room holds the address is
 * not known until its owner lets them in (a request for nothing looks the same, and lapses).
 */
const requestedText = (slug) =>
  `You asked to join #${slug}. If a private room has this address, its owner or admins decide; `
  + 'it opens here once you are let in. Requests lapse after a week.';

/** @param {object} ctx the coordinator (see rooms.js, `kindContext`) */
export function createPersistentRooms(ctx) {
  const $ = (id) => document.getElementById(id);
  const createDialog = createRoomDialog({
    onCreated: (room) => created(room),
    onTaken: (slug) => taken(slug),
  });
  const inviteDialog = createInviteDialog();
  const settingsDialog = createSettingsDialog({
    onSaved: (room) => updated(room),
    onDeleted: (slug) => ctx.drop(slug, `#${slug} was deleted.`),
  });
  const requests = createRequests({ onCount: (slug, count) => ctx.setRequestCount(slug, count) });
  const guests = createGuestRooms(ctx);
  $('room-new').addEventListener('click', () => createDialog.open());

  /** Reloads `GET /api/rooms`; rooms the user has lost while away are closed. */
  async function refreshList() {
    const s = ctx.session();
    if (!s) return;
    let listed;
    try {
      listed = guests.adjust(await listRooms());
    } catch (err) {
      if (s === ctx.session()) ctx.banner.show(`Could not load the rooms: ${explainRoomError(err)}`, 'error');
      return;
    }
    if (s !== ctx.session()) return;
    const lost = ctx.rooms.applyListing(listed);
    for (const room of ctx.rooms.values()) {
      // The server counts up to the read pointer, which may lag the room being read now.
      if (room.kind !== 'room' || !ctx.isShown(room.slug)) continue;
      Object.assign(room, { unread: 0, mentions: 0 });
      ctx.refreshView(room); // renamed, or its topic changed
    }
    for (const room of lost) {
      if (ctx.isGuest()) {
        guests.lost(room.slug);
        continue;
      }
      ctx.drop(room.slug, `You are no longer a member of #${room.slug}.`);
      const item = listed.rooms.find((l) => l.slug === room.slug);
      if (item) ctx.rooms.add(roomRecord(item.slug, item)); // still listed, e.g. a public room
      else if (listed.requests.some((r) => r.slug === room.slug)) {
        ctx.rooms.add(roomRecord(room.slug, { access: 'requested' }));
      }
    }
    ctx.render();
  }

  // `rooms_changed` may come in bursts: one read at a time, and one more if any came meanwhile.
  let reading = null;
  let again = false;
  function roomsChanged() {
    if (reading) {
      again = true;
      return;
    }
    reading = refreshList().finally(() => {
      reading = null;
      if (again) {
        again = false;
        roomsChanged();
      }
    });
  }

  async function askToJoin(slug) {
    try {
      await requestAccess(slug);
    } catch (err) {
      ctx.showState(slug, explainRoomError(err), { code: err.code, actions: [ctx.toLobby] });
      return;
    }
    await refreshList();
    ctx.showState(slug, requestedText(slug), { code: 'requested', actions: [ctx.toLobby] });
  }

  /**
   * Creating the address of a state card answered `room_taken`: a room holds it that the user
   * cannot see (a private one), so asking to join is what is left.
   */
  function taken(slug) {
    ctx.showState(slug, `The address #${slug} is taken by a room you cannot see: a private room. `
      + 'You can ask to join it; its owner or admins decide.', {
      code: 'room_taken',
      actions: [
        { label: 'Ask to join', id: 'room-state-request', primary: true, onClick: () => askToJoin(slug) },
        ctx.toLobby,
      ],
    });
  }

  async function created(made) {
    await refreshList();
    if (!ctx.rooms.has(made.slug)) ctx.rooms.add(roomRecord(made.slug, { access: 'member' }));
    merge(ctx.rooms.get(made.slug), made);
    await ctx.open(made.slug);
  }

  function updated(changed) {
    const room = ctx.rooms.get(changed?.slug);
    if (!room) return;
    merge(room, changed);
    ctx.refreshView(room);
    ctx.render();
  }

  function requestArrived(slug, user) {
    requests.arrived(slug, user, ctx.rooms.get(slug)?.pane?.log);
    if (!ctx.isShown(slug)) ctx.banner.show(`${user} asks to join #${slug}.`);
  }

  /** Only approvals are announced: a denial would tell that a private room exists. */
  async function accessDecided(slug, approved) {
    if (!approved) return;
    ctx.banner.show(`Your request to join #${slug} was approved.`);
    await refreshList();
    const room = ctx.rooms.get(slug);
    if (approved && room && ctx.stateShown(slug)) await ctx.open(slug, { push: false });
    else if (approved && room && !room.pane) await ctx.join(room).catch(() => {});
    ctx.render();
  }

  return {
    refreshList,
    roomsChanged,

    /** A message was added to `room`: a persistent room on screen is read at once. */
    afterMessage(room) {
      if (room.kind === 'room' && ctx.isShown(room.slug) && !ctx.isGuest()) markRead(ctx.gateway(), room);
    },

    /** The header buttons of the room on screen. */
    invite: (slug) => inviteDialog.open(slug),
    settings: (room) => settingsDialog.open(room, { isOwner: room?.role === 'owner' }),
    requests: (slug) => requests.open(slug),
    async leave(slug) {
      if (ctx.isGuest()) {
        guests.leave(slug);
        return;
      }
      try {
        await leaveRoom(slug);
      } catch (err) {
        ctx.banner.show(`Could not leave #${slug}: ${explainRoomError(err)}`, 'error');
        return;
      }
      ctx.drop(slug, `You left #${slug}.`);
      refreshList();
    },

    /** Shows the card of a room the user asked for or is invited to; true if it did. */
    showUnjoined(slug, room, { push }) {
      if (room?.access === 'requested') {
        ctx.showState(slug, requestedText(slug), { push, code: 'requested', actions: [ctx.toLobby] });
        return true;
      }
      if (room?.access === 'invited') {
        ctx.showState(slug, `You are invited to #${slug}. Open the invite link you were sent to join it.`,
          { push, code: 'invited', actions: [ctx.toLobby] });
        return true;
      }
      return false;
    },

    /** The state card for a room that could not be opened. */
    unavailable(slug, err) {
      if (guests.unavailable(slug, err)) return;
      if (err.code !== 'not_found') {
        ctx.showState(slug, explainRoomError(err), { code: err.code, actions: [ctx.toLobby] });
        return;
      }
      // A private room answers non-members exactly like a missing one, so both ways stay open:
      // asking is always safe, and creating explains itself if the address turns out taken.
      const actions = [];
      let text = `No room here that you can see.${closedCodeNote(slug)}`;
      if (isCreatableSlug(slug)) {
        text += ` If #${slug} is a private room, ask to join it; if nothing is here, you can create it.`;
        actions.push({ label: 'Ask to join', id: 'room-state-request', onClick: () => askToJoin(slug) });
        actions.push({ label: `Create #${slug}`, id: 'room-state-create', onClick: () => createDialog.open(slug, { fromCard: true }) });
      }
      actions.push(ctx.toLobby);
      ctx.showState(slug, text, { code: 'not_found', actions });
    },

    /** Redeems `/invite/<token>` and opens its room in place of the invite address. */
    async redeem(token) {
      const heading = 'Invite';
      if (ctx.isGuest()) {
        ctx.showState(null, explainRoomError({ code: 'registration_required' }),
          { heading, code: 'registration_required', actions: [ctx.toAccount, ctx.toLobby] });
        return;
      }
      ctx.showState(null, 'Opening the invite…', { heading, code: 'opening' });
      let room;
      try {
        room = await redeemInvite(token);
      } catch (err) {
        const text = err.code === 'not_found' ? 'This invite link is not valid.' : explainRoomError(err);
        ctx.showState(null, text, { heading, code: err.code, actions: [ctx.toLobby] });
        return;
      }
      await refreshList();
      await ctx.open(room.slug, { push: false });
    },

    /** A room was put on screen: its pending requests, for those who decide them. */
    shown(room) {
      if (room.kind === 'room' && !ctx.isGuest()) markRead(ctx.gateway(), room); // a guest has no pointer
      ctx.setRequestCount(room.slug, requests.count(room.slug));
      if (room.kind === 'room' && MODERATORS.has(room.role) && room.private) requests.load(room.slug);
    },

    /** Events only persistent rooms have; true when handled. */
    handleEvent(event, slug, data) {
      switch (event) {
        case 'access_decided': accessDecided(slug, data.approved === true); return true;
        case 'access_requested':
          if (ctx.rooms.has(slug)) requestArrived(slug, String(data.user));
          return true;
        case 'room_updated': updated(data.room); return true;
        case 'room_removed': return guests.removed(slug, data.reason);
        default: return false;
      }
    },

    /** A room was joined (rooms.js): a guest's is remembered, to be joined again on connect. */
    joined(room) {
      room.access = 'member';
      guests.joined(room);
    },

    /** A room went away: its requests too, and a guest no longer joins it on connect. */
    forget(slug) {
      requests.forget(slug);
      guests.forget(slug);
    },

    /** A new identity: guests may join public rooms; creating rooms is for accounts. */
    begin(guest) {
      $('room-new').hidden = guest;
      $('rooms-note').hidden = !guest;
      $('rooms-note').textContent = 'As a guest you can join public rooms that let guests in. '
        + 'Creating rooms, and private rooms, are for registered accounts.';
    },
  };
}
