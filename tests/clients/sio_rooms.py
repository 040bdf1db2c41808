#!/usr/bin/env python3
"""Rooms, private conversations and ephemeral rooms over Socket.IO with python-socketio.

Usage: python3 sio_rooms.py BASE_URL      (e.g. http://127.0.0.1:38211)

Two accounts (registered over REST with `requests`) and a guest drive the server through
the official Socket.IO client, websocket transport:
  * a private room: an outsider's join/send/history answer not_found; a member joins, sends
    with a client_msg_id (a retry stores one message), history pages, resume with `since`;
  * a conversation: pm_open -> the peer gets conversation_updated (invited) -> pm_accept ->
    messages both ways -> read marker;
  * an ephemeral room: the host creates and activates it over REST; a guest joins from a
    device under an offered name and chats with the host; a third device gets room_locked;
  * changing messages in a public room: an edit, a reaction, a reply and a moderator's delete
    reach the other member live (message_edited, reaction, message with reply_to,
    message_deleted with `by`), a member's delete of the owner's message is forbidden, and a
    mention of the member is resolved.
Prints one line per check; exits 0 when all pass, 1 on the first failed check, 2 on bad
usage, 3 when the run overruns its deadline.
"""

import sys

import requests

from sio_python import check, Client, expect_error, expect_ok, log, run_checks, unique

DEADLINE = 28.0
PASSWORD = "correct horse battery"


def register(url, name):
    reply = requests.post(f"{url}/api/register", json={"username": name, "password": PASSWORD},
                          timeout=5)
    check(reply.status_code == 201, f"register {name} over REST", reply.text)
    return reply.json()["token"]


