"""The HTTP/JSON API (issue 5): every route, status codes and error bodies, keep-alive and
pipelining, CORS, /health and /metrics, and bad input (malformed or huge bodies, oversized
headers, slowloris, garbage) after which the server must stay healthy.

One Shoal with the HTTP API on a free port serves the module (2 shard threads; short timeouts
and small limits so the limit tests are quick). With SHOAL_BIN=redis the module is skipped.
"""

import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from http_client import Http, raw_exchange, read_all, split_responses, start_http_shoal
from resp import RespConnection

MAX_BODY = 65536
MAX_HEADER = 8192
TIMEOUT_S = 2
ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def server():
    s = start_http_shoal(extra=(
        "--http-max-body-bytes", str(MAX_BODY), "--http-max-header-bytes", str(MAX_HEADER),
        "--http-timeout", str(TIMEOUT_S), "--http-keepalive-timeout", "5",
        "--http-cors-origins", f"{ORIGIN}, https://other.example"))
    yield s
    s.cleanup()


@pytest.fixture
def port(server):
    server.ensure_running()
    with RespConnection(server.port) as c:
        c.call("FLUSHALL")
    yield server.http_port
    assert_healthy(server)


def assert_healthy(server):
    assert server.is_running(), f"server died; log:\n{server.log_tail()}"
    with Http(server.http_port) as h:
        status, body = h.json("GET", "/health")
        assert status == 200 and body["status"] == "ok", body
    with RespConnection(server.port) as c:
        assert c.call("PING") == b"+PONG\r\n"


def resp(server, *args):
    with RespConnection(server.port) as c:
        return c.call(*args)


