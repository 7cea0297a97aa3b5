"""The fuzz and fault suite: seeded generated requests across every route, then invariants.

100,000 requests by default (about a minute or two); more with `MOCKSTRIPE_FUZZ_REQUESTS`, another
seed with `MOCKSTRIPE_FUZZ_SEED`. Afterwards: no 500, no hang, every error Stripe-shaped JSON, the
server healthy, every listed object retrievable, meter counts equal to the 200 answers, meter
aggregates equal to the accepted events, and no object visible from another key.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fuzz import FORM_TYPE, Connection, Generator, Reply, read_reply, request_bytes

from mockstripe.app import default_areas
from mockstripe.config import Config
from mockstripe.server import start
from mockstripe.wire.objects import ListOf

REQUESTS = int(os.environ.get("MOCKSTRIPE_FUZZ_REQUESTS", "100000"))
SEED = int(os.environ.get("MOCKSTRIPE_FUZZ_SEED", "20261130"))
WORKERS = 16
FAULT_ROUNDS = 30
ANSWER_SECONDS = 30  # longer than this without an answer is a hang
KEYS = [f"sk_test_fuzz_{n}" for n in range(4)]
METERED_KEY = "sk_test_fuzz_metered"  # its meter events are counted; the fuzzer never sees its ids
ADMIN_TOKEN = "fuzz-admin"  # so that fuzzed resets are refused and the invariants can be checked


GENERATED_ID = re.compile(r"[a-z]+(_[a-z]+)*_[A-Za-z0-9]{14,}")
# Where objects are made (a POST to a collection), whatever the query string says.
CREATE_PATHS = {e.path for area in default_areas() for e in area.endpoints if e.method == "POST" and "{" not in e.path}


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []
        self.created: dict[tuple[str, str], set[str]] = {}  # (key, object type) -> ids answered 200
        self.faults = 0
        self.resent = 0  # requests sent again on a new connection, the server having closed theirs

    def check(self, what: str, reply: Reply) -> Any:
        """Count the answer; a 5xx or an error that is not Stripe-shaped is a problem."""
        self.statuses[reply.status] += 1
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        if reply.status >= 500:
            self.problems.append(f"{reply.status} for {what}: {reply.body[:300]!r}")
        elif reply.status >= 300:
            error = body.get("error") if isinstance(body, dict) else None
            if not (
                reply.headers.get("content-type", "").startswith("application/json")
                and isinstance(error, dict)
                and isinstance(error.get("type"), str)
                and isinstance(error.get("message"), str)
            ):
                self.problems.append(f"not Stripe-shaped ({reply.status}) for {what}: {reply.body[:300]!r}")
        return body


async def fuzz_worker(host: str, port: int, generator: Generator, count: int, tally: Tally, meter: dict) -> None:
    connection = Connection(host, port)
    rng = random.Random(generator.rng.random())
    try:
        for _ in range(count):
            if rng.random() < 0.03:
                await send_meter_event(connection, meter, rng, tally)
                continue
            endpoint, key, headers, data = generator.request()
            what = data[:200].decode("latin-1")
            try:
                try:
                    reply = await asyncio.wait_for(connection.exchange(data), ANSWER_SECONDS)
                except (asyncio.IncompleteReadError, ConnectionError):
                    # The server had closed the connection after answering a broken request (it does
                    # not read what it refused): send it again, where it must be answered.
                    await connection.close()
                    tally.resent += 1
                    reply = await asyncio.wait_for(connection.exchange(data), ANSWER_SECONDS)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                tally.problems.append(f"no answer on a fresh connection ({error!r}) to {what}")
                await connection.close()
                continue
            except TimeoutError:
                tally.problems.append(f"no answer in {ANSWER_SECONDS} s to {what}")
                await connection.close()
                continue
            body = tally.check(what, reply)
            if reply.status == 200 and isinstance(body, dict) and isinstance(body.get("id"), str):
                object_type = body.get("object")
                if isinstance(object_type, str) and not body.get("deleted"):
                    generator.remember(object_type, body["id"])
                    # Made by this key's own account (not a connected one, not another key's).
                    own = headers.get("Authorization") == f"Bearer {key}" and not headers.get("Stripe-Account")
                    method, target, _ = data.split(b" ", 2)
                    if own and method == b"POST" and target.split(b"?")[0].decode() in CREATE_PATHS:
                        tally.created.setdefault((key, object_type), set()).add(body["id"])
    finally:
        await connection.close()


async def send_meter_event(connection: Connection, meter: dict, rng: random.Random, tally: Tally) -> None:
    value = rng.randint(1, 1000)
    body = urlencode({
        "event_name": meter["event_name"],
        "payload[stripe_customer_id]": meter["customer"],
        "payload[value]": str(value),
        "timestamp": str(meter["now"] - rng.randint(0, 3600)),
    }).encode()
    headers = {"Authorization": f"Bearer {METERED_KEY}", "Content-Type": FORM_TYPE}
    data = request_bytes("POST", "/v1/billing/meter_events", headers, body)
    try:
        reply = await asyncio.wait_for(connection.exchange(data), ANSWER_SECONDS)
    except (asyncio.IncompleteReadError, ConnectionError):
        # The server had closed the connection after answering a broken request: this one was not read.
        await connection.close()
        reply = await asyncio.wait_for(connection.exchange(data), ANSWER_SECONDS)
    tally.check("a counted meter event", reply)
    if reply.status == 200:
        meter["accepted"] += value


async def fault_worker(host: str, port: int, generator: Generator, tally: Tally) -> None:
    for _ in range(FAULT_ROUNDS):
        for name, data, answered in generator.faults(generator.rng.choice(KEYS)):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(data)
                await writer.drain()
                if answered:
                    try:
                        reply = await asyncio.wait_for(read_reply(reader), ANSWER_SECONDS)
                    except (asyncio.IncompleteReadError, ConnectionError):
                        pass  # closing without an answer is fine for a broken request
                    except TimeoutError:
                        tally.problems.append(f"no answer in {ANSWER_SECONDS} s to the fault {name}")
                    else:
                        tally.check(f"the fault {name}", reply)
                tally.faults += 1
            finally:
                writer.close()


class Api:
    """Plain calls for the set-up and the checks afterwards."""

    def __init__(self, host: str, port: int, tally: Tally) -> None:
        self.connection = Connection(host, port)
        self.tally = tally

    async def call(self, method: str, path: str, key: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key}"}
        body = b""
        if method == "POST":
            headers["Content-Type"] = FORM_TYPE
            body = urlencode(params or {}).encode()
        elif params:
            path += "?" + urlencode(params)
        reply = await asyncio.wait_for(self.connection.exchange(request_bytes(method, path, headers, body)), 30)
        return reply.status, self.tally.check(f"{method} {path}", reply)

    async def list_all(self, path: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params = {"limit": "100"}
        while True:
            status, page = await self.call("GET", path, key, params)
            assert status == 200, (path, page)
            found += page["data"]
            if not page["has_more"]:
                return found
            params = {"limit": "100", "starting_after": page["data"][-1]["id"]}


async def set_up_meter(api: Api) -> dict[str, Any]:
    name = "fuzz_counted"
    status, meter = await api.call("POST", "/v1/billing/meters", METERED_KEY, {
        "display_name": "Counted", "event_name": name, "default_aggregation[formula]": "sum",
        "customer_mapping[event_payload_key]": "stripe_customer_id", "customer_mapping[type]": "by_id",
        "value_settings[event_payload_key]": "value",
    })
    assert status == 200, meter
    status, customer = await api.call("POST", "/v1/customers", METERED_KEY, {"name": "Counted"})
    assert status == 200, customer
    return {"id": meter["id"], "event_name": name, "customer": customer["id"], "now": int(time.time()), "accepted": 0}


async def session_token(api: Api, key: str) -> str:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    reply = await api.connection.exchange(request_bytes("POST", "/v2/billing/meter_event_session", headers, b"{}"))
    assert reply.status == 200, reply.body
    return json.loads(reply.body)["authentication_token"]


async def check_invariants(api: Api, tally: Tally, meter: dict[str, Any]) -> dict[str, int]:
    figures: Counter[str] = Counter()
    status, health = await api.call("GET", "/_mock/health", KEYS[0])
    assert status == 200 and health["status"] == "ok", health
    endpoints = [e for area in default_areas() for e in area.endpoints if e.method == "GET"]
    # Object type -> its retrieve URL prefix, and the list URLs of types that can be retrieved.
    retrieve = {e.returns: e.path.rsplit("/", 1)[0] for e in endpoints if isinstance(e.returns, str) and "{" in e.path}
    lists = [(e.path, e.returns.item) for e in endpoints
             if isinstance(e.returns, ListOf) and "{" not in e.path and e.returns.item in retrieve]
    for key in KEYS:
        for path, object_type in lists:
            status, _ = await api.call("GET", path, key, {"limit": "1"})
            if status != 200:
                continue  # a list that needs a filter (a subscription's items)
            listed = await api.list_all(path, key)
            for obj in listed:
                status, again = await api.call("GET", f"{retrieve[object_type]}/{quote(obj['id'], safe='')}", key)
                assert status == 200 and again["id"] == obj["id"], (path, obj["id"], again)
                figures["listed and retrieved"] += 1
            if object_type == "billing.meter":
                # Meters are made only by POST /v1/billing/meters and never deleted.
                assert {m["id"] for m in listed} == tally.created.get((key, "billing.meter"), set())
            if object_type == "customer":
                assert {c["id"] for c in listed} <= tally.created.get((key, "customer"), set())
    for (key, object_type), ids in tally.created.items():
        if object_type not in retrieve:
            continue
        other = KEYS[(KEYS.index(key) + 1) % len(KEYS)]
        # Only ids the server made: one the caller chose (a product's) may exist in both accounts,
        # each its own object.
        for object_id in sorted(i for i in ids if GENERATED_ID.fullmatch(i))[:100]:
            status, _ = await api.call("GET", f"{retrieve[object_type]}/{quote(object_id, safe='')}", other)
            assert status == 404, (object_type, object_id)
            figures["hidden from another key"] += 1
    status, summaries = await api.call(
        "GET", f"/v1/billing/meters/{meter['id']}/event_summaries", METERED_KEY,
        {"customer": meter["customer"], "start_time": str(meter["now"] // 86400 * 86400 - 86400),
         "end_time": str(meter["now"] // 86400 * 86400 + 2 * 86400)},
    )
    assert status == 200, summaries
    assert sum(s["aggregated_value"] for s in summaries["data"]) == meter["accepted"]
    figures["meter event value accepted"] = meter["accepted"]
    return dict(figures)


async def test_fuzz_and_faults(capsys: pytest.CaptureFixture[str]) -> None:
    runner, port = await start(Config(port=0, admin_token=ADMIN_TOKEN, log_level="error"))
    host = "127.0.0.1"
    tally = Tally()
    try:
        # Injected faults are failures on purpose: the fuzzer leaves them to the fault tests.
        endpoints = [e for area in default_areas() for e in area.endpoints if e.path != "/_mock/faults"]
        generator = Generator(SEED, endpoints, KEYS)
        api = Api(host, port, tally)
        meter = await set_up_meter(api)
        for key in KEYS:
            generator.session_tokens[key] = await session_token(api, key)
        started = time.monotonic()
        per_worker = REQUESTS // WORKERS
        await asyncio.gather(
            fault_worker(host, port, generator, tally),
            *(fuzz_worker(host, port, generator, per_worker, tally, meter) for _ in range(WORKERS)),
        )
        elapsed = time.monotonic() - started
        sent = sum(tally.statuses.values())
        figures = await check_invariants(api, tally, meter)
        await api.connection.close()
        with capsys.disabled():
            print(
                f"\nfuzz: seed {SEED}, {per_worker * WORKERS:,} generated requests ({tally.resent:,} sent again "
                f"after the server closed their connection) and {tally.faults:,} faults in {elapsed:.0f} s; "
                f"statuses {dict(sorted(tally.statuses.items()))}; invariants: {figures}"
            )
        assert not tally.problems, "\n".join(tally.problems[:30])
        assert sent >= per_worker * WORKERS
    finally:
        await runner.cleanup()
