#!/usr/bin/env python3
"""The AI companion over Socket.IO with python-socketio.

Usage: python3 sio_companion.py BASE_URL BOT_NAME

The server runs with a scripted model server and one free message. An account (registered
over REST with `requests`) connects twice, once per transport (websocket and polling), opens
its conversation with the bot (`pm_open`: open at once), joins it on both and sends a message.
Both connections get the bot's `typing`, the reply's `ai_delta` pieces under one message_id,
then the stored reply from the bot (`bot: true`) whose client_msg_id is that id and whose text
is the pieces joined. The next message gets `ai_limit_reached`; `/reset` is answered anyway.
Prints one line per check; exits 0 when all pass, 1 on the first failed check, 2 on bad usage,
3 when the run overruns its deadline.
"""

import sys

import requests

from sio_python import check, Client, expect_ok, log, run_checks, unique

DEADLINE = 28.0
PASSWORD = "correct horse battery"


def from_bot(data, bot):
    author = data.get("author") or data.get("user") or {}
    return author.get("name") == bot and author.get("bot") is True


def run(url, bot):
    name = unique("PyAi")
    reply = requests.post(f"{url}/api/register", json={"username": name, "password": PASSWORD},
                          timeout=5)
    check(reply.status_code == 201, "register over REST", reply.text)
    token = reply.json()["token"]
    clients = []
    try:
        for transport in ("websocket", "polling"):
            c = Client(transport, url, [transport], auth={"token": token})
            clients.append(c)
            expect_ok(c.call("identify", {}), f"{transport}: identifies with the token")
        ws, polling = clients
        opened = expect_ok(ws.call("pm_open", {"user": bot}), "opens a conversation with the bot")
        check(opened["state"] == "open", "it is open at once, nobody has to accept", opened)
        room = opened["room"]
        for c in clients:
            expect_ok(c.call("join", {"room": room}), f"{c.label}: joins the conversation")

        marks = [c.mark() for c in clients]
        expect_ok(ws.call("send", {"room": room, "text": "hello from python"}),
                  "the message is stored and acknowledged")
        for c, mark in zip(clients, marks):
            c.wait_event("typing", lambda d: from_bot(d, bot) and d.get("active") is True,
                         f"{c.label}: the bot is typing", since=mark)
            stored = c.wait_event("message", lambda d: d.get("room") == room and from_bot(d, bot),
                                  f"{c.label}: the stored reply from the bot", since=mark)
            with c.cond:
                deltas = [d for n, d in c.events[mark:] if n == "ai_delta"]
            # python-engineio hands each received packet to the handler on a thread of its own,
            # so under load the events list may hold them out of order; `at` is how a client
            # puts the pieces in order (the server sends them in order on one connection).
            deltas.sort(key=lambda d: d["at"])
            check(deltas and all(d["room"] == room for d in deltas),
                  f"{c.label}: the reply came in ai_delta pieces first", deltas)
            ids = {d["message_id"] for d in deltas}
            check(ids == {stored.get("client_msg_id")},
                  f"{c.label}: the pieces and the stored reply share one id", (ids, stored))
            check("".join(d["text"] for d in deltas) == stored["text"],
                  f"{c.label}: the pieces make the stored text", (deltas, stored))
            starts = [len("".join(d["text"] for d in deltas[:i]).encode("utf-16-le")) // 2
                      for i in range(len(deltas))]
            check([d["at"] for d in deltas] == starts,
                  f"{c.label}: each piece says where it starts (UTF-16 units)", deltas)

        mark = ws.mark()
        expect_ok(ws.call("send", {"room": room, "text": "one more"}), "a second message is stored")
        limit = ws.wait_event("ai_limit_reached", lambda d: d.get("room") == room,
                              "the free message is spent: ai_limit_reached", since=mark)
        check(limit["free_messages"] == 1, "it says how many were free", limit)

        mark = ws.mark()
        expect_ok(ws.call("send", {"room": room, "text": "/reset"}), "/reset is sent")
        ws.wait_event("message", lambda d: d.get("room") == room and from_bot(d, bot),
                      "the bot answers /reset even past the trial", since=mark)
    finally:
        for c in clients:
            c.close()
    log(f"companion over Socket.IO ok as {name}")


def main():
    return run_checks("sio_companion.py", "BASE_URL BOT_NAME", 2, DEADLINE, run)


if __name__ == "__main__":
    sys.exit(main())
