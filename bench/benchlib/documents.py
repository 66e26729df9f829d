"""The JSON and HTTP cells (issue 5): JSON.SET/JSON.GET over RESP, and the REST API under wrk.

RESP cells are custom redis-benchmark command lines over `keys` keys (`-r keys`), prefilled
before every run so that each request finds (or overwrites) an existing document:

    test            command line                            keys, prefilled with
    json_set        JSON.SET doc:__rand_int__ $ <DOC_1K>    doc:<12 digits>, JSON.SET of DOC_1K
    json_get        JSON.GET doc:__rand_int__               the same
    set_1k          SET doc:__rand_int__ <DOC_1K>           doc:<12 digits>, SET of DOC_1K text
    get_1k          GET doc:__rand_int__                    the same
    json_get_small  JSON.GET items:__rand_int__             items:<12 digits>, small_doc(i)

The string cells store the same 1 KB text as a plain string: the reference Redis can run (it has
no JSON type), and the price of the JSON tree on the same server. JSON.GET without a path
returns the whole document, as a client fetching a document does.

HTTP cells run wrk (one thread, pinned like redis-benchmark, `-c` connections, `-P` requests
written back to back per connection by the Lua scripts in bench/wrk/) for a fixed duration; the
request count is wrk's own ("N requests in ..."), and the server's CPU time is read around the
wrk process as around redis-benchmark:

    http_get     GET /items/<random id>            the documents json_get_small reads
    http_post    POST /posts, a new small document (the server picks its id)
    http_patch   PATCH /items/<random id>, a merge patch {"score":N,"seen":true}

Documents of a collection are JSON keys `<collection>:<id>` listed in the sorted set
`_idx:<collection>` (score 0, member id): the prefill writes both over RESP, as the HTTP API
would. Ids are 12 digits, as redis-benchmark's __rand_int__ expands, so http_get and
json_get_small read the same documents and their CPU per request compares an HTTP read with
the same read over RESP (issue 5's target: at most 2x).

Checks after every run, outside the CPU readings: the keyspace has exactly the prefilled keys
(no write went astray), documents still parse as the prefill or the run wrote them, wrk saw no
socket error and no status >= 400; POST must have created between wrk's count and that count
plus the requests in flight when wrk stopped (connections x depth) documents.
"""

import dataclasses
import json
import math
import re
from pathlib import Path

from . import resp, servers

WRK_DIR = Path(__file__).resolve().parent.parent / "wrk"
SEED = 4242
ITEMS = "items"  # Collection of http_get, http_patch and json_get_small.
POSTS = "posts"  # Collection that http_post fills.


def _doc_1k() -> str:
    """A ~1 KB JSON document shaped like an application record: nested objects, arrays of
    objects, strings, integers, a float, booleans and a null. Compact, so the server's reply to
    JSON.GET is the same size as the request's argument."""
    doc = {
        "id": "order-000000012345",
        "customer": {"id": 98765, "name": "Ada Lovelace", "email": "ada@example.com",
                     "tier": "gold", "verified": True,
                     "address": {"street": "12 Analytical Engine Road", "city": "London",
                                 "zip": "N1 9GU", "country": "GB"}},
        "items": [{"sku": f"SKU-{1000 + i}", "name": f"Widget model {i}", "qty": i + 1,
                   "price": 19.5 + i, "tags": ["hardware", "blue"]} for i in range(4)],
        "totals": {"subtotal": 128.0, "tax": 25.6, "shipping": 4.5, "total": 158.1,
                   "currency": "GBP"},
        "status": "shipped", "gift": False, "coupon": None,
        "history": [{"at": 1700000000 + 3600 * i, "event": e}
                    for i, e in enumerate(["created", "paid", "packed", "shipped"])],
        "notes": "Leave at the door if nobody answers. Fragile: handle with care.",
    }
    text = json.dumps(doc, separators=(",", ":"))
    pad = 1024 - len(text) - len(',"memo":""')
    doc["memo"] = "x" * max(0, pad)
    return json.dumps(doc, separators=(",", ":"))


DOC_1K = _doc_1k()


def small_doc(i: int) -> str:
    """The document `items:<i>` (~130 bytes): what a REST client stores per record."""
    return (f'{{"id":"{i:012d}","name":"user {i}","email":"user{i}@example.com",'
            f'"age":{18 + i % 60},"active":true,"tags":["a","b"],"score":{i % 1000}.5}}')