def curl(*args):
    done = subprocess.run(["curl", "-s", "-S", "-i", "--max-time", "10", *args],
                          capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"").partition(
        b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode(), body


# --- /command ------------------------------------------------------------------------------------

def test_command_replies_as_json(port):
    with Http(port) as h:
        assert h.json("POST", "/command", ["HSET", "h", "f", "v", "n", 7]) == (200, 2)
        assert h.json("POST", "/command", ["HGETALL", "h"]) == (200, {"f": "v", "n": "7"})
        assert h.json("POST", "/command", ["SADD", "s", "a"]) == (200, 1)
        assert h.json("POST", "/command", ["SMEMBERS", "s"]) == (200, ["a"])
        assert h.json("POST", "/command", ["GET", "missing"]) == (200, None)
        assert h.json("POST", "/command", ["ZADD", "z", 1.5, "m"]) == (200, 1)
        assert h.json("POST", "/command", ["ZSCORE", "z", "m"]) == (200, 1.5)
        assert h.json("POST", "/command", ["RPUSH", "l", "x", "y"]) == (200, 2)
        assert h.json("POST", "/command", ["LRANGE", "l", 0, -1]) == (200, ["x", "y"])
        assert h.json("POST", "/command", ["SET", "k", "v"]) == (200, "OK")
        assert h.json("POST", "/command", ["EXISTS", "k"]) == (200, 1)


def test_command_errors_are_400(port):
    with Http(port) as h:
        status, body = h.json("POST", "/command", ["HSET", "h"])
        assert status == 400 and "wrong number of arguments" in body["error"]
        status, body = h.json("POST", "/command", ["NOSUCH"])
        assert status == 400 and "unknown command" in body["error"]
        h.json("POST", "/command", ["SET", "str", "x"])
        status, body = h.json("POST", "/command", ["LPUSH", "str", "x"])
        assert status == 400 and body["error"].startswith("WRONGTYPE")
        for bad in ([], {"cmd": "GET"}, ["GET", None], ["GET", ["k"]], "GET"):
            status, body = h.json("POST", "/command", bad)
            assert status == 400 and body["error"], bad


@pytest.mark.parametrize("cmd", [["BLPOP", "q", 0], ["BRPOP", "q", 1], ["BZPOPMIN", "z", 0],
                                 ["MULTI"], ["EXEC"], ["WATCH", "k"], ["SELECT", 1],
                                 ["SUBSCRIBE", "ch"], ["HELLO", 2], ["QUIT"],
                                 ["CLIENT", "REPLY", "OFF"]])
def test_commands_that_cannot_work_over_http_are_refused(port, cmd):
    with Http(port) as h:
        status, body = h.json("POST", "/command", cmd)
        assert status == 400 and "HTTP" in body["error"], body
        assert h.json("POST", "/command", ["PING"]) == (200, "PONG")  # Same connection, fine.


def test_command_with_curl(port):
    status, head, body = curl("-X", "POST", f"http://127.0.0.1:{port}/command",
                              "-H", "Content-Type: application/json", "-d", '["INCRBY","n",5]')
    assert status == 200 and json.loads(body) == 5


# --- documents -------------------------------------------------------------------------------------

def test_document_lifecycle(server, port):
    with Http(port) as h:
        status, headers, data = h.request("POST", "/users", {"id": "alice", "age": 30})
        assert status == 201, data
        assert json.loads(data) == {"id": "alice"}
        assert headers["location"] == "/users/alice"
        assert h.json("GET", "/users/alice") == (200, {"id": "alice", "age": 30})
        status, body = h.json("POST", "/users", {"id": "alice", "age": 1})
        assert status == 409 and "exists" in body["error"]
        assert h.json("GET", "/users/alice")[1]["age"] == 30  # The 409 changed nothing.
        status, body = h.json("PUT", "/users/alice", {"id": "alice", "age": 31, "x": [1]})
        assert status == 200
        assert h.json("GET", "/users/alice") == (200, {"id": "alice", "age": 31, "x": [1]})
        status, body = h.json("PATCH", "/users/alice", {"age": 32, "x": None, "tags": ["a"]},
                              content_type="application/merge-patch+json")
        assert (status, body) == (200, {"id": "alice", "age": 32, "tags": ["a"]})
        assert h.json("GET", "/users/alice") == (200, {"id": "alice", "age": 32, "tags": ["a"]})
        status, _, data = h.request("DELETE", "/users/alice")
        assert status == 204 and data == b""
        assert h.json("GET", "/users/alice")[0] == 404
        assert h.json("DELETE", "/users/alice")[0] == 404
    # The index went with the document.
    assert resp(server, "ZCARD", "_idx:users") == b":0\r\n"


def test_missing_documents_are_404(port):
    with Http(port) as h:
        for method, body in (("GET", None), ("PUT", {"a": 1}), ("PATCH", {"a": 1}),
                             ("DELETE", None)):
            status, body = h.json(method, "/c/nope", body)
            assert status == 404 and body["error"], method
        assert h.json("GET", "/c/nope")[1] == {"error": "no such document"}


def test_generated_ids_sort_by_creation(port):
    with Http(port) as h:
        ids = []
        for i in range(5):
            status, body = h.json("POST", "/gen", {"n": i})
            assert status == 201
            ids.append(body["id"])
        assert ids == sorted(ids) and len(set(ids)) == 5
        status, doc = h.json("GET", f"/gen/{ids[2]}")
        assert doc == {"id": ids[2], "n": 2}  # The id is written into the document.
        status, page = h.json("GET", "/gen")
        assert [d["n"] for d in page["documents"]] == [0, 1, 2, 3, 4]


def test_integer_and_encoded_ids(port):
    with Http(port) as h:
        assert h.json("POST", "/c", {"id": 17, "v": 1}) == (200 + 1, {"id": "17"})
        assert h.json("GET", "/c/17")[1] == {"id": 17, "v": 1}
        status, headers, _ = h.request("POST", "/c", {"id": "a b+é", "v": 2})
        assert status == 201 and headers["location"] == "/c/a%20b%2B%C3%A9"
        assert h.json("GET", "/c/a%20b+%C3%A9")[1]["v"] == 2
        assert h.json("POST", "/c", {"id": "a/b"})[0] == 400
        assert h.json("POST", "/c", {"id": "x" * 201})[0] == 400
        assert h.json("POST", "/c", {"id": ""})[0] == 400
        assert h.json("POST", "/c", {"id": 1.5})[0] == 400
        assert h.json("POST", "/c", {"id": True})[0] == 400


def test_listing_pages(server, port):
    with Http(port) as h:
        for i in range(25):
            assert h.json("POST", "/items", {"id": f"i{i:03d}", "n": i})[0] == 201
        status, page = h.json("GET", "/items")
        assert status == 200
        assert page["collection"] == "items" and page["total"] == 25
        assert page["start"] == 0 and page["end"] == 100
        assert [d["n"] for d in page["documents"]] == list(range(25))
        status, page = h.json("GET", "/items?start=10&end=15")
        assert [d["id"] for d in page["documents"]] == [f"i{i:03d}" for i in range(10, 15)]
        assert page["total"] == 25
        assert h.json("GET", "/items?start=30&end=40")[1]["documents"] == []
        assert h.json("GET", "/items?start=5&end=5")[1]["documents"] == []
        assert h.json("GET", "/empty")[1] == {"collection": "empty", "start": 0, "end": 100,
                                              "total": 0, "documents": []}
        for q in ("start=-1", "end=abc", "start=5&end=2", "start=0&end=1001", "start=1.5",
                  "start=", "end=99999999999999999999"):
            status, body = h.json("GET", f"/items?{q}")
            assert status == 400 and body["error"], q
    # A document whose key vanished behind the index's back is skipped, not an error.
    resp(server, "DEL", "items:i001")
    with Http(port) as h:
        page = h.json("GET", "/items?start=0&end=3")[1]
        assert [d["id"] for d in page["documents"]] == ["i000", "i002"]


def test_documents_are_json_keys_seen_over_resp(server, port):
    with Http(port) as h:
        assert h.json("POST", "/books", {"id": "b1", "title": "Dune", "n": 1})[0] == 201
        raw = resp(server, "JSON.GET", "books:b1")
        assert json.loads(raw.split(b"\r\n")[1]) == {"id": "b1", "title": "Dune", "n": 1}
        assert resp(server, "TYPE", "books:b1") == b"+ReJSON-RL\r\n"
        resp(server, "JSON.SET", "books:b1", "$.n", "2")
        assert h.json("GET", "/books/b1")[1]["n"] == 2


def test_document_routes_with_curl(port):
    base = f"http://127.0.0.1:{port}"
    ct = ["-H", "Content-Type: application/json"]
    status, head, body = curl("-X", "POST", f"{base}/notes", *ct, "-d", '{"id":"n1","t":"hi"}')
    assert status == 201 and "Location: /notes/n1" in head
    status, _, body = curl(f"{base}/notes/n1")
    assert status == 200 and json.loads(body) == {"id": "n1", "t": "hi"}
    status, _, body = curl(f"{base}/notes?start=0&end=10")
    assert status == 200 and json.loads(body)["total"] == 1
    status, _, body = curl("-X", "PUT", f"{base}/notes/n1", *ct, "-d", '{"id":"n1","t":"yo"}')
    assert status == 200
    status, _, body = curl("-X", "PATCH", f"{base}/notes/n1", "-H",
                           "Content-Type: application/merge-patch+json", "-d", '{"u":1}')
    assert status == 200 and json.loads(body) == {"id": "n1", "t": "yo", "u": 1}
    status, _, body = curl("-X", "DELETE", f"{base}/notes/n1")
    assert status == 204
    status, _, body = curl(f"{base}/health")
    assert status == 200


def test_urllib(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/u", data=b'{"id":"1","a":1}',
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/u/1", timeout=10) as r:
        assert json.load(r) == {"id": "1", "a": 1}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/u/2", timeout=10)
    assert e.value.code == 404 and json.load(e.value) == {"error": "no such document"}


# --- status codes and errors ---------------------------------------------------------------------

def test_routes_methods_and_media_types(port):
    with Http(port) as h:
        assert h.json("GET", "/")[0] == 404
        assert h.json("GET", "/a/b/c")[0] == 404
        for path, method, allow in (("/c", "DELETE", "GET, HEAD, POST, OPTIONS"),
                                    ("/c/1", "POST", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
                                    ("/health", "POST", "GET, HEAD, OPTIONS"),
                                    ("/command", "GET", "POST, OPTIONS")):
            status, headers, data = h.request(method, path, b"{}" if method == "POST" else None)
            assert status == 405 and headers["allow"] == allow, (path, method)
            assert "error" in json.loads(data)
        status, body = h.json("POST", "/c", {"a": 1}, content_type="text/plain")
        assert status == 415 and body["error"]
        status, body = h.json("POST", "/c", {"a": 1},
                              content_type="application/x-www-form-urlencoded")
        assert status == 415
        assert h.json("POST", "/c", {"a": 1}, content_type="application/json; charset=utf-8")[
            0] == 201
        assert h.json("GET", "/bad$name")[0] == 400
        assert h.json("GET", "/c/" + "x" * 201)[0] == 400
        assert h.json("GET", "/c/%zz")[0] == 400
        status, headers, data = h.request("HEAD", "/health")
        assert status == 200 and data == b""
        assert re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", headers["date"])


@pytest.mark.parametrize("body,why", [
    (b'{"a": ', "malformed"),
    (b'[1, 2]', "object"),
    (b'"text"', "object"),
    (b'{"a": "\xff\xfe"}', "UTF-8"),
    (b'{"a": 1} trailing', "malformed"),
    (b'{"a":' + b'[' * 20000 + b']' * 20000 + b'}', "deep"),
    (b'', "empty"),
], ids=["truncated", "array", "string", "utf8", "trailing", "deep", "empty"])
def test_bad_bodies_are_400(server, port, body, why):
    with Http(port) as h:
        for method, path in (("POST", "/bad"), ("PUT", "/bad/1"), ("PATCH", "/bad/1")):
            status, _, data = h.request(method, path, body)
            assert status == 400, (why, method, data)
            assert json.loads(data)["error"]
    assert resp(server, "DBSIZE") == b":0\r\n"


def test_huge_body_is_413_without_reading_it(server, port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (100 * 1024 * 1024))
        data = read_all(s, 5)  # The server answers before a byte of the body was sent.
    (status, headers, body), = split_responses(data)
    assert status == 413 and headers["connection"] == "close"
    assert "too large" in json.loads(body)["error"]
    with Http(port) as h:  # Also with the body actually sent (the client sees the 413).
        status, _, data = h.request("POST", "/c", b"{" + b" " * (MAX_BODY + 10) + b"}")
        assert status == 413


def test_chunked_body_over_the_limit_is_413(port):
    chunk = b" " * 30000
    req = (b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
           b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4)) + b"0\r\n\r\n")
    (status, _, _), = split_responses(raw_exchange(port, req))
    assert status == 413


def test_chunked_body_within_the_limit(port):
    body = b'{"id":"ch","v":1}'
    req = (b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
           b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    (status, _, data), = split_responses(raw_exchange(port, req))
    assert status == 201, data


def test_oversized_headers_are_431(port):
    req = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER + 1) + b"\r\n\r\n"
    (status, headers, body), = split_responses(raw_exchange(port, req))
    assert status == 431 and headers["connection"] == "close"
    long_url = b"GET /c?" + b"a" * (MAX_HEADER + 1) + b" HTTP/1.1\r\n\r\n"
    assert split_responses(raw_exchange(port, long_url))[0][0] == 431


@pytest.mark.parametrize("garbage", [
    b"\x00\x01\x02\x03\r\n\r\n",
    b"HELLO WORLD\r\n\r\n",
    b"GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
    b"*1\r\n$4\r\nPING\r\n",
    bytes(range(256)) * 4,
], ids=["nul", "words", "length", "header", "resp", "bytes"])
def test_garbage_is_400_and_close(server, port, garbage):
    data = raw_exchange(port, garbage)
    (status, headers, body), = split_responses(data)
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["error"]


def test_other_http_versions_are_505(port):
    (status, headers, _), = split_responses(raw_exchange(port, b"GET /health HTTP/2.0\r\n\r\n"))
    assert status == 505 and headers["connection"] == "close"


def test_upgrade_is_refused(port):
    req = (b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert split_responses(raw_exchange(port, req))[0][0] == 400


# --- connections ------------------------------------------------------------------------------------

def test_keep_alive_serves_many_requests_on_one_connection(port):
    with Http(port) as h:
        for i in range(50):
            assert h.json("POST", "/command", ["INCR", "ka"]) == (200, i + 1)
        sock = h.conn.sock
        assert h.json("GET", "/health")[0] == 200
        assert h.conn.sock is sock  # Never reconnected.


def test_pipelined_requests_are_answered_in_order(port):
    reqs = b"".join(
        b"POST /command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in (b'["SET","p","1"]', b'["APPEND","p","2"]', b'["GET","p"]',
                     b'["GET","nope"]', b'["INCR","p"]'))
    reqs += b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    out = split_responses(raw_exchange(port, reqs))
    assert [o[0] for o in out] == [200, 200, 200, 200, 200, 200]
    assert [json.loads(o[2]) for o in out[:5]] == ["OK", 2, "12", None, 13]
    assert out[-1][1]["connection"] == "close"


def test_pipelined_requests_in_pieces(port):
    reqs = b"".join(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(20))
    reqs += b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for i in range(0, len(reqs), 7):
            s.sendall(reqs[i:i + 7])
        out = split_responses(read_all(s, 5))
    assert [o[0] for o in out] == [200] * 21


def test_http_1_0_closes_unless_asked(port):
    (status, headers, _), = split_responses(raw_exchange(port, b"GET /health HTTP/1.0\r\n\r\n"))
    assert status == 200 and headers["connection"] == "close"
    two = (b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
           b"GET /health HTTP/1.0\r\n\r\n")
    out = split_responses(raw_exchange(port, two))
    assert [o[0] for o in out] == [200, 200]
    assert out[0][1]["connection"] == "keep-alive"


def test_expect_continue(port):
    body = b'{"id":"ec","v":1}'
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % len(body))
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        (status, _, _), = split_responses(read_all(s, 5))
    assert status == 201


