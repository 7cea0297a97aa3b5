"""Drive wrk and parse what it reports.

wrk sends a fixed request in a closed loop over keep-alive connections from one
thread (`-t1`), which leaves the machine's other core to the server. A Lua
script sets the method, headers and body; it is written to the run's scratch
directory, never to the repository. wrk's own CPU time (from the kernel's
accounting of waited-for children) is reported with each run: a wrk near one
full core would mean the load generator, not the server, set the rate.
"""

from __future__ import annotations

import re
import resource
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from servers import Server

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass
class WrkResult:
    rps: float
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    # Fractions of one core over the run.
    wrk_cpu: float
    server_cpu: float

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _lua_string(text: str) -> str:
    """A double-quoted Lua literal; every byte outside printable ASCII is escaped."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _script(req: Request) -> str:
    lines = [f"wrk.method = {_lua_string(req.method)}"]
    for name, value in req.headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if req.body is not None:
        lines.append(f"wrk.body = {_lua_string(req.body)}")
    return "\n".join(lines) + "\n"


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not m:
        raise ValueError(f"unparsed wrk latency {value!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def _parse(out: str) -> tuple[float, int, float, float, float, int, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    assert done, out
    requests = int(done.group(1))
    duration_s = _ms(done.group(2) + done.group(3)) / 1e3
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx_m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non2xx = int(non2xx_m.group(1)) if non2xx_m else 0
    sock_m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock = sum(int(g) for g in sock_m.groups()) if sock_m else 0
    return rps, requests, duration_s, p50, p99, non2xx, sock


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Wrk:
    def __init__(self, scratch: Path, connections: int, duration_s: int, warmup_s: int) -> None:
        self.scratch = scratch
        self.connections = connections
        self.duration_s = duration_s
        self.warmup_s = warmup_s
        self._scripts = 0

    def _write_script(self, req: Request) -> Path:
        self._scripts += 1
        path = self.scratch / f"wrk-{self._scripts}.lua"
        path.write_text(_script(req))
        return path

    def _run(self, url: str, script: Path, duration_s: int) -> str:
        argv = [
            "wrk", "-t1", f"-c{self.connections}", f"-d{duration_s}s",
            "--latency", "--timeout", "10s", "-s", str(script), url,
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        # wrk reports a broken script on stderr but still runs, sending
        # default GETs: any stderr output means the numbers are not ours.
        if done.returncode != 0 or done.stderr.strip():
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def run(self, server: Server, req: Request, warmup: bool = True) -> WrkResult:
        url = f"http://127.0.0.1:{server.port}{req.path}"
        script = self._write_script(req)
        if warmup and self.warmup_s:
            # Discarded: fills connection pools, caches and allocator arenas
            # so the measured run sees the server's steady state.
            self._run(url, script, self.warmup_s)
        cpu_wrk0 = _children_cpu()
        cpu_srv0 = server.cpu_seconds()
        t0 = time.monotonic()
        out = self._run(url, script, self.duration_s)
        wall = time.monotonic() - t0
        wrk_cpu = (_children_cpu() - cpu_wrk0) / wall
        server_cpu = (server.cpu_seconds() - cpu_srv0) / wall
        rps, requests, duration_s, p50, p99, non2xx, sock = _parse(out)
        return WrkResult(
            rps=rps,
            requests=requests,
            duration_s=duration_s,
            p50_ms=p50,
            p99_ms=p99,
            non2xx=non2xx,
            socket_errors=sock,
            wrk_cpu=wrk_cpu,
            server_cpu=server_cpu,
        )
