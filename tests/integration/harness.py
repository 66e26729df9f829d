r"""Differential scripts: the same commands go to redis-server and to Shoal; raw replies must match.

Script format (tests/integration/scripts/*.txt)
  One command per line. Arguments are split as redis-cli splits them: whitespace separates;
  "double quotes" understand \n \r \t \b \a \" \\ and \xHH; 'single quotes' understand
  only \'; a closing quote must be followed by whitespace or the end of the line.
  A line whose first non-blank character is '#' is a comment; blank lines are ignored.

Directives: a line may start with exactly one of these.
  !ignore CMD ...    Send and read the reply, compare nothing (TIME, CLIENT ID, HELLO 3).
  !type CMD ...      Compare only the reply type: its first byte, and whether it is null
                     ($-1 / *-1 / _). For replies whose content legitimately differs (INFO).
  !sort CMD ...      The reply is an array, set or push whose element order is unspecified (KEYS):
                     compare the sorted raw elements. A map compares its sorted key-value pairs.
                     Replies of any other type (an error, say) are compared exactly.
  !approx N CMD ...  Both replies must be integers that differ by at most N (e.g. `!approx 1 TTL k`,
                     `!approx 200 PTTL k`). A negative reply (-1 no expiry, -2 no key) must match
                     exactly, so a missing TTL cannot hide behind the tolerance.
  !sleep SECONDS     Sleep; sends nothing. Keep a file's total under ~3 s.
  !newconn           Close both connections and open new ones (sends HELLO 3 again in RESP3 runs).
                     Needed after QUIT; also resets per-connection state such as SELECT.
Anything else that starts with '!' is an error in the script, as is a command after the server
closed the connection (QUIT) without a !newconn in between.

A run (run_script) opens one connection per server, sends HELLO 3 first in RESP3 runs (its reply is
compared by type only: servers differ in version and id), sends FLUSHALL, then the script's lines
in lockstep: a line goes to the reference, then to Shoal, and both replies are compared before the
next line, so that timing-sensitive lines (!sleep, TTL) see the same clock on both servers.
"""

import time
from dataclasses import dataclass
from pathlib import Path

from resp import ConnectionClosed, ProtocolViolation, Reply, RespConnection, encode_command

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
_SPACE = b" \t\r\n\v\f"
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}
_COMMAND_DIRECTIVES = {"!ignore", "!type", "!sort", "!approx"}


class ScriptError(Exception):
    """A script that cannot be parsed or run as written (a bug in the script, not in a server)."""


def split_args(line: str) -> list:
    """Splits a line into byte-string arguments, following redis-cli's sdssplitargs()."""
    data = line.encode()
    n = len(data)
    i = 0
    args = []
    while True:
        while i < n and data[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        quote = None  # b'"' or b"'" while inside quotes.
        while True:
            if quote is None:
                if i >= n or data[i] in _SPACE:
                    break
                if data[i] in b"\"'":
                    quote = data[i]
                else:
                    cur.append(data[i])
                i += 1
                continue
            if i >= n:
                raise ScriptError(f"unbalanced quotes in: {line}")
            c = data[i]
            if c == quote:
                if i + 1 < n and data[i + 1] not in _SPACE:
                    raise ScriptError(f"closing quote must be followed by a space in: {line}")
                i += 1
                break
            if quote == ord('"') and c == ord("\\") and i + 3 < n and data[i + 1] == ord("x") \
                    and data[i + 2] in _HEX and data[i + 3] in _HEX:
                cur.append(int(data[i + 2: i + 4], 16))
                i += 4
            elif quote == ord('"') and c == ord("\\") and i + 1 < n:
                cur += _ESCAPES.get(data[i + 1], bytes([data[i + 1]]))
                i += 2
            elif quote == ord("'") and c == ord("\\") and i + 1 < n and data[i + 1] == ord("'"):
                cur.append(ord("'"))
                i += 2
            else:
                cur.append(c)
                i += 1
        args.append(bytes(cur))


@dataclass
class Step:
    lineno: int
    text: str  # The line as written, for reports.
    directive: str  # "" for a plain command, else one of the directives without '!'.
    param: float  # N of !approx, seconds of !sleep; 0 otherwise.
    args: list  # The command's arguments as bytes; empty for !sleep and !newconn.


def parse_script(path: Path) -> list:
    steps = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path.name}:{lineno}"
        directive, param = "", 0.0
        if text.startswith("!"):
            word, _, rest = text.partition(" ")
            if word in ("!approx", "!sleep"):
                value, _, rest = rest.strip().partition(" ")
                try:
                    param = float(value)
                except ValueError:
                    raise ScriptError(f"{where}: {word} needs a number: {text}") from None
            elif word not in _COMMAND_DIRECTIVES and word != "!newconn":
                raise ScriptError(f"{where}: unknown directive {word}")
            directive, text = word[1:], rest.strip()
        try:
            args = split_args(text)
        except ScriptError as e:
            raise ScriptError(f"{where}: {e}") from None
        if bool(args) != (directive not in ("sleep", "newconn")):
            raise ScriptError(f"{where}: a command is required after !{directive}, and only there")
        steps.append(Step(lineno, raw.strip(), directive, param, args))
    return steps