def test_slowloris_gets_408_while_others_are_served(server, port):
    slow = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S + 5)
    slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # Headers never finished.
    started = time.monotonic()
    with Http(port) as h:  # Others are served at once meanwhile.
        for _ in range(10):
            t0 = time.monotonic()
            assert h.json("GET", "/health")[0] == 200
            assert time.monotonic() - t0 < 1.0
    slow.sendall(b"X-Drip: 1\r\n")  # Dripping bytes does not extend the deadline.
    data = read_all(slow, TIMEOUT_S + 5)
    elapsed = time.monotonic() - started
    slow.close()
    (status, headers, body), = split_responses(data)
    assert status == 408 and headers["connection"] == "close"
    assert TIMEOUT_S - 0.5 <= elapsed <= TIMEOUT_S + 2, elapsed


def test_slow_body_gets_408(port):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S + 5) as s:
        s.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        (status, _, _), = split_responses(read_all(s, TIMEOUT_S + 5))
    assert status == 408


def test_many_connections_at_once(port):
    errors = []

    def worker(n):
        try:
            with Http(port) as h:
                for i in range(20):
                    status, body = h.json("POST", "/command", ["INCR", "many"])
                    assert status == 200
        except Exception as e:  # noqa: BLE001: reported below.
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with Http(port) as h:
        assert h.json("POST", "/command", ["GET", "many"]) == (200, "320")


