#!/usr/bin/env python3
"""A stand-in for an Ollama model server, for bench/companion.sh: answers `POST /api/chat`
(with `"stream": true`, as Parlor asks) with newline-delimited JSON, one line per token at a
fixed pace, then the closing `"done": true` line; the reply length is drawn from a range.

    python3 bench/fake_model.py --port 11434 --tokens-per-s 40 --tokens 60-120

Stdlib only, one thread per request (ThreadingHTTPServer), loopback only, silent per request.
`GET /health` answers 200 so a script can wait for it; `GET /stats` reports the totals so far.
"""

import argparse
import json
import random
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Short pieces (about four characters with their space): 120 of them stay within Parlor's
# default 500-character message, so a stored reply is not cut.
WORDS = (
    "the a to and of it is in you I we so on my be at no do go up by or as me "
    "cat sun sea day way new old red big fun art map tea joy key"
).split()

stats_lock = threading.Lock()
stats = {"requests": 0, "replies": 0, "tokens": 0, "aborted": 0}


def count(**deltas):
    with stats_lock:
        for key, value in deltas.items():
            stats[key] += value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-ollama/1"

    def log_message(self, *args):  # silence per-request logging
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self._json(200, {"ok": True})
        elif self.path == "/stats":
            with stats_lock:
                self._json(200, dict(stats))
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/api/chat":
            self._json(404, {"error": "not found"})
            return
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": "invalid JSON"})
            return
        count(requests=1)
        model = request.get("model", "bench")
        if not request.get("stream", True):
            text = " ".join(random.choice(WORDS) for _ in range(self.server.tokens[0]))
            self._json(200, self.line(model, text, done=True))
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        tokens = random.randint(*self.server.tokens)
        interval = 1.0 / self.server.tokens_per_s
        start = time.monotonic()
        try:
            for i in range(tokens):
                # A fixed schedule, so the pace does not drift with the time spent writing.
                delay = start + (i + 1) * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                piece = random.choice(WORDS)
                self.chunk(self.line(model, piece if i == 0 else " " + piece))
                count(tokens=1)
            self.chunk(self.line(model, "", done=True, tokens=tokens))
            self.wfile.write(b"0\r\n\r\n")
            count(replies=1)
        except (BrokenPipeError, ConnectionResetError):
            count(aborted=1)
            self.close_connection = True

    @staticmethod
    def line(model, content, done=False, tokens=None):
        line = {
            "model": model,
            "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "message": {"role": "assistant", "content": content},
            "done": done,
        }
        if done:
            line["done_reason"] = "stop"
            if tokens is not None:
                line["eval_count"] = tokens
        return line

    def chunk(self, line):
        data = json.dumps(line).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def tokens_range(text):
    low, _, high = text.partition("-")
    low, high = int(low), int(high or low)
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError("expected N or LOW-HIGH with 1 <= LOW <= HIGH")
    return low, high


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--tokens-per-s", type=float, default=40.0, help="per stream")
    parser.add_argument("--tokens", type=tokens_range, default=(60, 120), help="N or LOW-HIGH")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.tokens_per_s = args.tokens_per_s
    server.tokens = args.tokens
    print(f"fake model on http://127.0.0.1:{args.port}: {args.tokens_per_s:g} tokens/s per stream, "
          f"{args.tokens[0]}-{args.tokens[1]} tokens per reply", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