@dataclasses.dataclass(frozen=True)
class DocTest:
    name: str
    label: str  # Title in the report.
    kind: str  # "resp" (redis-benchmark) or "http" (wrk).
    command: tuple = ()  # redis-benchmark's argv after the options; __doc__ = DOC_1K.
    prefill: str = ""  # "json_1k", "string_1k", "items" or "" (an empty keyspace).
    script: str = ""  # wrk script under bench/wrk/.
    writes: bool = False
    # -n of a RESP cell = the run's -n for its pipeline over this (1 KB values are slower).
    request_divisor: int = 2


TESTS = {t.name: t for t in [
    DocTest("json_set", "JSON.SET 1 KB doc", "resp", ("JSON.SET", "doc:__rand_int__", "$",
                                                      "__doc__"), "json_1k", writes=True),
    DocTest("json_get", "JSON.GET 1 KB doc", "resp", ("JSON.GET", "doc:__rand_int__"),
            "json_1k"),
    DocTest("set_1k", "SET 1 KB string", "resp", ("SET", "doc:__rand_int__", "__doc__"),
            "string_1k", writes=True),
    DocTest("get_1k", "GET 1 KB string", "resp", ("GET", "doc:__rand_int__"), "string_1k"),
    DocTest("json_get_small", "JSON.GET small doc", "resp",
            ("JSON.GET", f"{ITEMS}:__rand_int__"), "items"),
    DocTest("http_get", f"HTTP GET /{ITEMS}/{{id}}", "http", prefill="items", script="get.lua"),
    DocTest("http_post", f"HTTP POST /{POSTS}", "http", script="post.lua", writes=True),
    DocTest("http_patch", f"HTTP PATCH /{ITEMS}/{{id}}", "http", prefill="items",
            script="patch.lua", writes=True),
]}

RESP_TESTS = tuple(t for t in TESTS if TESTS[t].kind == "resp")
HTTP_TESTS = tuple(t for t in TESTS if TESTS[t].kind == "http")


def requests(test: str, requests_for_pipeline: int, pipeline: int):
    """-n of a RESP cell (a multiple of -P); None for an HTTP cell, which runs for a duration."""
    t = TESTS[test]
    if t.kind == "http":
        return None
    n = requests_for_pipeline // t.request_divisor
    return max(pipeline, n - n % pipeline)


def command(test: str) -> list:
    return [DOC_1K if a == "__doc__" else a for a in TESTS[test].command]


def csv_label(test: str) -> str:
    """redis-benchmark --csv labels a custom command's row with its arguments joined by spaces
    (and does not escape the document's quotes: workload.parse_csv copes)."""
    return " ".join(command(test))


def wrk_argv(wrk_bin: str, http_port: int, test: str, pipeline: int, duration_s: float,
             clients: int, keys: int, client_cpus: str) -> list:
    t = TESTS[test]
    collection = POSTS if test == "http_post" else ITEMS
    argv = [wrk_bin, "-t", "1", "-c", str(clients), "-d", f"{duration_s:g}s", "--latency",
            "--timeout", "10s", "-s", str(WRK_DIR / t.script), f"http://127.0.0.1:{http_port}/",
            "--", collection, str(keys), str(pipeline), str(SEED)]
    return servers.pinned(argv, client_cpus)


# ---- wrk's output ----

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"not a wrk time: {text!r}")
    return float(m.group(1)) * _UNITS_S[m.group(2)]


def _ms(text: str):
    value = round(_seconds(text) * 1e3, 6)
    return value or None


def parse_wrk(text: str) -> dict:
    """The figures of wrk 4's report (run with --latency): request count, duration, ops/s,
    latencies in ms, errors. Raises ValueError if the report is missing."""
    out = {"socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "non_2xx": 0}
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+), ", text, re.M)
    if not m:
        raise ValueError(f"no 'N requests in' line in wrk's output:\n{text[-2000:]}")
    out["requests"] = int(m.group(1))
    out["duration_s"] = _seconds(m.group(2))
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if not m:
        raise ValueError(f"no 'Requests/sec' line in wrk's output:\n{text[-2000:]}")
    out["rps"] = float(m.group(1))
    # Latencies are per batch of -P requests, and wrk corrects them for coordinated omission;
    # when the correction overruns its histogram wrk prints a percentile as 0.00us: no figure.
    m = re.search(r"^\s*Latency\s+([0-9.]+\w+)\s", text, re.M)
    out["avg_ms"] = _ms(m.group(1)) if m else None
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}%\s+([0-9.]+\w+)\s*$", text, re.M)
        out[f"p{pct}_ms"] = _ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                        map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non_2xx"] = int(m.group(1))
    return out


