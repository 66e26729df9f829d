"""A minimal blocking RESP2 client: enough for PING, INFO, FLUSHALL, DBSIZE and preflight checks.

It never generates the measured load (redis-benchmark does); it only talks to a server between
measurements, so clarity wins over speed here.
"""

import socket


class RespError(Exception):
    """An error reply (`-ERR ...`) from the server."""


class ProtocolError(Exception):
    """The server sent bytes that are not RESP2, or closed the connection mid-reply."""


def encode(*args) -> bytes:
    """Encodes one command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Client:
    """One connection. Replies decode to str (status), bytes (bulk), int, list or None."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0):
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._reader = self._sock.makefile("rb")

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, *args):
        """Sends one command and returns its reply. Raises RespError on an error reply."""
        self._sock.sendall(encode(*args))
        return self.read_reply()

    def send_raw(self, data: bytes) -> None:
        self._sock.sendall(data)

    def read_exact(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise ProtocolError(f"connection closed after {len(data)} of {size} bytes")
        return data

    def read_reply(self):
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise ProtocolError(f"connection closed or truncated reply: {line[:80]!r}")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body.decode()
        if kind == b"-":
            raise RespError(body.decode(errors="replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            size = int(body)
            if size < 0:
                return None
            data = self.read_exact(size + 2)
            if not data.endswith(b"\r\n"):
                raise ProtocolError("bulk string not terminated by CRLF")
            return data[:-2]
        if kind == b"*":
            count = int(body)
            return None if count < 0 else [self.read_reply() for _ in range(count)]
        raise ProtocolError(f"unexpected reply type: {line[:80]!r}")


def parse_info(text) -> dict:
    """Parses an INFO reply (`field:value` lines, `# Section` headers) into a dict of strings."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    fields = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields
