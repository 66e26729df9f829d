"""hiredis, a real C client, against Shoal and against redis-server.

The checks live in tests/clients/hiredis_smoke.cc (binary values with NULs, a 1 MB value, a
10,000-command pipeline, every reply type and exact error texts, MGET over 1000 keys, SCAN over
2000 keys, RESP3 maps and nulls). Running it against redis-server too proves that what it expects
is what Redis does, so a failure against Shoal is Shoal's.

Environment: SHOAL_HIREDIS_SMOKE, the path of the hiredis_smoke binary (default
<repo>/build/release/hiredis_smoke; ctest sets it to the binary of its own build).
"""

import os
import subprocess

import pytest

import servers

DEFAULT_SMOKE_BIN = servers.REPO_ROOT / "build" / "release" / "hiredis_smoke"


def smoke_bin() -> str:
    path = os.environ.get("SHOAL_HIREDIS_SMOKE") or str(DEFAULT_SMOKE_BIN)
    if not os.access(path, os.X_OK):
        pytest.fail(f"no executable hiredis_smoke at {path}: build it (ninja -C build/release "
                    f"hiredis_smoke; needs libhiredis-dev) or set SHOAL_HIREDIS_SMOKE",
                    pytrace=False)
    return path


def run_smoke(port: int):
    done = subprocess.run([smoke_bin(), "127.0.0.1", str(port)], capture_output=True,
                          timeout=120)
    out = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, f"hiredis_smoke exited with {done.returncode}:\n{out}"
    assert "all checks passed" in out, out


def test_hiredis_against_redis(redis_ref):
    run_smoke(redis_ref.port)


def test_hiredis_against_shoal(shoal):
    run_smoke(shoal.port)