def test_requirepass_needs_a_bearer_token(server, port):
    resp(server, "CONFIG", "SET", "requirepass", "s3cret")
    try:
        with Http(port) as h:
            status, headers, data = h.request("POST", "/command", ["PING"])
            assert status == 401 and headers["www-authenticate"] == "Bearer"
            status, _, _ = h.request("POST", "/command", ["PING"],
                                     headers={"Authorization": "Bearer wrong"})
            assert status == 401
            status, _, data = h.request("POST", "/command", ["PING"],
                                        headers={"Authorization": "Bearer s3cret"})
            assert status == 200 and json.loads(data) == "PONG"
            assert h.request("GET", "/health")[0] == 200  # Probes need no password.
            assert h.request("GET", "/metrics")[0] == 401
    finally:
        with RespConnection(server.port) as c:
            c.call("AUTH", "s3cret")
            c.call("CONFIG", "SET", "requirepass", "")


# --- CORS ----------------------------------------------------------------------------------------

def test_cors_preflight(port):
    with Http(port) as h:
        status, headers, data = h.request("OPTIONS", "/c/1", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type"})
        assert status == 204 and data == b""
        assert headers["access-control-allow-origin"] == ORIGIN
        assert "PATCH" in headers["access-control-allow-methods"]
        assert "Content-Type" in headers["access-control-allow-headers"]
        assert int(headers["access-control-max-age"]) > 0
        assert headers["vary"] == "Origin"
        status, headers, _ = h.request("OPTIONS", "/c/1", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert status == 403 and "access-control-allow-origin" not in headers
        status, headers, _ = h.request("OPTIONS", "/c/1", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "TRACE"})
        assert status == 403
        status, headers, _ = h.request("OPTIONS", "/c")  # Not a preflight: what is allowed.
        assert status == 204 and headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_cors_simple_requests(port):
    with Http(port) as h:
        status, headers, _ = h.request("GET", "/health", headers={"Origin": ORIGIN})
        assert headers["access-control-allow-origin"] == ORIGIN and headers["vary"] == "Origin"
        status, headers, _ = h.request("GET", "/health", headers={"Origin": "https://x.example"})
        assert "access-control-allow-origin" not in headers
        status, headers, _ = h.request("GET", "/health")
        assert "access-control-allow-origin" not in headers
        status, headers, _ = h.request("GET", "/c/none", headers={"Origin": ORIGIN})
        assert status == 404 and headers["access-control-allow-origin"] == ORIGIN


def test_cors_off_and_wildcard(server, port):
    with RespConnection(server.port) as c:
        assert c.call("CONFIG", "GET", "http-cors-origins").startswith(b"*2")
        c.call("CONFIG", "SET", "http-cors-origins", "")
        try:
            with Http(port) as h:
                _, headers, _ = h.request("GET", "/health", headers={"Origin": ORIGIN})
                assert "access-control-allow-origin" not in headers
                c.call("CONFIG", "SET", "http-cors-origins", "*")
                _, headers, _ = h.request("GET", "/health", headers={"Origin": "https://a.b"})
                assert headers["access-control-allow-origin"] == "*"
        finally:
            c.call("CONFIG", "SET", "http-cors-origins", f"{ORIGIN}, https://other.example")


def test_http_port_is_immutable_and_visible(server, port):
    with RespConnection(server.port) as c:
        assert str(port).encode() in c.call("CONFIG", "GET", "http-port")
        assert c.call("CONFIG", "SET", "http-port", "1234").startswith(b"-ERR")
        c.call("CONFIG", "SET", "http-max-body-bytes", "100")
        try:
            with Http(port) as h:
                assert h.request("POST", "/c", {"x": "y" * 200})[0] == 413
        finally:
            c.call("CONFIG", "SET", "http-max-body-bytes", str(MAX_BODY))


# --- /health and /metrics ----------------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? '
                    r'(?P<value>-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def parse_prometheus(text):
    samples = {}
    typed = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "summary", "histogram", "untyped"), line
            typed.add(name)
            continue
        if line.startswith("#"):
            assert line.startswith("# HELP "), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample: {line!r}"
        name = m.group(1)
        family = re.sub(r"_(sum|count|bucket)$", "", name)
        assert name in typed or family in typed, f"sample before its TYPE: {line}"
        samples[name + (m.group(2) or "")] = float(m.group("value"))
    return samples