def compare(step: Step, ref: Reply, got: Reply):
    """Returns None when the replies agree under the step's directive, else a short reason."""
    if step.directive == "ignore":
        return None
    if step.directive == "type":
        same = (ref.kind, ref.is_null) == (got.kind, got.is_null)
        return None if same else "reply types differ"
    if step.directive == "approx":
        if ref.kind != ":" or got.kind != ":":
            return None if ref.raw == got.raw else "not both integers"
        a, b = int(ref.raw[1:-2]), int(got.raw[1:-2])
        if a < 0 or b < 0:
            return None if a == b else "negative replies must match exactly"
        return None if abs(a - b) <= step.param else f"differ by more than {step.param:g}"
    if step.directive == "sort" and ref.kind == got.kind and ref.kind in "*~>%":
        if ref.kind == "%":
            keyed = lambda r: sorted(zip([c.raw for c in r.children[::2]],
                                         [c.raw for c in r.children[1::2]]))
        else:
            keyed = lambda r: sorted(c.raw for c in r.children)
        return None if keyed(ref) == keyed(got) else "sorted elements differ"
    return None if ref.raw == got.raw else "replies differ"


def _show(raw: bytes, at: int, limit: int = 400) -> str:
    """repr() of a reply, cut to a window around byte `at` when it is long."""
    if len(raw) <= limit:
        return repr(raw)
    start = max(0, at - limit // 4)
    return f"({len(raw)} bytes, from offset {start}) {raw[start:start + limit]!r}..."


@dataclass
class Mismatch:
    script: str
    lineno: int
    protocol: int
    command: str
    reason: str
    ref: bytes
    got: bytes

    def __str__(self):
        at = next((i for i, (x, y) in enumerate(zip(self.ref, self.got)) if x != y),
                  min(len(self.ref), len(self.got)))
        return (f"{self.script}:{self.lineno} (RESP{self.protocol}) {self.command}\n"
                f"    {self.reason}\n"
                f"    redis: {_show(self.ref, at)}\n"
                f"    shoal: {_show(self.got, at)}")


_CLOSED = Reply("closed", b"<connection closed>")
_TIMEOUT = Reply("timeout", b"<no reply: timed out>")


class _Side:
    """One server's end of a script run: its connection, opened in the run's protocol."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.alive = False

    def open(self, protocol: int):
        self.close()
        self.conn = RespConnection(self.port)
        self.alive = True
        return self.exchange([b"HELLO", b"3"]) if protocol == 3 else None

    def exchange(self, args) -> Reply:
        try:
            self.conn.send_raw(encode_command(args))
            return self.conn.read_reply()
        except (ConnectionClosed, ConnectionError):
            self.alive = False
            return _CLOSED
        except TimeoutError:
            self.alive = False
            return _TIMEOUT
        except ProtocolViolation as e:
            self.alive = False
            return Reply("garbage", b"<not RESP> " + bytes(e.args[0]))

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_script(path: Path, ref_port: int, shoal_port: int, protocol: int) -> list:
    """Runs one script against both servers; returns the mismatches (empty when all agree)."""
    steps = parse_script(path)
    sides = [_Side(ref_port), _Side(shoal_port)]
    out = []

    def add(lineno, command, reason, a, b):
        out.append(Mismatch(path.name, lineno, protocol, command, reason, a.raw, b.raw))

    def connect(lineno) -> bool:
        hello = [s.open(protocol) for s in sides]
        if protocol == 3 and (hello[0].kind, hello[0].is_null) != (hello[1].kind, hello[1].is_null):
            add(lineno, "HELLO 3 (connection setup)", "HELLO 3 reply types differ", *hello)
            return False
        return True

    try:
        if not connect(0):
            return out
        flush = [s.exchange([b"FLUSHALL"]) for s in sides]
        if flush[0].raw != b"+OK\r\n" or flush[1].raw != b"+OK\r\n":
            add(0, "FLUSHALL (before the script)", "FLUSHALL failed", *flush)
            return out
        for step in steps:
            if step.directive == "sleep":
                time.sleep(step.param)
                continue
            if step.directive == "newconn":
                if not connect(step.lineno):
                    return out
                continue
            if not all(s.alive for s in sides):
                raise ScriptError(f"{path.name}:{step.lineno}: command after the connection "
                                  f"closed; add !newconn")
            replies = [s.exchange(step.args) for s in sides]
            reason = compare(step, *replies)
            if reason:
                add(step.lineno, step.text, reason, *replies)
            if step.args[0].upper() == b"QUIT" and all(s.alive for s in sides):
                closed = [s.conn.is_closed_by_peer() for s in sides]
                if closed != [True, True]:
                    add(step.lineno, step.text, f"closed after QUIT: redis {closed[0]}, "
                        f"shoal {closed[1]}", *replies)
                    return out
                for s in sides:
                    s.alive = False
            if sides[0].alive != sides[1].alive:
                if reason is None:
                    add(step.lineno, step.text, "only one server closed the connection", *replies)
                return out  # The rest of the script would only repeat this failure.
        return out
    finally:
        for s in sides:
            s.close()


def script_paths() -> list:
    return sorted(SCRIPTS_DIR.glob("*.txt"))


def format_mismatches(mismatches: list, limit: int = 40) -> str:
    shown = "\n".join(str(m) for m in mismatches[:limit])
    more = len(mismatches) - limit
    tail = f"\n... and {more} more" if more > 0 else ""
    return f"{len(mismatches)} mismatching replies:\n{shown}{tail}"
