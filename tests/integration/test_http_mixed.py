"""HTTP writers and RESP readers on one collection at once (issue 5), on 4 shard threads.

Writers over HTTP: PATCH threads each own one counter per document and set it, together with a
mirror field, to the number of their acknowledged PATCHes of that document (a merge patch cannot
increment, so each writer counts for itself); a POST/DELETE thread creates and deletes documents.
Readers: RESP (redis-py) JSON.MGET and JSON.GET, and HTTP listings. Checked:
  - no torn document: a counter always equals its mirror, in every read from every reader;
  - no lost update: every counter only grows as seen by one reader, and at the end equals the
    number of acknowledged PATCHes of its writer (PATCHes of other writers on the same document
    at the same time did not undo it);
  - listings agree with the index: ids in order, no duplicates, no torn document, and at the end
    the index holds exactly the documents that exist.
Environment: SHOAL_HTTP_MIXED_SECONDS (default 4).
"""

import json
import os
import threading
import time

import pytest
import redis

from http_client import Http, start_http_shoal

SECONDS = float(os.environ.get("SHOAL_HTTP_MIXED_SECONDS", "4"))
DOCS = [f"d{i}" for i in range(8)]
WRITERS = 3


@pytest.fixture(scope="module")
def server():
    s = start_http_shoal(threads="4")
    yield s
    s.cleanup()


def check_doc(doc, where, problems):
    for t in range(WRITERS):
        if doc.get(f"c{t}") != doc.get(f"m{t}"):
            problems.append(f"torn document in {where}: {doc}")


def test_http_writers_and_resp_readers(server):
    port = server.http_port
    with Http(port) as h:
        for d in DOCS:
            body = {"id": d, **{f"c{t}": 0 for t in range(WRITERS)},
                    **{f"m{t}": 0 for t in range(WRITERS)}}
            assert h.json("POST", "/mix", body)[0] == 201
    stop = time.monotonic() + SECONDS
    problems = []
    acked = [{d: 0 for d in DOCS} for _ in range(WRITERS)]
    live_posted = set()
    counts = {"reads": 0, "listings": 0, "posts": 0, "deletes": 0}
    lock = threading.Lock()

    def patcher(t):
        with Http(port) as h:
            i = 0
            while time.monotonic() < stop:
                d = DOCS[i % len(DOCS)]
                i += 1
                k = acked[t][d] + 1
                status, doc = h.json("PATCH", f"/mix/{d}", {f"c{t}": k, f"m{t}": k},
                                     content_type="application/merge-patch+json")
                if status != 200:
                    problems.append(f"PATCH {d} by {t}: {status} {doc}")
                    return
                acked[t][d] = k
                if doc[f"c{t}"] != k:
                    problems.append(f"PATCH answer lacks its own write: {doc}")
                check_doc(doc, "PATCH answer", problems)

    def poster():
        with Http(port) as h:
            n = 0
            while time.monotonic() < stop:
                pid = f"p{n:05d}"
                n += 1
                status, body = h.json("POST", "/mix", {"id": pid, "c0": 1, "m0": 1})
                if status != 201:
                    problems.append(f"POST {pid}: {status} {body}")
                    return
                live_posted.add(pid)
                counts["posts"] += 1
                if n % 3 == 0:
                    victim = f"p{n - 2:05d}"
                    status, _, _ = h.request("DELETE", f"/mix/{victim}")
                    if status != 204:
                        problems.append(f"DELETE {victim}: {status}")
                        return
                    live_posted.discard(victim)
                    counts["deletes"] += 1

    def resp_reader(use_mget):
        r = redis.Redis(port=server.port)
        seen = {}
        keys = [f"mix:{d}" for d in DOCS]
        while time.monotonic() < stop:
            if use_mget:
                docs = [json.loads(raw)[0] for raw in r.execute_command("JSON.MGET", *keys, "$")]
            else:
                docs = [json.loads(r.execute_command("JSON.GET", k)) for k in keys]
            for doc in docs:
                check_doc(doc, "RESP read", problems)
                for t in range(WRITERS):
                    key = (doc["id"], t)
                    if doc[f"c{t}"] < seen.get(key, 0):
                        problems.append(f"counter went back: {key} {seen[key]} -> {doc}")
                    seen[key] = doc[f"c{t}"]
            with lock:
                counts["reads"] += 1
        r.close()

    def http_lister():
        with Http(port) as h:
            while time.monotonic() < stop:
                status, page = h.json("GET", "/mix?start=0&end=1000")
                if status != 200:
                    problems.append(f"listing: {status} {page}")
                    return
                ids = [d["id"] for d in page["documents"]]
                if ids != sorted(set(ids)):
                    problems.append(f"listing out of order or duplicated: {ids}")
                if len(ids) > page["total"]:
                    problems.append(f"listing longer than its total: {page['total']} {ids}")
                for doc in page["documents"]:
                    check_doc(doc, "listing", problems)
                with lock:
                    counts["listings"] += 1

    threads = [threading.Thread(target=patcher, args=(t,)) for t in range(WRITERS)]
    threads += [threading.Thread(target=poster), threading.Thread(target=http_lister),
                threading.Thread(target=resp_reader, args=(True,)),
                threading.Thread(target=resp_reader, args=(False,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not problems, f"{len(problems)} problems, first: {problems[:5]}"

    patches = sum(sum(a.values()) for a in acked)
    print(f"acknowledged PATCHes {patches}, {counts}")
    assert patches >= 100 and counts["reads"] >= 20 and counts["listings"] >= 5, (patches, counts)
    assert counts["posts"] >= 10 and counts["deletes"] >= 3, counts

    # No lost update: each counter is exactly its writer's acknowledged PATCHes.
    r = redis.Redis(port=server.port)
    with Http(port) as h:
        for d in DOCS:
            status, doc = h.json("GET", f"/mix/{d}")
            assert status == 200
            for t in range(WRITERS):
                assert doc[f"c{t}"] == doc[f"m{t}"] == acked[t][d], (d, t, doc)
        # The index holds exactly the documents that exist.
        index = {i.decode() for i in r.zrange("_idx:mix", 0, -1)}
        assert index == set(DOCS) | live_posted
        keys = {k.decode()[4:] for k in r.scan_iter(match="mix:*", count=1000)}
        assert keys == index
        listed = []
        for start in range(0, len(index) + 1000, 1000):  # Page by page.
            status, page = h.json("GET", f"/mix?start={start}&end={start + 1000}")
            assert page["total"] == len(index)
            listed += [d["id"] for d in page["documents"]]
        assert listed == sorted(index)
    r.close()
