"""Drive wrk and parse what it reports.

wrk sends a fixed request in a closed loop over keep-alive connections from one
thread (`-t1`), which leaves the machine's other core to the server. A Lua
script sets the method, headers and body; it is written to the run's scratch
directory, never to the repository. wrk's own CPU time (from the kernel's
accounting of waited-for children) is reported with each run: a wrk near one
full core would mean the load generator, not the server, set the rate.
"""

from __future__ import annotations

import math
import re
import resource
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from servers import Server, settle

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

    def as_dict(self) -> dict[str, object]:
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


# Appended to a request's script to send it an exact number of times: wrk
# has no request count, only a duration. The first `count` requests are the
# real one; once they are all out, each connection sends a GET to a route no
# server has (a cheap 404) until the responses to the real ones are all in,
# then wrk exits. The server thus receives exactly `count` real
# requests and has answered them all when wrk exits.
_COUNTED = """
target = %(count)d
sent, ok, bad = 0, 0, 0
local real, filler
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  real = wrk.format()
  filler = wrk.format("GET", "/_bench/no-such-route",
                      {Host = wrk.headers["Host"], Authorization = wrk.headers["Authorization"]}, "")
end

-- wrk 4 calls request() once before connecting, to inspect the request
-- (script_verify_request); that one is never sent, so it is not counted.
local inspected = false

function request()
  if not inspected then
    inspected = true
    return real
  end
  if sent < target then
    sent = sent + 1
    return real
  end
  return filler
end

function response(status, headers, body)
  if status == 404 then
    return
  elseif status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
  end
  if ok + bad >= target then
    -- wrk's main thread sleeps for the whole -d duration even when every
    -- thread has stopped, so exit here instead.
    io.write(string.format("counted ok=%%d bad=%%d\\n", ok, bad))
    io.flush()
    os.exit(0)
  end
end

-- Reached only when the -d duration ran out first.
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("counted ok=%%d bad=%%d\\n", t:get("ok"), t:get("bad")))
  end
end
"""


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not m:
        raise ValueError(f"unparsed wrk latency {value!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def _parse(out: str) -> tuple[float, int, float, float, float, int, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]  # wrk always prints it
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    assert done, out
    requests = int(done.group(1))
    duration_s = _ms(done.group(2) + done.group(3)) / 1e3
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]  # wrk always prints it
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]  # wrk always prints it
    non2xx_m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non2xx = int(non2xx_m.group(1)) if non2xx_m else 0
    sock_m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock = sum(int(g) for g in sock_m.groups()) if sock_m else 0
    return rps, requests, duration_s, p50, p99, non2xx, sock


def _checked(returncode: int, stdout: str, stderr: str) -> str:
    # wrk reports a broken script on stderr but still runs, sending
    # default GETs: any stderr output means the numbers are not ours.
    if returncode != 0 or stderr.strip():
        raise RuntimeError(f"wrk failed ({returncode}): {stderr.strip()}")
    return stdout


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

    def _write_script(self, text: str) -> Path:
        self._scripts += 1
        path = self.scratch / f"wrk-{self._scripts}.lua"
        path.write_text(text)
        return path

    def _argv(self, url: str, script: Path, duration_s: int, connections: int | None = None) -> list[str]:
        return [
            "wrk", "-t1", f"-c{connections or self.connections}", f"-d{duration_s}s",
            "--latency", "--timeout", "10s", "-s", str(script), url,
        ]

    def _run(self, url: str, script: Path, duration_s: int, connections: int | None = None) -> str:
        done = subprocess.run(self._argv(url, script, duration_s, connections), capture_output=True, text=True, check=False)
        return _checked(done.returncode, done.stdout, done.stderr)

    def run(self, server: Server, req: Request, warmup: bool = True) -> WrkResult:
        url = f"http://127.0.0.1:{server.port}{req.path}"
        script = self._write_script(_script(req))
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

    def run_together(self, loads: list[tuple[Server, Request]]) -> list[tuple[WrkResult, float]]:
        """One measured run of each (server, request), all at the same time, each by its own wrk;
        with each run, the server CPU time it cost per request, in µs.

        The servers then work under the same conditions (the machine's other load, its caches and
        clock speed), so what a request costs each of them compares closely even where two runs
        seconds apart differ by more than what is compared. Server CPU counts until every server
        is idle again (work queued by the requests, such as deliveries, included); wrk's CPU is
        the share of all of them."""
        scripts = [(f"http://127.0.0.1:{server.port}{req.path}", self._write_script(_script(req))) for server, req in loads]
        cpu_wrk0 = _children_cpu()
        cpu_srv0 = [server.cpu_seconds() for server, _ in loads]
        t0 = time.monotonic()
        running = [
            subprocess.Popen(self._argv(url, script, self.duration_s), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for url, script in scripts
        ]
        outputs = [(proc.communicate(), proc.returncode) for proc in running]
        wall = time.monotonic() - t0
        wrk_cpu = (_children_cpu() - cpu_wrk0) / wall / len(loads)
        settle([server for server, _ in loads], timeout=10.0)
        results = []
        for ((out, err), code), (server, _), cpu0 in zip(outputs, loads, cpu_srv0, strict=True):
            rps, requests, duration_s, p50, p99, non2xx, sock = _parse(_checked(code, out, err))
            cpu = server.cpu_seconds() - cpu0
            run = WrkResult(
                rps=rps, requests=requests, duration_s=duration_s, p50_ms=p50, p99_ms=p99, non2xx=non2xx,
                socket_errors=sock, wrk_cpu=wrk_cpu, server_cpu=cpu / wall,
            )
            results.append((run, cpu / requests * 1e6 if requests else float("inf")))
        return results

    def send_exactly(self, server: Server, req: Request, count: int, max_s: float, connections: int) -> int:
        """Send `req` exactly `count` times (fewer if `max_s` runs out first).

        Returns how many were answered 2xx; raises if any was answered otherwise.
        """
        url = f"http://127.0.0.1:{server.port}{req.path}"
        script = self._write_script(_script(req) + _COUNTED % {"count": count})
        out = self._run(url, script, max(1, math.ceil(max_s)), connections)
        m = re.search(r"counted ok=(\d+) bad=(\d+)", out)
        if not m:
            raise RuntimeError(f"wrk did not report its counts: {out}")
        ok, bad = int(m.group(1)), int(m.group(2))
        if bad:
            raise RuntimeError(f"{bad} of {ok + bad} {req.method} {req.path} were not 2xx")
        return ok
