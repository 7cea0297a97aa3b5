"""`Idempotency-Key` on POST: replay the first response, refuse a different request or a concurrent one."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

from .wire.errors import StripeError

RETENTION_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
# Per account, the oldest keys are forgotten before their 24 hours once there are more than this
# many, or their recorded responses add up to more than this many bytes. UNSURE: Stripe keeps
# every key for 24 hours; these bounds keep a long-running shared server's memory flat.
MAX_RECORDS = 10_000
MAX_RECORDED_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class Outcome:
    """A response as the pipeline produced it, before the per-request headers are added."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def replayed(self) -> Outcome:
        return Outcome(self.status, self.body, {**self.headers, "Idempotent-Replayed": "true"}, self.content_type)


@dataclass(frozen=True)
class Recorded:
    fingerprint: tuple[Any, ...]
    outcome: Outcome
    at: int
    request_bytes: int = 0  # the size of the request the fingerprint holds, decoded

    @property
    def size(self) -> int:
        return len(self.outcome.body) + self.request_bytes


class _InFlight:
    """Marks a key whose first request has not finished yet."""

    def __init__(self, at: int) -> None:
        self.at = at


class IdempotencyRecords:
    """One account's keys, oldest first, so expiry pops from the front."""

    def __init__(self) -> None:
        self._records: OrderedDict[str, Recorded | _InFlight] = OrderedDict()
        self._recorded_bytes = 0

    def begin(self, key: str, now: int) -> Recorded | None:
        """The recorded response for `key`, or None after claiming it for this request."""
        if len(key) > MAX_KEY_LENGTH:
            raise StripeError(
                f"Invalid Idempotency-Key: must be at most {MAX_KEY_LENGTH} characters.",
                param="Idempotency-Key",
            )
        self._expire(now)
        found = self._records.get(key)
        if isinstance(found, _InFlight):
            raise StripeError(
                "There is currently another in-progress request using this Idempotent Key (that "
                "probably means you submitted twice, and the other request is still going through): "
                f"{key}. Please try again later.",
                status=409,
                type="idempotency_error",
                headers={"Stripe-Should-Retry": "true"},
            )
        if found is not None:
            return found
        self._records[key] = _InFlight(now)
        return None

    def abandon(self, key: str) -> None:
        """The request failed validation: nothing is stored and the key is free again."""
        if isinstance(self._records.get(key), _InFlight):
            del self._records[key]

    def finish(self, key: str, record: Recorded) -> None:
        self._records[key] = record
        self._recorded_bytes += record.size
        while len(self._records) > MAX_RECORDS or self._recorded_bytes > MAX_RECORDED_BYTES:
            self._forget_oldest()

    def _expire(self, now: int) -> None:
        while self._records:
            oldest = next(iter(self._records.values()))
            if now - oldest.at < RETENTION_SECONDS:
                return
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        _, oldest = self._records.popitem(last=False)
        if isinstance(oldest, Recorded):
            self._recorded_bytes -= oldest.size

    def __len__(self) -> int:
        return len(self._records)



def mismatch(key: str) -> StripeError:
    return StripeError(
        "Keys for idempotent requests can only be used with the same parameters they were first "
        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
        type="idempotency_error",
    )
