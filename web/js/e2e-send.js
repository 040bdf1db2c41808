/**
 * Writing in end-to-end rooms (docs/e2ee.md, "Messages"): a new message or an edit goes out as
 * an envelope sealed under the current epoch's room key and signed with the account's signing
 * key, in place of `text`. The plaintext is `{"text"}`, with `"files"` (their keys, from
 * e2e-files.js) when it carries attachments; an edit carries the original's files again, so
 * they stay openable. A refusal that says the epoch moved (`stale_epoch`, `epoch_key_missing`)
 * reads the room's keys again and seals anew; a room not yet known to be end-to-end that answers
 * `e2e_required` is sealed for from then on.
 *
 * The callers (room-sync.js, message-actions.js) hand over how to send; this module only
 * decides what goes.
 */

import { sealEnvelope } from './e2e-crypto.js';
import { currentKey, isE2E, noteRoom, e2eError } from './e2e-rooms.js';
import { unlockedKeys } from './e2e-account.js';
import { fileSecrets } from './e2e-files.js';
import { openedPayload } from './e2e-messages.js';

const RESEAL = new Set(['stale_epoch', 'epoch_key_missing']);
const ATTEMPTS = 3;

/** Whether `room` (a record) is end-to-end, as far as is known. */
export const sealsIn = (room) => room?.e2e === true || isE2E(room?.slug);

async function seal(slug, payload, fresh) {
  const mine = unlockedKeys();
  if (!mine) throw e2eError('e2e_locked', 'Set up or unlock encryption to write in this room.');
  const { epoch, key } = await currentKey(slug, { fresh });
  return sealEnvelope({ payload, room: slug, epoch, key, signer: mine.signing });
}

/** Sends `body` plainly unless the room turns out to be end-to-end; true when it went. */
async function plainly(room, body, send) {
  if (sealsIn(room)) return { sent: false };
  try {
    return { sent: true, ack: await send(body) };
  } catch (err) {
    if (err.code !== 'e2e_required') throw err;
    noteRoom(room.slug, { e2e: true });
    room.e2e = true;
    return { sent: false };
  }
}

async function sealed(room, payload, body, send) {
  for (let attempt = 1; ; attempt += 1) {
    const envelope = await seal(room.slug, payload, attempt > 1);
    try {
      return await send({ ...body, envelope });
    } catch (err) {
      if (!RESEAL.has(err.code) || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * Sends a new message through `send(data)`: `data` as given in a server-side room, else with an
 * envelope of `text` and the uploads `fileIds` in place of `text`. Resolves with the ack.
 */
export async function sendSealed(room, data, text, fileIds, send) {
  const plain = await plainly(room, data, send);
  if (plain.sent) return plain.ack;
  const payload = { text };
  if (fileIds.length) payload.files = fileSecrets(fileIds);
  const body = { ...data };
  delete body.text;
  return sealed(room, payload, body, send);
}

/**
 * Edits message element `item` to `text` through `send(body)` (`{text}` or `{envelope}`);
 * resolves with the ack.
 */
export async function editSealed(room, item, text, send) {
  const plain = await plainly(room, { text }, send);
  if (plain.sent) return plain.ack;
  const files = openedPayload(item)?.files;
  return sealed(room, Array.isArray(files) && files.length ? { text, files } : { text }, {}, send);
}
