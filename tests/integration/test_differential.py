"""Every script in scripts/ against redis-server and Shoal, in RESP2 and in RESP3."""

import os

import pytest

import harness

# Scripts that exercise capabilities of a later issue. They run, and must fail, until that
# issue lands (strict xfail): the day they pass, this entry has to go.
# Scripts for features that have not landed yet: expected to fail until they do (strict).
PENDING = {
    # Redis marks a WATCHed key touched only when a write really changes it (signalModifiedKey);
    # Shoal marks it after any write command naming it, so EXEC fails where Redis's succeeds.
    "transactions_noop_writes": "WATCH: writes that change nothing still touch the key",
}


def _params():
    for path in harness.script_paths():
        marks = []
        # With one shard nothing spans shards: pending scripts about that pass already.
        if (path.stem in PENDING and os.environ.get("SHOAL_BIN") != "redis"
                and os.environ.get("SHOAL_THREADS", "2") != "1"):
            marks.append(pytest.mark.xfail(reason=PENDING[path.stem], strict=True))
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
@pytest.mark.parametrize("script", list(_params()))
def test_script(script, protocol, redis_ref, shoal):
    mismatches = harness.run_script(script, redis_ref.port, shoal.port, protocol)
    if mismatches:  # pytest.fail, not assert: the report alone is clearer than its repr as well.
        pytest.fail(harness.format_mismatches(mismatches), pytrace=False)