def test_health(port):
    with Http(port) as h:
        status, body = h.json("GET", "/health")
    assert status == 200 and body == {"status": "ok", "shards": 2}


def test_metrics_are_prometheus_text(server, port):
    with Http(port) as h:
        h.json("POST", "/command", ["SET", "m1", "x"])
        h.json("POST", "/command", ["GET", "m1"])
        status, headers, data = h.request("GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse_prometheus(data.decode())
    assert m['shoal_command_calls_total{cmd="set"}'] >= 1
    assert m['shoal_command_duration_seconds_count{cmd="get"}'] >= 1
    assert 'shoal_command_duration_seconds_sum{cmd="get"}' in m
    # Quantiles from the latency histograms (INFO latencystats' percentiles: 50 99 99.9).
    q = [m[f'shoal_command_duration_seconds{{cmd="get",quantile="{x}"}}'] for x in
         ("0.5", "0.99", "0.999")]
    assert 0 < q[0] <= q[1] <= q[2] < 1, q
    assert m['shoal_connected_clients{protocol="http"}'] >= 1
    assert 'shoal_connected_clients{protocol="resp"}' in m
    assert m["shoal_used_memory_bytes"] > 0
    assert m['shoal_db_keys{db="0"}'] >= 1
    assert sum(v for k, v in m.items() if k.startswith("shoal_shard_keys{")) >= 1
    assert m['shoal_shard_up{shard="0"}'] == 1 and m['shoal_shard_up{shard="1"}'] == 1
    assert 'shoal_shard_commands_processed_total{shard="1"}' in m
    assert m['shoal_http_responses_total{code="200"}'] >= 2


# --- large answers, start-up and shutdown ------------------------------------------------------------

def test_large_listing_page(port):
    blob = "x" * 2000
    with Http(port) as h:
        for i in range(400):
            assert h.json("POST", "/big", {"id": f"b{i:04d}", "blob": blob})[0] == 201
        status, page = h.json("GET", "/big?start=0&end=400")  # About 800 KB in one answer.
    assert status == 200 and page["total"] == 400
    assert [d["id"] for d in page["documents"]] == [f"b{i:04d}" for i in range(400)]
    assert all(d["blob"] == blob for d in page["documents"])


def test_http_port_in_use_stops_start_up(tmp_path):
    import servers
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        done = subprocess.run(
            [servers.shoal_bin(), "--port", str(servers.free_port()), "--bind", "127.0.0.1",
             "--threads", "1", "--http-port", str(busy_port)],
            capture_output=True, timeout=20, cwd=tmp_path)
    assert done.returncode != 0
    assert b"HTTP" in done.stdout + done.stderr and str(busy_port).encode() in (
        done.stdout + done.stderr)


def test_shutdown_with_http_connections_open():
    s = start_http_shoal(threads="2")
    try:
        idle = Http(s.http_port)
        assert idle.json("GET", "/health")[0] == 200  # A kept-alive connection, idle.
        partial = socket.create_connection(("127.0.0.1", s.http_port))
        partial.sendall(b"POST /c HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")  # Mid-request.
        time.sleep(0.2)
        s.proc.terminate()
        assert s.proc.wait(10) == 0, s.log_tail()
        partial.close()
        idle.close()
    finally:
        s.cleanup()


def test_second_server_on_the_same_ports_is_refused(tmp_path):
    """Shards listen with SO_REUSEPORT, which would let a second Shoal share the ports and take
    half the connections: a port held by any server, Shoal included, must stop start-up (as a
    taken port stops redis-server), for RESP and for HTTP."""
    import servers
    first = start_http_shoal(threads="2")
    try:
        for args, what in (([ "--port", str(first.port), "--http-port", "0"], str(first.port)),
                           (["--port", str(servers.free_port()), "--http-port",
                             str(first.http_port)], f"HTTP: Could not create server TCP "
                                                    f"listening socket 127.0.0.1:{first.http_port}")):
            done = subprocess.run([servers.shoal_bin(), "--bind", "127.0.0.1", "--threads", "2",
                                   *args], capture_output=True, timeout=20, cwd=tmp_path)
            log = (done.stdout + done.stderr).decode()
            assert done.returncode == 1, log
            assert what in log and "Address already in use" in log, log
        assert Http(first.http_port).json("GET", "/health")[0] == 200  # The first one is intact.
    finally:
        first.stop()
