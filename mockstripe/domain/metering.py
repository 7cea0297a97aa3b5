"""Per-account metering: which meter takes each event name, the events stored for each meter,
event identifiers, and the events Stripe accepts and then drops.

`Metering` is the one place that records and cancels meter events, for every endpoint that takes
them, and the one place that aggregates them (summaries, invoices). It is used as
`account.service(Metering)`.

Recording is a hot path and events are most of the server's memory, so no payload is kept: an
event is a row in its meter's `UsageLog` plus a row in `_Identifiers` (receipt time, meter,
handle). Generated identifiers encode their row number, so only identifiers the client chose are
kept as strings, and only for the day during which they must stay unique.
"""

from __future__ import annotations

import re
import time
from array import array
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

from ..billing.aggregation import UsageLog
from ..wire.errors import StripeError, invalid
from ..wire.ids import random_tail
from .thin_events import ErrorReports

if TYPE_CHECKING:
    from ..store import Account

Obj = dict[str, Any]

DAY = 86400
# Stripe accepts event timestamps from 35 days in the past to 5 minutes in the future.
MAX_PAST = 35 * DAY
MAX_FUTURE = 5 * 60
# Identifiers stay unique, and their events cancellable, this long after the event is received.
IDENTIFIER_WINDOW = DAY
MAX_DIGITS = 15
# Dropped events kept per account for `/_mock/meter_event_errors` (the newest ones).
MAX_DROPPED = 1000
# What each of them keeps of its payload, so that large payloads sent to no meter cost no memory.
MAX_DROPPED_PAYLOAD_BYTES = 2048

# Told that a customer's usage of a meter changed: (account, meter, customer id).
UsageWatcher = Callable[["Account", Obj, str], None]

_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?")
_NO_METER = -1


def _dropped(code: str, message: str, param: str) -> StripeError:
    """Why an event is dropped after being accepted: recorded as is, or raised in strict mode."""
    return invalid(message, param=param, code=code)


def _bounded_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload's first entries that fit in MAX_DROPPED_PAYLOAD_BYTES, and whether any were left out."""
    kept: dict[str, Any] = {}
    used = 0
    for key, value in payload.items():
        used += len(key.encode()) + len(str(value).encode())
        if used > MAX_DROPPED_PAYLOAD_BYTES:
            return {"payload": kept, "payload_truncated": True}
        kept[key] = value
    return {"payload": kept, "payload_truncated": False}


