"""Where "now" comes from: one clock per account, and a frozen one for test-clock customers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> int: ...


class SystemClock:
    """Real time, in whole Unix seconds as Stripe reports it."""

    def now(self) -> int:
        return int(time.time())


@dataclass
class FrozenClock:
    """Time that moves only when told to (a Stripe test clock's `frozen_time`)."""

    frozen_time: int

    def now(self) -> int:
        return self.frozen_time


@dataclass
class TestClockTime:
    """The time of a `test_helpers.test_clock` object, read live: advancing the clock moves it."""

    test_clock: dict[str, Any]

    def now(self) -> int:
        return self.test_clock["frozen_time"]
