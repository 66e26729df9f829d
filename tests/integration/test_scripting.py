"""Lua scripting: differential scripts against a --threads 1 Shoal, and busy scripts.

The scripts in scripts_1thread/ run like those of test_differential.py (RESP2 and RESP3), but
against a Shoal with one shard, so that every key a script touches is on the script's shard
(scripts reaching keys of other shards need the transaction layer).

Busy scripts: a script that loops past busy-reply-threshold makes other connections get BUSY,
SCRIPT KILL stops it (or UNKILLABLE once it wrote), and SCRIPT FLUSH from another connection
makes EVALSHA fail afterwards. These run against both servers and compare what each connection
saw; Shoal runs with several threads and the connections are spread over them.
"""

import threading
import time
from pathlib import Path

import pytest

import harness
import servers
from resp import RespConnection

SCRIPTS_1THREAD = Path(__file__).resolve().parent / "scripts_1thread"


@pytest.fixture(scope="module")
def shoal_one_thread():
    try:
        server = servers.make_shoal(threads="1")
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    server.start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
@pytest.mark.parametrize("script", sorted(SCRIPTS_1THREAD.glob("*.txt")), ids=lambda p: p.stem)
def test_script_one_thread(script, protocol, redis_ref, shoal_one_thread):
    shoal_one_thread.ensure_running()
    mismatches = harness.run_script(script, redis_ref.port, shoal_one_thread.port, protocol)
    if mismatches:
        pytest.fail(harness.format_mismatches(mismatches), pytrace=False)
