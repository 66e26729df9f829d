"""Raw-bytes tests of the request parser, differential against redis-server.

Malformed requests must get the same error bytes as from Redis, and the connection must then be
closed (Redis closes after a protocol error: the stream cannot be resynchronised). Lenient inputs
(empty lines, *0, inline commands) must be accepted the same way. After every case a second
connection must still work: a bad client must never take the server down.
"""

import os
import socket
import threading
import time

import pytest

from resp import ConnectionClosed, RespConnection, encode_command

SENTINEL = encode_command([b"ECHO", b"end-of-case"])
SENTINEL_REPLY = b"$11\r\nend-of-case\r\n"

# Requests after which Redis replies with a protocol error and closes the connection. Replies to
# complete commands before the bad one are sent first.
PROTOCOL_ERRORS = {
    "multibulk_len_not_a_number": b"*abc\r\n",
    "multibulk_len_plus_sign": b"*+1\r\n$4\r\nPING\r\n",
    "multibulk_len_leading_zero": b"*01\r\n$4\r\nPING\r\n",
    "multibulk_len_over_int_max": b"*2147483648\r\n",
    "bulk_len_not_a_number": b"*1\r\n$abc\r\n",
    "bulk_len_negative": b"*1\r\n$-5\r\n",
    "bulk_len_null_inside_request": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-1\r\n",
    "bulk_len_over_512mb": b"*1\r\n$536870913\r\n",
    "expected_dollar_got_plus": b"*1\r\n+foo\r\n",
    "expected_dollar_got_colon": b"*2\r\n$4\r\nECHO\r\n:1\r\n",
    "expected_dollar_got_star": b"*1\r\n*1\r\n",
    "inline_unbalanced_double_quote": b'SET "a b\r\n',
    "inline_unbalanced_single_quote": b"SET 'a\r\n",
    "inline_text_after_closing_quote": b'SET "a"b c\r\n',
    "inline_too_big": b"a" * (64 * 1024 + 1),
    "multibulk_count_line_too_big": b"*" + b"1" * (64 * 1024 + 1),
    "bulk_count_line_too_big": b"*1\r\n$" + b"1" * (64 * 1024 + 1),
    "error_after_good_commands": b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$x\r\n",
}

# Requests that are accepted: the replies before the sentinel ECHO must match, connection open.
ACCEPTED = {
    "null_and_empty_multibulk_ignored": b"*-1\r\n*0\r\n",
    "empty_inline_lines_ignored": b"\r\n\n   \r\n\t\r\n",
    "inline_lf_only": b"SET inl b\nGET inl\n",
    "inline_quotes_and_escapes": b"ECHO \"\\x41\\n\\t\"\r\nECHO 'it\\'s'\r\nECHO \"\"\r\n",
    "inline_extra_spaces": b"ECHO   spaced   \r\n",
    "inline_empty_command_name": b'""\r\n',
    "inline_dollar_is_a_command_name": b"$-5\r\n",
    "inline_arity_error": b'ECHO "a" "b"\r\n',
    "pipelined_mixed_inline_and_multibulk": b"PING\r\n*1\r\n$4\r\nPING\r\nping\n",
    "empty_bulk_argument": b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    "binary_argument": b"*2\r\n$4\r\nECHO\r\n$4\r\n\x00\r\n\xff\r\n",
}

# Headers that promise more data than is sent: the server must wait without replying (and without
# allocating what was promised up front), and must not mind the client leaving.
INCOMPLETE = {
    "multibulk_len_over_1g": b"*1073741825\r\n",
    "multibulk_len_int_max": b"*2147483647\r\n",
    "bulk_len_exactly_512mb": b"*1\r\n$536870912\r\n",
    "half_a_bulk": b"*2\r\n$4\r\nECHO\r\n$10\r\nabc",
}


def replies_until_close(port: int, payload: bytes, timeout: float = 3.0):
    """Sends `payload`; returns (replies read, whether the server closed within `timeout`)."""
    with RespConnection(port, timeout=timeout) as conn:
        try:
            conn.send_raw(payload)
        except ConnectionError:
            pass  # The server may close before it has read everything; replies may still be there.
        replies = []
        try:
            while True:
                replies.append(conn.read_reply().raw)
        except ConnectionClosed as e:
            leftover = e.args[0]
            if leftover:
                replies.append(b"<partial reply> " + leftover)
            return replies, True
        except ConnectionResetError:
            return replies, True
        except socket.timeout:
            return replies, False


def replies_until_sentinel(port: int, payload: bytes) -> list:
    with RespConnection(port) as conn:
        conn.send_raw(payload + SENTINEL)
        replies = []
        while (reply := conn.read_reply().raw) != SENTINEL_REPLY:
            replies.append(reply)
        return replies


def assert_healthy(port: int):
    with RespConnection(port) as conn:
        assert conn.call(b"PING") == b"+PONG\r\n"


