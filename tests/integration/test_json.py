r"""Golden tests of the JSON.* commands (tests/integration/json_cases/*.txt).

There is no RedisJSON to diff against, so each case states the exact reply RedisJSON 2.x gives,
taken from its command reference (redis.io/commands/json.*) and its published tests.

Case file format
  `> CMD arg ...`   a command; arguments split as redis-cli splits them (harness.split_args).
  The lines after it, up to the next command, spell its expected reply one RESP line each:
    +OK  -ERR text  :5  *2  %1  ~3  #t  ,1.5  _  $-1  *-1   as sent (RESP2 or RESP3 types);
    $text            a bulk string holding `text` verbatim (the driver writes its length);
    $\text           a bulk string whose text has escapes \n \r \t \\ \" (for INDENT output or
                     a bulk "-1", which would otherwise read as a null);
    -ERR text...     an error line ending in "..." matches any error starting with the rest
                     (parse errors, whose wording is the parser's own).
  `@resp3` / `@resp2` switches the connection's protocol (HELLO 3 / HELLO 2) for what follows.
  `#` starts a comment line; blank lines are ignored.
Each file starts on a fresh connection after FLUSHALL, in RESP2.
"""

from pathlib import Path

import pytest

from harness import split_args
from resp import RespConnection, encode_command

CASES_DIR = Path(__file__).resolve().parent / "json_cases"
_ESC = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append(_ESC.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def expected_line(line: str):
    """(raw bytes expected, or a prefix to match with prefix=True)."""
    if line.startswith("$\\"):
        b = unescape(line[2:]).encode()
        return b"$%d\r\n%s\r\n" % (len(b), b), False
    if line.startswith("$") and line != "$-1":
        b = line[1:].encode()
        return b"$%d\r\n%s\r\n" % (len(b), b), False
    if line.startswith("-") and line.endswith("..."):
        return line[:-3].encode(), True
    return line.encode() + b"\r\n", False


def parse_cases(path: Path):
    """[(lineno, kind, payload)]: kind "cmd" (args, [expected]) or "proto" (2 or 3)."""
    items = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("> "):
            items.append([lineno, "cmd", (split_args(line[2:]), [], line[2:])])
        elif line.strip() in ("@resp2", "@resp3"):
            items.append([lineno, "proto", int(line.strip()[-1])])
        else:
            assert items and items[-1][1] == "cmd", f"{path.name}:{lineno}: reply before command"
            items[-1][2][1].append(expected_line(line))
    return items


def check_reply(raw: bytes, expected) -> bool:
    """True when `raw` matches the expected lines: each whole line, or an error line's prefix."""
    pos = 0
    for want, prefix in expected:
        if prefix:
            end = raw.find(b"\r\n", pos)
            if end < 0 or not raw[pos:end].startswith(want):
                return False
            pos = end + 2
        else:
            if raw[pos:pos + len(want)] != want:
                return False
            pos += len(want)
    return pos == len(raw)


def run_file(port: int, path: Path) -> list:
    failures = []
    conn = RespConnection(port)
    try:
        conn.call("FLUSHALL")
        for lineno, kind, payload in parse_cases(path):
            if kind == "proto":
                conn.call("HELLO", str(payload))
                continue
            args, expected, text = payload
            conn.send_raw(encode_command(args))
            got = conn.read_reply().raw
            if not check_reply(got, expected):
                want = b"".join(w + (b"...\r\n" if p else b"") for w, p in expected)
                failures.append(f"{path.name}:{lineno}: {text}\n  want {want!r}\n  got  {got!r}")
    finally:
        conn.close()
    return failures


def case_files():
    return sorted(CASES_DIR.glob("*.txt"))


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_json_cases(shoal, path):
    failures = run_file(shoal.port, path)
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:40])
