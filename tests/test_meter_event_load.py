"""Load correctness: 10,000 meter events over 32 concurrent connections, through v1, v2 single events
and v2 stream batches, with retries, must aggregate to their exact sum: none lost, none counted twice."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

EVENTS = 10_000
CONNECTIONS = 32
CUSTOMERS = 8
BATCH = 100
V1_EVENTS = 3_000
V2_SINGLE_EVENTS = 1_000
EVENT_NAME = "load_tokens"
DAY = 86400


@dataclass(frozen=True)
class Event:
    customer: str
    value: int
    timestamp: int
    identifier: str | None


@dataclass(frozen=True)
class Job:
    path: str
    body: str
    content_type: str
    idempotency_key: str
    # Statuses that are a correct answer: a resent event may be the one refused as a duplicate.
    accepted: frozenset[int] = frozenset({200})
    token: str | None = None  # a meter event session token instead of the secret key
    resend: bool = False  # an event sent again under a new Idempotency-Key


class Client:
    def __init__(self, session: aiohttp.ClientSession, url: str, key: str) -> None:
        self.session, self.url, self.key = session, url, key

    async def send(self, job: Job) -> int:
        headers = {
            "Authorization": f"Bearer {job.token or self.key}",
            "Content-Type": job.content_type,
            "Idempotency-Key": job.idempotency_key,
        }
        for _ in range(50):
            async with self.session.post(self.url + job.path, data=job.body, headers=headers) as response:
                await response.read()
                if response.status != 409:  # 409: the same key is in flight; retry as the SDK does
                    return response.status
            await asyncio.sleep(0.01)
        return 409

    async def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if method == "GET":
            request = self.session.get(self.url + path, params=params, headers=headers)
        else:
            request = self.session.post(
                self.url + path, data=urlencode(params or {}), headers={**headers, "Content-Type": FORM}
            )
        async with request as response:
            assert response.status == 200, await response.text()
            return await response.json()


FORM = "application/x-www-form-urlencoded"
# Of an event and its resend under a new Idempotency-Key, whichever arrives second is refused.
EITHER = frozenset({200, 400})
JSON = "application/json"


def v1_job(event: Event, key: str | None = None, accepted: frozenset[int] = frozenset({200})) -> Job:
    """A v1 meter event; without `key`, a resend under a new Idempotency-Key."""
    params = {
        "event_name": EVENT_NAME,
        "payload[stripe_customer_id]": event.customer,
        "payload[value]": str(event.value),
        "timestamp": str(event.timestamp),
    }
    if event.identifier is not None:
        params["identifier"] = event.identifier
    body = urlencode(params)
    return Job("/v1/billing/meter_events", body, FORM, key or secrets.token_hex(16), accepted, resend=key is None)


def v2_fields(event: Event) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_name": EVENT_NAME,
        "payload": {"stripe_customer_id": event.customer, "value": str(event.value)},
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(event.timestamp)),
    }
    if event.identifier is not None:
        fields["identifier"] = event.identifier
    return fields


def v2_single_job(event: Event, accepted: frozenset[int] = frozenset({200}), resend: bool = False) -> Job:
    body = json.dumps(v2_fields(event))
    return Job("/v2/billing/meter_events", body, JSON, secrets.token_hex(16), accepted, resend=resend)


def stream_job(events: list[Event], token: str, key: str | None = None) -> Job:
    body = json.dumps({"events": [v2_fields(e) for e in events]})
    return Job("/v2/billing/meter_event_stream", body, JSON, key or secrets.token_hex(16), token=token)


def plan(events: list[Event], token: str, rng: random.Random) -> list[Job]:
    """Every event sent once, plus retries and resends that must not count again, in random order."""
    jobs: list[Job] = []
    once = frozenset({200})
    for i, event in enumerate(events[:V1_EVENTS]):
        resent = event.identifier is not None and i % 7 == 0
        key = secrets.token_hex(16)
        jobs.append(v1_job(event, key, EITHER if resent else once))
        if i % 10 == 0:  # a retry with the same Idempotency-Key: replayed, not recorded again
            jobs.append(v1_job(event, key, EITHER if resent else once))
        if resent:  # resent with a new key: refused by its identifier
            jobs.append(v1_job(event, accepted=EITHER))
    for i, event in enumerate(events[V1_EVENTS : V1_EVENTS + V2_SINGLE_EVENTS]):
        resent = i % 10 == 0
        jobs.append(v2_single_job(event, EITHER if resent else once))
        if resent:
            jobs.append(v2_single_job(event, EITHER, resend=True))
    streamed = events[V1_EVENTS + V2_SINGLE_EVENTS :]
    for i in range(0, len(streamed), BATCH):
        batch = streamed[i : i + BATCH]
        key = secrets.token_hex(16)
        jobs.append(stream_job(batch, token, key))
        if i // BATCH % 6 == 0:
            jobs.append(stream_job(batch, token, key))  # same Idempotency-Key: replayed
            jobs.append(stream_job(batch, token))  # new key, same identifiers: skipped
    rng.shuffle(jobs)
    return jobs


async def test_concurrent_events_aggregate_exactly(mockstripe_url: str) -> None:
    rng = random.Random(20240601)
    key = "sk_test_load_" + secrets.token_hex(8)
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as http:
        client = Client(http, mockstripe_url, key)
        meter = await client.call(
            "POST",
            "/v1/billing/meters",
            {"display_name": "Load", "event_name": EVENT_NAME, "default_aggregation[formula]": "sum"},
        )
        customers = [(await client.call("POST", "/v1/customers"))["id"] for _ in range(CUSTOMERS)]
        session = await client.call("POST", "/v2/billing/meter_event_session")
        now = int(time.time())
        events = [
            Event(
                customer=rng.choice(customers),
                value=rng.randint(-50, 1000),
                timestamp=now - rng.randint(0, 10 * DAY),
                # Streamed events always carry identifiers (resent batches rely on them); a third of
                # the v1 events go without one and rely on their Idempotency-Key alone.
                identifier=None if i < V1_EVENTS and i % 3 == 1 else f"load-{i}",
            )
            for i in range(EVENTS)
        ]
        jobs = plan(events, session["authentication_token"], rng)
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        wrong: list[tuple[Job, int]] = []
        refused = 0

        async def worker() -> None:
            nonlocal refused
            while not queue.empty():
                job = queue.get_nowait()
                status = await client.send(job)
                refused += status == 400
                if status not in job.accepted:
                    wrong.append((job, status))

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        assert not wrong, wrong[:3]
        # Each event resent with a new Idempotency-Key was refused once, by its identifier.
        assert refused >= sum(job.resend for job in jobs) > 0

        end = (int(time.time()) // 60 + 10) * 60
        for customer in customers:
            listed = await client.call(
                "GET",
                f"/v1/billing/meters/{meter['id']}/event_summaries",
                {"customer": customer, "start_time": str(end - 35 * DAY), "end_time": str(end)},
            )
            expected = sum(e.value for e in events if e.customer == customer)
            assert [s["aggregated_value"] for s in listed["data"]] == [expected], customer
    assert time.monotonic() - started < 15
