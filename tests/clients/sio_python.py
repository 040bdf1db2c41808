#!/usr/bin/env python3
"""Parlor over Socket.IO with the official python-socketio *sync* client.

Usage: python3 sio_python.py BASE_URL      (e.g. http://127.0.0.1:38211)

Runs the same scenario twice, once over the websocket transport and once polling-only:
identify / join / member_joined / send + message fan-out / the error codes of `send` and
`identify` / token reconnect / member_left.  Prints one line per check; exits 0 when all
pass, 1 on the first failed check, 2 on bad usage, 3 when the whole run overruns its deadline.
Every wait is bounded; a watchdog kills the process if anything still hangs.

Requires tests/clients/requirements.txt (`pip install -r tests/clients/requirements.txt`).
"""

import os
import random
import sys
import threading
import time

try:
    import socketio
except ImportError:  # pragma: no cover - environment problem, reported plainly
    print("FAIL: python-socketio is not installed (pip install -r tests/clients/requirements.txt)",
          flush=True)
    sys.exit(1)

WAIT = 5.0           # seconds for any single ack or event
DEADLINE = 28.0      # seconds for the whole script
ROOM = "lobby"


class CheckFailed(Exception):
    pass


def log(text):
    print(text, flush=True)


def check(cond, what, detail=None):
    """One assertion: prints `ok - what`, or raises with the detail."""
    if not cond:
        raise CheckFailed(what + ("" if detail is None else f" (got: {detail!r})"))
    log(f"  ok - {what}")


def expect_ok(reply, what):
    check(isinstance(reply, dict) and reply.get("ok") is True and isinstance(reply.get("data"), dict),
          f"{what} -> ok with data", reply)
    return reply["data"]


def expect_error(reply, code, what):
    ok = (isinstance(reply, dict) and reply.get("ok") is False
          and isinstance(reply.get("error"), dict) and reply["error"].get("code") == code
          and isinstance(reply["error"].get("message"), str))
    check(ok, f"{what} -> error {code}", reply)


def names(users):
    return [u.get("name") for u in users if isinstance(u, dict)]


