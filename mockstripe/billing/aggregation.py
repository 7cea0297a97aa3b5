"""Meter events and their aggregation over time ranges: one `UsageLog` per meter.

This is a hot path and most of the server's memory, so events are stored in columns rather than as
objects. Each customer's events live in a `_Series`:

- arrival-order columns, appended to and never reordered: `ts` (timestamps), `values` and `live`
  (cleared by a cancel). A value is kept as an exact integer `value × 10**scale`, where `scale` is the
  most decimal places any of the customer's values has needed so far; sums are therefore exact.
- a timestamp-sorted index, brought up to date lazily before each query: the sorted timestamps and
  prefix sums of values and of live-event counts, so one range costs two bisections and two
  subtractions however many events are stored. Events usually arrive in timestamp order and the
  index then is the arrival order itself, extended in place. A slightly late event is inserted into
  the index; one far out of order makes the next query re-sort the customer's events. Prefix sums
  past an insertion or a cancel are recomputed by the next query.

Per event that is 8 (ts) + 8 (value) + 1 (live) + 8 + 4 (prefix sums) bytes, plus 12 more for
customers whose events arrived out of order. Identifiers are the caller's business: `add` returns a
handle (an int) that `cancel` takes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from itertools import accumulate, islice, pairwise
from typing import Literal, Union

Formula = Literal["sum", "count", "last"]

_FORMULAS = frozenset(("sum", "count", "last"))

# Exact integers: int64 columns until some entry does not fit, then a list of Python ints.
_Ints = Union["array[int]", list[int]]

# An out-of-order event landing at most this many places before the end of the sorted index is
# inserted into it (moving that many entries and re-summing them); one landing further back makes the
# next query re-sort the customer's events instead, which is cheaper for bulk out-of-order loads.
_LATE_EVENT_LIMIT = 4096

# A handle packs (customer slot, arrival index); a customer holds fewer than 2**32 events.
_INDEX_BITS = 32


class UsageLog:
    """The events of one meter, by customer, aggregated over `start <= timestamp < end`."""

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}
        self._customers: list[str] = []
        self._series: list[_Series] = []

    def add(self, customer: str, timestamp: int, value: Decimal | int | float | str) -> int:
        """Store one event and return its handle for `cancel`. `value` may be negative or fractional;
        floats are read as their shortest decimal representation."""
        mantissa, places = _fixed_point(value)
        slot = self._slots.get(customer)
        if slot is None:
            slot = self._slots[customer] = len(self._series)
            self._customers.append(customer)
            self._series.append(_Series())
        return slot << _INDEX_BITS | self._series[slot].add(timestamp, mantissa, places)

    def cancel(self, handle: int) -> bool:
        """Stop counting the event `add` returned `handle` for; False if it is already cancelled."""
        return self._series[handle >> _INDEX_BITS].cancel(handle & ((1 << _INDEX_BITS) - 1))

    def customer_of(self, handle: int) -> str:
        """The customer of the event `add` returned `handle` for."""
        return self._customers[handle >> _INDEX_BITS]

    def aggregate(self, customer: str, start: int, end: int, formula: Formula) -> Decimal:
        """`formula` over the customer's live events with `start <= timestamp < end`: their `sum`,
        their `count`, or the `last` one's value (latest timestamp, then latest arrival); 0 if none."""
        if end < start:
            raise ValueError("end is before start")
        series = self._fresh_series(customer, formula)
        if series is None:
            return Decimal(0)
        return series.reduce(bisect_left(series.sorted_ts, start), bisect_left(series.sorted_ts, end), formula)

    def buckets(self, customer: str, edges: Sequence[int], formula: Formula) -> list[Decimal]:
        """`aggregate` for each window `[edges[i], edges[i + 1])`, e.g. hourly or daily summaries."""
        if any(a > b for a, b in pairwise(edges)):
            raise ValueError("window edges must not decrease")
        series = self._fresh_series(customer, formula)
        if series is None:
            return [Decimal(0)] * (len(edges) - 1)
        positions = [bisect_left(series.sorted_ts, edge) for edge in edges]
        return [series.reduce(lo, hi, formula) for lo, hi in pairwise(positions)]

    def spans(self) -> dict[str, tuple[int, int]]:
        """Each customer's earliest and latest event timestamp (cancelled events included)."""
        found = {}
        for customer, slot in self._slots.items():
            series = self._series[slot]
            series.refresh()
            found[customer] = (series.sorted_ts[0], series.sorted_ts[-1])
        return found

    def _fresh_series(self, customer: str, formula: Formula) -> _Series | None:
        """The customer's events with an up-to-date index, or None if there are none."""
        if formula not in _FORMULAS:
            raise ValueError(f"unknown formula: {formula!r}")
        slot = self._slots.get(customer)
        if slot is None:
            return None
        series = self._series[slot]
        series.refresh()
        return series


