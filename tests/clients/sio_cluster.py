#!/usr/bin/env python3
"""Two Parlor nodes (one database, one Redis) through the official python-socketio client.

Usage: python3 sio_cluster.py URL_A URL_B SCENARIO ANN_TOKEN BOB_TOKEN TARGET

ANN_TOKEN and BOB_TOKEN are session tokens of two registered accounts; every client of ann's
connects to node A and every client of bob's to node B, so whatever one of them sees of the
other crossed from one node to the other.
  * SCENARIO `chat`, TARGET a public room ann owns: twice, over the websocket transport and
    then polling-only: a guest on each node in the lobby (each listed and announced on the
    other node, messages both ways, no seq); ann and bob in the room (messages both ways, each
    with its seq, a burst from both sides received by both exactly once and in order); bob
    leaves, ann writes on, and on the next pass bob resumes on his node with `join` + `since`.
  * SCENARIO `private`, TARGET the code of an ephemeral room ann hosts (activated): ann over
    websocket on A and bob polling on B hold a private conversation (invitation, acceptance,
    messages both ways with seq, read marker seen over REST on the other node); a guest on B
    joins ann's ephemeral room under a name the door offers and chats with ann on A; a third
    device on A gets room_locked.
Prints one line per check; exits 0 when all pass, 1 on the first failed check, 2 on bad
usage, 3 when the run overruns its deadline.
"""

import sys

import requests

from sio_python import check, Client, expect_error, expect_ok, log, run_checks, unique

DEADLINE = 50.0
LOBBY = "lobby"


def names(users):
    return [u.get("name") for u in users if isinstance(u, dict)]


class Clients:
    """The clients of one pass, closed together at its end."""

    def __init__(self, transports):
        self.transports = transports
        self.open = []

    def connect(self, label, url, token=None, transports=None):
        client = Client(label, url, transports or self.transports,
                        auth={"token": token} if token else None)
        self.open.append(client)
        if token:
            client.user = expect_ok(client.call("identify", {}),
                                    f"{label} identifies with its token")["user"]
        return client

    def close(self):
        for client in self.open:
            client.close()


def room_seqs(client, room, since):
    """The seqs of `room`'s message events `client` received from index `since` on."""
    with client.cond:
        return [d.get("seq") for name, d in client.events[since:]
                if name == "message" and isinstance(d, dict) and d.get("room") == room]


def wait_seqs(client, room, since, want, what):
    """Waits until `client` holds the message events `want` (seqs) of `room`, and checks it
    got them exactly once, in order, and no other."""
    client.wait_event("message", lambda d: d.get("room") == room and d.get("seq") == want[-1],
                      f"{what}: the last one arrives", since=since)
    got = room_seqs(client, room, since)
    check(got == want, f"{what}: each exactly once, in order", got)


def lobby(clients, url_a, url_b, tag):
    nick_a, nick_b = unique(f"Cl{tag}a"), unique(f"Cl{tag}b")
    on_a = clients.connect(f"guest {nick_a} on A", url_a)
    on_b = clients.connect(f"guest {nick_b} on B", url_b)
    expect_ok(on_a.call("identify", {"nick": nick_a}), "the guest on A identifies")
    expect_ok(on_b.call("identify", {"nick": nick_b}), "the guest on B identifies")
    expect_ok(on_a.call("join", {"room": LOBBY}), "the guest on A joins the lobby")
    mark_a, mark_b = on_a.mark(), on_b.mark()
    joined = expect_ok(on_b.call("join", {"room": LOBBY}), "the guest on B joins the lobby")
    if nick_a in names(joined.get("members") or []):
        log("  ok - B's join lists the guest present on A")
    else:
        # Presence crosses nodes through Redis: a join that reaches B's node before A's
        # presence does is told of it right after, as any arrival is.
        on_b.wait_event("member_joined",
                        lambda d: d.get("room") == LOBBY
                        and (d.get("user") or {}).get("name") == nick_a,
                        "B is told of the guest present on A right after its join", since=mark_b)
    on_a.wait_event("member_joined",
                    lambda d: d.get("room") == LOBBY and (d.get("user") or {}).get("name") == nick_b,
                    "A is told the guest on B joined", since=mark_a)
    for sender, receiver, who, author in [(on_a, on_b, "A", nick_a), (on_b, on_a, "B", nick_b)]:
        text = f"lobby hello from {who} ({tag})"
        mark = receiver.mark()
        sent = expect_ok(sender.call("send", {"room": LOBBY, "text": text}),
                         f"the guest on {who} writes to the lobby")
        got = receiver.wait_event("message", lambda d: d.get("id") == sent.get("id"),
                                  "the other node's guest receives it", since=mark)
        check(got.get("text") == text and (got.get("author") or {}).get("name") == author
              and got.get("room") == LOBBY and "seq" not in got,
              "a lobby message: same text, its author, no seq", got)
    mark_a = on_a.mark()
    on_b.close()
    on_a.wait_event("member_left",
                    lambda d: d.get("room") == LOBBY and (d.get("user") or {}).get("name") == nick_b,
                    "A is told the guest on B left", since=mark_a)


