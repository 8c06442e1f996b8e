"""A real HTTP server on 127.0.0.1 for connector tests (house rule 5): routes replay recorded bodies.

    with Loopback() as srv:
        srv.route("/xrpc/app.bsky.actor.getProfile", lambda req: Reply(200, body_bytes))
        ... connectors talk to srv.url ...
        srv.requests  # every request seen: (path, query dict, headers dict)

A route returns a Reply, or a fault: `Reply(..., delay=s)` (a slow answer), `Reply.reset()` (the connection
is reset before any answer), `Reply(..., cut=n)` (Content-Length of the whole body, only n bytes sent, then
the connection closes: a truncated body).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest


def need_httpx():
    """httpx is the live-collection client; fail under CI=true, skip locally, when it is missing."""
    try:
        import httpx  # noqa: F401
    except ImportError:
        msg = "httpx is not installed (pip install httpx): live-collection tests need it"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)


@dataclass
class Request:
    path: str
    query: dict
    headers: dict


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | object = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    cut: int | None = None
    reset_connection: bool = False

    @classmethod
    def json(cls, obj, status: int = 200, **kw) -> "Reply":
        return cls(status, json.dumps(obj).encode(), **kw)

    @classmethod
    def reset(cls) -> "Reply":
        return cls(reset_connection=True)

    def bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        srv: Loopback = self.server.loopback
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        req = Request(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
        srv.requests.append(req)
        handler = srv.find(parts.path)
        reply = handler(req) if handler else Reply.json({"error": "NotFound", "message": "no route"}, 404)
        if reply.reset_connection:
            # RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.bytes()
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if reply.cut is not None:
                self.wfile.write(body[:reply.cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
            self.close_connection = True


class Loopback:
    def __init__(self):
        self.routes: list[tuple[str, Callable[[Request], Reply]]] = []
        self.requests: list[Request] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.loopback = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, prefix: str, handler: Callable[[Request], Reply]) -> None:
        """Requests whose path starts with prefix go to handler; the longest prefix wins, then the latest."""
        self.routes.insert(0, (prefix, handler))

    def find(self, path: str):
        best = None
        for prefix, handler in self.routes:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, handler)
        return best[1] if best else None

    def hits(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def __enter__(self) -> "Loopback":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeTime:
    """A clock whose sleep advances it: rate-limit and backoff waits take no real time in tests."""

    def __init__(self):
        self.now = time.time()
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(seconds, 0.0)
