#!/usr/bin/env python3
"""Moderation over Socket.IO with the official python-socketio client.

Usage: python3 sio_moderation.py BASE_URL ROOT_NAME ROOT_PASSWORD

Root (logged in over REST) and a guest both connect through Socket.IO (websocket transport):
root mutes the guest (the guest's send answers `muted`, the lobby gets a `notice`), unmutes,
then bans the guest with a reason: the guest receives `closing` {reason: banned, detail} and a
new Socket.IO connection cannot identify under that nick (`banned`); a plain user's `kick`
answers `forbidden`. Prints one line per check; exits 0 when all pass, 1 on the first failed
check, 2 on bad usage, 3 when the run overruns its deadline.
"""

import sys

import requests

from sio_python import check, Client, expect_error, expect_ok, run_checks, unique

DEADLINE = 28.0


def login(url, name, password):
    reply = requests.post(f"{url}/api/login", json={"username": name, "password": password},
                          timeout=5)
    check(reply.status_code == 200, f"{name} logs in over REST", reply.text)
    return reply.json()["token"]


def run(url, root_name, root_password):
    clients = []

    def client(label, token=None):
        c = Client(label, url, ["websocket"], auth={"token": token} if token else None)
        clients.append(c)
        return c

    try:
        root = client("root", login(url, root_name, root_password))
        expect_ok(root.call("identify", {}), "root identifies with its token")
        expect_ok(root.call("join", {"room": "lobby"}), "root joins the lobby")
        nick = unique("PyGst")
        guest = client("guest")
        expect_ok(guest.call("identify", {"nick": nick}), "a guest identifies")
        expect_ok(guest.call("join", {"room": "lobby"}), "the guest joins the lobby")

        mark = root.mark()
        expect_ok(root.call("mute", {"user": nick, "reason": "cool down"}), "root mutes the guest")
        root.wait_event("notice", lambda d: nick in d.get("text", ""), "the lobby gets a notice",
                        since=mark)
        expect_error(guest.call("send", {"room": "lobby", "text": "hi"}), "muted",
                     "the muted guest cannot write")
        expect_ok(root.call("unmute", {"user": nick}), "root unmutes the guest")
        expect_ok(guest.call("send", {"room": "lobby", "text": "thanks"}), "the guest writes again")

        user_name = unique("PyUsr")
        reply = requests.post(f"{url}/api/register",
                              json={"username": user_name, "password": "correct horse battery"},
                              timeout=5)
        check(reply.status_code == 201, "a plain user registers", reply.text)
        user = client("user", reply.json()["token"])
        expect_ok(user.call("identify", {}), "the user identifies")
        expect_error(user.call("kick", {"user": nick}), "forbidden", "a plain user cannot kick")

        mark = guest.mark()
        expect_ok(root.call("ban", {"user": nick, "reason": "spam"}), "root bans the guest")
        guest.wait_event("closing",
                         lambda d: d.get("reason") == "banned" and d.get("detail") == "spam",
                         "the guest is told it is banned, and why", since=mark)
        again = client("guest-again")
        expect_error(again.call("identify", {"nick": nick}), "banned",
                     "a new connection cannot take the banned nick")
    finally:
        for c in clients:
            c.close()


def main():
    return run_checks("sio_moderation.py", "BASE_URL ROOT_NAME ROOT_PASSWORD", 3, DEADLINE, run)


if __name__ == "__main__":
    sys.exit(main())
