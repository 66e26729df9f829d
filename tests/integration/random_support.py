"""What the randomized differential tests (test_random_*.py) share: seed and length settings,
opening a connection pair the same way on both servers, spelling a command as a script line in
failure reports, and the exception a stream raises when the servers disagree."""

import os
import random

from resp import RespConnection


class Mismatch(Exception):
    """Redis and Shoal replied differently; the message says where and how to replay it."""


def settings(default_seed: int, default_ops: int, ops_env: str = "SHOAL_RANDOM_OPS"):
    """(seed, number of commands) from SHOAL_RANDOM_SEED (a number, or `random`) and `ops_env`."""
    seed = os.environ.get("SHOAL_RANDOM_SEED", str(default_seed))
    seed = random.SystemRandom().randrange(1 << 32) if seed == "random" else int(seed)
    return seed, int(os.environ.get(ops_env, default_ops))


def open_conn(port: int, protocol: int, *config) -> RespConnection:
    """A connection speaking RESP`protocol` to an emptied server; `config` holds (name, value)
    pairs to CONFIG SET first."""
    conn = RespConnection(port)
    if protocol == 3:
        conn.call(b"HELLO", b"3")
    assert conn.call(b"FLUSHALL") == b"+OK\r\n"
    for name, value in config:
        assert conn.call(b"CONFIG", b"SET", name, value) == b"+OK\r\n"
    return conn


def quote(arg: bytes) -> str:
    """An argument as a scripts/*.txt line spells it (redis-cli quoting)."""
    if arg and all(33 <= c < 127 and c not in b"\"'\\" for c in arg):
        return arg.decode()
    out = []
    for c in arg:
        if c == ord('"') or c == ord("\\"):
            out.append("\\" + chr(c))
        elif 32 <= c < 127:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def line(args) -> str:
    """A command as one scripts/*.txt line, so a failure can be replayed by hand."""
    return " ".join(quote(a) for a in args)
