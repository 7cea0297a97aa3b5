"""The measurements, run in one process so every comparison is side by side.

A measurement whose endpoint the server does not serve yet (404 on the route)
is recorded as {"na": "404 ..."} instead of failing the run, so the bench can
run against a server that is still being built and fills in as routes land.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import report
from api import (
    FORM,
    JSON,
    Client,
    EndpointMissing,
    RequestFailed,
    auth,
    form,
)
from instructions import MEASURED, Counted
from load import Request, Wrk, WrkResult
from servers import Server, ServerUnavailable, settle, side_by_side
from soak import soak

MOCK, CEILING, LOCALSTRIPE = "mockstripe", "ceiling", "localstripe"
RECEIVER = "receiver"
# Accounts of their own, so the other rows' account has no webhook endpoint.
WEBHOOK_KEY, DRAIN_KEY = "sk_test_bench_webhooks", "sk_test_bench_drain"
DRAIN_EVENTS = 50_000
DRAIN_LOAD_BUDGET_S = 150.0
SERVER_ORDER = (MOCK, CEILING, LOCALSTRIPE)
EVENT_NAME = "bench_tokens"
ALERTED_EVENT_NAME = "bench_tokens_alerted"
ALERTS = 100  # active billing alerts on the alerted meter
BATCH = 100  # events per v2 stream request: the API's maximum
# The price below: 4 cents per started 100 units, metered by the sum of events.
UNIT_AMOUNT, DIVIDE_BY = 4, 100
LOCALSTRIPE_STATE = Path("/tmp/localstripe.pickle")
INSTRUMENTED_START_S = 180.0  # a server under valgrind starts 30 to 100 times slower

Result = dict[str, object]


@dataclass
class Settings:
    duration_s: int
    rounds: int
    warmup_s: int
    connections: int
    levels: tuple[int, ...]
    preview_samples: int
    preview_budget_s: float
    load_budget_s: float
    cold_runs: int
    stored_customers: int
    store_load_budget_s: float

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Settings":
        quick = bool(args.quick)
        return cls(
            duration_s=args.duration or 2,
            rounds=args.rounds or (1 if quick else 3),
            warmup_s=1,
            connections=args.connections,
            levels=(10**3, 10**5) if quick else (10**3, 10**5, 10**6),
            preview_samples=20 if quick else 50,
            preview_budget_s=10.0 if quick else 20.0,
            load_budget_s=40.0 if quick else 150.0,
            cold_runs=3 if quick else 5,
            stored_customers=10**5 if quick else 10**6,
            store_load_budget_s=60.0 if quick else 300.0,
        )


def progress(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def na(reason: str) -> Result:
    return {"na": reason}


# --- fixtures ---------------------------------------------------------------


class Fixtures(Protocol):
    def customer(self) -> str: ...
    def meter(self) -> str: ...
    def subscription(self) -> str: ...


class StoredFixtures:
    """Objects the benchmarked requests refer to, created once per server."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._customer: str | None = None
        self._meter: str | None = None
        self._subscription: str | None = None

    def _id(self, path: str, params: dict[str, str]) -> str:
        return str(self.client.call("POST", path, params)["id"])

    def customer(self) -> str:
        if self._customer is None:
            self._customer = self._id("/v1/customers", CUSTOMER_PARAMS)
        return self._customer

    def meter(self) -> str:
        if self._meter is None:
            self._meter = self._id("/v1/billing/meters", {
                "display_name": "Bench",
                "event_name": EVENT_NAME,
                "default_aggregation[formula]": "sum",
            })
        return self._meter

    def subscription(self) -> str:
        if self._subscription is None:
            price = self._id("/v1/prices", {
                "currency": "usd",
                "unit_amount": str(UNIT_AMOUNT),
                "billing_scheme": "per_unit",
                "transform_quantity[divide_by]": str(DIVIDE_BY),
                "transform_quantity[round]": "up",
                "recurring[usage_type]": "metered",
                "recurring[interval]": "month",
                "recurring[meter]": self.meter(),
                "product_data[name]": "Tokens",
            })
            self._subscription = self._id("/v1/subscriptions", {
                "customer": self.customer(),
                "items[0][price]": price,
            })
        return self._subscription


class FixedFixtures:
    """The ceiling stores nothing: any id will do."""

    def customer(self) -> str:
        return "cus_bench"

    def meter(self) -> str:
        return "mtr_bench"

    def subscription(self) -> str:
        return "sub_bench"


# --- benchmarked requests ---------------------------------------------------

CUSTOMER_PARAMS = {"name": "Jenny Rosen", "email": "jenny@example.com"}
COUPON_PARAMS = {"percent_off": "25", "duration": "once", "name": "Spring"}
FORM_HEADERS = auth() | {"Content-Type": FORM}


