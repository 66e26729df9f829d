"""Starts and stops the servers under test: the reference redis-server and Shoal.

Each server listens on a free loopback port and logs (stdout and stderr) to a file, so that a
failing test can show what the server said. Environment:
  SHOAL_BIN      path to shoal-server (default <repo>/build/release/shoal-server), or the word
                 `redis` to run a second redis-server in Shoal's place (self-test of the harness).
  SHOAL_THREADS  value of Shoal's --threads (default 2).
  REDIS_SERVER   path to the reference redis-server (default: redis-server on PATH, /usr/bin).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHOAL_BIN = REPO_ROOT / "build" / "release" / "shoal-server"


def free_port() -> int:
    """A port that was free a moment ago; start() retries if another process takes it first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_bin() -> str:
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"


class ServerProcess:
    """One server process. `argv_for(port, workdir)` builds its command line."""

    def __init__(self, name: str, argv_for):
        self.name = name
        self._argv_for = argv_for
        self.workdir = Path(tempfile.mkdtemp(prefix=f"shoal-it-{name}-"))
        self.log_path = self.workdir / f"{name}.log"
        self.proc = None
        self.port = None
        self.restarts = 0  # Times ensure_running() found the process dead and started it again.
        self.http_port = None  # Shoal's HTTP API port, when started with http=True.

    def start(self, ready_timeout: float = 15.0):
        last_error = None
        for _ in range(3):  # A port race with another process shows as an early exit; retry.
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                log.write(b"=== starting %s on port %d ===\n" % (self.name.encode(), self.port))
                log.flush()
                self.proc = subprocess.Popen(
                    self._argv_for(self.port, self.workdir),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.workdir)
            try:
                self._wait_ready(ready_timeout)
                return
            except RuntimeError as e:
                last_error = e
                self.stop()
        raise last_error

    def _wait_ready(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode} during "
                                   f"startup; log:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not accept connections on port {self.port} within "
                           f"{timeout}s; log:\n{self.log_tail()}")

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_running(self):
        """Restarts a dead server so that one crash does not fail every later test."""
        if not self.is_running():
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 5.0):
        """SIGTERM, then SIGKILL if the process is still alive after `timeout` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        """Stops the server and removes its temp dir (log included)."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, limit: int = 20000) -> str:
        """The log from byte offset `since`, at most its last `limit` bytes."""
        if not self.log_path.exists():
            return "(no log)"
        data = self.log_path.read_bytes()[since:]
        if len(data) > limit:
            data = b"...(cut)...\n" + data[-limit:]
        return data.decode(errors="replace")


def make_redis(name: str = "redis") -> ServerProcess:
    def argv(port, workdir):
        return [redis_server_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)]
    return ServerProcess(name, argv)


def shoal_bin() -> str:
    return os.environ.get("SHOAL_BIN") or str(DEFAULT_SHOAL_BIN)


def is_self_test() -> bool:
    """True when a second redis-server stands in for Shoal (SHOAL_BIN=redis)."""
    return shoal_bin() == "redis"


def make_shoal(threads=None, http=False, extra=()) -> ServerProcess:
    """Shoal with `threads` shard threads (default: SHOAL_THREADS, else 2). The HTTP API is off
    (--http-port 0: many servers run at once) unless `http`, which puts it on a free port
    (server.http_port, chosen again at each start). `extra` arguments follow."""
    if is_self_test():
        return make_redis("shoal-as-redis")
    binary = shoal_bin()
    if not os.access(binary, os.X_OK):
        raise FileNotFoundError(f"no executable Shoal binary at {binary}: build it, set SHOAL_BIN, "
                                f"or set SHOAL_BIN=redis to self-test the harness")
    threads = str(threads or os.environ.get("SHOAL_THREADS", "2"))

    server = None

    def argv(port, workdir):
        server.http_port = free_port() if http else None
        # No save points and its own dir, as make_redis: tests that want snapshots ask for them.
        return [binary, "--port", str(port), "--bind", "127.0.0.1", "--threads", threads,
                "--http-port", str(server.http_port or 0), "--save", "", "--dir", str(workdir),
                *extra]
    server = ServerProcess("shoal", argv)
    return server