class Metering:
    """One account's meters by event name, their events, and the events dropped on receipt."""

    def __init__(self) -> None:
        # event_name -> the active meter for it; Stripe allows one active meter per event name.
        self._active: dict[str, Obj] = {}
        # event_name -> the meter last activated for it, active or not.
        self._latest: dict[str, Obj] = {}
        # Each meter that has events has a slot: its index in `_meters` and `_logs`.
        self._slots: dict[str, int] = {}
        self._meters: list[Obj] = []
        self._logs: list[UsageLog] = []
        self._identifiers = _Identifiers()
        # Newest first, as `/_mock/meter_event_errors` lists them.
        self.dropped: deque[Obj] = deque(maxlen=MAX_DROPPED)
        # Meter id -> who watches its usage (its active billing alerts, subscriptions with usage
        # thresholds). Only watched meters cost anything more per event.
        self.watchers: dict[str, list[UsageWatcher]] = {}
        # Dropped events not yet reported as thin events, per meter.
        self.error_reports = ErrorReports()

    # Meters

    def ensure_available(self, event_name: str) -> None:
        """Raise unless `event_name` is free for a newly active meter."""
        holder = self._active.get(event_name)
        if holder is not None:
            # UNSURE: Stripe's exact wording for this conflict.
            raise invalid(
                f"An active meter with the event_name '{event_name}' already exists ({holder['id']}). "
                "Deactivate it or choose another event_name.",
                param="event_name",
            )

    def activate(self, meter: Obj) -> None:
        self._active[meter["event_name"]] = meter
        self._latest[meter["event_name"]] = meter

    def deactivate(self, meter: Obj) -> None:
        if self._active.get(meter["event_name"]) is meter:
            del self._active[meter["event_name"]]

    # Events

    def record(
        self,
        account: Account,
        event_name: str,
        payload: dict[str, str],
        timestamp: int | None,
        identifier: str | None,
        strict: bool,
    ) -> str:
        """Store one event and return its identifier (generated when None).

        Raises Stripe's 400 for what Stripe rejects on receipt. What Stripe accepts and drops later
        (unknown meter or customer, bad value) is recorded in `dropped` instead, or raised when
        `strict`."""
        now = account.now()
        event, meter, value, problem = self._assess(account, MeterEvent(event_name, payload, timestamp, identifier))
        if identifier is not None:
            self._identifiers.check_unused(identifier, now)
        if problem is not None and strict:
            raise problem
        identifier = self._store(event, meter, value, problem, now)
        if account.journal is not None:
            account.journal.metered(account, self, event, meter, value, problem, now)
        if problem is None and self.watchers:
            assert meter is not None
            self._tell_watchers(account, {(meter["id"], event.payload[meter["customer_mapping"]["event_payload_key"]])})
        return identifier

    def record_stream(self, account: Account, events: Sequence[MeterEvent], strict: bool) -> None:
        """Store a batch of streamed events (v2): every event is assessed before any is stored.

        Stripe validates streamed events only after accepting them, so what a single event is refused
        for on receipt (timestamp window, too many digits) drops a streamed event, like an unknown
        meter does. An identifier already taken, earlier in the batch included, marks a resent event:
        it is skipped. `strict` refuses the whole batch for any event that would be dropped."""
        now = account.now()
        assessed: list[tuple[MeterEvent, Obj | None, str | None, StripeError | None]] = []
        seen: set[str] = set()
        for index, event in enumerate(events):
            if event.identifier is not None:
                if event.identifier in seen or self._identifiers.find(event.identifier, now) is not None:
                    continue
                seen.add(event.identifier)
            try:
                event, meter, value, problem = self._assess(account, event)
            except _Refused as refused:
                meter, value, problem = None, None, refused.dropped()
            if problem is not None and strict:
                raise _within(problem, f"events[{index}]")
            assessed.append((event, meter, value, problem))
        journal = account.journal
        for event, meter, value, problem in assessed:
            self._store(event, meter, value, problem, now)
            if journal is not None:
                journal.metered(account, self, event, meter, value, problem, now)
        if self.watchers:
            self._tell_watchers(account, self._touched(assessed))

    def _touched(
        self, assessed: list[tuple[MeterEvent, Obj | None, str | None, StripeError | None]]
    ) -> set[tuple[str, str]]:
        """The (watched meter, customer) pairs whose usage the counted events changed. A batch
        usually holds one meter's events: its mapping is looked up once per run of them."""
        touched: dict[str, set[str]] = {}
        last: Obj | None = None
        customers: set[str] | None = None
        key = ""
        for event, meter, _, problem in assessed:
            if problem is not None:
                continue
            if meter is not last:
                last = meter
                assert meter is not None
                watched = meter["id"] in self.watchers
                customers = touched.setdefault(meter["id"], set()) if watched else None
                key = meter["customer_mapping"]["event_payload_key"]
            if customers is not None:
                customers.add(event.payload[key])
        return {(meter_id, customer) for meter_id, found in touched.items() for customer in found}

    def _tell_watchers(self, account: Account, touched: set[tuple[str, str]]) -> None:
        """Tell each watched meter's watcher about the customers whose usage of it changed."""
        for meter_id, customer_id in sorted(touched):
            for watcher in list(self.watchers.get(meter_id, ())):
                watcher(account, self._meters[self._slots[meter_id]], customer_id)

    def watch(self, meter_id: str, watcher: UsageWatcher) -> None:
        """Tell `watcher` whenever a customer's usage of the meter changes."""
        watchers = self.watchers.setdefault(meter_id, [])
        if watcher not in watchers:
            watchers.append(watcher)

    def unwatch(self, meter_id: str, watcher: UsageWatcher) -> None:
        watchers = self.watchers.get(meter_id, [])
        if watcher in watchers:
            watchers.remove(watcher)
        if not watchers:
            self.watchers.pop(meter_id, None)

    def _assess(
        self, account: Account, event: MeterEvent
    ) -> tuple[MeterEvent, Obj | None, str | None, StripeError | None]:
        """The event with its timestamp, its meter, its value and why it would be dropped (None if
        it counts); raises what Stripe refuses a single event for on receipt. Time is the time of
        the event's customer (a test clock's frozen time), not the account's."""
        meter = self._active.get(event.event_name)
        customer = _customer(account, meter, event.payload)
        now = account.clock_for(customer).now()
        if event.timestamp is None:
            event = MeterEvent(event.event_name, event.payload, now, event.identifier)
        else:
            _check_timestamp(event.timestamp, now)
        value: str | None = None
        numeric = False
        if meter is not None and meter["default_aggregation"]["formula"] != "count":
            key = meter["value_settings"]["event_payload_key"]
            value = event.payload.get(key)
            numeric = value is not None and _is_number(value, key)
        problem = self._why_dropped(account, meter, event.event_name, event.payload, value, numeric, customer)
        return event, meter, value, problem

    def now_for(self, account: Account, event_name: str, payload: dict[str, str]) -> int:
        """The time where the event's customer lives: its test clock's, else the account's."""
        return account.clock_for(_customer(account, self._active.get(event_name), payload)).now()

    def _store(
        self, event: MeterEvent, meter: Obj | None, value: str | None, problem: StripeError | None, now: int,
        report: bool = True,
    ) -> str:
        """Count an assessed event, or record why it is dropped (and, when `report`, report it);
        returns its identifier."""
        if problem is None:
            assert meter is not None and event.timestamp is not None  # both filled in by `_assess`
            customer = event.payload[meter["customer_mapping"]["event_payload_key"]]
            slot = self._slots.get(meter["id"])
            if slot is None:
                slot = self._slots[meter["id"]] = len(self._logs)
                self._meters.append(meter)
                self._logs.append(UsageLog())
            handle = self._logs[slot].add(customer, event.timestamp, value if value is not None else 0)
            return self._identifiers.add(event.identifier, now, slot, handle)
        identifier = self._identifiers.add(event.identifier, now, _NO_METER, 0)
        meter_id = meter["id"] if meter is not None else self._inactive_meter_id(event.event_name)
        if report:
            self.error_reports.add(meter_id, problem.code or "", problem.message, identifier, time.monotonic(), now)
        self.dropped.appendleft(
            {
                "object": "mock.meter_event_error",
                "code": problem.code,
                "message": problem.message,
                "event_name": event.event_name,
                "identifier": identifier,
                "timestamp": event.timestamp,
                "created": now,
                **_bounded_payload(event.payload),
            }
        )
        return identifier

    def _inactive_meter_id(self, event_name: str) -> str | None:
        """The meter last active for `event_name`, if any: its dropped events are reported under it."""
        latest = self._latest.get(event_name)
        return None if latest is None else latest["id"]

    def _why_dropped(
        self,
        account: Account,
        meter: Obj | None,
        event_name: str,
        payload: dict[str, str],
        value: str | None,
        numeric: bool,
        customer: Obj | None,
    ) -> StripeError | None:
        """Why Stripe would drop this event after accepting it, or None if it counts."""
        if meter is None:
            for candidate in account.collection("billing.meter").newest_first():
                if candidate["event_name"] == event_name:
                    return _dropped(
                        "archived_meter",
                        f"The meter {candidate['id']} for event_name {event_name} is inactive.",
                        "event_name",
                    )
            return _dropped("no_meter", f"No active meter was found for event_name {event_name}.", "event_name")
        key = meter["customer_mapping"]["event_payload_key"]
        customer_id = payload.get(key)
        if customer_id is None:
            return _dropped(
                "meter_event_no_customer_defined",
                f"Customer mapping key {key} not found in payload.",
                f"payload[{key}]",
            )
        if customer is None:
            return _dropped("meter_event_customer_not_found", f"No such customer: '{customer_id}'", f"payload[{key}]")
        if meter["default_aggregation"]["formula"] == "count":
            return None
        key = meter["value_settings"]["event_payload_key"]
        if value is None:
            return _dropped("meter_event_invalid_value", f"Value key {key} not found in payload.", f"payload[{key}]")
        if not numeric:
            return _dropped(
                "meter_event_invalid_value",
                f"The value in the event payload must be a number. Received {value}.",
                f"payload[{key}]",
            )
        return None

    def cancel(self, account: Account, event_name: str, identifier: str, now: int) -> None:
        """Take the event out of every aggregate; only events received in the last day qualify."""
        row = self._identifiers.find(identifier, now)
        slot = _NO_METER if row is None else self._identifiers.meters[row]
        if row is None or (slot != _NO_METER and self._meters[slot]["event_name"] != event_name):
            # UNSURE: Stripe's reply to an unknown identifier or one received over 24 hours ago.
            raise invalid(
                f"No meter event with identifier {identifier} and event_name {event_name} was received "
                "in the last 24 hours. Only events received in the last 24 hours can be cancelled.",
                param="cancel[identifier]",
            )
        if account.journal is not None:
            account.journal.meter_event_cancelled(account, identifier, now)
        if slot != _NO_METER:  # a dropped event counts nowhere already
            log, handle = self._logs[slot], self._identifiers.handles[row]
            log.cancel(handle)
            meter_id = self._meters[slot]["id"]
            if meter_id in self.watchers:  # cancelling a negative event raises usage
                self._tell_watchers(account, {(meter_id, log.customer_of(handle))})

    # Persistence (`mockstripe/persistence.py`)

    @property
    def identifier_prefix(self) -> str:
        return self._identifiers.prefix

    def replay(
        self, prefix: str, event: tuple[Any, ...], meter: Obj | None, value: str | None, problem: StripeError | None,
        now: int,
    ) -> None:
        """Store an event again as it was stored before a restart (its error, if any, was reported then)."""
        self._identifiers.prefix = prefix
        self._store(MeterEvent(*event), meter, value, problem, now, report=False)

    def cancel_identified(self, identifier: str, now: int) -> None:
        """Cancel again an event cancelled before a restart."""
        row = self._identifiers.find(identifier, now)
        if row is not None and self._identifiers.meters[row] != _NO_METER:
            self._logs[self._identifiers.meters[row]].cancel(self._identifiers.handles[row])

    def settle(self, meters: list[Obj]) -> None:
        """Give each event name to its active meter, after a restart (`meters` oldest first)."""
        self._active = {}
        for meter in meters:
            if meter.get("status") == "active":
                self._active[meter["event_name"]] = meter
                self._latest[meter["event_name"]] = meter

    # Aggregates

    def aggregate(self, meter: Obj, customer_id: str, start: int, end: int) -> Decimal:
        """The meter's formula over the customer's counted events with `start <= timestamp < end`."""
        slot = self._slots.get(meter["id"])
        if slot is None:
            return Decimal(0)
        return self._logs[slot].aggregate(customer_id, start, end, meter["default_aggregation"]["formula"])

    def spans(self, meter: Obj) -> dict[str, tuple[int, int]]:
        """The customers with events on `meter`, each with its earliest and latest event's timestamp."""
        slot = self._slots.get(meter["id"])
        return {} if slot is None else self._logs[slot].spans()

    def windows(self, meter: Obj, customer_id: str, edges: Sequence[int]) -> list[Decimal | None]:
        """The aggregate of each window `[edges[i], edges[i + 1])`, None for one without events."""
        slot = self._slots.get(meter["id"])
        if slot is None:
            return [None] * (len(edges) - 1)
        log = self._logs[slot]
        counts = log.buckets(customer_id, edges, "count")
        values = log.buckets(customer_id, edges, meter["default_aggregation"]["formula"])
        return [value if count else None for value, count in zip(values, counts, strict=True)]


