"""Thin events (v2): `v2.core.event` objects, who receives them, and the meter error reports.

A thin event is stored in full (`GET /v2/core/events/{id}` shows its `data`) and delivered as a
notification without data to each enabled `thin` event destination that lists its type, signed
like a v1 webhook. Delivery itself (HTTP) is the server's business (`courier.py`).

Meter events that Stripe accepts and then drops are gathered per meter (`ErrorReports`, fed by
`Metering`) and reported once per window as `v1.billing.meter.error_report_triggered` (for a known
meter, active or not) or `v1.billing.meter.no_meter_found` (for an event name no meter has), with
counts per error code and a few sample errors: a flood of dropped events makes one report per
meter per window, not one per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..store import Account
from ..wire.ids import new_id
from ..wire.times import format_rfc3339

Obj = dict[str, Any]

EVENT_TYPE = "v2.core.event"
DESTINATION_TYPE = "v2.core.event_destination"
ERROR_REPORT = "v1.billing.meter.error_report_triggered"
NO_METER_FOUND = "v1.billing.meter.no_meter_found"
PING = "v2.core.event_destination.ping"
# Sample errors kept per error code in one report (UNSURE: how many Stripe includes).
MAX_SAMPLE_ERRORS = 5


@dataclass
class _Batch:
    """The errors of one meter (None: of event names without a meter) since the window opened."""

    opened: float  # server monotonic time, for the window
    validation_start: int  # account time, for the report
    error_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # code -> errors, in order of first sight
    samples: dict[str, list[Obj]] = field(default_factory=dict)


class ErrorReports:
    """One account's dropped meter events not yet reported, batched per meter."""

    def __init__(self) -> None:
        self._batches: dict[str | None, _Batch] = {}

    def __bool__(self) -> bool:
        return bool(self._batches)

    def add(self, meter_id: str | None, code: str, message: str, identifier: str, opened: float, now: int) -> None:
        batch = self._batches.get(meter_id)
        if batch is None:
            batch = self._batches[meter_id] = _Batch(opened, now)
        batch.error_count += 1
        batch.counts[code] = batch.counts.get(code, 0) + 1
        samples = batch.samples.setdefault(code, [])
        if len(samples) < MAX_SAMPLE_ERRORS:
            samples.append({"error_message": message, "request": {"identifier": identifier}})

    def take(self, due_by: float | None = None) -> list[tuple[str | None, _Batch]]:
        """The batches whose window opened at or before `due_by` (all when None), now forgotten."""
        due = [(key, batch) for key, batch in self._batches.items() if due_by is None or batch.opened <= due_by]
        for key, _ in due:
            del self._batches[key]
        return due


def report(account: Account, batches: list[tuple[str | None, _Batch]]) -> list[Obj]:
    """Record one thin event per batch; returns them for delivery."""
    now = account.now()
    events = []
    for meter_id, batch in batches:
        count = batch.error_count
        data = {
            # UNSURE: Stripe's wording beyond its documented example "There is 1 invalid event".
            "developer_message_summary": "There is 1 invalid event" if count == 1 else f"There are {count} invalid events",
            "reason": {
                "error_count": count,
                "error_types": [
                    {"code": code, "error_count": n, "sample_errors": batch.samples[code]}
                    for code, n in batch.counts.items()
                ],
            },
            "validation_end": format_rfc3339(now),
            "validation_start": format_rfc3339(batch.validation_start),
        }
        if meter_id is None:
            events.append(publish(account, NO_METER_FOUND, None, data))
        else:
            related = {"id": meter_id, "type": "billing.meter", "url": f"/v1/billing/meters/{meter_id}"}
            events.append(publish(account, ERROR_REPORT, related, data))
    return events


def publish(account: Account, event_type: str, related_object: Obj | None, data: Obj | None) -> Obj:
    """Store a new thin event of `account`; returns it."""
    event: Obj = {
        "id": new_id("evt_test"),
        "object": EVENT_TYPE,
        "changes": None,
        "context": account.connected,
        "created": format_rfc3339(account.now()),
        "livemode": False,
        "reason": None,
        "snapshot_event": None,
        "type": event_type,
    }
    if data is not None:
        event["data"] = data
    if related_object is not None:
        event["related_object"] = related_object
    return account.create(event)


def notification(event: Obj) -> bytes:
    """What a thin destination receives: the event without its data."""
    payload = {key: event[key] for key in ("id", "object", "type", "livemode", "created")}
    if event["context"] is not None:
        payload["context"] = event["context"]
    if "related_object" in event:
        payload["related_object"] = event["related_object"]
    return orjson.dumps(payload)


def recipients(account: Account, event_type: str, payload: str) -> list[Obj]:
    """The enabled destinations of `account` taking `payload` (`thin` or `snapshot`) events of this type."""
    destinations = account.collections.get(DESTINATION_TYPE)  # most accounts have none: no lookups
    if not destinations:
        return []
    return [
        destination
        for destination in destinations.newest_first()
        if destination["status"] == "enabled"
        and destination["event_payload"] == payload
        and (event_type in destination["enabled_events"] or "*" in destination["enabled_events"])
    ]
