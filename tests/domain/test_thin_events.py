"""Meter error reports: dropped events gathered per meter into one bounded report per window."""

from __future__ import annotations

from mockstripe.clock import FrozenClock
from mockstripe.domain.thin_events import MAX_SAMPLE_ERRORS, ErrorReports, report
from mockstripe.store import Account

T0 = 1_717_243_200


def test_a_flood_of_errors_keeps_counts_and_a_few_samples() -> None:
    reports = ErrorReports()
    for n in range(100_000):
        reports.add("mtr_a", "meter_event_customer_not_found", "No such customer: 'cus_x'", f"id{n}", 0.0, T0)
    reports.add("mtr_a", "meter_event_invalid_value", "bad", "last", 0.0, T0)
    ((meter_id, batch),) = reports.take()
    assert meter_id == "mtr_a" and batch.error_count == 100_001
    assert batch.counts == {"meter_event_customer_not_found": 100_000, "meter_event_invalid_value": 1}
    assert [len(s) for s in batch.samples.values()] == [MAX_SAMPLE_ERRORS, 1]
    assert not reports


def test_only_batches_whose_window_closed_are_taken() -> None:
    reports = ErrorReports()
    reports.add("mtr_a", "no_meter", "m", "a", 10.0, T0)
    reports.add(None, "no_meter", "m", "b", 20.0, T0)
    assert [key for key, _ in reports.take(due_by=15.0)] == ["mtr_a"]
    assert [key for key, _ in reports.take(due_by=15.0)] == []
    assert [key for key, _ in reports.take()] == [None]


def test_a_report_is_a_thin_event_with_its_data() -> None:
    account = Account(key="sk_test_reports", clock=FrozenClock(T0 + 60))
    reports = ErrorReports()
    reports.add("mtr_a", "archived_meter", "inactive", "e1", 0.0, T0)
    (event,) = report(account, reports.take())
    assert event["type"] == "v1.billing.meter.error_report_triggered"
    assert event["related_object"] == {"id": "mtr_a", "type": "billing.meter", "url": "/v1/billing/meters/mtr_a"}
    assert event["data"] == {
        "developer_message_summary": "There is 1 invalid event",
        "reason": {
            "error_count": 1,
            "error_types": [
                {
                    "code": "archived_meter",
                    "error_count": 1,
                    "sample_errors": [{"error_message": "inactive", "request": {"identifier": "e1"}}],
                }
            ],
        },
        "validation_end": "2024-06-01T12:01:00.000Z",
        "validation_start": "2024-06-01T12:00:00.000Z",
    }
    assert account.find("v2.core.event", event["id"]) is event
