"""Subscription schedules on a test clock, amounts worked by hand: a $30 Pro and a $10 Basic monthly
price from Jan 1 2025 (January has 31 days, February 28)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from tests.resources.conftest import ClockedCustomer

JAN_1 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
JAN_11 = int(datetime(2025, 1, 11, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
FEB_11 = int(datetime(2025, 2, 11, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2025, 2, 15, tzinfo=UTC).timestamp())
FEB_16 = int(datetime(2025, 2, 16, tzinfo=UTC).timestamp())
MAR_1 = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())
APR_1 = int(datetime(2025, 4, 1, tzinfo=UTC).timestamp())
HOUR = 3600


class Scheduled(ClockedCustomer):
    """A paying customer on a test clock at Jan 1 2025, and the $30 Pro and $10 Basic prices."""

    def __init__(self, client: stripe.StripeClient, catalog) -> None:
        super().__init__(client, catalog, JAN_1)
        self.pro = catalog.licensed_price(3000, product_data={"name": "Pro"})
        self.basic = catalog.licensed_price(1000, product_data={"name": "Basic"})

    def downgrade_schedule(self, **params) -> stripe.SubscriptionSchedule:
        """Pro for one month, then Basic for one month."""
        return self.client.v1.subscription_schedules.create(
            {
                "customer": self.customer.id,
                "start_date": "now",
                "phases": [
                    {"items": [{"price": self.pro.id, "quantity": 1}], "iterations": 1},
                    {"items": [{"price": self.basic.id, "quantity": 1}], "iterations": 1, "description": "Basic from February"},
                ],
                **params,
            }
        )

    def subscription(self, schedule: stripe.SubscriptionSchedule) -> stripe.Subscription:
        subscription_id = schedule.subscription or schedule.released_subscription
        return self.client.v1.subscriptions.retrieve(subscription_id)

    def latest_invoice(self, subscription_id: str) -> stripe.Invoice:
        subscription = self.client.v1.subscriptions.retrieve(subscription_id)
        return self.client.v1.invoices.retrieve(subscription.latest_invoice)

    def invoices(self) -> list[stripe.Invoice]:
        listed = self.client.v1.invoices.list({"customer": self.customer.id})
        return list(reversed(listed.data))


def _lines(invoice: stripe.Invoice) -> list[tuple[int, str, int, int]]:
    return [(line.amount, line.pricing.price_details.price, line.period.start, line.period.end) for line in invoice.lines.data]


def _schedule_events(events) -> list[str]:
    return [kind for kind in events.new() if kind.startswith("subscription_schedule.")]


def test_a_schedule_downgrades_at_the_period_end(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    events.new()

    schedule = plan.downgrade_schedule()

    assert (schedule.status, schedule.end_behavior) == ("active", "release")
    assert (schedule.current_phase.start_date, schedule.current_phase.end_date) == (JAN_1, FEB_1)
    assert [(p.start_date, p.end_date, p["items"][0].price) for p in schedule.phases] == [
        (JAN_1, FEB_1, plan.pro.id),
        (FEB_1, MAR_1, plan.basic.id),
    ]
    assert [p.proration_behavior for p in schedule.phases] == ["create_prorations", "create_prorations"]
    subscription = plan.subscription(schedule)
    assert (subscription.schedule, subscription.status) == (schedule.id, "active")
    assert subscription["items"].data[0].price.id == plan.pro.id
    first = plan.latest_invoice(subscription.id)
    assert (first.billing_reason, first.status, first.amount_paid) == ("subscription_create", "paid", 3000)
    assert _lines(first) == [(3000, plan.pro.id, JAN_1, FEB_1)]
    kinds = events.new()
    assert kinds[0] == "subscription_schedule.created"
    assert kinds.index("customer.subscription.created") < kinds.index("invoice.paid")

    # Feb 1: the second phase begins; the renewal bills Basic, with nothing to prorate.
    plan.advance(FEB_1 + HOUR)

    schedule = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (schedule.status, schedule.current_phase.start_date, schedule.current_phase.end_date) == (
        "active", FEB_1, MAR_1,
    )
    subscription = plan.subscription(schedule)
    assert [item.price.id for item in subscription["items"].data] == [plan.basic.id]
    assert subscription.description == "Basic from February"
    renewal = plan.latest_invoice(subscription.id)
    assert (renewal.billing_reason, renewal.status, renewal.amount_paid) == ("subscription_cycle", "paid", 1000)
    assert _lines(renewal) == [(1000, plan.basic.id, FEB_1, MAR_1)]
    assert stripe_client.v1.invoice_items.list({"customer": plan.customer.id, "pending": True}).data == []
    assert _schedule_events(events) == ["subscription_schedule.updated"]

    # Mar 1: the last phase is over; released by its end behavior, the subscription renews on its own.
    plan.advance(MAR_1 - 7 * 86_400 - 1)
    assert _schedule_events(events) == []
    plan.advance(MAR_1 + HOUR)

    schedule = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (schedule.status, schedule.completed_at, schedule.current_phase) == ("completed", MAR_1, None)
    subscription = plan.subscription(schedule)
    assert (subscription.schedule, subscription.status) == (None, "active")
    renewal = plan.latest_invoice(subscription.id)
    assert (renewal.amount_paid, _lines(renewal)) == (1000, [(1000, plan.basic.id, MAR_1, APR_1)])
    # A week before its end, the schedule announced it.
    assert _schedule_events(events) == ["subscription_schedule.expiring", "subscription_schedule.completed"]
    assert [invoice.amount_paid for invoice in plan.invoices()] == [3000, 1000, 1000]


def test_a_schedule_starting_later_creates_its_subscription_then(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = stripe_client.v1.subscription_schedules.create(
        {
            "customer": plan.customer.id,
            "start_date": FEB_1,
            "end_behavior": "cancel",
            "phases": [{"items": [{"price": plan.basic.id, "quantity": 2}], "duration": {"interval": "month"}}],
        }
    )
    assert (schedule.status, schedule.subscription, schedule.current_phase) == ("not_started", None, None)
    listed = stripe_client.v1.subscription_schedules.list({"scheduled": True, "customer": plan.customer.id})
    assert [s.id for s in listed.data] == [schedule.id]
    events.new()

    plan.advance(FEB_1)

    schedule = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert schedule.status == "active"
    subscription = plan.subscription(schedule)
    # Under `end_behavior=cancel` the subscription is set to cancel when the last phase ends.
    assert (subscription.start_date, subscription.cancel_at, subscription.schedule) == (FEB_1, MAR_1, schedule.id)
    first = plan.latest_invoice(subscription.id)
    assert (first.amount_paid, _lines(first)) == (2000, [(2000, plan.basic.id, FEB_1, MAR_1)])
    kinds = [kind for kind in events.new() if not kind.startswith("test_helpers.")]
    assert kinds.index("customer.subscription.created") < kinds.index("subscription_schedule.updated")

    plan.advance(MAR_1)

    schedule = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (schedule.status, schedule.completed_at) == ("completed", MAR_1)
    subscription = plan.subscription(schedule)
    assert (subscription.status, subscription.ended_at) == ("canceled", MAR_1)
    kinds = events.new()
    assert "subscription_schedule.completed" in kinds and "customer.subscription.deleted" in kinds


def test_from_subscription_takes_over_its_current_period(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    subscription = catalog.subscribe(plan.customer, plan.pro)
    plan.advance(JAN_11)
    events.new()

    schedule = stripe_client.v1.subscription_schedules.create({"from_subscription": subscription.id})

    assert (schedule.status, schedule.subscription, schedule.end_behavior) == ("active", subscription.id, "release")
    assert [(p.start_date, p.end_date) for p in schedule.phases] == [(JAN_1, FEB_1)]
    assert [(i.price, i.quantity) for i in schedule.phases[0]["items"]] == [(plan.pro.id, 1)]
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).schedule == schedule.id
    assert events.new() == ["subscription_schedule.created", "customer.subscription.updated"]

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.create({"from_subscription": subscription.id})
    assert error.value.user_message == (
        f"You cannot migrate a subscription that is already attached to a schedule: `{subscription.id}`"
    )
    assert error.value.param == "from_subscription"
    # A subscription its schedule manages refuses a cancellation set on it directly.
    for params in ({"cancel_at_period_end": True}, {"cancel_at": FEB_15}):
        with pytest.raises(stripe.InvalidRequestError) as error:
            stripe_client.v1.subscriptions.update(subscription.id, params)
        assert error.value.user_message == (
            f"The subscription is managed by the subscription schedule `{schedule.id}`, and updating any "
            "cancelation behavior directly is not allowed. Please update the schedule instead."
        )
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).cancel_at_period_end is False
    assert events.new() == []


def test_update_adds_a_phase_and_changing_the_current_phase_prorates(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    subscription = catalog.subscribe(plan.customer, plan.basic)
    schedule = stripe_client.v1.subscription_schedules.create({"from_subscription": subscription.id})
    plan.advance(JAN_11)
    events.new()

    # From Jan 11 the current phase is Pro: $10 x 21/31 = $6.77 credited, $30 x 21/31 = $20.32 charged.
    updated = stripe_client.v1.subscription_schedules.update(
        schedule.id,
        {
            "proration_behavior": "always_invoice",
            "end_behavior": "release",
            "phases": [
                {"start_date": JAN_1, "end_date": FEB_1, "items": [{"price": plan.pro.id}]},
                {"items": [{"price": plan.basic.id}], "iterations": 2},
            ],
        },
    )

    assert [(p.start_date, p.end_date) for p in updated.phases] == [(JAN_1, FEB_1), (FEB_1, APR_1)]
    changed = plan.latest_invoice(subscription.id)
    assert (changed.billing_reason, changed.amount_paid) == ("subscription_update", 2032 - 677)
    assert sorted(line.amount for line in changed.lines.data) == [-677, 2032]
    kinds = events.new()
    assert kinds[:2] == ["invoiceitem.created", "invoiceitem.created"]
    assert kinds[-2:] == ["customer.subscription.updated", "subscription_schedule.updated"]
    # The next phase begins at Feb 1: Basic is billed on the renewal.
    plan.advance(FEB_1 + HOUR)
    assert _lines(plan.latest_invoice(subscription.id)) == [(1000, plan.basic.id, FEB_1, MAR_1)]


@pytest.mark.parametrize(
    "change, message, param",
    [
        (
            {"phases": [{"items": [{"price": "PRO"}]}]},
            "The subscription schedule update is missing at least one phase with a `start_date` to anchor end dates to.",
            "phases",
        ),
        (
            {"phases": [{"start_date": JAN_11, "end_date": FEB_1, "items": [{"price": "PRO"}]}]},
            "You can not modify the start date of the current phase.",
            "phases",
        ),
        (
            {
                "phases": [
                    {"start_date": JAN_1, "end_date": FEB_1, "items": [{"price": "PRO"}]},
                    {"start_date": FEB_15, "items": [{"price": "PRO"}]},
                ]
            },
            "The `start_date` of phase 1 must equal the `end_date` of the phase before it.",
            "phases[1][start_date]",
        ),
        (
            {"phases": [{"start_date": JAN_1, "end_date": JAN_1, "items": [{"price": "PRO"}]}]},
            "The `end_date` of phase 0 must be after its `start_date`.",
            "phases[0][end_date]",
        ),
        (
            {"phases": [{"start_date": JAN_1, "end_date": FEB_1, "iterations": 1, "items": [{"price": "PRO"}]}]},
            "You may only specify one of these parameters: end_date, iterations.",
            "phases[0][end_date]",
        ),
    ],
)
def test_bad_phases_are_refused_and_change_nothing(stripe_client, catalog, events, change, message, param) -> None:
    plan = Scheduled(stripe_client, catalog)
    subscription = catalog.subscribe(plan.customer, plan.basic)
    schedule = stripe_client.v1.subscription_schedules.create({"from_subscription": subscription.id})
    plan.advance(JAN_11)
    events.new()
    for phase in change["phases"]:
        phase["items"] = [{"price": plan.pro.id}]

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.update(schedule.id, change)

    assert (error.value.user_message, error.value.param) == (message, param)
    assert stripe_client.v1.subscription_schedules.retrieve(schedule.id).phases == schedule.phases
    assert events.new() == []


def test_a_start_in_the_past_is_refused(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    plan.advance(JAN_11)
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.create(
            {"customer": plan.customer.id, "start_date": JAN_1, "phases": [{"items": [{"price": plan.pro.id}]}]}
        )
    assert error.value.param == "start_date"
    assert stripe_client.v1.subscription_schedules.list().data == []
    assert stripe_client.v1.subscriptions.list({"customer": plan.customer.id}).data == []


def test_release_keeps_the_subscription_and_stops_the_phases(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = plan.downgrade_schedule()
    plan.advance(JAN_11)
    events.new()

    released = stripe_client.v1.subscription_schedules.release(schedule.id)

    assert (released.status, released.released_at) == ("released", JAN_11)
    assert (released.subscription, released.released_subscription) == (None, schedule.subscription)
    assert released.current_phase is None
    assert events.new() == ["customer.subscription.updated", "subscription_schedule.released"]
    subscription = plan.subscription(released)
    assert subscription.schedule is None

    # No phase change at Feb 1: the subscription renews on Pro.
    plan.advance(FEB_1 + HOUR)
    renewal = plan.latest_invoice(subscription.id)
    assert _lines(renewal) == [(3000, plan.pro.id, FEB_1, MAR_1)]

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.release(schedule.id)
    assert error.value.user_message == "You cannot release a subscription schedule that is currently in the `released` status."
    # Released, the subscription can be set to cancel directly.
    assert stripe_client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True}).cancel_at_period_end


def test_cancel_ends_the_subscription_with_a_prorated_final_invoice(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = plan.downgrade_schedule()
    plan.advance(JAN_11)
    events.new()

    canceled = stripe_client.v1.subscription_schedules.cancel(schedule.id)

    assert (canceled.status, canceled.canceled_at, canceled.current_phase) == ("canceled", JAN_11, None)
    subscription = plan.subscription(canceled)
    assert (subscription.status, subscription.ended_at) == ("canceled", JAN_11)
    # Pro's unused 21 of 31 days: $30 x 21/31 = $20.32 credited on the final invoice.
    final = plan.latest_invoice(subscription.id)
    assert (final.total, final.status) == (-2032, "paid")
    assert stripe_client.v1.customers.retrieve(plan.customer.id).balance == -2032
    kinds = events.new()
    assert kinds.index("customer.subscription.deleted") < kinds.index("subscription_schedule.canceled")
    # Canceled, nothing more happens at Feb 1.
    plan.advance(FEB_1 + HOUR)
    assert len(plan.invoices()) == 2

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.cancel(schedule.id)
    assert error.value.user_message == "You cannot cancel a subscription schedule that is currently in the `canceled` status."


def test_cancel_without_proration_or_invoice(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = plan.downgrade_schedule()
    plan.advance(JAN_11)

    canceled = stripe_client.v1.subscription_schedules.cancel(schedule.id, {"invoice_now": False, "prorate": False})

    assert plan.subscription(canceled).status == "canceled"
    assert len(plan.invoices()) == 1
    assert stripe_client.v1.invoice_items.list({"customer": plan.customer.id}).data == []


def test_list_filters(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    running = plan.downgrade_schedule()
    later = stripe_client.v1.subscription_schedules.create(
        {"customer": plan.customer.id, "start_date": FEB_1, "phases": [{"items": [{"price": plan.basic.id}]}]}
    )
    stripe_client.v1.subscription_schedules.release(later.id)

    assert [s.id for s in stripe_client.v1.subscription_schedules.list().data] == [later.id, running.id]
    assert [s.id for s in stripe_client.v1.subscription_schedules.list({"released_at": {"gte": JAN_1}}).data] == [later.id]
    assert stripe_client.v1.subscription_schedules.list({"scheduled": True}).data == []
    assert stripe_client.v1.subscription_schedules.list({"customer": "cus_other"}).data == []


def test_a_phase_ending_mid_period_prorates_as_the_next_phase_says(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    jan_16 = int(datetime(2025, 1, 16, tzinfo=UTC).timestamp())
    schedule = stripe_client.v1.subscription_schedules.create(
        {
            "customer": plan.customer.id,
            "phases": [
                {"items": [{"price": plan.basic.id}], "end_date": jan_16},
                {"items": [{"price": plan.pro.id}], "proration_behavior": "always_invoice"},
            ],
        }
    )
    assert [(p.start_date, p.end_date) for p in schedule.phases] == [(JAN_1, jan_16), (jan_16, FEB_16)]
    events.new()

    plan.advance(jan_16)

    # $10 x 16/31 = $5.16 credited, $30 x 16/31 = $15.48 charged, invoiced at once.
    subscription = plan.subscription(stripe_client.v1.subscription_schedules.retrieve(schedule.id))
    changed = plan.latest_invoice(subscription.id)
    assert (changed.billing_reason, changed.status, changed.amount_paid) == ("subscription_update", "paid", 1032)
    assert [(line.amount, line.period.start, line.period.end) for line in changed.lines.data] == [
        (-516, jan_16, FEB_1), (1548, jan_16, FEB_1),
    ]
    # The billing period is unchanged: Pro renews on Feb 1.
    plan.advance(FEB_1 + HOUR)
    assert _lines(plan.latest_invoice(subscription.id)) == [(3000, plan.pro.id, FEB_1, MAR_1)]


def test_canceling_its_subscription_cancels_the_schedule(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = plan.downgrade_schedule()
    events.new()

    stripe_client.v1.subscriptions.cancel(schedule.subscription)

    canceled = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (canceled.status, canceled.canceled_at) == ("canceled", JAN_1)
    assert events.new() == ["customer.subscription.deleted", "subscription_schedule.canceled"]


def test_a_subscription_canceled_after_failed_payments_aborts_its_schedule(stripe_client, catalog, events) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = stripe_client.v1.subscription_schedules.create(
        {"customer": plan.customer.id, "phases": [{"items": [{"price": plan.pro.id}], "iterations": 3}]}
    )
    failing = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": plan.customer.id})
    stripe_client.v1.customers.update(plan.customer.id, {"invoice_settings": {"default_payment_method": failing.id}})
    first_attempt = FEB_1 + HOUR
    for retry_day in (0, 3, 8):
        plan.advance(first_attempt + retry_day * 86_400)
    assert stripe_client.v1.subscription_schedules.retrieve(schedule.id).status == "active"
    events.new()

    plan.advance(first_attempt + 15 * 86_400)

    aborted = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (aborted.status, aborted.canceled_at) == ("canceled", first_attempt + 15 * 86_400)
    assert plan.subscription(aborted).cancellation_details.reason == "payment_failed"
    assert _schedule_events(events) == ["subscription_schedule.aborted"]


def test_a_phase_trial_and_metadata_and_changing_the_end_behavior(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = stripe_client.v1.subscription_schedules.create(
        {
            "customer": plan.customer.id,
            "phases": [
                {"items": [{"price": plan.pro.id}], "trial_end": JAN_11, "metadata": {"tier": "pro"}, "iterations": 2},
            ],
        }
    )
    assert schedule.phases[0].trial_end == JAN_11
    subscription = plan.subscription(schedule)
    assert (subscription.status, subscription.trial_end, subscription.metadata.to_dict()) == ("trialing", JAN_11, {"tier": "pro"})
    assert plan.latest_invoice(subscription.id).amount_due == 0

    updated = stripe_client.v1.subscription_schedules.update(schedule.id, {"end_behavior": "cancel"})

    assert updated.end_behavior == "cancel"
    last_end = updated.phases[-1].end_date
    assert plan.subscription(updated).cancel_at == last_end
    released = stripe_client.v1.subscription_schedules.release(schedule.id)
    # Released, the subscription no longer cancels when the schedule would have ended.
    assert plan.subscription(released).cancel_at is None


def test_a_first_payment_that_never_comes_leaves_the_subscription_incomplete_then_aborts_the_schedule(
    stripe_client, catalog, events
) -> None:
    plan = Scheduled(stripe_client, catalog)
    failing = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": plan.customer.id})
    stripe_client.v1.customers.update(plan.customer.id, {"invoice_settings": {"default_payment_method": failing.id}})

    schedule = plan.downgrade_schedule()

    subscription = plan.subscription(schedule)
    assert (schedule.status, subscription.status) == ("active", "incomplete")
    assert plan.latest_invoice(subscription.id).status == "open"
    events.new()

    plan.advance(JAN_1 + 23 * HOUR)

    assert plan.subscription(schedule).status == "incomplete_expired"
    aborted = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (aborted.status, aborted.canceled_at) == ("canceled", JAN_1 + 23 * HOUR)
    assert _schedule_events(events) == ["subscription_schedule.aborted"]


def test_a_schedule_not_started_can_be_moved_to_start_now(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    schedule = stripe_client.v1.subscription_schedules.create(
        {"customer": plan.customer.id, "start_date": FEB_1, "phases": [{"items": [{"price": plan.basic.id}]}]}
    )
    plan.advance(JAN_11)

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.update(
            schedule.id, {"phases": [{"start_date": JAN_1, "items": [{"price": plan.pro.id}]}]}
        )
    assert error.value.param == "phases[0][start_date]"
    assert stripe_client.v1.subscription_schedules.retrieve(schedule.id).status == "not_started"

    started = stripe_client.v1.subscription_schedules.update(
        schedule.id, {"phases": [{"start_date": "now", "items": [{"price": plan.pro.id}], "iterations": 1}]}
    )

    assert (started.status, started.current_phase.start_date, started.current_phase.end_date) == ("active", JAN_11, FEB_11)
    first = plan.latest_invoice(started.subscription)
    assert _lines(first) == [(3000, plan.pro.id, JAN_11, FEB_11)]


def test_from_subscription_takes_no_other_settings(stripe_client, catalog) -> None:
    plan = Scheduled(stripe_client, catalog)
    subscription = catalog.subscribe(plan.customer, plan.pro)

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.subscription_schedules.create(
            {"from_subscription": subscription.id, "phases": [{"items": [{"price": plan.basic.id}]}]}
        )

    assert error.value.param == "phases"
    assert stripe_client.v1.subscription_schedules.list().data == []
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).schedule is None
