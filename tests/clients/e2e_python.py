#!/usr/bin/env python3
"""End-to-end encrypted rooms and conversations with Python clients only (docs/e2ee.md).

Usage: python3 e2e_python.py BASE_URL      (e.g. http://127.0.0.1:38211)

Accounts registered over REST set up their keys with the reference client (e2e_client.py) and
use the native gateway, REST and (for one refusal) python-socketio:
  * account keys: the directory serves the fingerprint and safety number the client computes;
    a wrong password does not unwrap the keys, the recovery key does;
  * an e2e room (`e2e: true`) and an e2e conversation (two accounts with keys): the first
    member makes the epoch's key, a joining member gets it sealed; messages both ways decrypt
    and verify; an edit (gateway and REST) and history pages open; an encrypted attachment
    uploads as a generic encrypted.bin and opens with the key in its message's envelope;
  * removing a member starts a new epoch whose messages none of its old keys open; a member
    who joins later gets the current epoch's key only; a member leaving starts another epoch;
  * a tampered ciphertext is undecryptable, a signature by another key unverified (also one
    relayed by the server), a sealed key signed by someone other than `sealed_by` refused;
  * the server refuses plaintext in an e2e room on every framing (`e2e_required`), an envelope
    in a server-side room (`not_e2e`), an old or future epoch (`stale_epoch`), a member without
    the epoch's key (`epoch_key_missing`) and malformed envelopes (`invalid_payload`); search
    finds nothing in the e2e room;
  * an account replacing its keys gets the conversation's key sealed to the new ones, others'
    clients notice the new fingerprint, and its old messages turn unverified;
  * a password change re-wraps the keys first: they unwrap with the new password (not the old
    one) and the room's history still opens.
Prints one line per check; exits 0 when all pass, 1 on the first failed check, 2 on bad usage,
3 when the run overruns its deadline.
"""

import sys
import time
import urllib.parse

from e2e_client import (AccountKeys, ApiError, E2EClient, SealError, UnwrapError, b64d, b64e,
                        fingerprint, open_envelope, open_sealed_key, safety_number,
                        seal_message, seal_room_key)
from sio_python import (CheckFailed, Client as SioClient, check, expect_ok, log, run_checks,
                        unique)

DEADLINE = 80.0
WAIT = 8.0
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new horse, stapled"


def narrate(name):
    """The reference client's events, indented under the checks (what happened when one fails)."""
    def emit(event, **fields):
        if event in ("sealed", "room_key", "rejected_key", "keys_changed", "warning"):
            log(f"      [{name}] {event} {fields}")
    return emit


def account(url, prefix):
    client = E2EClient.register(url, unique(prefix), PASSWORD, emit=narrate(prefix))
    log(f"  ok - {client.name} registers over REST")
    return client


