"""Fixtures: one reference redis-server and one Shoal per session (see servers.py for the env).

On a failing test the part of Shoal's log written during that test is attached to the report. A
Shoal that died is restarted before the next test, and the test during which it died errors in
teardown, so that a crash is reported once, where it happened, instead of failing every later test.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness, resp, servers: plain imports.

import servers  # noqa: E402

_log_offsets = {}  # test nodeid -> Shoal log size when the test started.
_shoal_holder = []  # The session's Shoal, once started: read by the report hook.


@pytest.fixture(scope="session")
def redis_server():
    server = servers.make_redis()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def shoal_server():
    try:
        server = servers.make_shoal()
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    server.start()
    _shoal_holder.append(server)
    yield server
    server.cleanup()


@pytest.fixture
def shoal(shoal_server, request):
    """Shoal for one test: running when the test starts, checked for a crash when it ends."""
    shoal_server.ensure_running()
    _log_offsets[request.node.nodeid] = shoal_server.log_size()
    yield shoal_server
    if not shoal_server.is_running():
        pytest.fail(f"shoal-server exited with code {shoal_server.proc.returncode} during this "
                    f"test", pytrace=False)


@pytest.fixture
def redis_ref(redis_server):
    redis_server.ensure_running()
    return redis_server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _shoal_holder and "shoal" in item.fixturenames:
        since = _log_offsets.get(item.nodeid, 0)
        report.sections.append(("shoal-server log during this test",
                                _shoal_holder[0].log_tail(since) or "(empty)"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long kill/restart or big-data tests; skipped under sanitizer builds")