class _Series:
    """One customer's events: arrival-order columns plus a lazily maintained sorted index."""

    __slots__ = ("ts", "values", "live", "scale", "order", "sorted_ts", "indexed", "sums", "counts")

    def __init__(self) -> None:
        self.ts = array("q")
        self.values: _Ints = array("q")
        self.live = bytearray()
        self.scale = 0
        # Arrival indexes in (timestamp, arrival) order; None while that is the arrival order itself.
        self.order: array[int] | None = None
        self.sorted_ts = self.ts
        self.indexed = 0  # events [0, indexed) are placed in the sorted index
        # sums[i] / counts[i]: total value / number of live events among the first i sorted events.
        # Shorter than n + 1 when stale; `refresh` recomputes the missing tail.
        self.sums: _Ints = array("q", [0])
        self.counts = array("I", [0])

    def add(self, timestamp: int, mantissa: int, places: int) -> int:
        """Append an event and return its arrival index."""
        if places > self.scale:
            self._rescale(places)
        index = len(self.ts)
        self._place(index, timestamp)
        self.ts.append(timestamp)
        self.values = _appended(self.values, mantissa * 10 ** (self.scale - places))
        self.live.append(1)
        return index

    def cancel(self, index: int) -> bool:
        if not self.live[index]:
            return False
        self.live[index] = 0
        self.values[index] = 0
        # Prefix sums from the event's sorted position on are stale; the first event with its
        # timestamp is at or before that position.
        self._invalidate(bisect_left(self.sorted_ts, self.ts[index], 0, self.indexed))
        return True

    def _place(self, index: int, timestamp: int) -> None:
        """Put the event about to be appended into the sorted index, unless a re-sort is cheaper."""
        if self.indexed != index:  # a re-sort is due anyway
            return
        # After any equal timestamps, so that among them the latest received sorts last.
        position = bisect_right(self.sorted_ts, timestamp)
        if position == index:  # in timestamp order: the common case
            if self.order is not None:
                self.order.append(index)
                self.sorted_ts.append(timestamp)
        elif index - position <= _LATE_EVENT_LIMIT:
            if self.order is None:
                self.order = array("I", range(index))
                self.sorted_ts = array("q", self.ts)
            self.order.insert(position, index)
            self.sorted_ts.insert(position, timestamp)
            self._invalidate(position)
        else:
            return  # far out of order: leave it to `refresh`, which re-sorts
        self.indexed = index + 1

    def refresh(self) -> None:
        """Bring the sorted index and prefix sums up to date with every stored event."""
        if self.indexed < len(self.ts):
            self._sort()
        done = len(self.sums) - 1
        if done == len(self.ts):
            return
        values: Sequence[int]
        live: Iterable[int]
        if self.order is None:
            values, live = self.values[done:], self.live[done:]
        else:
            pending = self.order[done:]
            values, live = list(map(self.values.__getitem__, pending)), map(self.live.__getitem__, pending)
        self.sums = _summed_onto(self.sums, values)
        self.counts.extend(islice(accumulate(live, initial=self.counts[-1]), 1, None))

    def reduce(self, lo: int, hi: int, formula: Formula) -> Decimal:
        """`formula` over sorted positions [lo, hi); the index must be fresh."""
        if formula == "sum":
            return _decimal(self.sums[hi] - self.sums[lo], self.scale)
        live_below_hi = self.counts[hi]
        if formula == "count":
            return Decimal(live_below_hi - self.counts[lo])
        if live_below_hi == self.counts[lo]:
            return Decimal(0)
        # The last event below hi, if live (the usual case); else counts first reaches live_below_hi
        # just after the last live event.
        if self.counts[hi - 1] < live_below_hi:
            position = hi - 1
        else:
            position = bisect_left(self.counts, live_below_hi) - 1
        return _decimal(self.values[position if self.order is None else self.order[position]], self.scale)

    def _sort(self) -> None:
        # Stable, so events with equal timestamps stay in arrival order ("last" = latest received).
        order = sorted(range(len(self.ts)), key=self.ts.__getitem__)
        self.order = array("I", order)
        self.sorted_ts = array("q", map(self.ts.__getitem__, order))
        self.indexed = len(order)
        self._invalidate(0)

    def _rescale(self, places: int) -> None:
        factor = 10 ** (places - self.scale)
        self.values = _extended(array("q"), [value * factor for value in self.values])
        self.scale = places
        self._invalidate(0)

    def _invalidate(self, position: int) -> None:
        """Drop prefix sums that include sorted `position` or later."""
        del self.sums[position + 1 :]
        del self.counts[position + 1 :]


def _fixed_point(value: Decimal | int | float | str) -> tuple[int, int]:
    """`value` as `(m, p)` with `value == m / 10**p`, p >= 0 and as small as possible."""
    if isinstance(value, int):
        return value, 0
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    numerator, denominator = number.as_integer_ratio()
    places = 0
    while 10**places % denominator:  # the denominator is 2**a * 5**b, so a power of ten is a multiple
        places += 1
    return numerator * 10**places // denominator, places


def _decimal(mantissa: int, places: int) -> Decimal:
    # Built from a string because Decimal arithmetic would round to the context's precision.
    return Decimal(mantissa) if places == 0 else Decimal(f"{mantissa}E-{places}")


def _appended(column: _Ints, value: int) -> _Ints:
    try:
        column.append(value)
    except OverflowError:  # only an int64 array overflows; keep exact Python ints from now on
        column = [*column, value]
    return column


def _extended(column: _Ints, items: list[int]) -> _Ints:
    if isinstance(column, list):
        column.extend(items)
        return column
    try:
        column.extend(array("q", items))  # converted first, so an overflow leaves `column` untouched
    except OverflowError:
        column = [*column, *items]
    return column


def _summed_onto(sums: _Ints, values: Sequence[int]) -> _Ints:
    """`sums` extended with the running totals of `values`, continuing from its last entry."""
    if not isinstance(sums, list):
        try:
            # Straight into an array: far quicker than through a list for a million events.
            running = array("q", accumulate(values, initial=sums[-1]))
        except OverflowError:  # only an int64 array overflows; keep exact Python ints from now on
            sums = list(sums)
        else:
            del sums[-1]  # it is `running[0]`
            sums.extend(running)
            return sums
    sums.extend(islice(accumulate(values, initial=sums[-1]), 1, None))
    return sums