def settle(clients, predicate, what, timeout=WAIT):
    """Lets every client handle its events until `predicate()` holds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise CheckFailed(f"{what}: not within {timeout}s")
        for client in clients:
            client.pump(0.02)
    log(f"  ok - {what}")


def refused(client, command, data, code, what):
    ack = client.gateway.request(command, data)
    check(ack.get("ok") is False and (ack.get("error") or {}).get("code") == code,
          f"{what} -> {code}", ack)


def rest_refused(api, method, path, body, status, code, what):
    got, parsed, _ = api.request(method, path, body)
    error = (parsed or {}).get("error") or {}
    check(got == status and error.get("code") == code, f"{what} -> {status} {code}",
          (got, parsed))


def messages_path(room, seq=None):
    path = f"/api/rooms/{urllib.parse.quote(room, safe='')}/messages"
    return path if seq is None else f"{path}/{seq}"


def decrypted(client, room, text):
    """Whether `client` has read `text` in `room`, opened and verified."""
    return client.find(room, text) is not None


# ---------------------------------------------------------------------------------------------

def keys_and_directory(url, ann, bob, recovery):
    public = bob.api.call("GET", f"/api/user/{ann.name}/keys")
    check(public["fingerprint"].lower() == ann.keys.fingerprint
          == fingerprint(public["agreement_public"], public["signing_public"]),
          "the directory's fingerprint is SHA-256 of the two public keys", public)
    check(public["safety_number"] == safety_number(ann.keys.fingerprint),
          "the directory's safety number is the one the client computes", public)
    check("password_wrapped" not in public and "recovery_wrapped" not in public,
          "others never get the wrapped keys", sorted(public))
    device = E2EClient(url, ann.name, ann.token)
    try:
        device.unlock(password="not the password")
        raise CheckFailed("a wrong password unwrapped the keys")
    except UnwrapError as exc:
        log(f"  ok - a wrong password does not unwrap the keys ({exc})")
    device.unlock(recovery_key=recovery.lower().replace(" ", "-"))
    check(device.keys.fingerprint == ann.keys.fingerprint,
          "the recovery key (written down in any case and spacing) unwraps the same keys")
    device.unlock(password=PASSWORD)
    check(device.keys.signing_public == ann.keys.signing_public, "the password unwraps them too")


def e2e_room(url, ann, bob, dave):
    slug = unique("py-e2e-").lower()
    rest_refused(dave.api, "POST", "/api/rooms", {"slug": slug, "e2e": True}, 409,
                 "keys_required", "an account without keys creates an e2e room")
    room = ann.api.call("POST", "/api/rooms", {"slug": slug, "e2e": True})
    check(room.get("e2e") is True and room.get("epoch") == 1,
          "ann creates an e2e room: e2e true, epoch 1", room)
    rest_refused(ann.api, "PATCH", f"/api/rooms/{slug}", {"e2e": False}, 422, "invalid_request",
                 "a room's e2e cannot be changed")
    rest_refused(dave.api, "GET", f"/api/rooms/{slug}/e2e", None, 404, "not_found",
                 "a non-member reads the room's keys")

    ann.connect()
    joined = ann.join(slug)  # which reads the room's keys, as a client does on opening it
    check(joined["room"].get("e2e") is True, "ann's join ack says e2e", joined["room"])
    info = ann.room_e2e(slug)
    check(info["epoch"] == 1 and ann.current_key(slug) is not None,
          "nobody held epoch 1's key: ann's client made it and sealed it to her", info)
    check([(k["epoch"], k["sealed_by"].lower()) for k in info["keys"]] == [(1, ann.name.lower())],
          "the server keeps it, sealed by ann", info["keys"])

    bob.connect()
    bob.join(slug)
    check(bob.current_key(slug) is None, "bob joins: he waits while a member holds the key",
          bob.room_e2e(slug)["members"])
    settle([ann, bob], lambda: bob.current_key(slug) is not None,
           "room_keys: ann's client seals epoch 1's key to bob, bob's opens it")
    check(bob.current_key(slug)[1] == ann.current_key(slug)[1], "both hold the same room key")
    return slug


def messages_both_ways(ann, bob, slug):
    ann.send(slug, "hello bob, only you can read this")
    sent = ann.last_envelope
    settle([ann, bob], lambda: decrypted(bob, slug, "hello bob, only you can read this"),
           "bob decrypts and verifies ann's message")
    raw = bob.find(slug, "hello bob, only you can read this").raw
    check(raw.get("text") == "" and raw.get("envelope") == sent,
          "the event carries an empty text and the envelope unchanged", raw)
    bob.send(slug, "hi ann ✓")
    settle([ann, bob], lambda: decrypted(ann, slug, "hi ann ✓"),
           "ann decrypts and verifies bob's message")

    ack = ann.send(slug, "an edit follows")
    ann.edit(slug, ack["seq"], "an edited message")
    settle([ann, bob], lambda: any(r.edited and r.opened.verified and r.opened.text ==
                                   "an edited message" for r in bob.received),
           "message_edited: bob decrypts and verifies ann's edit")
    # REST: a post and an edit carry the envelope the same way
    created = bob.api.call("POST", messages_path(slug),
                           {"envelope": bob.envelope(slug, "posted over REST")})
    bob.api.call("PATCH", messages_path(slug, created["seq"]),
                 {"envelope": bob.envelope(slug, "edited over REST")})
    settle([ann, bob], lambda: any(r.edited and r.opened.verified and r.opened.text ==
                                   "edited over REST" for r in ann.received),
           "a REST post and edit with envelopes reach ann, decrypted and verified")

    for n in range(3):
        ann.send(slug, f"page {n}")
    settle([ann, bob], lambda: decrypted(bob, slug, "page 2"), "bob receives three more")
    last = ann.history(slug, limit=1)[0][0]["seq"]
    texts, before = {}, last + 1
    while True:
        page = bob.history(slug, before=before, limit=2)
        if not page:
            break
        check(len(page) <= 2, "a history page holds at most 2 messages", page)
        for message, read in page:
            check(read is not None and read.opened.verified,
                  f"history seq {message['seq']}: decrypted and verified",
                  read and read.opened)
            texts[message["seq"]] = read.opened.text
        before = page[0][0]["seq"]
    texts = [texts[seq] for seq in sorted(texts)]
    check(texts == ["hello bob, only you can read this", "hi ann ✓", "an edited message",
                    "edited over REST", "page 0", "page 1", "page 2"],
          "paging back reads every message in order, edits as edited", texts)


def message_files(writer, reader, room):
    """docs/e2ee.md, "Attachments": `writer` sends an encrypted file in `room`, `reader` opens
    it (the server answers 201 to the upload as a generic file)."""
    data = ("the secret minutes\n" * 300).encode()
    text = f"the minutes of {room}, encrypted"
    try:
        file_id, entry = writer.upload_encrypted(room, data, "minutes.txt", "text/plain")
    except ApiError as exc:
        raise CheckFailed(f"{room}: an encrypted upload (application/octet-stream, "
                          f"encrypted.bin) is accepted: {exc}") from exc
    writer.send(room, text, files=[entry], attachments=[file_id])
    settle([writer, reader], lambda: decrypted(reader, room, text),
           f"{room}: {reader.name} decrypts a message with an encrypted attachment")
    got = reader.find(room, text)
    attachment = got.raw["attachments"][0]
    check(attachment["id"] == file_id and attachment["name"] == "encrypted.bin"
          and not attachment.get("thumbnail"),
          "the server sees a generic encrypted.bin, no preview", attachment)
    listed = got.opened.content["files"][0]
    check(reader.download_decrypted(listed, attachment["url"]) == data
          and listed["name"] == "minutes.txt" and listed["size"] == len(data),
          f"{reader.name} downloads it and opens it with the key from the envelope", listed)


def forged_through_server(ann, bob, slug):
    epoch, key = bob.current_key(slug)
    rogue = AccountKeys.generate()
    bob.gateway.call("send", {"room": slug, "envelope": seal_message(
        key, slug, epoch, {"text": "signed by a stranger"}, rogue)})
    settle([ann, bob], lambda: ann.find(slug, "signed by a stranger", verified=False)
           is not None, "ann reads a message signed by a key that is not bob's")
    check(ann.find(slug, "signed by a stranger", verified=False).opened.status == "unverified",
          "it is reported unverified")


def refusals(ann, dave, slug, url):
    plain_text = {"room": slug, "text": "in the clear"}
    refused(ann, "send", plain_text, "e2e_required", "native gateway: plaintext to an e2e room")
    seq = ann.find(slug, "page 2").seq
    refused(ann, "edit", {"room": slug, "seq": seq, "text": "in the clear"}, "e2e_required",
            "native gateway: a plaintext edit in an e2e room")
    rest_refused(ann.api, "POST", messages_path(slug), {"text": "in the clear"}, 422,
                 "e2e_required", "REST: plaintext to an e2e room")
    sio = SioClient("ann[socket.io]", url, ["websocket"], auth={"token": ann.token})
    try:
        expect_ok(sio.call("identify", {}), "socket.io: ann identifies")
        expect_ok(sio.call("join", {"room": slug}), "socket.io: ann joins the e2e room")
        reply = sio.call("send", plain_text)
        check(reply.get("ok") is False and reply["error"]["code"] == "e2e_required",
              "socket.io: plaintext to an e2e room -> e2e_required", reply)
    finally:
        sio.close()

    epoch, key = ann.current_key(slug)
    good = ann.envelope(slug, "shape test")
    bad = {
        "a nonce of 8 bytes": {**good, "nonce": b64e(b"12345678")},
        "a signature of 63 bytes": {**good, "signature": b64e(b64d(good["signature"])[:63])},
        "a ciphertext of 8 bytes": {**good, "ciphertext": b64e(b"short ct")},
        "version 2": {**good, "v": 2},
        "no signature": {k: v for k, v in good.items() if k != "signature"},
        "a nonce that is not base64": {**good, "nonce": "not base64!!"},
    }
    for what, envelope in bad.items():
        refused(ann, "send", {"room": slug, "envelope": envelope}, "invalid_payload",
                f"native gateway: an envelope with {what}")
    rest_refused(ann.api, "POST", messages_path(slug), {"envelope": bad["a nonce of 8 bytes"]},
                 422, "invalid_payload", "REST: a malformed envelope")
    future = seal_message(key, slug, epoch + 1, {"text": "from the future"}, ann.keys)
    refused(ann, "send", {"room": slug, "envelope": future}, "stale_epoch",
            f"an envelope under epoch {epoch + 1} (the current is {epoch})")

    plain = unique("py-plain-").lower()
    ann.api.call("POST", "/api/rooms", {"slug": plain})
    ann.join(plain)
    refused(ann, "send", {"room": plain, "envelope": good}, "not_e2e",
            "native gateway: an envelope to a server-side room")
    rest_refused(ann.api, "POST", messages_path(plain), {"envelope": good}, 422, "not_e2e",
                 "REST: an envelope to a server-side room")
    rest_refused(ann.api, "GET", f"/api/rooms/{plain}/e2e", None, 422, "not_e2e",
                 "a server-side room has no room keys")
    info = ann.api.call("GET", f"/api/rooms/{plain}")
    check(info.get("e2e") is False and info.get("epoch") == 0,
          "a server-side room says e2e false, epoch 0", info)
    ann.gateway.call("send", {"room": plain, "text": "searchable words here"})
    return plain


def search(ann, slug, plain):
    def hits(room):
        return ann.api.call("GET", "/api/search", params={"author": ann.name, "room": room})

    end = time.monotonic() + WAIT
    while not hits(plain)["results"] and time.monotonic() < end:
        time.sleep(0.2)
    check(hits(plain)["results"], "search finds ann's message in the server-side room")
    found = hits(slug)
    check(found["results"] == [], "search finds nothing in the e2e room (by author)", found)
    found = ann.api.call("GET", "/api/search", params={"q": "page"})
    check(all(r["room"] != slug for r in found["results"]),
          "nor by a word of its messages", found)


def conversation(ann, bob, dave):
    opened = ann.gateway.call("pm_open", {"user": bob.name})
    room = opened["room"]
    check(opened.get("e2e") is True and opened.get("epoch", 0) >= 1,
          "a conversation between two accounts with keys is end-to-end", opened)
    accepted = bob.gateway.call("pm_accept", {"room": room})
    check(accepted.get("state") == "open" and accepted.get("e2e") is True,
          "bob accepts; his side says e2e too", accepted)
    ann.join(room)
    bob.join(room)
    settle([ann, bob], lambda: bob.current_key(room) is not None and
           ann.current_key(room) is not None, "both hold the conversation's key")
    ann.send(room, "a private word")
    settle([ann, bob], lambda: decrypted(bob, room, "a private word"),
           "bob decrypts and verifies ann's private message")
    bob.send(room, "and one back")
    settle([ann, bob], lambda: decrypted(ann, room, "and one back"),
           "ann decrypts and verifies bob's answer")

    plain = ann.gateway.call("pm_open", {"user": dave.name})
    check(plain.get("e2e") is False,
          "a conversation with an account without keys is server-side", plain)
    ann.join(plain["room"])
    refused(ann, "send", {"room": plain["room"], "envelope": ann.envelope(room, "x")}, "not_e2e",
            "an envelope in that conversation")
    return room


def keys_replaced(ann, bob, room):
    """docs/e2ee.md, "Limits": new keys read from then on; old signatures turn unverified."""
    ann.join(room)
    check(ann.current_key(room) is not None, "ann's new device opens the conversation's key")
    old = bob.keys.fingerprint
    bob.set_up_keys(PASSWORD)
    bob.room_keys.clear()  # a new device with new keys holds no room key
    settle([ann, bob], lambda: bob.current_key(room) is not None,
           "bob replaces his keys: ann's client seals the conversation's key to the new ones")
    check((bob.name, old, bob.keys.fingerprint) in ann.key_changes,
          "ann's client noticed bob's new fingerprint (a warning to show)", ann.key_changes)
    bob.send(room, "with my new keys")
    settle([ann, bob], lambda: decrypted(ann, room, "with my new keys"),
           "ann decrypts and verifies bob's message under his new keys")
    page = {r.opened.text: r.opened.status for _, r in ann.history(room, limit=10)}
    check(page.get("and one back") == "unverified" and page.get("a private word") == "ok",
          "bob's message signed with his old keys now shows as unverified", page)


def removal_and_late_joiner(url, ann, bob, carol, slug):
    before = ann.room_e2e(slug)["epoch"]
    bob_keys = dict(bob.held(slug))
    check(before in bob_keys, f"bob holds the key of epoch {before}", sorted(bob_keys))
    status, _, _ = ann.api.request("DELETE", f"/api/rooms/{slug}/members/{bob.name}")
    check(status == 204, "ann removes bob from the room", status)
    settle([ann, bob], lambda: ann.epochs.get(slug) == before + 1 and
           ann.current_key(slug) is not None,
           f"room_keys: the epoch grows to {before + 1} and ann's client makes its key")
    check(ann.room_e2e(slug)["epoch"] == before + 1, "the server says the same epoch")
    rest_refused(bob.api, "GET", f"/api/rooms/{slug}/e2e", None, 404, "not_found",
                 "bob can no longer read the room's keys")
    old = seal_message(ann.held(slug)[before], slug, before, {"text": "old"}, ann.keys)
    refused(ann, "send", {"room": slug, "envelope": old}, "stale_epoch",
            f"an envelope under the old epoch {before}")

    ann.send(slug, "after bob left")
    settle([ann], lambda: decrypted(ann, slug, "after bob left"), "ann writes in the new epoch")
    message = next(m for m, _ in ann.history(slug, limit=5)
                   if m["envelope"]["epoch"] == before + 1)
    envelope = message["envelope"]
    for epoch, key in bob_keys.items():
        for label in {epoch, envelope["epoch"]}:
            forced = {**envelope, "epoch": label}
            got = open_envelope(forced, slug, {label: key}, ann.keys.signing_public)
            check(got.status == "undecryptable",
                  f"bob's key of epoch {epoch} does not open it (read as epoch {label})",
                  got)
    check(bob.open_message(slug, envelope, ann.name).status == "undecryptable",
          "bob's client reports it undecryptable")

    # a member who joins later
    carol.connect()
    carol.join(slug)
    check(carol.current_key(slug) is None, "carol joins: ann holds the key, carol waits",
          carol.room_e2e(slug)["members"])
    guess = seal_message(b"\x01" * 32, slug, before + 1, {"text": "no key"}, carol.keys)
    refused(carol, "send", {"room": slug, "envelope": guess}, "epoch_key_missing",
            "carol writes before holding the epoch's key")
    settle([ann, carol], lambda: carol.current_key(slug) is not None,
           "ann's client seals the current key to carol")
    info = carol.room_e2e(slug)
    check([k["epoch"] for k in info["keys"]] == [before + 1],
          f"carol gets epoch {before + 1}'s key only", info["keys"])
    check(all(m["has_key"] for m in info["members"] if m["keys"]),
          "every member with keys holds the current key", info["members"])
    page = carol.history(slug, limit=50)
    read = {m["seq"]: r for m, r in page}
    old = [r for m, r in page if m["envelope"]["epoch"] <= before]
    check(old and all(r.opened.status == "undecryptable" for r in old),
          f"carol cannot open the {len(old)} messages of earlier epochs", len(old))
    check(read[message["seq"]].opened.verified
          and read[message["seq"]].opened.text == "after bob left",
          "carol decrypts and verifies the current epoch's message, sent before she joined "
          "(joining starts no epoch)")
    carol.send(slug, "hello from carol")
    settle([ann, carol], lambda: decrypted(ann, slug, "hello from carol"),
           "ann decrypts and verifies carol's message")
    return before + 1


def tampering(ann, bob, carol, slug):
    message = next(m for m, _ in ann.history(slug, limit=1))
    envelope = message["envelope"]
    raw = bytearray(b64d(envelope["ciphertext"]))
    raw[0] ^= 1
    tampered = {**envelope, "ciphertext": b64e(bytes(raw))}
    got = ann.open_message(slug, tampered, message["author"]["name"])
    check(got.status == "undecryptable", "a tampered ciphertext is undecryptable", got)
    author = message["author"]["name"]
    other = ann.name if author.lower() != ann.name.lower() else carol.name
    got = ann.open_message(slug, envelope, other)
    check(got.status == "unverified" and got.text is not None,
          f"a message named as {other}'s but signed by {author} is unverified", got)

    epoch, key = ann.current_key(slug)
    sealed = seal_room_key(key, slug, epoch, carol.keys.agreement_public, bob.keys)
    try:
        open_sealed_key(sealed, slug, epoch, carol.keys, ann.keys.signing_public)
        raise CheckFailed("a sealed key signed by bob opened as sealed by ann")
    except SealError as exc:
        log(f"  ok - a sealed key signed by someone other than sealed_by is refused ({exc})")
    fresh = carol.held(slug).pop(epoch)
    carol.open_sealed_entries(slug, [{"epoch": epoch, "sealed": sealed, "sealed_by": ann.name}],
                              [])
    check(epoch not in carol.held(slug), "carol's client treats that key as missing")
    carol.held(slug)[epoch] = fresh
    genuine = seal_room_key(key, slug, epoch, carol.keys.agreement_public, ann.keys)
    check(open_sealed_key(genuine, slug, epoch, carol.keys, ann.keys.signing_public) == key,
          "the same key sealed and signed by ann opens")


def member_leaves(ann, carol, slug, epoch):
    status, _, _ = carol.api.request("DELETE", f"/api/rooms/{slug}/membership")
    check(status == 204, "carol leaves the room", status)
    settle([ann, carol], lambda: ann.epochs.get(slug) == epoch + 1 and
           ann.current_key(slug) is not None, f"a member leaving starts epoch {epoch + 1}")


def password_change(url, ann, slug):
    fingerprint_before = ann.keys.fingerprint
    rewrapped = ann.rewrap_for_password(NEW_PASSWORD)
    check(rewrapped["fingerprint"].lower() == fingerprint_before,
          "re-wrapping keeps the same keys (fingerprint)", rewrapped)
    ann.api.call("POST", "/api/password",
                 {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    log("  ok - ann changes her password after re-wrapping")
    ann.close()
    device = E2EClient.login(url, ann.name, NEW_PASSWORD, emit=narrate("ann2"))
    try:
        device.unlock(password=PASSWORD)
        raise CheckFailed("the old password still unwraps the keys")
    except UnwrapError:
        log("  ok - the old password no longer unwraps the keys")
    device.unlock(password=NEW_PASSWORD)
    check(device.keys.fingerprint == fingerprint_before,
          "a new device unwraps the same keys with the new password")
    device.connect()
    device.join(slug)
    held = sorted(device.held(slug))
    check(held == list(range(1, device.epochs[slug] + 1)),
          "it opens every epoch's key sealed to ann", held)
    page = device.history(slug, limit=100)
    texts = [r.opened.text for _, r in page if r is not None and r.opened.verified]
    check(all(t in texts for t in ("hello bob, only you can read this", "hi ann ✓",
                                    "after bob left", "hello from carol")),
          "the room's history still decrypts and verifies", texts)
    unverified = [r.opened.text for _, r in page if r is not None and not r.opened.verified]
    check(unverified == ["signed by a stranger"], "only the forged message stays unverified",
          unverified)
    return device


def run(url):
    clients = []
    try:
        ann, bob, carol = (account(url, p) for p in ("PyE2eAnn", "PyE2eBob", "PyE2eCar"))
        dave = account(url, "PyE2eDav")
        clients.extend([ann, bob, carol, dave])
        recovery = ann.set_up_keys(PASSWORD)
        check(len(recovery.replace(" ", "")) == 52 and recovery.count(" ") == 12,
              "ann sets up keys; her recovery key is 13 groups of base32", recovery)
        for c in (bob, carol):
            c.set_up_keys(PASSWORD)
        log("  ok - bob and carol set up keys; dave has none")
        dave.connect()

        keys_and_directory(url, ann, bob, recovery)
        slug = e2e_room(url, ann, bob, dave)
        messages_both_ways(ann, bob, slug)
        forged_through_server(ann, bob, slug)
        plain = refusals(ann, dave, slug, url)
        search(ann, slug, plain)
        pm = conversation(ann, bob, dave)
        epoch = removal_and_late_joiner(url, ann, bob, carol, slug)
        tampering(ann, bob, carol, slug)
        member_leaves(ann, carol, slug, epoch)
        device = password_change(url, ann, slug)
        clients.append(device)
        keys_replaced(device, bob, pm)
        message_files(device, bob, pm)
        message_files(device, device, slug)
    except ApiError as exc:
        raise CheckFailed(f"unexpected answer: {exc}") from exc
    finally:
        for c in clients:
            c.close()


def main():
    return run_checks("e2e_python.py", "BASE_URL   (e.g. http://127.0.0.1:38211)", 1, DEADLINE,
                      run)


if __name__ == "__main__":
    sys.exit(main())
