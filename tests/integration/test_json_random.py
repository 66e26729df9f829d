"""Random JSON.* commands on random documents: the server must answer every one (an error reply
is fine), stay up, and keep every document valid JSON that JSON.GET and JSON.DEBUG MEMORY can
read. Overlapping matches ($..*, unions, filters) exercise the in-place updates of nested
values, where a careless update would touch freed memory.

  SHOAL_JSON_RANDOM_SECONDS  how long to run (default 2)
"""

import json
import os
import random
import time

from resp import RespConnection

SECONDS = float(os.environ.get("SHOAL_JSON_RANDOM_SECONDS", "2"))
PATHS = ["$", ".", "$..*", "$.*", "$..a", "$.a", ".a", "a[0]", "$.a[*]", "$..[0]", "$..[-1]",
         "$['a','a']", "$..a[1:3]", "$..[?(@.a>1)]", "$..[?(@ == 2)]", "$.b.c", ".b", "$..b",
         "$.a[0].a", "$[*]", "$[0,0]", "$..*[0]"]


def random_value(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.4:
        return rng.choice([0, 1, 2, -3, 1.5, "s", "long string value!", True, False, None])
    if r < 0.7:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice("abc"): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def random_command(rng, key):
    v = json.dumps(random_value(rng))
    p = rng.choice(PATHS)
    i = str(rng.randint(-4, 4))
    return rng.choice([
        ["JSON.SET", key, p, v], ["JSON.SET", key, "$", v], ["JSON.MERGE", key, p, v],
        ["JSON.DEL", key, p], ["JSON.CLEAR", key, p], ["JSON.TOGGLE", key, p],
        ["JSON.NUMINCRBY", key, p, "2"], ["JSON.NUMMULTBY", key, p, "1.5"],
        ["JSON.STRAPPEND", key, p, '"xy"'], ["JSON.ARRAPPEND", key, p, v, v],
        ["JSON.ARRINSERT", key, p, i, v], ["JSON.ARRPOP", key, p, i],
        ["JSON.ARRTRIM", key, p, i, str(rng.randint(-4, 4))], ["JSON.GET", key, p, "$..a"],
        ["JSON.TYPE", key, p], ["JSON.RESP", key, p], ["JSON.OBJKEYS", key, p],
        ["JSON.ARRINDEX", key, p, v], ["JSON.STRLEN", key, p], ["JSON.MGET", key, "k1", p],
    ])


def test_random_commands_keep_documents_valid(shoal):
    rng = random.Random(int(os.environ.get("SHOAL_JSON_RANDOM_SEED", "5")))
    keys = ["rj:0", "rj:1", "rj:2"]
    deadline = time.time() + SECONDS
    n = 0
    with RespConnection(shoal.port) as c:
        while time.time() < deadline:
            key = rng.choice(keys)
            if rng.random() < 0.1:
                c.call("JSON.SET", key, "$", json.dumps(random_value(rng)))
            c.call(*random_command(rng, key))
            n += 1
            if n % 50 == 0:
                for k in keys:
                    got = c.call("JSON.GET", k)
                    if got.startswith(b"$-1"):
                        continue
                    body = got.split(b"\r\n", 1)[1][:-2]
                    json.loads(body)
                    assert c.call("JSON.DEBUG", "MEMORY", k).startswith(b":"), k
        assert c.call("PING") == b"+PONG\r\n"
    assert n > 100