class MeterEvent(NamedTuple):
    """One event as received, before it is assessed."""

    event_name: str
    payload: dict[str, str]
    timestamp: int | None  # None: at receipt, in the time where its customer lives
    identifier: str | None


class _Refused(StripeError):
    """What Stripe refuses a single event for on receipt (a 400 without a code); a streamed event
    is accepted and then dropped for it, with the error report code `dropped_code`."""

    def __init__(self, message: str, param: str, dropped_code: str) -> None:
        super().__init__(message, param=param)
        self.dropped_code = dropped_code

    def dropped(self) -> StripeError:
        return _dropped(self.dropped_code, self.message, self.param or "")


def _within(error: StripeError, prefix: str) -> StripeError:
    """`error` with its param nested under `prefix` (`payload[value]` -> `events[3][payload][value]`)."""
    head, bracket, rest = (error.param or "").partition("[")
    param = f"{prefix}[{head}]{bracket}{rest}" if head else prefix
    return StripeError(error.message, status=error.status, code=error.code, param=param, headers=error.headers)


def _customer(account: Account, meter: Obj | None, payload: dict[str, str]) -> Obj | None:
    """The live customer the event's payload names through its meter's mapping, if any."""
    if meter is None:
        return None
    customer_id = payload.get(meter["customer_mapping"]["event_payload_key"])
    return account.find("customer", customer_id) if customer_id is not None else None


