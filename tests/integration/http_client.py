"""Helpers for the HTTP API tests: a Shoal with HTTP on a free port, and small clients."""

import http.client
import json
import socket
import time

import pytest

import servers


def start_http_shoal(threads="2", extra=()):
    """A Shoal of its own with the HTTP API on a free port (skips under SHOAL_BIN=redis)."""
    if servers.is_self_test():
        pytest.skip("SHOAL_BIN=redis: the HTTP API is Shoal's own")
    try:
        s = servers.make_shoal(threads=threads, http=True, extra=extra)
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    s.start()
    deadline = time.monotonic() + 10
    while True:  # The HTTP sockets open with the RESP ones; this only guards against a race.
        try:
            socket.create_connection(("127.0.0.1", s.http_port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return s


class Http:
    """One keep-alive connection (http.client) with JSON helpers."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if body is not None and content_type is not None:
            hdrs.setdefault("Content-Type", content_type)
        self.conn.request(method, path, body=body, headers=hdrs)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        return status, (json.loads(data) if data else None)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def raw_exchange(port, data: bytes, timeout=5.0) -> bytes:
    """Sends `data` on a fresh socket and reads until the server closes (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_all(s, timeout)


def read_all(sock, timeout) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def split_responses(data: bytes):
    """Splits raw HTTP/1.1 responses (Content-Length framed) into (status, headers, body)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"incomplete response: {data!r}")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out
