"""Tests of the harness itself: a harness that cannot fail proves nothing about Shoal."""

import socket
import threading

import pytest

import harness
from harness import Reply, ScriptError, Step, compare, split_args
from resp import RespConnection, encode_command


# --- script tokenizer and parser --------------------------------------------------------------

@pytest.mark.parametrize("line,args", [
    ("SET a b", [b"SET", b"a", b"b"]),
    ("  GET   a  ", [b"GET", b"a"]),
    ('SET "a b" c', [b"SET", b"a b", b"c"]),
    ('SET k "\\x00\\xff\\n\\r\\t\\"\\\\"', [b"SET", b"k", b'\x00\xff\n\r\t"\\']),
    ("SET k 'it\\'s \\n'", [b"SET", b"k", b"it's \\n"]),
    ('SET k ""', [b"SET", b"k", b""]),
    ('ECHO a"b c"', [b"ECHO", b"ab c"]),
    ("ECHO \u00e9", [b"ECHO", "\u00e9".encode()]),
])
def test_split_args(line, args):
    assert split_args(line) == args


@pytest.mark.parametrize("line", ['SET "a', "SET 'a", 'SET "a"b', "SET 'a'b"])
def test_split_args_rejects(line):
    with pytest.raises(ScriptError):
        split_args(line)


def test_parse_script(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("# comment\n\nSET a b\n!ignore TIME\n!approx 2 TTL a\n!sleep 0.5\n!newconn\n"
                    "!sort KEYS *\n!type INFO\n")
    steps = harness.parse_script(path)
    assert [(s.lineno, s.directive, s.param, s.args) for s in steps] == [
        (3, "", 0, [b"SET", b"a", b"b"]), (4, "ignore", 0, [b"TIME"]),
        (5, "approx", 2, [b"TTL", b"a"]), (6, "sleep", 0.5, []), (7, "newconn", 0, []),
        (8, "sort", 0, [b"KEYS", b"*"]), (9, "type", 0, [b"INFO"])]


@pytest.mark.parametrize("text", ["!bogus PING", "!approx TTL a", "!sleep", "!sleep 1 PING",
                                  "!ignore", 'SET "a'])
def test_parse_script_rejects(tmp_path, text):
    path = tmp_path / "bad.txt"
    path.write_text(text + "\n")
    with pytest.raises(ScriptError):
        harness.parse_script(path)


# --- comparison under directives --------------------------------------------------------------

def step(directive="", param=0):
    return Step(1, "X", directive, param, [b"X"])


def arr(*items, kind="*"):
    children = [Reply("$", b"$%d\r\n%s\r\n" % (len(i), i)) for i in items]
    head = b"%s%d\r\n" % (kind.encode(), len(children))
    return Reply(kind, head + b"".join(c.raw for c in children), children)


def test_compare_exact_and_ignore():
    assert compare(step(), Reply("+", b"+OK\r\n"), Reply("+", b"+OK\r\n")) is None
    assert compare(step(), Reply("+", b"+OK\r\n"), Reply("+", b"+Ok\r\n"))
    assert compare(step("ignore"), Reply(":", b":1\r\n"), Reply("-", b"-ERR\r\n")) is None


def test_compare_type():
    assert compare(step("type"), Reply(":", b":1\r\n"), Reply(":", b":2\r\n")) is None
    assert compare(step("type"), Reply(":", b":1\r\n"), Reply("$", b"$1\r\n1\r\n"))
    assert compare(step("type"), Reply("$", b"$-1\r\n"), Reply("$", b"$0\r\n\r\n"))


def test_compare_sort():
    assert compare(step("sort"), arr(b"a", b"b"), arr(b"b", b"a")) is None
    assert compare(step("sort"), arr(b"a", b"b"), arr(b"a", b"a"))
    assert compare(step("sort"), arr(b"a", b"b"), arr(b"a", b"b", kind="~"))
    assert compare(step("sort"), arr(b"k1", b"v1", b"k2", b"v2", kind="%"),
                   arr(b"k2", b"v2", b"k1", b"v1", kind="%")) is None
    assert compare(step("sort"), arr(b"k1", b"v1", b"k2", b"v2", kind="%"),
                   arr(b"k1", b"v2", b"k2", b"v1", kind="%"))


def test_compare_approx():
    i = lambda n: Reply(":", b":%d\r\n" % n)
    assert compare(step("approx", 1), i(100), i(99)) is None
    assert compare(step("approx", 1), i(100), i(98))
    assert compare(step("approx", 5), i(0), i(-1))  # -1 (no TTL) is never "close" to 0.
    assert compare(step("approx", 5), i(-2), i(-2)) is None
    assert compare(step("approx", 5), i(1), Reply("$", b"$1\r\n1\r\n"))


# --- the RESP reader, fed canned bytes --------------------------------------------------------

def serve_once(data: bytes) -> int:
    """A one-shot TCP server that sends `data` to its first client and closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run():
        conn, _ = listener.accept()
        for i in range(0, len(data), 3):  # Small writes: the reader must reassemble.
            conn.sendall(data[i: i + 3])
        conn.close()
        listener.close()
    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


REPLIES = [
    b"+OK\r\n", b"-ERR x\r\n", b":-5\r\n", b"$3\r\na\r\n\r\n", b"$0\r\n\r\n", b"$-1\r\n",
    b"*-1\r\n", b"*0\r\n", b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", b"_\r\n", b",3.14\r\n", b",inf\r\n",
    b"#t\r\n", b"(12345678901234567890\r\n", b"=8\r\ntxt:abcd\r\n", b"!5\r\nERR x\r\n",
    b"%1\r\n+k\r\n*2\r\n:1\r\n_\r\n", b"~2\r\n:1\r\n:2\r\n", b">2\r\n+message\r\n+x\r\n",
    b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", b"*1\r\n|1\r\n+a\r\n+b\r\n:7\r\n",
]


def test_reader_splits_replies_exactly():
    with RespConnection(serve_once(b"".join(REPLIES))) as conn:
        assert [conn.read_reply().raw for _ in REPLIES] == REPLIES
        assert conn.is_closed_by_peer()


def test_reader_builds_tree():
    with RespConnection(serve_once(b"%1\r\n+k\r\n*2\r\n:1\r\n_\r\n")) as conn:
        reply = conn.read_reply()
    assert reply.kind == "%"
    assert [c.kind for c in reply.children] == ["+", "*"]
    assert reply.children[1].children[1].is_null


def test_encode_command():
    assert encode_command([b"SET", "k", 5]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n"


# --- the runner reports differences -----------------------------------------------------------

def test_runner_reports_mismatch(tmp_path, redis_ref):
    """Both sides on one server: CLIENT ID differs between two connections, unless ignored."""
    path = tmp_path / "ids.txt"
    path.write_text("PING\n!ignore CLIENT ID\nCLIENT ID\n")
    mismatches = harness.run_script(path, redis_ref.port, redis_ref.port, 3)
    assert [(m.lineno, m.command) for m in mismatches] == [(3, "CLIENT ID")]
    assert "ids.txt:3 (RESP3) CLIENT ID" in str(mismatches[0])


def test_runner_requires_newconn_after_quit(tmp_path, redis_ref):
    path = tmp_path / "quit.txt"
    path.write_text("QUIT\nPING\n")
    with pytest.raises(ScriptError):
        harness.run_script(path, redis_ref.port, redis_ref.port, 2)
