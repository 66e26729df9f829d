"""Support for the append-only file tests (test_aof.py, test_aof_crash.py): servers started with
--appendonly yes on their own directory (restarts replay it), INFO persistence polling, the
appendonlydir's files and manifest, and a server started on a prepared directory whose outcome
(came up with which keys, or exited with which message) is returned.

Built on persist_support (launcher, dataset, keyspace reader and comparator).
"""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

import persist_support as ps
import servers

AOF_DIR = "appendonlydir"


def aof_extra(fsync: str = "everysec", *more) -> tuple:
    return ("--appendonly", "yes", "--appendfsync", fsync, *more)


def persistence(c) -> dict:
    return dict(ps.info_section(c, "persistence"))


def wait_rewrites(c, count: int, timeout: float = 30.0) -> dict:
    """Polls until `count` rewrites completed (aof_rewrites) and none runs or is scheduled;
    fails if the last one failed."""
    deadline = time.monotonic() + timeout * ps.SLOWDOWN
    info = {}
    while time.monotonic() < deadline:
        info = persistence(c)
        if (int(info["aof_rewrites"]) >= count and info["aof_rewrite_in_progress"] == "0"
                and info["aof_rewrite_scheduled"] == "0"):
            assert info["aof_last_bgrewrite_status"] == "ok", info
            return info
        time.sleep(0.01)
    raise AssertionError(f"aof_rewrites did not reach {count} within {timeout}s: {info}")


def rewrites(c) -> int:
    return int(persistence(c)["aof_rewrites"])


def bgrewriteaof(c):
    """BGREWRITEAOF and wait for it; returns its reply."""
    before = rewrites(c)
    reply = c.execute_command("BGREWRITEAOF")
    wait_rewrites(c, before + 1)
    return reply


def aof_files(server, dirname: str = AOF_DIR, settle: float = 5.0) -> tuple:
    """(sorted file names, manifest text) of the server's AOF directory, once no history file
    ("type h", deleted in the background after a rewrite) is left in the manifest."""
    path = Path(server.workdir) / dirname
    deadline = time.monotonic() + settle
    while True:
        names = sorted(p.name for p in path.iterdir()) if path.exists() else []
        manifests = [n for n in names if n.endswith(".manifest")]
        text = (path / manifests[0]).read_text(errors="replace") if manifests else ""
        if " type h" not in text or time.monotonic() > deadline:
            history_files = [n for n in names if n not in text and not n.endswith(".manifest")]
            if not history_files or time.monotonic() > deadline:
                return names, text
        time.sleep(0.02)


def restart(server, how: str):
    """Stops the server by `how` ("sigterm", "sigkill" or "shutdown") and starts it again on the
    same directory."""
    if how == "sigkill":
        ps.kill9(server)
    elif how == "sigterm":
        assert ps.stop_with(server) == 0
    else:
        assert ps.shutdown(server) == 0
    ps.start(server)


@dataclass
class DirOutcome:
    """What a server started on a prepared directory did: came up (`returncode` None, `state` the
    keyspace it loaded) or exited (`log`: what it printed)."""
    returncode: object
    log: str
    state: dict


def start_on_dir(kind: str, workdir: Path, extra=(), threads=None, timeout: float = 15.0,
                 then=None) -> DirOutcome:
    """Starts a server of `kind` with --dir `workdir` and `extra` and waits until it accepts
    commands or exits. One that came up has its keyspace read, `then(client)` run if given, and is
    stopped with SIGTERM."""
    port = servers.free_port()
    argv = ps.server_argv(kind, port, workdir, "", threads=threads, extra=extra)
    log_path = workdir / f"{kind}-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=workdir)
    deadline = time.monotonic() + timeout * ps.SLOWDOWN
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    started = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c.ping()
            started = True
            break
        except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
            time.sleep(0.02)
    if not started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{argv} neither came up nor exited within {timeout}s")
        return DirOutcome(proc.returncode, log_path.read_text(errors="replace"), {})
    holder = servers.ServerProcess.__new__(servers.ServerProcess)
    holder.port = port
    state = ps.read_keyspace(holder)
    if then is not None:
        then(ps.raw_client(holder))
    c.close()
    proc.terminate()
    proc.wait(30)
    return DirOutcome(None, log_path.read_text(errors="replace"), state)


# ---------------------------------------------------------------------------------------------
# RESP encoding of AOF records


def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