def meter_event_body(customer: str) -> str:
    return form({
        "event_name": EVENT_NAME,
        "payload[stripe_customer_id]": customer,
        "payload[value]": "1",
    })


def stream_body(customer: str, event_name: str = EVENT_NAME) -> str:
    event = {"event_name": event_name, "payload": {"stripe_customer_id": customer, "value": "1"}}
    return json.dumps({"events": [event] * BATCH})


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    build: Callable[[Fixtures], Request]


def create_customer(fx: Fixtures) -> Request:
    return Request("POST", "/v1/customers", FORM_HEADERS, form(CUSTOMER_PARAMS))


def retrieve_customer(fx: Fixtures) -> Request:
    return Request("GET", f"/v1/customers/{fx.customer()}", auth())


def create_meter_event(fx: Fixtures) -> Request:
    fx.meter()  # events need a meter with their event_name to count
    return Request("POST", "/v1/billing/meter_events", FORM_HEADERS, meter_event_body(fx.customer()))


def create_preview(fx: Fixtures) -> Request:
    body = form({"subscription": fx.subscription()})
    return Request("POST", "/v1/invoices/create_preview", FORM_HEADERS, body)


def create_generic(fx: Fixtures) -> Request:
    return Request("POST", "/v1/coupons", FORM_HEADERS, form(COUPON_PARAMS))


ENDPOINTS = (
    Endpoint("customers.create", "POST /v1/customers", create_customer),
    Endpoint("customers.retrieve", "GET /v1/customers/{id}", retrieve_customer),
    Endpoint("meter_events.create", "POST /v1/billing/meter_events", create_meter_event),
    Endpoint("invoices.create_preview", "POST /v1/invoices/create_preview", create_preview),
    Endpoint("generic.create", "POST /v1/coupons (generic)", create_generic),
)


def prepare(client: Client, fx: Fixtures, endpoint: Endpoint) -> Request | Result:
    """The request to load the server with, after one probe shows it succeeds."""
    try:
        req = endpoint.build(fx)
        return probe(client, req)
    except EndpointMissing as e:
        return na(f"404 {e.method} {e.path}")
    except RequestFailed as e:
        return na(f"error: {e}")


def probe(client: Client, req: Request) -> Request | Result:
    reply = client.send(req.method, req.path, req.body, req.headers)
    if reply.status == 404 and "error" not in reply.body:
        return na(f"404 {req.method} {req.path.split('?')[0]}")
    if not 200 <= reply.status < 300:
        return na(f"error: {req.method} {req.path} -> {reply.status}: {json.dumps(reply.body)[:200]}")
    return req


def summarise(runs: list[WrkResult], events_per_request: int = 1) -> Result:
    """The fastest round, with every round's rate kept alongside.

    Noise from other work on the machine only ever slows a round down, so the
    fastest round is the closest to what the server can do.
    """
    best = max(runs, key=lambda r: r.rps)
    out: Result = best.as_dict()
    out["events_per_s"] = best.rps * events_per_request
    out["rounds_rps"] = [r.rps for r in runs]
    total = sum(r.requests for r in runs)
    bad = sum(r.non2xx + r.socket_errors for r in runs)
    if total and bad / total > 0.01:
        out["na"] = f"error: {bad} of {total} requests failed or were not 2xx"
    return out


# --- servers ----------------------------------------------------------------


