"""Starting, pinning, CPU accounting and stopping of the servers under test.

Every process this harness starts is registered with the module's reaper: `stop_all()` (called
from run.py's `finally`, so also on Ctrl-C and SIGTERM) ends whatever is still running. Each child
also asks the kernel for SIGKILL when the harness dies (PR_SET_PDEATHSIG): that covers a harness
killed with SIGKILL, and reaches a server frozen with SIGSTOP, which a SIGTERM would not.
"""

import ctypes
import dataclasses
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import resp

_PR_SET_PDEATHSIG = 1
_live: list = []  # Popen objects not yet reaped, in start order.
_group_leaders: set = set()  # PIDs of those started with own_group=True.


class ServerStartError(Exception):
    """A server did not come up; the message says why and shows the end of its log."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec; survives taskset's exec of the real program.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv, own_group: bool = False, **kwargs) -> subprocess.Popen:
    """Popen that the reaper knows about and that dies with the harness.

    With `own_group` the child leads a new session and process group, and reap() signals the
    whole group: that also ends whatever the child started (a wrapper script's server, say), and
    Ctrl-C at the terminal reaches only the harness, which then stops servers in order.
    """
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, start_new_session=own_group,
                            **kwargs)
    if own_group:
        _group_leaders.add(proc.pid)
    _live.append(proc)
    return proc


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        if proc.pid in _group_leaders:
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def reap(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Ends `proc` (SIGCONT, in case it is frozen, then SIGTERM, then SIGKILL) and waits for it."""
    if proc.poll() is None or proc.pid in _group_leaders:
        _signal(proc, signal.SIGCONT)
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            proc.wait()
    _group_leaders.discard(proc.pid)
    if proc in _live:
        _live.remove(proc)


def stop_all() -> None:
    for proc in list(reversed(_live)):
        reap(proc, grace=5.0)


def pinned(argv: list, cpus) -> list:
    """Prefixes `argv` with taskset when `cpus` (a taskset list such as "0" or "0,1") is set."""
    return ["taskset", "-c", cpus, *argv] if cpus else list(argv)


def parse_cpu_list(text: str) -> list:
    """"0,2-3" -> [0, 2, 3]."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listens_on(pid: int, port: int) -> bool:
    """Whether `pid` holds a TCP socket listening on `port` (per /proc/net/tcp{,6})."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)  # Header.
                for line in f:
                    fields = line.split()
                    # fields[1] = "ADDR:PORT" in hex, fields[3] = state (0A = LISTEN).
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{fields[9]}]")
        except FileNotFoundError:
            continue
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except FileNotFoundError:
            continue
    return False


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """What to run: `name` labels it in the results ("redis", "shoal-t2")."""

    name: str
    kind: str  # "redis" or "shoal"
    binary: str
    threads: int  # Shoal's --threads; 1 for Redis.
    cpus: str  # taskset list for the server, "" when unpinned.
    # Shoal's HTTP API: "on" (a free port of its own), "off" (--http-port 0: servers that run
    # side by side must not all take the default 8080), "" (a binary without --http-port).
    http: str = ""
    # Appended to the command line; both servers take a repeated option's last value, so these
    # override the defaults above (the persistence benchmark's --dir, --appendonly...).
    extra: tuple = ()

    def command(self, port: int, http_port: int = None) -> list:
        if self.kind == "redis":
            return [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "no", "--logfile", "", *self.extra]
        argv = [self.binary, "--port", str(port), "--bind", "127.0.0.1",
                "--threads", str(self.threads), "--save", ""]
        if self.http:
            argv += ["--http-port", str(http_port or 0)]
        return argv + list(self.extra)


@dataclasses.dataclass(frozen=True)
class CpuSample:
    ns: int  # Sum of field 1 of /proc/PID/task/*/schedstat: time on CPU, in nanoseconds.
    tids: frozenset  # Threads alive at the reading; a thread that exits takes its time along.


class Server:
    """One running server process. Its PID is the server itself: taskset execs, never forks."""

    def __init__(self, spec: ServerSpec, log_dir: Path):
        self.spec = spec
        self.log_path = Path(log_dir) / f"{spec.name}.log"
        self.proc = None
        self.port = None
        self.http_port = None  # Set when the spec asks for the HTTP API.

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 15.0) -> "Server":
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except ServerStartError as err:
                # A port taken between free_port() and bind() is worth a retry; nothing else is.
                if attempt == 2 or "in use" not in str(err).lower():
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> "Server":
        self.port = free_port()
        self.http_port = free_port() if self.spec.http == "on" else None
        argv = pinned(self.spec.command(self.port, self.http_port), self.spec.cpus)
        with open(self.log_path, "ab") as log:
            log.write(f"--- {' '.join(argv)}\n".encode())
            log.flush()
            self.proc = spawn(argv, own_group=True, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                reap(self.proc)
                raise ServerStartError(f"{self.spec.name} exited with code {code} before "
                                       f"answering PING.\n{self.log_tail()}")
            try:
                with resp.Client(self.port, timeout=2.0) as client:
                    if client.call("PING") == "PONG":
                        break
            except (OSError, resp.RespError, resp.ProtocolError):
                pass
            if time.monotonic() > deadline:
                reap(self.proc)
                raise ServerStartError(f"{self.spec.name} did not answer PING on port "
                                       f"{self.port} within {timeout:.0f} s.\n{self.log_tail()}")
            time.sleep(0.05)
        self._check_pid_serves_port()
        return self

    def _check_pid_serves_port(self) -> None:
        # schedstat is read from this PID: if the server forked (daemonized) or runs below a
        # wrapper that did not exec, the numbers would describe the wrong process.
        if not listens_on(self.pid, self.port):
            self.stop()
            raise ServerStartError(f"{self.spec.name}: PID {self.pid} answers PING on port "
                                   f"{self.port} but does not hold its listening socket; the "
                                   "server must run in the foreground without forking.")

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return f"Last lines of {self.log_path}:\n  " + "\n  ".join(text)

    def affinity(self) -> list:
        return sorted(os.sched_getaffinity(self.pid))

    def cpu(self) -> CpuSample:
        total, tids = 0, []
        task_dir = f"/proc/{self.pid}/task"
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                continue  # Exited between listdir() and open().
            tids.append(tid)
        return CpuSample(total, frozenset(tids))

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS in /proc/{self.pid}/status")

    def client(self) -> resp.Client:
        return resp.Client(self.port)

    def freeze(self) -> None:
        """SIGSTOP: an idle server then cannot take CPU time from the one being measured."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            reap(self.proc)
