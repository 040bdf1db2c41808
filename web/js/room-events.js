/**
 * What live events do inside one room's pane: messages (others' counted as incoming), their
 * changes (edits, deletions, reactions: message-parts.js redraws a loaded copy; one not loaded
 * is left alone, as history pages show the current state), presence, typing, a cleared history
 * and moderation notices (kick, mute, verify…). In an end-to-end room an edit's envelope is
 * opened before it is applied (e2e-messages.js), and `room_keys` reads the room's keys again.
 *
 * Join and leave lines are written in the lobby only: in a persistent room, someone going
 * offline is still a member, so a "left" line would mislead. Events that change the set of
 * rooms (removed, updated, access decisions) are rooms.js's business.
 */

import { LOBBY } from './room-api.js';
import { messageEdited, messageDeleted, reactionChanged } from './message-parts.js';
import { envelopeEdited } from './e2e-messages.js';
import { roomKeysEvent } from './e2e-rooms.js';

const isUser = (user) => Boolean(user) && typeof user.name === 'string';

function message(pane, data, isOwn) {
  if (!isUser(data.author) || data.id === undefined) return false;
  pane.typing.remove(data.author.name);
  const own = isOwn(data.author);
  return pane.log.addMessage(data, { own }) && !own;
}

function joined(pane, slug, user) {
  if (pane.members.add(user) && slug === LOBBY) pane.log.addNotice(`${user.name} joined`, 'join');
}

function left(pane, slug, user) {
  pane.typing.remove(user.name);
  if (pane.members.remove(user) && slug === LOBBY) pane.log.addNotice(`${user.name} left`, 'leave');
}

/**
 * Applies a room event to the pane of room `slug`.
 * @param {(user: object) => boolean} isOwn whether a user is the signed-in identity
 * @returns {boolean} true when someone else's new message was added
 */
export function applyPaneEvent(pane, slug, event, data, isOwn) {
  switch (event) {
    case 'message':
      return message(pane, data, isOwn);
    case 'member_joined':
      if (isUser(data.user)) joined(pane, slug, data.user);
      break;
    case 'member_left':
      if (isUser(data.user)) left(pane, slug, data.user);
      break;
    case 'member_count':
      pane.members.setCount(data.count);
      break;
    case 'typing':
      if (isUser(data.user) && !isOwn(data.user)) pane.typing.update(data.user, Boolean(data.active));
      break;
    case 'message_edited':
      if (data.envelope) envelopeEdited(pane.log.element, slug, data);
      else messageEdited(pane.log.element, data);
      break;
    case 'room_keys':
      roomKeysEvent(data);
      break;
    case 'message_deleted':
      messageDeleted(pane.log.element, data.seq, data.by);
      break;
    case 'reaction':
      if (typeof data.user === 'string') reactionChanged(pane.log.element, data, (name) => isOwn({ name }));
      break;
    case 'history_cleared':
      pane.log.clear();
      pane.log.addNotice('The history of this room was cleared.', 'info');
      break;
    case 'notice':
      if (typeof data.text === 'string') pane.log.addNotice(data.text, 'moderation');
      break;
    default:
      break; // events from later protocol versions are ignored
  }
  return false;
}