@dataclass
class Bench:
    settings: Settings
    venv: Path
    scratch: Path

    def mockstripe(self, *extra: str) -> Server:
        exe = self.venv / "bin" / "mockstripe"
        return Server(
            MOCK,
            lambda port: [str(exe), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra],
            "/_mock/health",
            self.scratch,
        )

    def mockstripe_without_events(self) -> Server:
        """The same mockstripe with event recording switched off (bench/without_events.py)."""
        python, script = self.venv / "bin" / "python", Path(__file__).resolve().parent / "without_events.py"
        return Server(
            MOCK,
            lambda port: [str(python), str(script), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            "/_mock/health",
            self.scratch,
        )

    def receiver(self, hold: bool) -> Server:
        script = Path(__file__).resolve().parent / "receiver.py"
        return Server(
            RECEIVER,
            lambda port: [sys.executable, str(script), "--port", str(port), *(["--hold"] if hold else [])],
            "/_mock/health",
            self.scratch,
        )

    def ceiling(self, loop: str) -> Server:
        script = Path(__file__).resolve().parent / "ceiling.py"
        return Server(
            CEILING,
            lambda port: [sys.executable, str(script), "--port", str(port), "--loop", loop],
            "/_mock/health",
            self.scratch,
        )

    def localstripe(self) -> Server:
        exe = self.venv / "bin" / "localstripe"
        # --from-scratch: do not load state a previous localstripe left behind.
        return Server(
            LOCALSTRIPE,
            lambda port: [str(exe), "--port", str(port), "--from-scratch"],
            "/v1/customers?limit=1",
            self.scratch,
            health_headers=auth(),
        )


def start(server: Server) -> Server | str:
    try:
        return server.start()
    except ServerUnavailable as e:
        progress(f"{server.name} unavailable: {e}")
        return f"{server.name} unavailable: {e}"


def default_loop() -> str:
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


# --- measurements -----------------------------------------------------------


def throughput(bench: Bench, results: Result) -> None:
    """Rows 1, 2 and 6: req/s of each endpoint on each server, and v2 events/s."""
    s = bench.settings
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    running: dict[str, Server | str] = {MOCK: start(bench.mockstripe())}
    mock = running[MOCK]
    # The ceiling runs on the loop mockstripe actually runs on (seen in its
    # memory maps), so the ratio measures mockstripe, not the loop.
    if isinstance(mock, Server):
        loop = "uvloop" if mock.uses_uvloop() else "asyncio"
    else:
        loop = default_loop()
    results["meta"]["ceiling_loop"] = loop  # type: ignore[index]  # "meta" is always a dict
    had_state = LOCALSTRIPE_STATE.exists()
    running[CEILING] = start(bench.ceiling(loop))
    running[LOCALSTRIPE] = start(bench.localstripe())
    clients = {n: Client(srv.port) for n, srv in running.items() if isinstance(srv, Server)}
    fixtures: dict[str, Fixtures] = {
        n: FixedFixtures() if n == CEILING else StoredFixtures(c) for n, c in clients.items()
    }
    live = [srv for srv in running.values() if isinstance(srv, Server)]
    table: dict[str, dict[str, Result]] = {}
    try:
        for ep in ENDPOINTS:
            row: dict[str, Result] = {}
            reqs: dict[str, tuple[Server, Request]] = {}
            for name in SERVER_ORDER:
                srv = running[name]
                if not isinstance(srv, Server):
                    row[name] = na(srv)
                    continue
                req = prepare(clients[name], fixtures[name], ep)
                if isinstance(req, Request):
                    reqs[name] = (srv, req)
                else:
                    row[name] = req
            # Servers alternate round by round on the same route, so drift in
            # machine noise hits all columns of a row alike.
            runs: dict[str, list[WrkResult]] = {name: [] for name in reqs}
            for i in range(s.rounds):
                for name, (srv, req) in reqs.items():
                    if name in row:
                        continue  # failed in an earlier round
                    progress(f"{ep.label} on {name}" + (f" (round {i + 1}/{s.rounds})" if s.rounds > 1 else ""))
                    try:
                        settle(live)
                        runs[name].append(wrk.run(srv, req, warmup=i == 0))
                    except (RuntimeError, OSError) as e:
                        # e.g. the server crashed under load: the rest of the bench still runs.
                        row[name] = na(f"error: {e}")
            row |= {name: summarise(r) for name, r in runs.items() if name not in row}
            table[ep.key] = {name: row[name] for name in SERVER_ORDER}
        results["throughput"] = table
        results["stream"], results["stream_alerts"] = stream(
            wrk, s.rounds, running[MOCK], clients.get(MOCK), fixtures.get(MOCK)
        )
    finally:
        for c in clients.values():
            c.close()
        for srv in running.values():
            if isinstance(srv, Server):
                srv.stop()
        if not had_state:
            LOCALSTRIPE_STATE.unlink(missing_ok=True)


def stream_request(client: Client, fx: Fixtures, event_name: str = EVENT_NAME) -> Request | Result:
    try:
        fx.meter()
        customer = fx.customer()
        session = client.call_json("/v2/billing/meter_event_session", {})
    except EndpointMissing as e:
        return na(f"404 {e.method} {e.path}")
    except RequestFailed as e:
        return na(f"error: {e}")
    token = str(session.get("authentication_token"))
    headers = auth(token) | {"Content-Type": JSON}
    return probe(client, Request("POST", "/v2/billing/meter_event_stream", headers, stream_body(customer, event_name)))


def alerted_stream_request(client: Client, fx: Fixtures) -> Request | Result:
    """The stream request for a second meter watched by `ALERTS` active billing alerts on the
    same customer, none of which is reached, so every batch evaluates them all."""
    try:
        meter = client.call("POST", "/v1/billing/meters", {
            "display_name": "Bench alerted",
            "event_name": ALERTED_EVENT_NAME,
            "default_aggregation[formula]": "sum",
        })["id"]
        for i in range(ALERTS):
            client.call("POST", "/v1/billing/alerts", {
                "alert_type": "usage_threshold",
                "title": f"Bench alert {i}",
                "usage_threshold[gte]": str(10**15 + i),
                "usage_threshold[meter]": str(meter),
                "usage_threshold[recurrence]": "one_time",
                "usage_threshold[filters][0][type]": "customer",
                "usage_threshold[filters][0][customer]": fx.customer(),
            })
    except EndpointMissing as e:
        return na(f"404 {e.method} {e.path}")
    except RequestFailed as e:
        return na(f"error: {e}")
    return stream_request(client, fx, ALERTED_EVENT_NAME)


def stream(
    wrk: Wrk, wrk_rounds: int, mock: Server | str, client: Client | None, fx: Fixtures | None
) -> tuple[Result, Result]:
    """Row 2: events/s through the v2 meter event stream, 100 events a request, for a meter without
    alerts and for one with `ALERTS` active alerts (rounds alternate between the two)."""
    if not isinstance(mock, Server) or client is None or fx is None:
        return na(str(mock)), na(str(mock))
    plain = stream_request(client, fx)
    if not isinstance(plain, Request):
        return plain, plain
    alerted = alerted_stream_request(client, fx)
    requests = {"plain": plain} | ({"alerted": alerted} if isinstance(alerted, Request) else {})
    runs: dict[str, list[WrkResult]] = {name: [] for name in requests}
    for i in range(wrk_rounds):
        for name, req in requests.items():
            label = "v2 meter_event_stream" + (f" with {ALERTS} alerts" if name == "alerted" else "")
            progress(f"{label} on mockstripe" + (f" (round {i + 1}/{wrk_rounds})" if wrk_rounds > 1 else ""))
            try:
                settle([mock])
                runs[name].append(wrk.run(mock, req, warmup=i == 0))
            except (RuntimeError, OSError) as e:
                return na(f"error: {e}"), na(f"error: {e}")
    plain_result = summarise(runs["plain"], events_per_request=BATCH)
    alerted_result = summarise(runs["alerted"], events_per_request=BATCH) if "alerted" in runs else alerted
    return plain_result, alerted_result  # type: ignore[return-value]


@dataclass
class Loader:
    """Stores events for one customer as fast as the server takes them."""

    wrk: Wrk
    server: Server
    request: Request
    events_per_request: int
    connections: int
    via: str

    def load(self, events: int, deadline: float) -> int:
        """Stores `events` more events, or fewer if the deadline passes; returns how many."""
        requests = events // self.events_per_request
        done = self.wrk.send_exactly(self.server, self.request, requests,
                                     deadline - time.monotonic(), self.connections)
        return done * self.events_per_request


def pick_loader(wrk: Wrk, mock: Server, client: Client, customer: str) -> Loader | Result:
    """The v2 stream when served, else v1 meter events in parallel."""
    try:
        session = client.call_json("/v2/billing/meter_event_session", {})
        headers = auth(str(session["authentication_token"])) | {"Content-Type": JSON}
        req = Request("POST", "/v2/billing/meter_event_stream", headers, stream_body(customer))
        return Loader(wrk, mock, req, BATCH, 8, "v2 meter_event_stream")
    except (EndpointMissing, RequestFailed, KeyError):
        pass
    # Probed with a zero-value event, which is stored but adds nothing to the sum.
    zero = form({"event_name": EVENT_NAME, "payload[stripe_customer_id]": customer, "payload[value]": "0"})
    probed = probe(client, Request("POST", "/v1/billing/meter_events", FORM_HEADERS, zero))
    if not isinstance(probed, Request):
        return probed
    req = Request("POST", "/v1/billing/meter_events", FORM_HEADERS, meter_event_body(customer))
    return Loader(wrk, mock, req, 1, 32, "v1 meter_events")


def expected_total(events: int) -> int:
    return UNIT_AMOUNT * math.ceil(events / DIVIDE_BY)


def preview_latency(bench: Bench, client: Client, sub: str, events: int) -> Result:
    """Median of sequential create_preview calls, after the preview shows all events."""
    s = bench.settings
    params = {"subscription": sub}
    want = expected_total(events)
    # Doubles as the warm-up call. Waits briefly in case the server
    # aggregates asynchronously, so the timed calls see every event.
    deadline = time.monotonic() + 5.0
    while True:
        _, body = client.timed("POST", "/v1/invoices/create_preview", params)
        got = body.get("total")
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    samples: list[float] = []
    budget = time.monotonic() + s.preview_budget_s
    while len(samples) < s.preview_samples and time.monotonic() < budget:
        samples.append(client.timed("POST", "/v1/invoices/create_preview", params)[0])
    return {
        "events": events,
        "median_ms": statistics.median(samples) * 1e3,
        "min_ms": min(samples) * 1e3,
        "samples": len(samples),
        "total": got,
        "expected_total": want,
        "total_ok": got == want,
    }


def scaling(bench: Bench, results: Result) -> None:
    """Rows 3 and 4: create_preview latency and RSS as stored events grow.

    A fresh mockstripe, so the baseline RSS holds nothing but the fixtures.
    """
    mock = start(bench.mockstripe())
    if not isinstance(mock, Server):
        results["preview_latency"] = results["memory"] = na(mock)
        return
    client = Client(mock.port)
    try:
        results["preview_latency"], results["memory"] = grow(bench, mock, client)
    except EndpointMissing as e:
        results["preview_latency"] = results["memory"] = na(f"404 {e.method} {e.path}")
    except (RequestFailed, RuntimeError, OSError) as e:
        # A server still being built may fail here; the other rows stand.
        results["preview_latency"] = results["memory"] = na(f"error: {e}")
    finally:
        client.close()
        mock.stop()


def grow(bench: Bench, mock: Server, client: Client) -> tuple[Result, Result]:
    s = bench.settings
    fx = StoredFixtures(client)
    sub = fx.subscription()
    client.call("POST", "/v1/invoices/create_preview", {"subscription": sub})
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    loader = pick_loader(wrk, mock, client, fx.customer())
    if not isinstance(loader, Loader):
        return loader, loader
    rss0 = rss = mock.rss_bytes()
    stored = 0
    levels: list[Result] = []
    load_deadline = time.monotonic() + s.load_budget_s
    loaded_s = 0.0
    for level in s.levels:
        progress(f"loading events up to {level:,} via {loader.via}")
        t0 = time.monotonic()
        stored += loader.load(level - stored, load_deadline)
        loaded_s += time.monotonic() - t0
        rss = mock.rss_bytes()
        if stored < level:
            levels.append({"events": level, **na(f"load budget spent at {stored:,} events")})
            break
        levels.append(preview_latency(bench, client, sub, level))
    latency: Result = {"via": loader.via, "levels": levels,
                       "load_events_per_s": stored / loaded_s if loaded_s else None}
    memory: Result = {
        "events": stored,
        "rss_before": rss0,
        "rss_after": rss,
        "bytes_per_event": (rss - rss0) / stored if stored else None,
    }
    return latency, memory


def full_store(bench: Bench, results: Result) -> None:
    """`POST /v1/customers` on a fresh mockstripe, empty and then holding `stored_customers`
    customers: the throughput and tail latency a full store keeps. The aiohttp ceiling takes the
    same load first: its tail is what the machine allows any aiohttp server at this concurrency."""
    s = bench.settings
    mock = start(bench.mockstripe())
    if not isinstance(mock, Server):
        results["full_store"] = na(mock)
        return
    ceiling = start(bench.ceiling(default_loop()))
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    client = Client(mock.port)
    try:
        req = prepare(client, FixedFixtures(), ENDPOINTS[0])
        if not isinstance(req, Request):
            results["full_store"] = req
            return

        def measure(server: Server, what: str) -> Result:
            runs = []
            for i in range(s.rounds):
                progress(f"POST /v1/customers, {what}" + (f" (round {i + 1}/{s.rounds})" if s.rounds > 1 else ""))
                # Long enough for the full garbage collection an idle server runs after a bulk load.
                settle([server], timeout=60.0)
                runs.append(wrk.run(server, req, warmup=i == 0))
            return summarise(runs)

        at_ceiling = measure(ceiling, "aiohttp ceiling") if isinstance(ceiling, Server) else na(ceiling)
        if isinstance(ceiling, Server):
            ceiling.stop()
        empty = measure(mock, "empty store")
        target = s.stored_customers
        progress(f"storing {target:,} customers")
        started = time.monotonic()
        stored = wrk.send_exactly(mock, req, target, s.store_load_budget_s, s.connections)
        loaded_s = time.monotonic() - started
        if stored < target:
            results["full_store"] = {"empty": empty, **na(f"load budget spent at {stored:,} customers")}
            return
        results["full_store"] = {
            "customers": stored,
            "load_per_s": stored / loaded_s,
            "rss_after_load": mock.rss_bytes(),
            "ceiling": at_ceiling,
            "empty": empty,
            "full": measure(mock, f"{stored:,} customers stored"),
        }
    except (RequestFailed, RuntimeError, OSError) as e:
        results["full_store"] = na(f"error: {e}")
    finally:
        client.close()
        mock.stop()
        if isinstance(ceiling, Server):
            ceiling.stop()


def persistence(bench: Bench, results: Result) -> None:
    """`POST /v1/customers` on a mockstripe with `--data-dir`, round by round against one without;
    then the restart of a data directory holding `stored_customers` customers (and their events)
    plus a journal of `RESTART_JOURNALED` more, killed with SIGKILL: from spawn to healthy."""
    s = bench.settings
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    data = bench.scratch / "data"
    servers = {"off": start(bench.mockstripe()), "on": start(bench.mockstripe("--data-dir", str(data)))}
    try:
        down = [srv for srv in servers.values() if not isinstance(srv, Server)]
        if down:
            results["persistence"] = na(str(down[0]))
            return
        live = [srv for srv in servers.values() if isinstance(srv, Server)]
        req = create_customer(FixedFixtures())
        runs: dict[str, list[WrkResult]] = {name: [] for name in servers}
        cpu_us: dict[str, list[float]] = {name: [] for name in servers}
        for i in range(s.rounds):
            for name, server in servers.items():
                assert isinstance(server, Server)
                progress(f"POST /v1/customers, persistence {name}" + (f" (round {i + 1}/{s.rounds})" if s.rounds > 1 else ""))
                settle(live, timeout=10.0)
                cpu0 = server.cpu_seconds()
                run = wrk.run(server, req, warmup=i == 0)
                runs[name].append(run)
                cpu_us[name].append((server.cpu_seconds() - cpu0) / run.requests * 1e6)
        results["persistence"] = {
            name: summarise(r) | {"cpu_us_per_request": statistics.median(cpu_us[name])} for name, r in runs.items()
        }
    except (RuntimeError, OSError) as e:
        results["persistence"] = na(f"error: {e}")
        return
    finally:
        for srv in servers.values():
            if isinstance(srv, Server):
                srv.stop()
    results["persistence"]["restart"] = restart(bench, wrk)  # type: ignore[index]  # a dict when measured


RESTART_JOURNALED = 40_000  # about 45 MB of journal: below the size that starts a new snapshot


def restart(bench: Bench, wrk: Wrk) -> Result:
    s = bench.settings
    data = bench.scratch / "restart-data"
    progress(f"filling a data directory with {s.stored_customers:,} customers")
    script = Path(__file__).resolve().parent / "persisted_store.py"
    python = str(bench.venv / "bin" / "python")
    done = subprocess.run([python, str(script), str(data), str(s.stored_customers)], capture_output=True, text=True)
    if done.returncode != 0:
        return na(f"error: persisted_store.py: {done.stderr.strip()[-300:]}")
    mock = start(bench.mockstripe("--data-dir", str(data)))
    if not isinstance(mock, Server):
        return na(mock)
    try:
        progress(f"journaling {RESTART_JOURNALED:,} more, then SIGKILL")
        stored = wrk.send_exactly(mock, create_customer(FixedFixtures()), RESTART_JOURNALED, 120.0, s.connections)
        before = http_json(mock.port, "/_mock/health")["objects"]
        mock.proc.kill()  # type: ignore[union-attr]  # started
        mock.proc.wait()  # type: ignore[union-attr]
        # The journal's space is allocated ahead: what it holds ends where the zeros begin.
        journal_bytes = sum(len(p.read_bytes().rstrip(b"\0")) for p in data.glob("journal.*"))
        snapshot_bytes = sum(p.stat().st_size for p in data.glob("snapshot.*"))
        progress("restarting")
        again = bench.mockstripe("--data-dir", str(data))
        again.port = mock.port
        t0 = again.spawn()
        try:
            again.wait_healthy(timeout=120.0, poll=0.01)
            restart_s = time.monotonic() - t0
            after = http_json(again.port, "/_mock/health")
            return {
                "objects": after["objects"], "objects_before_kill": before, "journaled": stored,
                "restart_s": restart_s, "rss_after": after.get("rss_bytes"),
                "journal_bytes": journal_bytes, "snapshot_bytes": snapshot_bytes, "load_average": os.getloadavg()[0],
            }
        finally:
            again.stop()
    except (RequestFailed, RuntimeError, OSError, ServerUnavailable) as e:
        return na(f"error: {e}")
    finally:
        mock.stop()
        shutil.rmtree(data, ignore_errors=True)


def http_json(port: int, path: str) -> dict[str, object]:
    client = Client(port)
    try:
        return client.send("GET", path, None, {}).body  # type: ignore[return-value]
    finally:
        client.close()


def cold_start(bench: Bench, results: Result) -> None:
    """Row 5: spawn of the console script until /_mock/health answers 200."""
    times: list[float] = []
    for _ in range(bench.settings.cold_runs):
        srv = bench.mockstripe()
        try:
            t0 = srv.spawn()
            srv.wait_healthy(poll=0.002)
            times.append(time.monotonic() - t0)
        except ServerUnavailable as e:
            results["cold_start"] = na(f"{MOCK} unavailable: {e}")
            return
        finally:
            srv.stop()
    results["cold_start"] = {"median_s": statistics.median(times), "runs_s": times}


def instructions(bench: Bench, results: Result) -> None:
    """Instructions per request (bench/instructions.py) of the first three routes, on mockstripe and the
    ceiling, and of the v2 stream on mockstripe: their cost independent of the machine's speed."""
    table: dict[str, dict[str, Result]] = {key: {} for key in (*(ep.key for ep in ENDPOINTS[:3]), "stream")}
    for name, server in ((MOCK, bench.mockstripe()), (CEILING, bench.ceiling(default_loop()))):
        try:
            counted = Counted.wrap(server, bench.scratch)
            server.spawn()
            server.wait_healthy(timeout=INSTRUMENTED_START_S)
        except (FileNotFoundError, ServerUnavailable) as e:
            for key, row in table.items():
                if key != "stream" or name == MOCK:
                    row[name] = na(f"{name} under callgrind unavailable: {e}")
            continue
        client = Client(server.port)
        fixtures = FixedFixtures() if name == CEILING else StoredFixtures(client)
        try:
            for key, label, events, req in _counted_requests(name, client, fixtures):
                progress(f"instructions per {label} on {name}")
                table[key][name] = (
                    {"per_request": counted.per_request(req, key), "requests": MEASURED, "events_per_request": events}
                    if isinstance(req, Request) else req
                )
        finally:
            client.close()
            server.stop()
    results["instructions"] = table


def _counted_requests(name: str, client: Client, fixtures: Fixtures) -> Iterator[tuple[str, str, int, Request | Result]]:
    """Key, label, events per request and the request (or why there is none) of each route counted on `name`."""
    for ep in ENDPOINTS[:3]:
        yield ep.key, ep.label, 1, prepare(client, fixtures, ep)
    if name == MOCK:
        yield "stream", "v2 meter_event_stream request", BATCH, stream_request(client, fixtures)


# --- webhooks ---------------------------------------------------------------


def register(client: Client, key: str, receiver: Server, events: str) -> Result | None:
    """A webhook endpoint of `key`'s account for the receiver, whose secret the receiver learns;
    None when done, else why not."""
    body = form({"url": f"http://127.0.0.1:{receiver.port}/webhooks", "enabled_events[]": events})
    reply = client.send("POST", "/v1/webhook_endpoints", body, auth(key) | {"Content-Type": FORM})
    if reply.status == 404 and "error" not in reply.body:
        return na("404 POST /v1/webhook_endpoints")
    if reply.status != 200:
        return na(f"error: POST /v1/webhook_endpoints -> {reply.status}: {json.dumps(reply.body)[:200]}")
    Client(receiver.port).send("POST", "/secret", str(reply.body["secret"]), {})
    return None


def receiver_stats(receiver: Server) -> dict[str, float]:
    return Client(receiver.port).send("GET", "/stats", None, {}).body  # type: ignore[return-value]


# Rounds of the side-by-side comparison whatever --rounds says: its result is the median of the
# rounds' ratios, and a round costs a few seconds.
SIDE_BY_SIDE_ROUNDS = 7


def webhook_overhead(bench: Bench, results: Result) -> None:
    """POST /v1/customers on three servers loaded at the same time, round by round: one with a
    local receiver registered for every event type, one without endpoints, and one of the same code
    with event recording switched off. Compared by server CPU per request."""
    s = bench.settings
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    started = [start(bench.receiver(hold=False)), start(bench.mockstripe()), start(bench.mockstripe()),
               start(bench.mockstripe_without_events())]
    try:
        servers = [srv for srv in started if isinstance(srv, Server)]
        if len(servers) < len(started):
            results["webhooks"] = na(next(str(srv) for srv in started if not isinstance(srv, Server)))
            return
        receiver, hooked, plain, silent = servers
        failed = register(Client(hooked.port), WEBHOOK_KEY, receiver, "*")
        if failed is not None:
            results["webhooks"] = failed
            return
        hooked_request = Request("POST", "/v1/customers", auth(WEBHOOK_KEY) | {"Content-Type": FORM}, form(CUSTOMER_PARAMS))
        plain_request = create_customer(FixedFixtures())
        loads = {"no_events": (silent, plain_request), "plain": (plain, plain_request), "with_endpoint": (hooked, hooked_request)}
        runs: dict[str, list[WrkResult]] = {name: [] for name in loads}
        # Server CPU per request, counted until the servers are idle again, so the deliveries still
        # queued when wrk stops count too. On a shared machine it says more than req/s does.
        cpu_us: dict[str, list[float]] = {name: [] for name in loads}
        with side_by_side([silent, plain, hooked], [receiver]):
            for server, req in loads.values():
                wrk.run(server, req, warmup=True)  # discarded
            rounds = max(s.rounds, SIDE_BY_SIDE_ROUNDS)
            for i in range(rounds):
                progress(f"POST /v1/customers on three servers at once (round {i + 1}/{rounds})")
                settle(servers, timeout=10.0)
                for name, (run, cost) in zip(loads, wrk.run_together(list(loads.values())), strict=True):
                    runs[name].append(run)
                    cpu_us[name].append(cost)
        results["webhooks"] = {
            name: summarise(r) | {"cpu_us_per_request": statistics.median(cpu_us[name]), "rounds_cpu_us": cpu_us[name]}
            for name, r in runs.items()
        } | {"receiver": receiver_stats(receiver)}
    except (RuntimeError, OSError) as e:
        results["webhooks"] = na(f"error: {e}")
    finally:
        for srv in started:
            if isinstance(srv, Server):
                srv.stop()


def delivery_drain(bench: Bench, results: Result) -> None:
    """Signed webhooks/s to one local receiver: 50,000 customer.created events are queued while
    the receiver holds its first answer, then timed from its release until the last arrives."""
    s = bench.settings
    wrk = Wrk(bench.scratch, s.connections, s.duration_s, s.warmup_s)
    # The held first delivery must not time out while the backlog is loaded.
    mock, receiver = start(bench.mockstripe("--webhook-timeout", "600")), start(bench.receiver(hold=True))
    try:
        if not isinstance(mock, Server) or not isinstance(receiver, Server):
            results["delivery"] = na(str(mock if not isinstance(mock, Server) else receiver))
            return
        failed = register(Client(mock.port), DRAIN_KEY, receiver, "customer.created")
        if failed is not None:
            results["delivery"] = failed
            return
        req = Request("POST", "/v1/customers", auth(DRAIN_KEY) | {"Content-Type": FORM}, form(CUSTOMER_PARAMS))
        progress(f"queueing {DRAIN_EVENTS:,} webhooks")
        t0 = time.monotonic()
        events = wrk.send_exactly(mock, req, DRAIN_EVENTS, DRAIN_LOAD_BUDGET_S, s.connections)
        load_s = time.monotonic() - t0
        if events < DRAIN_EVENTS:
            results["delivery"] = na(f"load budget spent at {events:,} events")
            return
        progress(f"delivering {events:,} webhooks")
        cpu_before = mock.cpu_seconds(), receiver.cpu_seconds()
        Client(receiver.port).send("GET", "/release", None, {})
        deadline = time.monotonic() + 120
        while True:
            stats = receiver_stats(receiver)
            if stats["unique"] >= events or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        elapsed = (stats["last_at"] or stats["now"]) - stats["released_at"]
        # Fractions of one core over the drain: which side sets the rate.
        cpu = [(srv.cpu_seconds() - before) / elapsed for srv, before in zip((mock, receiver), cpu_before)]
        results["delivery"] = {
            "events": events,
            "load_events_per_s": events / load_s,
            "webhooks_per_s": stats["unique"] / elapsed if elapsed > 0 else None,
            "lost": events - stats["unique"],
            **{k: stats[k] for k in ("received", "unique", "duplicates", "unverified")},
            "drain_s": elapsed,
            "mockstripe_cpu": cpu[0],
            "receiver_cpu": cpu[1],
        }
    except (RuntimeError, OSError) as e:
        results["delivery"] = na(f"error: {e}")
    finally:
        for srv in (mock, receiver):
            if isinstance(srv, Server):
                srv.stop()


def git_rev(repo: Path) -> str:
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "wrk"


def run_suite(args: argparse.Namespace, repo: Path, venv: Path) -> None:
    settings = Settings.from_args(args)
    scratch = Path(tempfile.mkdtemp(prefix="mockstripe-bench-"))
    bench = Bench(settings, venv, scratch)
    results: Result = {
        "meta": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": git_rev(repo),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "wrk": wrk_version(),
            "wrk_args": f"-t1 -c{settings.connections} -d{settings.duration_s}s, best of {settings.rounds} "
                        f"after a {settings.warmup_s}s warm-up",
            "quick": bool(args.quick),
        }
    }
    started = time.monotonic()
    failed = True
    try:
        sections: dict[str, Callable[[Bench, Result], None]] = {
            "throughput": throughput,
            "webhooks": webhook_overhead,
            "delivery": delivery_drain,
            "scaling": scaling,
            "full_store": full_store,
            "persistence": persistence,
        }
        for name, section in sections.items():
            if not args.only or name in args.only:
                section(bench, results)
        if args.soak:
            progress(f"soak for {args.soak:g} minutes")
            results["soak"] = soak(bench.venv / "bin" / "mockstripe", scratch, args.soak, settings.connections)
        if not args.only or "cold_start" in args.only:
            progress("cold start")
            cold_start(bench, results)
        if not args.only or "instructions" in args.only:
            instructions(bench, results)
        failed = False
    finally:
        results["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)  # type: ignore[index]  # "meta" is a dict
        if failed:
            progress(f"server logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    results["targets"] = report.targets(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report.render(results))
    print(f"\nresults written to {args.output}")
