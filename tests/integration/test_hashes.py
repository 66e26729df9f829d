"""Hash behaviour that a byte-for-byte diff cannot check because it is random or unordered:
HRANDFIELD's draws (members belong, positive counts are distinct, WITHVALUES pairs are right, every
field can come up) and HSCAN walks over hashtables (every field seen, cursors honoured). Each check
runs against redis-server too, so it is known to hold for the reference.
"""

import pytest

from resp import RespConnection

PROTOCOLS = pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])


def _connect(port, protocol):
    conn = RespConnection(port)
    if protocol == 3:
        conn.call(b"HELLO", b"3")
    return conn


def _call(conn, *args):
    conn.send_raw(b"".join([b"*%d\r\n" % len(args)] + [
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x if isinstance(x, bytes) else str(x).encode()
                                                 for x in args)]))
    return conn.read_reply()


def _bulk(reply):
    assert reply.kind == "$", reply.raw
    return reply.raw.split(b"\r\n", 1)[1][:-2]


def _make_hash(conn, key, n):
    """A hash of n fields f<i> -> v<i>: a listpack up to 512 fields, a hashtable beyond."""
    _call(conn, b"DEL", key)
    for start in range(0, n, 500):
        args = [b"HSET", key]
        for i in range(start, min(n, start + 500)):
            args += [b"f%d" % i, b"v%d" % i]
        _call(conn, *args)
    return {b"f%d" % i: b"v%d" % i for i in range(n)}


def _draw_pairs(reply, protocol, withvalues):
    """HRANDFIELD's reply as a list of (field, value or None)."""
    assert reply.kind == "*", reply.raw
    if not withvalues:
        return [(_bulk(c), None) for c in reply.children]
    if protocol == 3:
        assert all(c.kind == "*" and len(c.children) == 2 for c in reply.children)
        return [(_bulk(c.children[0]), _bulk(c.children[1])) for c in reply.children]
    flat = [_bulk(c) for c in reply.children]
    assert len(flat) % 2 == 0
    return list(zip(flat[::2], flat[1::2]))


@pytest.fixture(params=["redis", "shoal"])
def port(request, redis_ref, shoal):
    return redis_ref.port if request.param == "redis" else shoal.port


@PROTOCOLS
@pytest.mark.parametrize("size", [5, 300, 2000], ids=["listpack", "listpack300", "hashtable"])
def test_hrandfield_draws(port, protocol, size):
    conn = _connect(port, protocol)
    fields = _make_hash(conn, b"rh", size)
    expected_encoding = b"listpack" if size <= 512 else b"hashtable"
    assert _bulk(_call(conn, b"OBJECT", b"ENCODING", b"rh")) == expected_encoding
    for count in (1, 2, size // 3, size // 2, size - 1):
        for withvalues in (False, True):
            args = [b"HRANDFIELD", b"rh", count] + ([b"WITHVALUES"] if withvalues else [])
            pairs = _draw_pairs(_call(conn, *args), protocol, withvalues)
            assert len(pairs) == count
            assert len({f for f, _ in pairs}) == count, "a positive count draws distinct fields"
            for f, v in pairs:
                assert f in fields
                assert v is None or v == fields[f]
    for count in (-1, -7, -(size * 2)):
        for withvalues in (False, True):
            args = [b"HRANDFIELD", b"rh", count] + ([b"WITHVALUES"] if withvalues else [])
            pairs = _draw_pairs(_call(conn, *args), protocol, withvalues)
            assert len(pairs) == -count
            for f, v in pairs:
                assert f in fields
                assert v is None or v == fields[f]
    # A negative count repeats fields, and draws all of them over enough tries.
    seen = set()
    for _ in range(20):
        pairs = _draw_pairs(_call(conn, b"HRANDFIELD", b"rh", -size), protocol, False)
        seen.update(f for f, _ in pairs)
    assert len(seen) > size * 0.9
    singles = {_bulk(_call(conn, b"HRANDFIELD", b"rh")) for _ in range(200)}
    assert singles <= set(fields) and len(singles) > min(size, 200) * 0.4
    _call(conn, b"DEL", b"rh")
    conn.close()


@PROTOCOLS
def test_hrandfield_subset_of_listpack_keeps_hash_order(port, protocol):
    conn = _connect(port, protocol)
    _make_hash(conn, b"ro", 50)
    for _ in range(20):
        pairs = _draw_pairs(_call(conn, b"HRANDFIELD", b"ro", 10), protocol, False)
        order = [int(f[1:]) for f, _ in pairs]
        assert order == sorted(order)
    _call(conn, b"DEL", b"ro")
    conn.close()


def _scan_all(conn, key, count=None, match=None):
    cursor, seen, calls = b"0", [], 0
    while True:
        args = [b"HSCAN", key, cursor]
        if match is not None:
            args += [b"MATCH", match]
        if count is not None:
            args += [b"COUNT", count]
        reply = _call(conn, *args)
        assert reply.kind == "*" and len(reply.children) == 2
        cursor = _bulk(reply.children[0])
        elements = [_bulk(c) for c in reply.children[1].children]
        seen += list(zip(elements[::2], elements[1::2]))
        calls += 1
        if cursor == b"0":
            return seen, calls


@PROTOCOLS
def test_hscan_walks_a_hashtable(port, protocol):
    conn = _connect(port, protocol)
    fields = _make_hash(conn, b"sh", 5000)
    seen, calls = _scan_all(conn, b"sh")
    assert dict(seen) == fields
    assert calls > 100  # COUNT 10 means about five fields per call.
    seen, calls = _scan_all(conn, b"sh", count=1000)
    assert dict(seen) == fields and calls < 50
    seen, _ = _scan_all(conn, b"sh", count=100, match=b"f12*")
    assert dict(seen) == {f: v for f, v in fields.items() if f.startswith(b"f12")}
    conn.close()


@PROTOCOLS
def test_hscan_sees_stable_fields_while_the_table_changes(port, protocol):
    """Fields present for the whole walk are returned even while others come and go and the table
    grows and shrinks under the cursor."""
    conn = _connect(port, protocol)
    stable = _make_hash(conn, b"ch", 1000)
    cursor, seen, step = b"0", set(), 0
    while True:
        reply = _call(conn, b"HSCAN", b"ch", cursor, b"COUNT", 20)
        cursor = _bulk(reply.children[0])
        elements = [_bulk(c) for c in reply.children[1].children]
        seen.update(elements[::2])
        if step < 30:  # Grow to many times the size...
            args = [b"HSET", b"ch"]
            for i in range(200):
                args += [b"x%d_%d" % (step, i), b"y"]
            _call(conn, *args)
        elif step < 60:  # ...then shrink back.
            _call(conn, b"HDEL", b"ch", *[b"x%d_%d" % (step - 30, i) for i in range(200)])
        step += 1
        if cursor == b"0":
            break
    assert set(stable) <= seen
    _call(conn, b"DEL", b"ch")
    conn.close()
