"""Start, health-check, inspect and stop the servers under test.

Each server is a subprocess on a free loopback port. Its output goes to a log
file in the run's scratch directory, so a server that fails to start can be
explained by the tail of its log instead of a bare timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


class ServerUnavailable(Exception):
    """The server could not be started (not installed, crashed, never healthy)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(port: int, path: str, headers: dict[str, str], timeout: float = 1.0) -> int | None:
    """Status of one GET, or None if nothing answers on the port yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return None
    finally:
        conn.close()


@dataclass
class Server:
    name: str
    # Builds the command line for the port the server is to listen on.
    command: Callable[[int], list[str]]
    health_path: str
    logdir: Path
    health_headers: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.logdir / f"{self.name}-{self.port}.log"

    def spawn(self) -> float:
        """Start the process; returns the monotonic time it was started at."""
        argv = self.command(self.port)
        if not Path(argv[0]).exists():
            raise ServerUnavailable(f"{argv[0]} is not installed")
        log = open(self.log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return started

    def wait_healthy(self, timeout: float = 20.0, poll: float = 0.002) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerUnavailable(f"exited with {self.proc.returncode}: {self.log_tail()}")
            if http_status(self.port, self.health_path, self.health_headers) == 200:
                return
            time.sleep(poll)
        self.stop()
        raise ServerUnavailable(f"not healthy after {timeout:.0f}s: {self.log_tail()}")

    def start(self) -> "Server":
        self.spawn()
        self.wait_healthy()
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 2) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    def cpu_seconds(self) -> float:
        # Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after
        # the command name, which may itself contain spaces.
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def uses_uvloop(self) -> bool:
        """Whether the running process has uvloop's extension mapped."""
        maps = Path(f"/proc/{self.pid}/maps").read_text()
        return "/uvloop/loop." in maps


def settle(servers: list[Server], timeout: float = 3.0, window: float = 0.1) -> None:
    """Wait until no server is still busy, e.g. draining requests queued by the
    previous wrk run (localstripe can lag by a second), so that the next
    measurement does not share the CPU with it."""
    servers = [srv for srv in servers if srv.proc is not None and srv.proc.poll() is None]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = [srv.cpu_seconds() for srv in servers]
        time.sleep(window)
        used = max((srv.cpu_seconds() - b for srv, b in zip(servers, before)), default=0.0)
        if used < window * 0.1:
            return


@contextlib.contextmanager
def side_by_side(compared: list[Server], helpers: list[Server]) -> Iterator[None]:
    """While inside, the compared servers share one CPU, and this process (so the load generators
    it starts) and the helpers run on the others: the compared servers then see the same core,
    caches and interruptions. Without two CPUs to split, nothing is pinned."""
    cpus = set(os.sched_getaffinity(0))
    if len(cpus) < 2:
        yield
        return
    shared = {max(cpus)}
    for server in compared:
        os.sched_setaffinity(server.pid, shared)
    for process in [0, *(helper.pid for helper in helpers)]:
        os.sched_setaffinity(process, cpus - shared)
    try:
        yield
    finally:
        for process in [0, *(server.pid for server in compared + helpers)]:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(process, cpus)
