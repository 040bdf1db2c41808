/**
 * The admin panel's "Rooms" tab: every room, private conversation and live 1-on-1 room with
 * its kind and status, and a reader under the list for what was said — one room's transcript,
 * or the archives of expired 1-on-1 rooms — paged backwards with "Older". Each read is audited
 * by the server, which the tab says up front. End-to-end rooms (`e2e: true`) show who wrote
 * when, never words: the server cannot read them.
 */

import { listAllRooms, listArchives, readTranscript } from './admin-api.js';
import { element, row, rowButton, showTable, when } from './admin-table.js';
import { displayName, humanSize } from './file-kinds.js';
import { formatTime } from './messages.js';

const LABELS = ['Room', 'Kind', 'Status', 'Messages', 'Created', 'Actions'];
const KIND_NAMES = { room: 'room', pm: 'conversation', ephemeral: '1-on-1 room' };
const TRANSCRIPT_PAGE = 50;
const E2E_TEXT = 'end-to-end encrypted — content not visible to the server';
const ARCHIVE_PAGE = 10;

/** What state a room is in, in a few words. */
function status(room) {
  if (room.kind === 'ephemeral') {
    return room.expires_at ? ['open until ', when(room.expires_at)] : 'not activated yet';
  }
  const parts = [room.private ? 'private' : 'public'];
  if (room.e2e === true) parts.push('end-to-end encrypted');
  if (room.slow_mode_secs > 0) parts.push(`slow mode ${room.slow_mode_secs}s`);
  if (room.retention_days) parts.push(`kept ${room.retention_days} days`);
  return parts.join(', ');
}

/**
 * A message's file in a transcript: a link through the admin door for a live room's file, or
 * what an archived one was (the file went with its room).
 */
function attachment({ name, mime, size, url }) {
  const label = `📎 ${displayName(name)} (${mime}, ${humanSize(size)})`;
  if (typeof url === 'string' && url.startsWith('/api/admin/files/')) {
    const link = element('a', 'admin-line-file', label);
    link.href = url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    return link;
  }
  return element('span', 'admin-line-file', `${label}, deleted with the room`);
}

/** What an end-to-end message's line says instead of words: that, and its size when told. */
function sealedText(message) {
  return Number.isFinite(message.bytes) ? `${E2E_TEXT} (${humanSize(message.bytes)})` : E2E_TEXT;
}

/** One line of a transcript: time, author, text (as text), and its files. */
function line(message) {
  const { seq, ts, author, text, attachments } = message;
  const item = element('li', 'admin-line');
  if (Number.isInteger(seq)) item.dataset.seq = String(seq);
  const time = element('time', 'admin-line-time', formatTime(ts));
  time.title = new Date(ts).toLocaleString();
  const sealed = message.e2e === true; // an end-to-end room's message: metadata only
  const body = element('span', sealed ? 'admin-line-text admin-line-e2e' : 'admin-line-text', sealed ? sealedText(message) : text);
  if (sealed) item.dataset.e2e = 'true';
  item.append(time, element('span', 'admin-line-author', author), body);
  for (const file of attachments ?? []) item.append(attachment(file));
  return item;
}

/** An archive: its heading, then its transcript. */
function archiveBlock(archive) {
  const transcript = archive.transcript ?? {};
  const block = element('li', 'admin-archive');
  block.dataset.id = String(archive.id);
  const people = (transcript.participants ?? []).join(', ') || 'nobody';
  const head = element('p', 'admin-archive-head', `Room ${archive.code} — ${people} — ${archive.messages} messages — expired `);
  head.append(when(archive.expired_at));
  const lines = element('ol', 'admin-lines');
  lines.append(...(transcript.messages ?? []).map(line));
  block.append(head, lines);
  return block;
}

/** @param {object} ctx what the admin panel's tabs share (admin.js) */
export function createRoomsTab(ctx) {
  const $ = (id) => document.getElementById(id);
  const list = $('admin-rooms-list');
  const reader = $('admin-reader');
  const lines = $('admin-reader-lines');
  const older = $('admin-reader-older');
  // What the reader shows: {kind: 'transcript', slug} or {kind: 'archives'}, and where the
  // next older page starts (null: there is none).
  let reading = null;

  function roomRow(room) {
    return row(LABELS, [
      [element('span', 'admin-room-slug', room.slug), room.name && room.name !== room.slug ? element('span', 'admin-muted', ` ${room.name}`) : null],
      KIND_NAMES[room.kind] ?? room.kind,
      status(room),
      room.last_seq ?? 0,
      when(room.created_at),
      rowButton('Transcript', () => openTranscript(room.slug), { action: 'transcript' }),
    ], { slug: room.slug, kind: room.kind });
  }

  async function load() {
    const rooms = await ctx.load(listAllRooms, 'rooms');
    if (rooms) showTable(list, LABELS, rooms.map(roomRow), 'No rooms yet.');
  }

  /** Loads the next older page into the reader. */
  async function more() {
    const current = reading;
    if (!current || current.cursor === null) return;
    const page = current.kind === 'transcript'
      ? await ctx.load(() => readTranscript(current.slug, { before: current.cursor, limit: TRANSCRIPT_PAGE }), 'the transcript')
      : await ctx.load(() => listArchives({ before: current.cursor, limit: ARCHIVE_PAGE }), 'the archives');
    if (!page || current !== reading) return;
    const full = page.length === (current.kind === 'transcript' ? TRANSCRIPT_PAGE : ARCHIVE_PAGE);
    if (current.kind === 'transcript') {
      lines.prepend(...page.map(line));
      current.cursor = full ? page[0].seq : null;
    } else {
      lines.append(...page.map(archiveBlock));
      current.cursor = full ? page[page.length - 1].id : null;
    }
    older.disabled = current.cursor === null;
    if (!lines.children.length) lines.append(element('li', 'admin-empty', current.kind === 'transcript' ? 'No messages.' : 'No archives.'));
  }

  function openReader(state, title) {
    reading = { ...state, cursor: undefined };
    $('admin-reader-title').textContent = title;
    lines.replaceChildren();
    older.textContent = state.kind === 'transcript' ? 'Older messages' : 'Older archives';
    reader.hidden = false;
    reader.scrollIntoView({ block: 'nearest' });
    return more();
  }

  const openTranscript = (slug) => openReader({ kind: 'transcript', slug }, `Transcript of ${slug}`);

  $('admin-rooms-refresh').addEventListener('click', load);
  $('admin-archives-open').addEventListener('click', () => openReader({ kind: 'archives' }, 'Archives of expired 1-on-1 rooms'));
  older.addEventListener('click', more);
  $('admin-reader-close').addEventListener('click', () => {
    reading = null;
    reader.hidden = true;
    lines.replaceChildren();
  });

  return { load };
}