@pytest.mark.parametrize("payload", PROTOCOL_ERRORS.values(), ids=PROTOCOL_ERRORS.keys())
def test_protocol_error_closes_connection(payload, redis_ref, shoal):
    expected = replies_until_close(redis_ref.port, payload)
    assert expected[1] and expected[0][-1].startswith(b"-ERR Protocol error"), expected
    assert replies_until_close(shoal.port, payload) == expected
    assert_healthy(shoal.port)


@pytest.mark.parametrize("payload", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_input(payload, redis_ref, shoal):
    assert replies_until_sentinel(shoal.port, payload) == \
        replies_until_sentinel(redis_ref.port, payload)


@pytest.mark.parametrize("payload", INCOMPLETE.values(), ids=INCOMPLETE.keys())
def test_incomplete_request_waits(payload, redis_ref, shoal):
    for server in (redis_ref, shoal):
        replies, closed = replies_until_close(server.port, payload, timeout=0.3)
        assert (replies, closed) == ([], False), server.name
        assert_healthy(server.port)


def test_request_split_into_single_bytes(redis_ref, shoal):
    payload = encode_command([b"SET", b"split", b"v" * 20]) + encode_command([b"GET", b"split"])
    for server in (redis_ref, shoal):
        with RespConnection(server.port) as conn:
            for i in range(len(payload)):
                conn.send_raw(payload[i: i + 1])
                time.sleep(0.0005)  # Lets most bytes arrive in a read of their own.
            assert conn.read_reply().raw == b"+OK\r\n"
            assert conn.read_reply().raw == b"$20\r\n" + b"v" * 20 + b"\r\n"


def test_client_vanishing_mid_command(shoal):
    with RespConnection(shoal.port) as conn:
        conn.call(b"DEL", b"vanish", b"vanish-big")
    with RespConnection(shoal.port) as conn:  # Half of a small bulk.
        conn.send_raw(b"*3\r\n$3\r\nSET\r\n$6\r\nvanish\r\n$10\r\nabc")
    with RespConnection(shoal.port) as conn:  # Half of a 1 MB bulk.
        conn.send_raw(b"*3\r\n$3\r\nSET\r\n$10\r\nvanish-big\r\n$2000000\r\n" + b"x" * 1000000)
    with RespConnection(shoal.port) as conn:  # Replies it never reads.
        conn.call(b"SET", b"vanish-val", b"y" * 100000)
        conn.send_raw(encode_command([b"GET", b"vanish-val"]) * 200)
    time.sleep(0.2)
    with RespConnection(shoal.port) as conn:
        assert conn.call(b"PING") == b"+PONG\r\n"
        assert conn.call(b"EXISTS", b"vanish", b"vanish-big") == b":0\r\n"
        assert conn.call(b"STRLEN", b"vanish-val") == b":100000\r\n"


def test_10mb_value_round_trip(redis_ref, shoal):
    value = os.urandom(10 * 1024 * 1024)
    for server in (redis_ref, shoal):
        with RespConnection(server.port, timeout=30) as conn:
            assert conn.call(b"SET", b"big", value) == b"+OK\r\n", server.name
            reply = conn.call(b"GET", b"big")
            # Compared without pytest's diff: printing 10 MB helps nobody.
            assert reply == b"$10485760\r\n" + value + b"\r\n", f"{server.name}: GET differs"
            assert conn.call(b"STRLEN", b"big") == b":10485760\r\n"
            assert conn.call(b"APPEND", b"big", b"tail") == b":10485764\r\n"
            assert conn.call(b"GETRANGE", b"big", b"-4", b"-1") == b"$4\r\ntail\r\n"
            assert conn.call(b"DEL", b"big") == b":1\r\n"


def _pipeline_commands(n: int) -> list:
    commands = []
    for i in range(n):
        key = b"pipe:%d" % (i % 50)
        commands.append([[b"SET", key, b"%d" % i], [b"INCR", key], [b"GET", key],
                         [b"APPEND", key, b"x"], [b"INCR", key], [b"DEL", key]][i % 6])
    return commands


def _send_pipeline(port: int, commands: list) -> list:
    """Writes all commands from one thread while reading replies in another, as clients do."""
    with RespConnection(port, timeout=30) as conn:
        conn.call(b"FLUSHDB")
        payload = b"".join(encode_command(c) for c in commands)
        writer = threading.Thread(target=conn.send_raw, args=(payload,))
        writer.start()
        replies = [conn.read_reply().raw for _ in commands]
        writer.join()
        return replies


@pytest.mark.parametrize("count", [1000, 20000])
def test_pipeline(count, redis_ref, shoal):
    commands = _pipeline_commands(count)
    expected = _send_pipeline(redis_ref.port, commands)
    got = _send_pipeline(shoal.port, commands)
    first_diff = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), None)
    assert first_diff is None, (f"reply {first_diff} to {commands[first_diff]}: "
                                f"redis {expected[first_diff]!r}, shoal {got[first_diff]!r}")
