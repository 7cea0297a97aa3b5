from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockstripe.billing import aggregation
from mockstripe.billing.aggregation import UsageLog


def log_with(*events):
    """events: (customer, timestamp, value) tuples. Returns the log and each event's handle."""
    log = UsageLog()
    return log, [log.add(customer, timestamp, value) for customer, timestamp, value in events]


def test_sum_count_last_over_a_half_open_range():
    log, _ = log_with(("cus_a", 100, 5), ("cus_a", 150, 7), ("cus_a", 200, 11), ("cus_b", 150, 1000))
    assert log.aggregate("cus_a", 100, 200, "sum") == 12
    assert log.aggregate("cus_a", 100, 201, "sum") == 23
    assert log.aggregate("cus_a", 101, 200, "sum") == 7
    assert log.aggregate("cus_a", 0, 1000, "count") == 3
    assert log.aggregate("cus_a", 0, 200, "last") == 7
    assert log.aggregate("cus_b", 0, 1000, "sum") == 1000


def test_empty_ranges_and_unknown_customers_aggregate_to_zero():
    log, _ = log_with(("cus_a", 100, 5))
    for formula in ("sum", "count", "last"):
        assert log.aggregate("cus_a", 101, 500, formula) == 0
        assert log.aggregate("cus_a", 100, 100, formula) == 0
        assert log.aggregate("cus_x", 0, 500, formula) == 0


def test_decimal_and_negative_values_sum_exactly():
    log, _ = log_with(("c", 1, "0.1"), ("c", 2, "0.2"), ("c", 3, Decimal("-1.25")), ("c", 4, 0.7))
    total = log.aggregate("c", 0, 10, "sum")
    assert total == Decimal("-0.25")
    assert str(total.normalize()) == "-0.25"
    assert log.aggregate("c", 0, 10, "last") == Decimal("0.7")


def test_integer_usage_stays_exact_beyond_float_and_int64_range():
    log = UsageLog()
    for n in range(20_000):
        log.add("c", n, 999_999_999_999_999)
    log.add("c", 20_000, 1)
    assert log.aggregate("c", 0, 30_000, "sum") == 20_000 * 999_999_999_999_999 + 1
    assert log.aggregate("c", 19_999, 30_000, "sum") == 1_000_000_000_000_000


def test_mixed_scales_stay_exact():
    log, _ = log_with(("c", 1, "999999999999999"), ("c", 2, "0.000000000000001"), ("c", 3, "1E+3"))
    assert log.aggregate("c", 0, 10, "sum") == Decimal("1000000000000999.000000000000001")
    assert log.aggregate("c", 2, 3, "last") == Decimal("1E-15")


def test_last_breaks_timestamp_ties_by_arrival():
    log, handles = log_with(("c", 50, 1), ("c", 50, 2), ("c", 10, 3))
    assert log.aggregate("c", 0, 100, "last") == 2
    log.cancel(handles[1])
    assert log.aggregate("c", 0, 100, "last") == 1


def test_out_of_order_events():
    log, _ = log_with(("c", 300, 1), ("c", 100, 2), ("c", 200, 4))
    assert log.aggregate("c", 0, 250, "sum") == 6
    assert log.aggregate("c", 0, 250, "last") == 4
    log.add("c", 50, 8)
    log.add("c", 400, 16)
    assert log.aggregate("c", 0, 1000, "sum") == 31
    assert log.aggregate("c", 0, 1000, "last") == 16
    assert log.aggregate("c", 0, 150, "count") == 2


def test_events_far_out_of_order_are_sorted_at_the_next_query():
    with mock.patch.object(aggregation, "_LATE_EVENT_LIMIT", 1):
        log, handles = log_with(("c", 100, 1), ("c", 200, 2), ("c", 300, 4), ("c", 150, 8), ("c", 50, 16))
        assert log.aggregate("c", 0, 175, "sum") == 25
        assert log.aggregate("c", 0, 175, "last") == 8
        log.add("c", 10, 32)
        log.cancel(handles[2])
        assert log.aggregate("c", 0, 1000, "sum") == 59
        assert log.aggregate("c", 0, 1000, "last") == 2


def test_cancel():
    log, handles = log_with(("c", 1, 5), ("c", 2, 7), ("c", 3, 11))
    assert log.aggregate("c", 0, 10, "sum") == 23
    assert log.cancel(handles[1]) is True
    assert log.aggregate("c", 0, 10, "sum") == 16
    assert log.aggregate("c", 0, 10, "count") == 2
    assert log.cancel(handles[1]) is False
    assert log.cancel(handles[2]) is True
    assert log.aggregate("c", 0, 10, "last") == 5


def test_handles_tell_customers_apart():
    log, handles = log_with(("c", 1, 5), ("d", 1, 7))
    assert log.cancel(handles[1]) is True
    assert (log.aggregate("c", 0, 10, "sum"), log.aggregate("d", 0, 10, "sum")) == (5, 0)