def wrk_errors(result: dict):
    """None if wrk saw only good answers, else what went wrong (a 404 or a reset costs the
    server less than a real answer, so such a run proves nothing)."""
    problems = []
    if result["non_2xx"]:
        problems.append(f"{result['non_2xx']} responses with status >= 400")
    if bad := {k: v for k, v in result["socket_errors"].items() if v}:
        problems.append("socket errors " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    return "; ".join(problems) or None


# ---- prefill and checks (RESP, outside the CPU readings) ----

def doc_key(i: int) -> bytes:
    return b"doc:%012d" % i


def item_key(i: int) -> bytes:
    return b"%s:%012d" % (ITEMS.encode(), i)


def _pipeline(client: resp.Client, commands: list, batch: int = 500) -> list:
    replies = []
    for lo in range(0, len(commands), batch):
        client.send_raw(b"".join(commands[lo:lo + batch]))
        replies += [_reply(client) for _ in commands[lo:lo + batch]]
    return replies


def _reply(client: resp.Client):
    try:
        return client.read_reply()
    except resp.RespError as err:
        return err  # Reported by the caller with the command that caused it.


def prefill_commands(kind: str, keys: int) -> list:
    """The commands that put a test's documents in place, each answered +OK or :<n>."""
    if kind == "json_1k":
        return [resp.encode(b"JSON.SET", doc_key(i), b"$", DOC_1K) for i in range(keys)]
    if kind == "string_1k":
        return [resp.encode(b"SET", doc_key(i), DOC_1K) for i in range(keys)]
    if kind == "items":
        cmds = [resp.encode(b"JSON.SET", item_key(i), b"$", small_doc(i)) for i in range(keys)]
        for lo in range(0, keys, 1000):
            members = [a for i in range(lo, min(lo + 1000, keys)) for a in (b"0", b"%012d" % i)]
            cmds.append(resp.encode(b"ZADD", b"_idx:" + ITEMS.encode(), *members))
        return cmds
    return []


def prefilled_keys(kind: str, keys: int) -> int:
    """DBSIZE after the prefill: the documents, plus the index of a collection."""
    return {"json_1k": keys, "string_1k": keys, "items": keys + 1}.get(kind, 0)


def setup(client: resp.Client, test: str, keys: int) -> None:
    """Empties the keyspace and writes the test's documents."""
    if client.call("FLUSHALL") != "OK":
        raise RuntimeError("FLUSHALL failed")
    cmds = prefill_commands(TESTS[test].prefill, keys)
    for cmd, reply in zip(cmds, _pipeline(client, cmds)):
        if isinstance(reply, Exception) or reply not in ("OK", *range(1, 1001)):
            raise RuntimeError(f"prefill: {cmd[:80]!r}... replied {reply!r}")
    want = prefilled_keys(TESTS[test].prefill, keys)
    if (got := client.call("DBSIZE")) != want:
        raise RuntimeError(f"prefill left DBSIZE {got}, expected {want}")


def _same_json(reply, want: str) -> bool:
    try:
        return isinstance(reply, bytes) and json.loads(reply) == json.loads(want)
    except ValueError:
        return False


def check(client: resp.Client, test: str, keys: int, sample: dict, clients: int):
    """None if the run left what it should have, else why not."""
    t = TESTS[test]
    problems = []
    if t.kind == "http" and (why := wrk_errors(sample["wrk"])):
        problems.append(why)
    if test == "http_post":
        return _check_posts(client, sample, clients, problems)
    want = prefilled_keys(t.prefill, keys)
    if (got := client.call("DBSIZE")) != want:
        problems.append(f"DBSIZE {got} after the run, expected {want}")
    probe = [0, keys // 2, keys - 1]
    if t.prefill in ("json_1k", "string_1k"):
        verb = b"JSON.GET" if t.prefill == "json_1k" else b"GET"
        for i, reply in zip(probe, _pipeline(client, [resp.encode(verb, doc_key(i))
                                                      for i in probe])):
            if not _same_json(reply, DOC_1K):
                problems.append(f"{doc_key(i).decode()} holds {str(reply)[:80]}, not the 1 KB "
                                "document")
    elif test == "http_patch":
        problems += _check_patched(client, keys, sample["requests"])
    else:
        for i, reply in zip(probe, _pipeline(client, [resp.encode(b"JSON.GET", item_key(i))
                                                      for i in probe])):
            if not _same_json(reply, small_doc(i)):
                problems.append(f"{item_key(i).decode()} holds {str(reply)[:80]}")
    return "; ".join(problems) or None


def _check_patched(client: resp.Client, keys: int, requests_count: int) -> list:
    """Every document still holds its own fields (merge patches add, never tear); about as many
    carry the patch as random ids would hit: keys x (1 - e^(-n/keys)), checked at 90% of that."""
    replies = _pipeline(client, [resp.encode(b"JSON.GET", item_key(i)) for i in range(keys)])
    patched, problems = 0, []
    for i, reply in enumerate(replies):
        try:
            doc = json.loads(reply)
        except (TypeError, ValueError):
            problems.append(f"{item_key(i).decode()} holds {str(reply)[:80]}")
            break
        orig = json.loads(small_doc(i))
        if any(doc.get(k) != v for k, v in orig.items() if k != "score"):
            problems.append(f"{item_key(i).decode()} lost fields: {str(reply)[:120]}")
            break
        patched += doc.get("seen") is True
    expected = keys * (1 - math.exp(-requests_count / keys))
    if patched < 0.9 * expected:
        problems.append(f"{patched:,} documents carry the patch, expected about {expected:,.0f}")
    return problems


def _check_posts(client: resp.Client, sample: dict, clients: int, problems: list):
    """wrk counts answered requests; up to clients x depth more were in flight when it stopped,
    and the server may still have stored them."""
    got = len(client.call("KEYS", f"{POSTS}:*"))
    low = sample["requests"]
    high = low + clients * sample["pipeline"]
    if not low <= got <= high:
        problems.append(f"{got:,} documents after the run, expected {low:,} to {high:,}")
    return "; ".join(problems) or None


# ---- preflight ----

_PROBE = '{"id":"p1","a":1,"b":{"c":[1,2]}}'


def preflight_resp(client: resp.Client, test: str):
    """None if the server runs the test's command correctly, else why not."""
    t = TESTS[test]
    if t.prefill == "string_1k":
        steps = [(("SET", "bench:doc", DOC_1K), "OK"), (("GET", "bench:doc"), DOC_1K)]
    else:
        doc = DOC_1K if t.prefill == "json_1k" else small_doc(3)
        steps = [(("JSON.SET", "bench:doc", "$", doc), "OK"), (("JSON.GET", "bench:doc"), doc),
                 (("TYPE", "bench:doc"), "ReJSON-RL")]
    for args, want in steps:
        try:
            got = client.call(*args)
        except resp.RespError as err:
            return f"{args[0]} -> -{str(err)[:60]}"
        if not (got == want or (isinstance(want, str) and _same_json(got, want))):
            return f"{' '.join(args)[:60]} -> {str(got)[:80]!r}, expected {want[:80]!r}"
    return None


def preflight_http(server, client: resp.Client) -> object:
    """None if the server's HTTP API answers the three routes as the cells need, else why not.
    The documents are looked at over RESP, so any body format of the answers will do."""
    import http.client  # Only the HTTP cells need it.

    port = getattr(server, "http_port", None)
    if not port:
        return "no HTTP port (the server has no HTTP API, or was started without --http-port)"
    steps = [("GET", "/health", None, None),
             ("POST", f"/{POSTS}", _PROBE, (f"{POSTS}:p1", json.loads(_PROBE))),
             ("GET", f"/{POSTS}/p1", None, None),
             ("PATCH", f"/{POSTS}/p1", '{"a":2,"seen":true}',
              (f"{POSTS}:p1", dict(json.loads(_PROBE), a=2, seen=True)))]
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for method, path, body, want in steps:
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            if answer.status >= 300:
                return f"{method} {path} -> {answer.status} {data[:100]!r}"
            if want:
                stored = client.call("JSON.GET", want[0])
                if not stored or json.loads(stored) != want[1]:
                    return f"{method} {path}: {want[0]} holds {stored!r}, expected {want[1]}"
        conn.close()
    except (OSError, http.client.HTTPException, resp.RespError, ValueError) as err:
        return f"HTTP API on port {port}: {err}"
    return None