def rest(url, token, method, path, body=None):
    reply = requests.request(method, f"{url}{path}", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {token}"})
    return reply.status_code, (reply.json() if reply.content else None)


def private_room(url, ann, bob, carol):
    asked = unique("py-room-").lower()
    status, created = rest(url, ann.token, "POST", "/api/rooms", {"slug": asked, "private": True})
    check(status == 201, "ann creates a private room over REST", status)
    slug = created["slug"]
    check(slug.startswith(asked + "-"), "a private room gets an unguessable address", slug)
    for command, data in [("join", {"room": slug}), ("history", {"room": slug}),
                          ("send", {"room": slug, "text": "x"})]:
        expect_error(carol.call(command, data), "not_found", f"outsider {command} on a private room")
    status, invite = rest(url, ann.token, "POST", f"/api/rooms/{slug}/invites", {"ttl_secs": 600})
    check(status == 201, "ann creates an invite", invite)
    status, _ = rest(url, bob.token, "POST", f"/api/invites/{invite['token']}")
    check(status == 200, "bob redeems the invite", status)

    joined = expect_ok(ann.call("join", {"room": slug}), "ann joins her room")
    check(joined["room"]["role"] == "owner", "ann is the owner", joined["room"])
    expect_ok(bob.call("join", {"room": slug}), "bob joins as a member")
    mark = bob.mark()
    first = expect_ok(ann.call("send", {"room": slug, "text": "one", "client_msg_id": "py-1"}),
                      "ann sends with a client_msg_id")
    again = expect_ok(ann.call("send", {"room": slug, "text": "one", "client_msg_id": "py-1"}),
                      "ann retries the same send")
    check(again["seq"] == first["seq"] and again["duplicate"] is True,
          "the retry is the same message", again)
    bob.wait_event("message", lambda d: d.get("room") == slug and d.get("seq") == first["seq"],
                   "bob receives the message with its seq", since=mark)
    for n in range(2, 5):
        expect_ok(ann.call("send", {"room": slug, "text": f"m{n}"}), f"ann sends m{n}")
    page = expect_ok(bob.call("history", {"room": slug, "before": 4, "limit": 2}),
                     "bob pages back before seq 4")
    check([m["seq"] for m in page["messages"]] == [2, 3], "the page holds seq 2 and 3", page)
    resumed = expect_ok(bob.call("join", {"room": slug, "since": 2}), "bob resumes since seq 2")
    check([m["seq"] for m in resumed["messages"]] == [3, 4], "resume gives exactly 3 and 4",
          resumed["messages"])


def conversation(ann, bob, bob_name):
    mark = bob.mark()
    opened = expect_ok(ann.call("pm_open", {"user": bob_name}), "ann opens a conversation with bob")
    check(opened["state"] == "pending", "it waits for bob", opened)
    room = opened["room"]
    bob.wait_event("conversation_updated",
                   lambda d: d["conversation"]["room"] == room and d["conversation"]["state"] == "invited",
                   "bob is invited live", since=mark)
    expect_error(bob.call("join", {"room": room}), "not_found", "bob cannot read before accepting")
    accepted = expect_ok(bob.call("pm_accept", {"room": room}), "bob accepts")
    check(accepted["state"] == "open", "the conversation is open", accepted)
    expect_ok(ann.call("join", {"room": room}), "ann joins the conversation")
    expect_ok(bob.call("join", {"room": room}), "bob joins the conversation")
    mark = ann.mark()
    sent = expect_ok(bob.call("send", {"room": room, "text": "hi ann"}), "bob writes to ann")
    ann.wait_event("message", lambda d: d.get("room") == room and d.get("text") == "hi ann",
                   "ann receives it", since=mark)
    expect_ok(ann.call("read", {"room": room, "seq": sent["seq"]}), "ann marks it read")


def ephemeral(url, host_token, host, guest, intruder):
    status, created = rest(url, host_token, "POST", "/api/ephemeral")
    check(status == 201 and len(created["code"]) == 4, "the host creates an ephemeral room", created)
    code, room = created["code"], created["room"]
    status, _ = rest(url, host_token, "POST", f"/api/ephemeral/{code}/activate")
    check(status == 200, "the host activates it", status)
    door = requests.get(f"{url}/api/ephemeral/{code}", timeout=5).json()
    check(len(door["names"]) >= 2, "the code offers names to pick", door)
    expect_ok(guest.call("identify", {"nick": door["names"][0]}), "the guest takes an offered name")
    expect_ok(guest.call("join", {"room": room, "device": "py-device-guest"}), "the guest joins")
    expect_ok(host.call("join", {"room": room, "device": "py-device-host"}), "the host joins")
    mark = host.mark()
    expect_ok(guest.call("send", {"room": room, "text": "hello host"}), "the guest writes")
    host.wait_event("message", lambda d: d.get("room") == room and d.get("text") == "hello host",
                    "the host receives it", since=mark)
    expect_ok(intruder.call("identify", {"nick": unique("Pyi")}), "an intruder identifies")
    expect_error(intruder.call("join", {"room": room, "device": "py-device-third"}), "room_locked",
                 "a third device is refused")


def changing_messages(url, dan, eve, dan_name, eve_name):
    slug = unique("py-talk-").lower()
    status, _ = rest(url, dan.token, "POST", "/api/rooms", {"slug": slug})
    check(status == 201, "dan creates a public room", status)
    expect_ok(dan.call("join", {"room": slug}), "dan joins his room")
    expect_ok(eve.call("join", {"room": slug}), "eve joins as a member")
    mark = eve.mark()
    sent = expect_ok(dan.call("send", {"room": slug, "text": f"helo @{eve_name}"}), "dan writes")
    seen = eve.wait_event("message", lambda d: d.get("room") == slug and d.get("seq") == sent["seq"],
                          "eve receives it", since=mark)
    check(seen.get("mentions") == [eve_name], "the message mentions eve", seen)
    edited = expect_ok(dan.call("edit", {"room": slug, "seq": sent["seq"], "text": "hello"}),
                       "dan edits his message")
    eve.wait_event("message_edited",
                   lambda d: d["seq"] == sent["seq"] and d["text"] == "hello"
                   and d["edited_at"] == edited["edited_at"], "eve sees the edit live", since=mark)
    mark = dan.mark()
    reacted = expect_ok(eve.call("react", {"room": slug, "seq": sent["seq"], "emoji": "🎉"}),
                        "eve reacts")
    check(reacted["count"] == 1, "one reaction", reacted)
    dan.wait_event("reaction", lambda d: d["user"] == eve_name and d["on"] and d["count"] == 1,
                   "dan sees the reaction live", since=mark)
    reply = expect_ok(eve.call("send", {"room": slug, "text": "hi!", "reply_to": sent["seq"]}),
                      "eve replies")
    got = dan.wait_event("message", lambda d: d.get("seq") == reply["seq"],
                         "dan receives the reply", since=mark)
    check(got.get("reply_to", {}).get("text") == "hello", "the reply quotes the edited text", got)
    expect_error(eve.call("delete", {"room": slug, "seq": sent["seq"]}), "forbidden",
                 "eve may not delete dan's message")
    mark = eve.mark()
    expect_ok(dan.call("delete", {"room": slug, "seq": reply["seq"]}), "dan deletes eve's reply")
    eve.wait_event("message_deleted", lambda d: d["seq"] == reply["seq"] and d.get("by") == dan_name,
                   "eve sees it deleted by dan", since=mark)
    page = expect_ok(eve.call("history", {"room": slug}), "eve reads the history")
    tomb = [m for m in page["messages"] if m["seq"] == reply["seq"]]
    check(tomb and tomb[0].get("deleted") is True and tomb[0]["text"] == "",
          "the deleted reply is a tombstone", tomb)


def run(url):
    ann_name, bob_name, carol_name = unique("PyAnn"), unique("PyBob"), unique("PyCar")
    dan_name, eve_name = unique("PyDan"), unique("PyEve")
    tokens = {name: register(url, name)
              for name in (ann_name, bob_name, carol_name, dan_name, eve_name)}
    clients = []

    def client(label, token=None):
        c = Client(label, url, ["websocket"], auth={"token": token} if token else None)
        c.token = token
        clients.append(c)
        if token:
            expect_ok(c.call("identify", {}), f"{label} identifies with its token")
        return c

    try:
        ann, bob = client("ann", tokens[ann_name]), client("bob", tokens[bob_name])
        carol = client("carol", tokens[carol_name])
        log("== private room")
        private_room(url, ann, bob, carol)
        log("== conversation")
        conversation(ann, bob, bob_name)
        log("== ephemeral room")
        ephemeral(url, ann.token, ann, client("guest"), client("intruder"))
        log("== changing messages")
        changing_messages(url, client("dan", tokens[dan_name]), client("eve", tokens[eve_name]),
                          dan_name, eve_name)
    finally:
        for c in clients:
            c.close()


def main():
    return run_checks("sio_rooms.py", "BASE_URL", 1, DEADLINE, run)


if __name__ == "__main__":
    sys.exit(main())