@pytest.mark.parametrize("value", ["NaN", "Infinity", float("inf"), "abc"])
def test_rejects_values_that_are_not_finite_numbers(value):
    log = UsageLog()
    with pytest.raises(ValueError):
        log.add("c", 1, value)
    assert log.aggregate("c", 0, 10, "count") == 0


def test_buckets():
    log, _ = log_with(("c", 0, 1), ("c", 3599, 2), ("c", 3600, 4), ("c", 9000, 8), ("c", 7200, 16))
    hours = [0, 3600, 7200, 10800]
    assert log.buckets("c", hours, "sum") == [3, 4, 24]
    assert log.buckets("c", hours, "count") == [2, 1, 2]
    assert log.buckets("c", hours, "last") == [2, 4, 8]
    assert log.buckets("nobody", hours, "sum") == [0, 0, 0]


def test_rejects_bad_arguments():
    log, _ = log_with(("c", 1, 1))
    with pytest.raises(ValueError):
        log.aggregate("c", 0, 10, "max")
    with pytest.raises(ValueError):
        log.aggregate("c", 10, 0, "sum")


# --- Property tests against a naive reference ------------------------------------------------------

CUSTOMERS = ["c1", "c2"]
values = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(CUSTOMERS), st.integers(min_value=0, max_value=50), values),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=60)),
        st.tuples(
            st.just("query"),
            st.sampled_from(CUSTOMERS),
            st.integers(min_value=-5, max_value=55),
            st.integers(min_value=0, max_value=60),
        ),
    ),
    max_size=60,
)


def reference(events, customer, start, end, formula):
    """events: [customer, timestamp, Decimal value, cancelled] in arrival order."""
    hits = [(ts, n, value) for n, (c, ts, value, cancelled) in enumerate(events)
            if c == customer and start <= ts < end and not cancelled]
    if formula == "sum":
        return sum((value for _, _, value in hits), Decimal(0))
    if formula == "count":
        return Decimal(len(hits))
    return max(hits)[2] if hits else Decimal(0)


def check_all(log, events, customer, start, end):
    for formula in ("sum", "count", "last"):
        assert log.aggregate(customer, start, end, formula) == reference(events, customer, start, end, formula)


@settings(max_examples=300, deadline=None)
@given(ops=operations, late_event_limit=st.sampled_from([0, 2, 4096]))
def test_matches_naive_reference(ops, late_event_limit):
    with mock.patch.object(aggregation, "_LATE_EVENT_LIMIT", late_event_limit):
        replay_against_reference(ops)


def replay_against_reference(ops):
    log, events, handles = UsageLog(), [], []
    for op in ops:
        if op[0] == "add":
            _, customer, timestamp, value = op
            handles.append(log.add(customer, timestamp, value))
            events.append([customer, timestamp, Decimal(value), False])
        elif op[0] == "cancel":
            n = op[1]
            if n >= len(events):
                continue
            assert log.cancel(handles[n]) is not events[n][3]
            events[n][3] = True
        else:
            _, customer, a, b = op
            check_all(log, events, customer, min(a, b), max(a, b))
    for customer in CUSTOMERS:
        check_all(log, events, customer, 0, 51)


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(st.tuples(st.integers(min_value=0, max_value=100), values), max_size=40),
    edges=st.lists(st.integers(min_value=-10, max_value=110), min_size=1, max_size=8).map(sorted),
    formula=st.sampled_from(["sum", "count", "last"]),
)
def test_buckets_match_separate_aggregates(events, edges, formula):
    log = UsageLog()
    for timestamp, value in events:
        log.add("c", timestamp, value)
    expected = [log.aggregate("c", a, b, formula) for a, b in zip(edges, edges[1:])]
    assert log.buckets("c", edges, formula) == expected


def test_running_totals_beyond_64_bits_stay_exact():
    log = UsageLog()
    big = 2**62
    log.add("cus", 10, big)
    assert log.aggregate("cus", 0, 100, "sum") == big  # the prefix sums are still 64-bit here
    log.add("cus", 20, big)
    log.add("cus", 30, big)
    log.add("cus", 5, 1)  # out of order: the totals are recomputed through the sorted index

    assert log.aggregate("cus", 0, 100, "sum") == 3 * big + 1
    assert log.aggregate("cus", 15, 100, "sum") == 2 * big
    assert log.buckets("cus", [0, 10, 25, 100], "sum") == [1, big * 2, big]


def test_running_totals_beyond_64_bits_in_arrival_order():
    log, _ = log_with(*[("cus", t, 2**62) for t in (1, 2, 3)])

    assert log.aggregate("cus", 0, 10, "sum") == 3 * 2**62
    log.add("cus", 4, 1)
    assert log.aggregate("cus", 2, 10, "sum") == 2 * 2**62 + 1