def room(clients, url_a, url_b, tag, ann_token, bob_token, slug, state):
    ann = clients.connect("ann on A", url_a, ann_token)
    bob = clients.connect("bob on B", url_b, bob_token)
    expect_ok(ann.call("join", {"room": slug}), "ann joins the room on A")
    mark_ann = ann.mark()
    resume = state.get("bob_seq")
    join = {"room": slug} if resume is None else {"room": slug, "since": resume}
    mark_bob = bob.mark()
    joined = expect_ok(bob.call("join", join),
                       "bob joins the room on B" + ("" if resume is None else f" since {resume}"))
    if resume is not None:
        seqs = [m.get("seq") for m in joined.get("messages") or []]
        check(seqs == state["missed"] and joined.get("more") is False,
              "bob resumes with exactly what ann wrote while he was away", seqs)
    last = joined["room"]["last_seq"]
    for sender, receiver, who in [(ann, bob, "ann on A"), (bob, ann, "bob on B")]:
        text = f"{who} in the room ({tag})"
        mark = receiver.mark()
        sent = expect_ok(sender.call("send", {"room": slug, "text": text,
                                              "client_msg_id": unique(f"c{tag}")}),
                         f"{who} writes to the room")
        check(sent.get("seq") == last + 1 and sent.get("duplicate") is False,
              f"{who}'s message gets the next seq", sent)
        last = sent["seq"]
        got = receiver.wait_event("message",
                                  lambda d: d.get("room") == slug and d.get("seq") == last,
                                  "the other node's client receives it with that seq", since=mark)
        check(got.get("text") == text and got.get("id") == sent.get("id"),
              "the same message: text and id", got)
    # A burst from both sides at once: both sides get all of it once, in order.
    for n in range(6):
        for sender, who in [(ann, "ann"), (bob, "bob")]:
            sent = expect_ok(sender.call("send", {"room": slug, "text": f"{who} burst {n}"}),
                             f"{who} burst {n}")
            check(sent["seq"] > last, f"{who} burst {n}: a higher seq", sent)
            last = sent["seq"]
    first = joined["room"]["last_seq"] + 1
    want = list(range(first, last + 1))
    wait_seqs(ann, slug, mark_ann, want, f"ann on A gets seq {first}..{last}")
    wait_seqs(bob, slug, mark_bob, want, f"bob on B gets seq {first}..{last}")
    # Bob goes; ann writes on; the next pass resumes him from here.
    bob.close()
    state["bob_seq"] = last
    state["missed"] = [expect_ok(ann.call("send", {"room": slug, "text": f"while bob is away {n}"}),
                                 f"ann writes while bob is away ({n})")["seq"] for n in range(2)]


def chat(url_a, url_b, ann_token, bob_token, slug):
    state = {}
    for transports, tag in [(["websocket"], "W"), (["polling"], "P")]:
        log(f"== pass: transports={transports}")
        clients = Clients(transports)
        try:
            lobby(clients, url_a, url_b, tag)
            room(clients, url_a, url_b, tag, ann_token, bob_token, slug, state)
        finally:
            clients.close()


def rest(url, token, method, path):
    reply = requests.request(method, f"{url}{path}", timeout=5,
                             headers={"Authorization": f"Bearer {token}"})
    return reply.status_code, (reply.json() if reply.content else None)


