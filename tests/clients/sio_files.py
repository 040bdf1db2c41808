#!/usr/bin/env python3
"""Attachments over Socket.IO with the official python-socketio client.

Usage: python3 sio_files.py BASE_URL

Two registered users (REST) share a room. The first uploads a file over REST (POST /api/files,
multipart, as a browser form would), then sends it over Socket.IO (websocket transport) with
`attachments`; the second, on the polling transport, receives the `message` event with the
file's metadata and downloads the same bytes with its own token. A guest in the lobby sends a
raw-body upload the same way. Prints one line per check; exits 0 when all pass, 1 on the first
failed check, 2 on bad usage, 3 when the run overruns its deadline.
"""

import sys

import requests

from sio_python import check, Client, expect_error, expect_ok, run_checks, unique

DEADLINE = 28.0
PASSWORD = "correct horse battery"


def register(url, name):
    reply = requests.post(f"{url}/api/register", json={"username": name, "password": PASSWORD},
                          timeout=5)
    check(reply.status_code == 201, f"{name} registers", reply.text)
    return reply.json()["token"]


def run(url):
    clients = []
    try:
        owner_token = register(url, unique("PyOwn"))
        reader_token = register(url, unique("PyRdr"))
        slug = unique("pyfiles").lower()
        reply = requests.post(f"{url}/api/rooms", json={"slug": slug},
                              headers={"Authorization": f"Bearer {owner_token}"}, timeout=5)
        check(reply.status_code == 201, "the owner creates a room", reply.text)
        reply = requests.post(f"{url}/api/rooms/{slug}/membership",
                              headers={"Authorization": f"Bearer {reader_token}"}, timeout=5)
        check(reply.status_code == 200, "the reader joins it", reply.text)

        body = ("minutes of the meeting\n" * 500).encode()
        reply = requests.post(f"{url}/api/files", params={"room": slug},
                              files={"file": ("minutes.txt", body, "text/plain")},
                              headers={"Authorization": f"Bearer {owner_token}"}, timeout=5)
        check(reply.status_code == 201, "a multipart upload is stored", reply.text)
        uploaded = reply.json()
        check(uploaded["name"] == "minutes.txt" and uploaded["size"] == len(body)
              and uploaded["kind"] == "file", "the upload answers its metadata", uploaded)

        owner = Client("owner", url, ["websocket"], auth={"token": owner_token})
        clients.append(owner)
        reader = Client("reader", url, ["polling"], auth={"token": reader_token})
        clients.append(reader)
        for c in (owner, reader):
            expect_ok(c.call("identify", {}), f"{c.label} identifies with its token")
            expect_ok(c.call("join", {"room": slug}), f"{c.label} joins the room")

        expect_error(owner.call("send", {"room": slug, "attachments": ["a" * 26]}),
                     "attachment_unavailable", "an unknown attachment is refused")
        mark = reader.mark()
        sent = owner.call("send", {"room": slug, "text": "the minutes",
                                   "attachments": [uploaded["id"]], "client_msg_id": "m-1"})
        expect_ok(sent, "the owner sends the file")
        message = reader.wait_event(
            "message", lambda d: d.get("room") == slug and d.get("attachments"),
            "the reader receives the message with its attachment", since=mark)
        attachment = message["attachments"][0]
        check(attachment["id"] == uploaded["id"] and attachment["url"] == uploaded["url"],
              "the event carries the file's metadata", attachment)
        reply = requests.get(f"{url}{attachment['url']}",
                             headers={"Authorization": f"Bearer {reader_token}"}, timeout=5)
        check(reply.status_code == 200 and reply.content == body,
              "the reader downloads the same bytes", reply.status_code)

        guest = Client("guest", url, ["websocket"])
        clients.append(guest)
        identified = guest.call("identify", {"nick": unique("PyGst")})
        expect_ok(identified, "a guest identifies")
        expect_ok(guest.call("join", {"room": "lobby"}), "the guest joins the lobby")
        token = identified["data"]["token"]
        reply = requests.post(f"{url}/api/files", params={"room": "lobby", "name": "hello.txt"},
                              data=b"hello from python\n",
                              headers={"Authorization": f"Bearer {token}",
                                       "Content-Type": "application/octet-stream"}, timeout=5)
        check(reply.status_code == 201, "a raw-body lobby upload is stored", reply.text)
        mark = guest.mark()
        expect_ok(guest.call("send", {"room": "lobby", "attachments": [reply.json()["id"]]}),
                  "the guest sends a file without text")
        guest.wait_event("message", lambda d: d.get("attachments") and d.get("text") == "",
                         "the lobby gets the file", since=mark)
    finally:
        for c in clients:
            c.close()


def main():
    return run_checks("sio_files.py", "BASE_URL", 1, DEADLINE, run)


if __name__ == "__main__":
    sys.exit(main())
