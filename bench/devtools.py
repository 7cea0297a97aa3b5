"""What the developer tools cost: the request log on `POST /v1/customers`, and the dashboard's meter
chart over 10^6 events.

    python3 bench/devtools.py [--rounds N] [--duration S]

Runs with the interpreter it is started with, which must have mockstripe installed (the project's
`.venv`, say) and finds `wrk` on the PATH. Two servers run at once, one logging requests (the
default) and one started with `--request-log-size 0`; they take turns under the same wrk load for
each round, and each keeps its fastest round (noise only slows a round down). Targets: the log
costs at most 5% of the throughput; the chart renders in under 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import Request, Wrk  # noqa: E402
from servers import Server, settle  # noqa: E402

KEY = "sk_test_bench"
CUSTOMER_BODY = "name=Jenny+Rosen&email=jenny%40example.com"
MAX_LOG_COST = 0.05
MAX_CHART_SECONDS = 0.2
CHART_EVENTS = 1_000_000


def mockstripe(scratch: Path, name: str, *flags: str) -> Server:
    exe = Path(sys.executable).parent / "mockstripe"
    return Server(
        name,
        lambda port: [str(exe), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *flags],
        "/_mock/health",
        scratch,
    )


def request_log_cost(rounds: int, duration: int, connections: int) -> tuple[float, float]:
    """Best req/s of `POST /v1/customers` with the request log, and without it."""
    request = Request(
        "POST",
        "/v1/customers",
        {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-www-form-urlencoded"},
        CUSTOMER_BODY,
    )
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        logging = mockstripe(scratch, "logging").start()
        silent = mockstripe(scratch, "silent", "--request-log-size", "0").start()
        wrk = Wrk(scratch, connections, duration, 1)
        best = {"logging": 0.0, "silent": 0.0}
        try:
            for index in range(rounds):
                # Alternate which goes first, so neither always runs on a warmer machine.
                order = [logging, silent] if index % 2 == 0 else [silent, logging]
                for server in order:
                    settle([logging, silent])
                    result = wrk.run(server, request, warmup=index < 2)
                    if result.non2xx or result.socket_errors:
                        raise RuntimeError(f"{server.name}: {result.non2xx} non-2xx, {result.socket_errors} errors")
                    best[server.name] = max(best[server.name], result.rps)
                    print(f"  round {index + 1} {server.name}: {result.rps:,.0f} req/s", flush=True)
        finally:
            logging.stop()
            silent.stop()
    return best["logging"], best["silent"]


def chart_seconds(events: int, runs: int = 5) -> tuple[float, float]:
    """Seconds to render one meter's page (cold: the first after the events arrived; warm: the median
    of `runs` later ones) with `events` events of one customer spread over 30 days."""
    from mockstripe.dashboard import pages  # noqa: PLC0415
    from mockstripe.dashboard.usage import usage_charts  # noqa: PLC0415
    from mockstripe.domain.metering import Metering  # noqa: PLC0415
    from mockstripe.store import Account  # noqa: PLC0415

    account = Account(key=KEY)
    metering = account.service(Metering)
    meter = {
        "id": "mtr_test_bench",
        "object": "billing.meter",
        "display_name": "Tokens",
        "event_name": "tokens",
        "status": "active",
        "default_aggregation": {"formula": "sum"},
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "value_settings": {"event_payload_key": "value"},
    }
    metering.activate(meter)
    account.collection("customer").add({"id": "cus_bench", "object": "customer", "test_clock": None})
    now = account.now()
    first = now - 30 * 86_400
    step = 30 * 86_400 / events
    payload = {"stripe_customer_id": "cus_bench", "value": "1"}
    for index in range(events):
        metering.record(account, "tokens", payload, int(first + index * step), None, strict=True)

    def render() -> float:
        began = time.perf_counter()
        window, charts = usage_charts(metering, meter, "hour")
        pages.meter("token", meter, window, charts)
        return time.perf_counter() - began

    cold = render()
    warm = statistics.median(render() for _ in range(runs))
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    print("POST /v1/customers, request log on and off:", flush=True)
    logging, silent = request_log_cost(args.rounds, args.duration, args.connections)
    cost = 1 - logging / silent
    print(f"request log: {logging:,.0f} req/s with, {silent:,.0f} without: costs {cost:.1%} "
          f"({'PASS' if cost <= MAX_LOG_COST else 'FAIL'}, target <= {MAX_LOG_COST:.0%})")

    cold, warm = chart_seconds(CHART_EVENTS)
    verdict = "PASS" if max(cold, warm) < MAX_CHART_SECONDS else "FAIL"
    print(f"meter chart, {CHART_EVENTS:,} events, 120 hourly bars: {cold * 1000:.0f} ms cold, "
          f"{warm * 1000:.1f} ms warm ({verdict}, target < {MAX_CHART_SECONDS * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
