"""Billing alerts: `/v1/billing/alerts`, usage thresholds on a meter (see `domain/alerts.py`)."""

from __future__ import annotations

from typing import Any

from ..domain.alerts import Alerts
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError, invalid
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import Enum, Hash, Integer, List, Ref, String, endpoint, missing

Obj = dict[str, Any]

ALERT = ObjectType(name="billing.alert", noun="billing alert", expandable={"usage_threshold.meter": "billing.meter"})
TYPE = ALERT.name

CREATE = endpoint(
    alert_type=Enum("usage_threshold", required=True),
    title=String(required=True, max_length=256),
    usage_threshold=Hash(
        fields={
            "gte": Integer(required=True, minimum=1),
            "meter": Ref(required=True, object_type="billing.meter", noun="billing meter"),
            "recurrence": Enum("one_time", required=True),
            "filters": List(
                max_items=1,
                item=Hash(
                    fields={
                        "type": Enum("customer", required=True),
                        "customer": Ref(required=True, object_type="customer"),
                    }
                ),
            ),
        }
    ),
)
LIST = endpoint(
    **PAGE_PARAMS, alert_type=Enum("usage_threshold"), meter=String(nullable=False), exclusive=PAGE_EXCLUSIVE
)


def create(call: Call) -> Obj:
    threshold = call.params.get("usage_threshold")
    if threshold is None:
        raise missing("usage_threshold")
    meter = call.account.find("billing.meter", threshold["meter"])
    assert meter is not None
    if meter["status"] != "active":
        # UNSURE: Stripe's wording for an alert on a deactivated meter.
        raise invalid(
            f"The meter {meter['id']} is inactive. Alerts can only be created for active meters.",
            param="usage_threshold[meter]",
        )
    filters = threshold.get("filters")
    alert = {
        "id": new_id("alrt"),
        "object": TYPE,
        "alert_type": call.params["alert_type"],
        "livemode": False,
        "status": "active",
        "title": call.params["title"],
        "usage_threshold": {
            "filters": [{"customer": f["customer"], "type": f["type"]} for f in filters] if filters else None,
            "gte": threshold["gte"],
            "meter": meter["id"],
            "recurrence": threshold["recurrence"],
        },
    }
    call.account.create(alert)
    call.account.service(Alerts).watch(call.account, alert)
    return alert


def retrieve(call: Call) -> Obj:
    return call.path_object(TYPE)


def list_alerts(call: Call) -> Obj:
    """Active and inactive alerts; archived ones leave the list."""
    alert_type, meter = call.params.get("alert_type"), call.params.get("meter")

    def keep(alert: Obj) -> bool:
        return (
            alert["status"] != "archived"
            and (alert_type is None or alert["alert_type"] == alert_type)
            and (meter is None or alert["usage_threshold"]["meter"] == meter)
        )

    return call.page(TYPE, keep)


def _archived(alert: Obj) -> StripeError:
    # UNSURE: Stripe's wording for changing an archived alert.
    return invalid(f"The alert {alert['id']} is archived and can no longer be changed.")


def activate(call: Call) -> Obj:
    """Active again, and it may trigger again for customers it already triggered for."""
    alert = call.path_object(TYPE)
    if alert["status"] == "archived":
        raise _archived(alert)
    if alert["status"] == "inactive":
        call.account.update(alert, {"status": "active"})
        call.account.service(Alerts).watch(call.account, alert)
    return alert


def deactivate(call: Call) -> Obj:
    alert = call.path_object(TYPE)
    if alert["status"] == "archived":
        raise _archived(alert)
    if alert["status"] == "active":
        call.account.update(alert, {"status": "inactive"})
        call.account.service(Alerts).unwatch(call.account, alert)
    return alert


def archive(call: Call) -> Obj:
    """For good: the alert stops triggering and leaves the list (it can still be retrieved)."""
    alert = call.path_object(TYPE)
    if alert["status"] == "active":
        call.account.service(Alerts).unwatch(call.account, alert)
    if alert["status"] != "archived":
        call.account.update(alert, {"status": "archived"})
    return alert


PATH = "/v1/billing/alerts"

AREA = Area(
    name="alerts",
    types=(ALERT,),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create a usage threshold alert on a meter", returns=TYPE),
        Endpoint("GET", PATH, list_alerts, LIST, "List active and inactive alerts, newest first", returns=ListOf(TYPE)),
        Endpoint("GET", PATH + "/{id}", retrieve, endpoint(), "Retrieve a billing alert", returns=TYPE),
        Endpoint(
            "POST", PATH + "/{id}/activate", activate, endpoint(),
            "Activate an alert: it triggers again, once per customer", returns=TYPE,
        ),
        Endpoint("POST", PATH + "/{id}/deactivate", deactivate, endpoint(), "Deactivate an alert", returns=TYPE),
        Endpoint("POST", PATH + "/{id}/archive", archive, endpoint(), "Archive an alert for good", returns=TYPE),
    ),
)
