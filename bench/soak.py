"""The soak: mixed v1/v2 load over many keys for minutes, sampling the server's RSS.

A fresh mockstripe with `--max-accounts` (the keys outnumber it, so accounts are forgotten all the
time) takes wrk's load, each request with a random key out of `KEYS`: customers created and
listed, meter events through v1 and v2 (to no meter, so they are kept as dropped events). Its RSS
is read every few seconds; after the warm-up (the first fifth of the run) it should stay flat.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from load import _parse
from servers import Server

KEYS = 10_000
MAX_ACCOUNTS = 1_000
SAMPLE_EVERY_S = 5.0
WARMUP_SHARE = 0.2

_SCRIPT = """
math.randomseed(%(seed)d)
local form = "application/x-www-form-urlencoded"
local event_v2 = '{"event_name":"soak","payload":{"value":"1","stripe_customer_id":"cus_soak"}}'

function request()
  local headers = {Authorization = "Bearer sk_test_soak_" .. math.random(%(keys)d)}
  local roll = math.random(4)
  if roll == 1 then
    headers["Content-Type"] = form
    return wrk.format("POST", "/v1/customers", headers, "name=Soak&metadata[run]=soak")
  elseif roll == 2 then
    return wrk.format("GET", "/v1/customers?limit=3", headers)
  elseif roll == 3 then
    headers["Content-Type"] = form
    return wrk.format("POST", "/v1/billing/meter_events", headers,
                      "event_name=soak&payload[value]=1&payload[stripe_customer_id]=cus_soak")
  end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/v2/billing/meter_events", headers, event_v2)
end
"""


def soak(exe: Path, scratch: Path, minutes: float, connections: int) -> dict[str, object]:
    server = Server(
        "mockstripe",
        lambda port: [str(exe), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                      "--max-accounts", str(MAX_ACCOUNTS)],
        "/_mock/health",
        scratch,
    )
    server.start()
    script = scratch / "soak.lua"
    script.write_text(_SCRIPT % {"seed": 7, "keys": KEYS})
    duration = max(1, round(minutes * 60))
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
            "-s", str(script), f"http://127.0.0.1:{server.port}/"]
    samples: list[tuple[float, int]] = []
    try:
        started = time.monotonic()
        wrk = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while wrk.poll() is None:
            samples.append((round(time.monotonic() - started, 1), server.rss_bytes()))
            time.sleep(SAMPLE_EVERY_S)
        out, err = wrk.communicate()
        if wrk.returncode != 0 or err.strip():
            return {"na": f"error: wrk failed ({wrk.returncode}): {err.strip()[:200]}"}
        rps, requests, _, p50, p99, non2xx, socket_errors = _parse(out)
    finally:
        server.stop()
    warm = [rss for t, rss in samples if t >= duration * WARMUP_SHARE]
    if not warm:
        return {"na": "error: no RSS samples after the warm-up"}
    return {
        "minutes": minutes,
        "keys": KEYS,
        "max_accounts": MAX_ACCOUNTS,
        "rps": rps,
        "requests": requests,
        "p50_ms": p50,
        "p99_ms": p99,
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "rss_samples": samples,
        "rss_after_warmup": warm[0],
        "rss_max_after_warmup": max(warm),
        "rss_end": warm[-1],
        "growth_after_warmup": max(warm) / warm[0] - 1,
    }
