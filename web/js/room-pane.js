/**
 * One room's share of the chat view: its message log, member list and typing line.
 *
 * Each room gets its own elements inside the shared containers (`#messages`, `#members`,
 * `#typing`), tagged with `data-room`; only the open room's are visible. Switching rooms is
 * then a matter of hiding and showing, so every room keeps its scroll position and nothing is
 * re-rendered. Rendering rules live in messages.js, members.js and typing.js.
 */

import { createMessageLog } from './messages.js';
import { createMemberList } from './members.js';
import { createTypingIndicator } from './typing.js';

function element(tag, className, slug) {
  const el = document.createElement(tag);
  el.className = className;
  el.dataset.room = slug;
  el.hidden = true;
  return el;
}

/**
 * @param {string} slug the room (`lobby` included)
 * @param {object} hooks
 * @param {() => void} [hooks.onNearTop] the reader scrolled up to the oldest message
 * @param {(count: number) => void} hooks.onMemberCount the visible room's member count changed
 * @param {{decorate: Function, attach: (list: HTMLElement) => void}|null} [hooks.messages] what
 *   stored messages grow and do (message-actions.js), in rooms that keep them
 */
export function createRoomPane(slug, { onNearTop, onMemberCount, messages = null }) {
  const $ = (id) => document.getElementById(id);

  const logBox = element('div', 'room-log', slug);
  const list = document.createElement('ol');
  list.className = 'messages';
  list.setAttribute('role', 'log');
  list.setAttribute('aria-live', 'polite');
  list.setAttribute('aria-relevant', 'additions');
  const jump = document.createElement('button');
  jump.type = 'button';
  jump.className = 'jump-latest';
  jump.textContent = 'New messages ↓';
  jump.hidden = true;
  logBox.append(list, jump);

  const memberList = element('ul', 'members', slug);
  const typingLine = element('div', 'typing', slug);
  $('messages').append(logBox);
  $('members').append(memberList);
  $('typing').append(typingLine);

  const visible = () => !logBox.hidden;
  const members = createMemberList(memberList, (count) => {
    if (visible()) onMemberCount(count);
  });
  const typing = createTypingIndicator(typingLine);
  messages?.attach(list);

  return {
    slug,
    log: createMessageLog(list, jump, { onNearTop, decorate: messages?.decorate }),
    members,
    typing,
    show() {
      for (const el of [logBox, memberList, typingLine]) el.hidden = false;
      onMemberCount(members.count());
    },
    hide() {
      for (const el of [logBox, memberList, typingLine]) el.hidden = true;
    },
    /** Removes the room's elements for good (left, deleted, signed out). */
    destroy() {
      typing.clear();
      for (const el of [logBox, memberList, typingLine]) el.remove();
    },
  };
}
