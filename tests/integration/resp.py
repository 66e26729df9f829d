"""A raw RESP client: encodes commands, reads exactly one reply, returns its raw bytes.

Replies are kept as bytes (not decoded values) because the differential tests compare what two
servers put on the wire, byte for byte. The parser only walks the structure far enough to know
where a reply ends, and keeps a small tree (`Reply`) so that a caller can compare sorted elements
or just the reply type.

Reply grammar handled (RESP2 and RESP3), where every line ends in CRLF:
  simple '+' / error '-' / integer ':' / double ',' / boolean '#' / big number '(' / null '_'
      := TYPE line
  bulk '$' / verbatim '=' / blob error '!'
      := TYPE len CRLF payload[len] CRLF  |  TYPE -1 CRLF (null, '$' only in practice)
  array '*' / set '~' / push '>'
      := TYPE count CRLF reply{count}  |  '*' -1 CRLF (null array)
  map '%' := TYPE count CRLF (reply reply){count}
  attribute '|' := TYPE count CRLF (reply reply){count} reply
      (read as a prefix of the reply that follows it)
"""

import socket
from dataclasses import dataclass, field

_LINE_TYPES = frozenset(b"+-:,#(_")
_BLOB_TYPES = frozenset(b"$=!")
_SEQ_TYPES = frozenset(b"*~>")
_PAIR_TYPES = frozenset(b"%|")

DEFAULT_TIMEOUT = 10.0  # Seconds; a hung server fails a test instead of hanging the suite.


class ConnectionClosed(Exception):
    """The peer closed the connection before a complete reply arrived."""


class ProtocolViolation(Exception):
    """The server sent bytes that are not RESP; `data` holds what was read so far."""


@dataclass
class Reply:
    kind: str  # The type byte as a one-character string: '+', '$', '*', '%', ...
    raw: bytes  # Every byte of this reply, including any attribute prefix.
    children: list = field(default_factory=list)  # Elements; a map's keys and values alternate.

    @property
    def is_null(self) -> bool:
        return self.kind == "_" or self.raw in (b"$-1\r\n", b"*-1\r\n")


def encode_command(args) -> bytes:
    """Encodes a command as a RESP multibulk; str args are UTF-8, ints are decimal."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = str(arg).encode()
        elif isinstance(arg, str):
            arg = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class RespConnection:
    """One blocking TCP connection. Not thread-safe; one per thread."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self._pos = 0  # Start of unread data in _buf; compacted lazily to avoid quadratic copies.

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def call(self, *args) -> bytes:
        """Sends one command and returns its reply's raw bytes."""
        self.send_raw(encode_command(args))
        return self.read_reply().raw

    def read_reply(self) -> Reply:
        """Reads exactly one complete reply (attribute prefixes included)."""
        prefix = b""
        while True:
            reply = self._read_one()
            if reply.kind != "|":
                reply.raw = prefix + reply.raw
                return reply
            prefix += reply.raw  # An attribute annotates the reply that follows it.

    def read_until_close(self, timeout: float = 2.0) -> bytes:
        """Returns all bytes until the peer closes; raises socket.timeout if it stays open."""
        old_timeout = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        out = bytes(self._buf[self._pos:])
        self._buf.clear()
        self._pos = 0
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return out
                out += chunk
        finally:
            self.sock.settimeout(old_timeout)

    def is_closed_by_peer(self, timeout: float = 2.0) -> bool:
        """True if the peer closes within `timeout` with no further data."""
        try:
            return self.read_until_close(timeout) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    # -- parsing --------------------------------------------------------------------------------

    def _fill(self):
        if self._pos > 1 << 20 and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionClosed(bytes(self._buf[self._pos:]))
        self._buf += chunk

    def _read_line(self) -> bytes:
        """Returns the next line including its CRLF."""
        while True:
            end = self._buf.find(b"\r\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos: end + 2])
                self._pos = end + 2
                return line
            self._fill()

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            self._fill()
        data = bytes(self._buf[self._pos: self._pos + n])
        self._pos += n
        return data

    def _read_one(self) -> Reply:
        line = self._read_line()
        kind = chr(line[0])
        if line[0] in _LINE_TYPES:
            return Reply(kind, line)
        try:
            n = int(line[1:-2])
        except ValueError:
            raise ProtocolViolation(line) from None
        if line[0] in _BLOB_TYPES:
            if n < 0:
                return Reply(kind, line)
            body = self._read_exact(n + 2)
            if body[-2:] != b"\r\n":
                raise ProtocolViolation(line + body)
            return Reply(kind, line + body)
        if line[0] in _SEQ_TYPES or line[0] in _PAIR_TYPES:
            count = max(n, 0) * (2 if line[0] in _PAIR_TYPES else 1)
            children = [self.read_reply() for _ in range(count)]
            return Reply(kind, line + b"".join(c.raw for c in children), children)
        raise ProtocolViolation(line)