def conversation(url_b, ann, bob, ann_token):
    bob_name = bob.user["name"]
    mark = bob.mark()
    opened = expect_ok(ann.call("pm_open", {"user": bob_name}), "ann on A opens a conversation")
    check(opened.get("state") == "pending", "it waits for bob", opened)
    pm = opened["room"]
    bob.wait_event("conversation_updated",
                   lambda d: d["conversation"]["room"] == pm and d["conversation"]["state"] == "invited",
                   "bob on B is invited live", since=mark)
    mark = ann.mark()
    accepted = expect_ok(bob.call("pm_accept", {"room": pm}), "bob accepts on B")
    check(accepted.get("state") == "open", "the conversation is open", accepted)
    ann.wait_event("conversation_updated",
                   lambda d: d["conversation"]["room"] == pm and d["conversation"]["state"] == "open",
                   "ann on A is told it is open", since=mark)
    expect_ok(ann.call("join", {"room": pm}), "ann joins the conversation on A")
    expect_ok(bob.call("join", {"room": pm}), "bob joins the conversation on B")
    last = 0
    for sender, receiver, who in [(ann, bob, "ann on A"), (bob, ann, "bob on B")]:
        mark = receiver.mark()
        sent = expect_ok(sender.call("send", {"room": pm, "text": f"private from {who}"}),
                         f"{who} writes in the conversation")
        check(sent.get("seq") == last + 1, "the next seq", sent)
        last = sent["seq"]
        got = receiver.wait_event("message", lambda d: d.get("room") == pm and d.get("seq") == last,
                                  "the peer on the other node receives it", since=mark)
        check(got.get("text") == f"private from {who}", "with its text", got)
    expect_ok(ann.call("read", {"room": pm, "seq": last}), "ann marks bob's message read on A")
    status, listed = rest(url_b, ann_token, "GET", "/api/conversations")
    mine = [c for c in (listed or {}).get("conversations", []) if c.get("room") == pm]
    check(status == 200 and len(mine) == 1 and mine[0].get("unread") == 0
          and mine[0].get("last_seq") == last,
          "node B's REST shows ann's read marker", listed)


def ephemeral(clients, url_a, url_b, ann, code):
    eroom = f"e:{code}"
    door = requests.get(f"{url_b}/api/ephemeral/{code}", timeout=5).json()
    check(door.get("active") is True and len(door.get("names") or []) >= 1,
          "node B's door offers names for ann's room", door)
    guest = clients.connect("guest on B", url_b, transports=["websocket"])
    expect_ok(guest.call("identify", {"nick": door["names"][0]}),
              "the guest on B takes an offered name")
    expect_ok(guest.call("join", {"room": eroom, "device": "py-cluster-guest-device"}),
              "the guest joins from a device on B")
    expect_ok(ann.call("join", {"room": eroom, "device": "py-cluster-host-device"}),
              "ann joins her room from a device on A")
    for sender, receiver, who in [(guest, ann, "the guest on B"), (ann, guest, "ann on A")]:
        mark = receiver.mark()
        sent = expect_ok(sender.call("send", {"room": eroom, "text": f"ephemeral from {who}"}),
                         f"{who} writes in the ephemeral room")
        receiver.wait_event("message",
                            lambda d: d.get("room") == eroom and d.get("seq") == sent.get("seq")
                            and d.get("text") == f"ephemeral from {who}",
                            "the other device, on the other node, receives it", since=mark)
    full = requests.get(f"{url_a}/api/ephemeral/{code}", timeout=5).json()
    check(full.get("places_left") == 0, "node A's door says the room is full", full)
    intruder = clients.connect("a third device on A", url_a, transports=["websocket"])
    expect_ok(intruder.call("identify", {"nick": unique("Cli")}), "an intruder identifies on A")
    expect_error(intruder.call("join", {"room": eroom, "device": "py-cluster-third-device"}),
                 "room_locked", "a third device on A is refused")


def private(url_a, url_b, ann_token, bob_token, code):
    clients = Clients(["websocket"])
    try:
        ann = clients.connect("ann on A (websocket)", url_a, ann_token)
        bob = clients.connect("bob on B (polling)", url_b, bob_token, transports=["polling"])
        log("== private conversation")
        conversation(url_b, ann, bob, ann_token)
        log("== ephemeral room")
        ephemeral(clients, url_a, url_b, ann, code)
    finally:
        clients.close()


def run(url_a, url_b, scenario, ann_token, bob_token, target):
    url_b = url_b.rstrip("/")
    log(f"node A {url_a}, node B {url_b}: {scenario}")
    if scenario == "chat":
        chat(url_a, url_b, ann_token, bob_token, target)
    elif scenario == "private":
        private(url_a, url_b, ann_token, bob_token, target)
    else:
        check(False, "a known scenario (chat, private)", scenario)


def main():
    return run_checks("sio_cluster.py", "URL_A URL_B chat|private ANN_TOKEN BOB_TOKEN TARGET", 6,
                      DEADLINE, run)


if __name__ == "__main__":
    sys.exit(main())