def _check_timestamp(timestamp: int, now: int) -> None:
    if timestamp < now - MAX_PAST:
        raise _Refused(
            "The event timestamp cannot be more than 35 days in past. Expected a timestamp greater than "
            f"or equal to {now - MAX_PAST}.",
            "timestamp",
            "timestamp_too_far_in_past",
        )
    if timestamp > now + MAX_FUTURE:
        # UNSURE: Stripe's exact wording for a timestamp too far in the future.
        raise _Refused(
            "The event timestamp cannot be more than 5 minutes in the future. Expected a timestamp less "
            f"than or equal to {now + MAX_FUTURE}.",
            "timestamp",
            "timestamp_in_future",
        )


def _is_number(value: str, key: str) -> bool:
    """Whether `value` is a decimal number; raises if it has more significant digits than Stripe takes."""
    number = _NUMBER.fullmatch(value)
    if number is None:
        return False
    if len((number[1] + (number[2] or "")).lstrip("0")) > MAX_DIGITS:
        raise _Refused(
            f"The value in the event payload can have at most {MAX_DIGITS} digits. Received {value}.",
            f"payload[{key}]",
            "meter_event_value_too_many_digits",
        )
    return True


class _Identifiers:
    """Every event's identifier, receipt time and place (meter slot and `UsageLog` handle), by row.

    A generated identifier is this account's random prefix followed by the row number, so it is
    found without being stored. An identifier the client chose is kept in a dict for at least a
    day: `_recent` holds those received since `_rotated_at`, `_older` those of the day before.
    """

    def __init__(self) -> None:
        self.prefix = f"{random_tail(20)}-"
        self.received = array("q")
        self.meters = array("i")
        self.handles = array("q")
        self._recent: dict[str, int] = {}
        self._older: dict[str, int] = {}
        self._rotated_at: int | None = None

    def find(self, identifier: str, now: int) -> int | None:
        """The row of the event with this identifier received in the last day, or None."""
        row = self._recent.get(identifier)
        if row is None:
            row = self._older.get(identifier)
        if row is None:
            row = self._generated_row(identifier)
        if row is None or now - self.received[row] >= IDENTIFIER_WINDOW:
            return None
        return row

    def check_unused(self, identifier: str, now: int) -> None:
        if self.find(identifier, now) is not None:
            raise StripeError(
                f"An event already exists with identifier {identifier}.",
                param="identifier",
                headers={"Stripe-Should-Retry": "false"},
            )

    def add(self, identifier: str | None, now: int, meter: int, handle: int) -> str:
        """Append the event's row; returns its identifier (a generated one when None)."""
        if self._rotated_at is None or now - self._rotated_at >= IDENTIFIER_WINDOW:
            self._older, self._recent, self._rotated_at = self._recent, {}, now
        if identifier is None:
            identifier = self.prefix + str(len(self.received))
            while identifier in self._recent or identifier in self._older:
                # A client sent this generated-looking identifier first: skip its row number.
                self._append(0, _NO_METER, 0)
                identifier = self.prefix + str(len(self.received))
        else:
            self._recent[identifier] = len(self.received)
        self._append(now, meter, handle)
        return identifier

    def _append(self, now: int, meter: int, handle: int) -> None:
        self.received.append(now)
        self.meters.append(meter)
        self.handles.append(handle)

    def _generated_row(self, identifier: str) -> int | None:
        if not identifier.startswith(self.prefix):
            return None
        digits = identifier[len(self.prefix) :]
        if not (digits.isascii() and digits.isdigit()) or (digits[0] == "0" and digits != "0"):
            return None
        row = int(digits)
        return row if row < len(self.received) else None