class Client:
    """A sync socketio.Client that records every server event for bounded waits."""

    def __init__(self, label, url, transports, auth=None):
        self.label = label
        self.events = []                  # [(event, data)] in arrival order
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False, request_timeout=WAIT,
                                   handle_sigint=False, logger=False, engineio_logger=False)
        self.sio.on("*", self._on_any)
        try:
            self.sio.connect(url, transports=transports, auth=auth, namespaces=["/"],
                             wait=True, wait_timeout=WAIT)
        except Exception as exc:  # connection refused, handshake failure, timeout
            raise CheckFailed(f"{label}: connect over {transports} failed: {exc!r}") from exc
        check(self.sio.connected, f"{label}: connected over {transports} "
                                  f"(transport={self.sio.transport()})")

    def _on_any(self, event, *args):
        data = args[0] if args else None
        with self.cond:
            self.events.append((event, data))
            self.cond.notify_all()

    def call(self, command, data):
        try:
            return self.sio.call(command, data, timeout=WAIT)
        except socketio.exceptions.TimeoutError:
            raise CheckFailed(f"{self.label}: no ack for {command!r} within {WAIT}s")
        except Exception as exc:
            raise CheckFailed(f"{self.label}: {command!r} failed: {exc!r}") from exc

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait_event(self, event, pred, what, since=0, timeout=WAIT):
        """Waits for an event named `event` (received at index >= since) whose data fits pred."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for name, data in self.events[since:]:
                    if name == event and isinstance(data, dict) and pred(data):
                        log(f"  ok - {what}")
                        return data
                left = end - time.monotonic()
                if left <= 0:
                    seen = [(n, d) for n, d in self.events[since:]][-6:]
                    raise CheckFailed(f"{what}: no matching {event!r} event within {timeout}s; "
                                      f"last events: {seen!r}")
                self.cond.wait(left)

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass


def unique(prefix):
    # 1–20 chars of [A-Za-z0-9_-]; mixed case so that swapcase() gives a different spelling.
    return f"{prefix}{random.randint(0, 999999):06d}"


def scenario(url, transports, tag):
    log(f"== pass: transports={transports}")
    nick_a, nick_b, nick_c = unique(f"Py{tag}a"), unique(f"Py{tag}b"), unique(f"Py{tag}c")
    clients = []

    def client(label, auth=None):
        c = Client(label, url, transports, auth=auth)
        clients.append(c)
        return c

    try:
        a = client(f"A[{nick_a}]")
        b = client(f"B[{nick_b}]")

        # identify
        data_a = expect_ok(a.call("identify", {"nick": nick_a}), "A identify with a nick")
        user_a = data_a.get("user") or {}
        check(user_a.get("name") == nick_a, "A identify: data.user.name is the nick", user_a)
        check(user_a.get("kind") == "guest", "A identify: data.user.kind is guest", user_a)
        token_a = data_a.get("token")
        check(isinstance(token_a, str) and token_a != "", "A identify: data.token is a non-empty string",
              token_a)
        data_b = expect_ok(b.call("identify", {"nick": nick_b}), "B identify with a nick")
        check((data_b.get("user") or {}).get("name") == nick_b, "B identify: data.user.name is the nick",
              data_b)
        check(isinstance(data_b.get("token"), str) and data_b["token"] != "",
              "B identify: data.token is a non-empty string", data_b.get("token"))
        expect_error(a.call("identify", {"nick": unique("Pyz")}), "already_identified",
                     "A identify a second time")

        # join
        joined_a = expect_ok(a.call("join", {"room": ROOM}), "A join lobby")
        check(joined_a.get("room") == ROOM, "A join: data.room is lobby", joined_a)
        check(nick_a in names(joined_a.get("members") or []), "A join: members contain A",
              joined_a.get("members"))
        mark_a = a.mark()
        joined_b = expect_ok(b.call("join", {"room": ROOM}), "B join lobby")
        members_b = names(joined_b.get("members") or [])
        check(nick_b in members_b, "B join: members contain B", members_b)
        check(nick_a in members_b, "B join: members contain A (already present)", members_b)
        a.wait_event("member_joined",
                     lambda d: d.get("room") == ROOM and (d.get("user") or {}).get("name") == nick_b,
                     "A receives member_joined for B", since=mark_a)
        expect_error(a.call("join", {"room": f"nowhere{tag}"}), "not_found", "A (a guest) join a room that does not exist")

        # send + fan-out
        text = "hello from python"
        mark_a, mark_b = a.mark(), b.mark()
        sent = expect_ok(a.call("send", {"room": ROOM, "text": text}), "A send to lobby")
        msg_id = sent.get("id")
        check(isinstance(msg_id, str) and msg_id != "", "A send: ack has a string id", sent)
        check(isinstance(sent.get("ts"), (int, float)) and not isinstance(sent.get("ts"), bool)
              and sent["ts"] > 1_500_000_000_000, "A send: ack has a millisecond ts", sent)
        got = b.wait_event("message", lambda d: d.get("text") == text,
                           "B receives the message event", since=mark_b)
        check((got.get("author") or {}).get("name") == nick_a, "B message: author.name is A", got)
        check(got.get("id") == msg_id, "B message: same id as A's ack", got)
        check(got.get("room") == ROOM and got.get("ts") == sent.get("ts"),
              "B message: room lobby and same ts as the ack", got)
        a.wait_event("message", lambda d: d.get("id") == msg_id,
                     "A (the sender) receives its own message event", since=mark_a)
        mark_b = b.mark()
        expect_ok(b.call("send", {"room": ROOM, "text": f"  reply {tag}  "}), "B send (padded text)")
        a.wait_event("message", lambda d: d.get("text") == f"reply {tag}"
                     and (d.get("author") or {}).get("name") == nick_b,
                     "A receives B's message, trimmed", since=mark_a)

        # error cases on an identified, joined client
        expect_error(a.call("send", {"room": ROOM, "text": "   "}), "empty_message",
                     "A send whitespace-only text")
        expect_error(a.call("send", {"room": ROOM, "text": "x" * 501}), "message_too_long",
                     "A send 501 characters")
        expect_error(a.call("send", {"room": f"nowhere{tag}", "text": "hi"}),
                     "not_found", "A (a guest) send to a room that does not exist")

        # a fresh client: unauthenticated, nick_taken (other case), then not_in_room before join
        c = client(f"C[{nick_c}]")
        expect_error(c.call("send", {"room": ROOM, "text": "too early"}), "unauthenticated",
                     "C send before identify")
        expect_error(c.call("identify", {"nick": nick_a.swapcase()}), "nick_taken",
                     f"C identify as {nick_a.swapcase()!r} (A's nick, other case)")
        expect_ok(c.call("identify", {"nick": nick_c}), "C identify with its own nick afterwards")
        expect_error(c.call("send", {"room": ROOM, "text": "not joined"}), "not_in_room",
                     "C send before join")
        c.close()

        # the token restores A's identity on a second connection (connect auth, identify {})
        t1 = client(f"A-tab2[{nick_a}]", auth={"token": token_a})
        restored = expect_ok(t1.call("identify", {}), "second connection with auth.token: identify {}")
        check((restored.get("user") or {}).get("name") == nick_a,
              "second connection: same user name as A", restored)
        t1.close()

        # A leaves: B gets member_left once A's (last) connection is gone
        mark_b = b.mark()
        a.close()
        b.wait_event("member_left",
                     lambda d: d.get("room") == ROOM and (d.get("user") or {}).get("name") == nick_a,
                     "B receives member_left for A after A disconnects", since=mark_b)

        # reconnect after the disconnect: identity restored, back in the lobby
        t2 = client(f"A-again[{nick_a}]", auth={"token": token_a})
        again = expect_ok(t2.call("identify", {}), "reconnect with auth.token after disconnect: identify {}")
        check((again.get("user") or {}).get("name") == nick_a, "reconnect: same user name as A", again)
        mark_b = b.mark()
        rejoined = expect_ok(t2.call("join", {"room": ROOM}), "reconnected A joins lobby")
        check(nick_b in names(rejoined.get("members") or []), "reconnected A sees B in members",
              rejoined.get("members"))
        b.wait_event("member_joined", lambda d: (d.get("user") or {}).get("name") == nick_a,
                     "B receives member_joined for the reconnected A", since=mark_b)
        # and the token also works as an identify argument
        t3 = client(f"A-tab3[{nick_a}]")
        by_arg = expect_ok(t3.call("identify", {"token": token_a}), "identify {token} on a fresh connection")
        check((by_arg.get("user") or {}).get("name") == nick_a, "identify {token}: same user name as A",
              by_arg)
    finally:
        for c in clients:
            c.close()


def run_checks(script, usage, argc, deadline, run):
    """The entry point of every sio_*.py script: checks the arguments (BASE_URL first, then
    `argc - 1` more), runs `run(url, *rest)` under a watchdog and exits 0 when every check
    passed, 1 on the first failed check (or an unexpected exception), 2 on bad usage, 3 when
    the run overruns `deadline` seconds. os._exit: the client's background threads are not
    waited for."""
    if len(sys.argv) < argc + 1 or not sys.argv[1].startswith(("http://", "https://")):
        print(f"usage: {sys.argv[0]} {usage}", file=sys.stderr)
        return 2

    def overrun():
        print(f"FAIL: {script} did not finish within {deadline}s", flush=True)
        os._exit(3)

    watchdog = threading.Timer(deadline, overrun)
    watchdog.daemon = True
    watchdog.start()
    started = time.monotonic()
    try:
        run(sys.argv[1].rstrip("/"), *sys.argv[2:argc + 1])
    except CheckFailed as exc:
        print(f"FAIL: {exc}", flush=True)
        os._exit(1)
    except Exception as exc:  # an unexpected client-side exception is a failure too
        print(f"FAIL: unexpected {exc!r}", flush=True)
        os._exit(1)
    log(f"all checks passed in {time.monotonic() - started:.1f}s")
    watchdog.cancel()
    sys.stdout.flush()
    os._exit(0)


def main():
    def both_transports(url):
        try:
            from importlib.metadata import version
            client_version = version("python-socketio")
        except Exception:
            client_version = "?"
        log(f"python-socketio {client_version} (sync client) against {url}")
        run = f"{random.randint(0, 99):02d}"
        scenario(url, ["websocket"], f"W{run}")
        scenario(url, ["polling"], f"P{run}")

    return run_checks("sio_python.py", "BASE_URL   (e.g. http://127.0.0.1:38211)", 1, DEADLINE,
                      both_transports)


if __name__ == "__main__":
    sys.exit(main())
