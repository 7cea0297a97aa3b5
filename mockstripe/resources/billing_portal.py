"""The customer portal: `/v1/billing_portal/configurations` (what customers may do there) and
`/v1/billing_portal/sessions` (a link to the hosted portal page for one customer)."""

from __future__ import annotations

from typing import Any

from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.errors import invalid, no_such
from ..wire.ids import new_id, random_tail
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    QUANTITY,
    Boolean,
    Enum,
    Hash,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
)

Obj = dict[str, Any]

# Where this server serves a portal session's page (Stripe's is billing.stripe.com/p/session/{secret}).
PAGE_PATH = "/p/session/"
SECRET_LENGTH = 48
# UNSURE: Stripe refuses a session without `configuration` until the account's default portal
# settings are saved in the Dashboard. There is no Dashboard here: the account's default
# configuration is made on first need, with these features (customers may cancel at period end,
# see invoices and add cards; switching prices needs a configuration that allows it).
DEFAULT_FEATURES: Obj = {
    "customer_update": {"allowed_updates": ["email", "address"], "enabled": True},
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "subscription_cancel": {"enabled": True, "mode": "at_period_end", "proration_behavior": "none"},
    "subscription_update": {"enabled": False},
}


class FinishedFlows:
    """The portal sessions whose flow (`flow_data`) the customer completed on the hosted page: their
    link opens the portal's homepage from then on. `account.service(FinishedFlows)`."""

    def __init__(self) -> None:
        self.session_ids: set[str] = set()


INACTIVE_CONFIGURATION = "The configuration {} is not active."
NOT_THE_CUSTOMERS_SUBSCRIPTION = "The subscription {} does not belong to the customer {}."
FEATURE_DISABLED = "The `{feature}` feature is not enabled in the configuration {configuration}."
FLOW_NEEDS = "`flow_data[{type}][subscription]` is required when `flow_data[type]` is `{type}`."

URL = String(max_length=5000)
CANCEL_REASONS = (
    "customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex",
    "too_expensive", "unused",
)
PRORATION = Enum("always_invoice", "create_prorations", "none")
FEATURES = Hash(
    fields={
        "customer_update": Hash(
            fields={
                "allowed_updates": List(item=Enum("address", "email", "name", "phone", "shipping", "tax_id")),
                "enabled": Boolean(required=True),
            }
        ),
        "invoice_history": Hash(fields={"enabled": Boolean(required=True)}),
        "payment_method_update": Hash(
            fields={"enabled": Boolean(required=True), "payment_method_configuration": Unsupported()}
        ),
        "subscription_cancel": Hash(
            fields={
                "enabled": Boolean(required=True),
                "mode": Enum("at_period_end", "immediately"),
                "proration_behavior": PRORATION,
                "cancellation_reason": Hash(
                    fields={"enabled": Boolean(required=True), "options": List(item=Enum(*CANCEL_REASONS))}
                ),
            }
        ),
        "subscription_pause": Unsupported(),
        "subscription_update": Hash(
            fields={
                "enabled": Boolean(required=True),
                "default_allowed_updates": List(item=Enum("price", "promotion_code", "quantity")),
                "products": List(
                    item=Hash(
                        fields={
                            "product": Ref(object_type="product", noun="product", required=True),
                            "prices": List(item=Ref(object_type="price", noun="price"), required=True),
                            "adjustable_quantity": Unsupported(),
                        }
                    )
                ),
                "proration_behavior": PRORATION,
                "billing_cycle_anchor": Enum("now", "unchanged"),
                "schedule_at_period_end": Unsupported(),
                "trial_update_behavior": Enum("continue_trial", "end_trial"),
            }
        ),
    }
)
BUSINESS_PROFILE = Hash(fields={"headline": String(max_length=60), "privacy_policy_url": URL, "terms_of_service_url": URL})
WRITABLE = dict(
    business_profile=BUSINESS_PROFILE,
    default_return_url=URL,
    login_page=Hash(fields={"enabled": Boolean(required=True)}),
    metadata=Map(),
    name=String(max_length=256),
)
CREATE_CONFIGURATION = endpoint(features=Hash(fields=FEATURES.fields, required=True), **WRITABLE)
UPDATE_CONFIGURATION = endpoint(features=FEATURES, active=Boolean(), **WRITABLE)
LIST_CONFIGURATIONS = endpoint(
    **PAGE_PARAMS, active=Boolean(), is_default=Boolean(), exclusive=PAGE_EXCLUSIVE
)

AFTER_COMPLETION = Hash(
    fields={
        "type": Enum("hosted_confirmation", "portal_homepage", "redirect", required=True),
        "hosted_confirmation": Hash(fields={"custom_message": String(max_length=500)}),
        "redirect": Hash(fields={"return_url": URL}),
    }
)
CREATE_SESSION = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    return_url=URL,
    configuration=Ref(object_type="billing_portal.configuration", noun="configuration"),
    locale=String(),
    on_behalf_of=Unsupported(),
    customer_account=Unsupported(),
    after_expiration=Unsupported(),
    flow_data=Hash(
        fields={
            "type": Enum(
                "payment_method_update", "subscription_cancel", "subscription_update", "subscription_update_confirm",
                required=True,
            ),
            "after_completion": AFTER_COMPLETION,
            "subscription_cancel": Hash(
                fields={"subscription": Ref(object_type="subscription", noun="subscription", required=True),
                        "retention": Unsupported()}
            ),
            "subscription_update": Hash(
                fields={"subscription": Ref(object_type="subscription", noun="subscription", required=True)}
            ),
            "subscription_update_confirm": Hash(
                fields={
                    "subscription": Ref(object_type="subscription", noun="subscription", required=True),
                    "items": List(
                        item=Hash(
                            fields={
                                "id": String(required=True),
                                "price": Ref(object_type="price", noun="price"),
                                "quantity": QUANTITY,
                            }
                        ),
                        required=True,
                    ),
                    "discounts": Unsupported(),
                }
            ),
        }
    ),
)

CONFIGURATION = ObjectType(name="billing_portal.configuration", noun="configuration")
SESSION = ObjectType(
    name="billing_portal.session", noun="portal session", expandable={"configuration": "billing_portal.configuration"}
)


def _features(given: Obj, current: Obj | None = None) -> Obj:
    """Every feature's full hash: the current settings (or the defaults) overlaid with `given`."""
    now = current or {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": False, "feedback_options": None, "options": []},
            "enabled": False,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_pause": {"duration": {"interval_options": [], "type": "indefinite"}, "enabled": False},
        "subscription_update": {
            "billing_cycle_anchor": None,
            "default_allowed_updates": [],
            "enabled": False,
            "products": [],
            "proration_behavior": "none",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }
    merged = {}
    for name, settings in now.items():
        merged[name] = {**settings, **{k: v for k, v in (given.get(name) or {}).items() if v is not None}}
    cancel_reason = (given.get("subscription_cancel") or {}).get("cancellation_reason")
    if cancel_reason is not None:
        merged["subscription_cancel"]["cancellation_reason"] = {
            "enabled": cancel_reason["enabled"], "feedback_options": None,
            "options": cancel_reason.get("options") or [],
        }
    products = (given.get("subscription_update") or {}).get("products")
    if products is not None:
        merged["subscription_update"]["products"] = [
            {"adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 1},
             "prices": product["prices"], "product": product["product"]}
            for product in products
        ]
    return merged


def new_configuration(account: Account, params: Obj, now: int, *, is_default: bool = False) -> Obj:
    profile = params.get("business_profile") or {}
    configuration = {
        "id": new_id("bpc"),
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": profile.get("headline"),
            "privacy_policy_url": profile.get("privacy_policy_url"),
            "terms_of_service_url": profile.get("terms_of_service_url"),
        },
        "created": now,
        "default_return_url": params.get("default_return_url"),
        "features": _features(params["features"]),
        "is_default": is_default,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params.get("name"),
        "updated": now,
    }
    return account.create(configuration)


def _existing_default(account: Account) -> Obj | None:
    return next((c for c in account.collection("billing_portal.configuration").newest_first() if c["is_default"]), None)


def default_configuration(account: Account, now: int) -> Obj:
    """The account's default configuration, made with `DEFAULT_FEATURES` on first need."""
    found = _existing_default(account)
    return found or new_configuration(account, {"features": DEFAULT_FEATURES}, now, is_default=True)


def create_configuration(call: Call) -> Obj:
    return new_configuration(call.account, call.params, call.now())


def retrieve_configuration(call: Call) -> Obj:
    return call.path_object("billing_portal.configuration", "configuration")


def update_configuration(call: Call) -> Obj:
    configuration = call.path_object("billing_portal.configuration", "configuration")
    params = call.params
    changes: Obj = {}
    if params.get("features") is not None:
        changes["features"] = _features(params["features"], configuration["features"])
    if params.get("business_profile") is not None:
        changes["business_profile"] = {**configuration["business_profile"], **params["business_profile"]}
    if params.get("login_page") is not None:
        changes["login_page"] = {"enabled": params["login_page"]["enabled"], "url": None}
    for key in ("default_return_url", "name", "active"):
        if key in params:
            changes[key] = params[key]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(configuration["metadata"] or {}, params["metadata"])
    if changes:
        changes["updated"] = call.now()
    return call.account.update(configuration, changes)


def list_configurations(call: Call) -> Obj:
    wanted = {key: call.params[key] for key in ("active", "is_default") if call.params.get(key) is not None}
    return call.page("billing_portal.configuration", lambda c: all(c[k] == v for k, v in wanted.items()))


def _flow(account: Account, customer: Obj, configuration: Obj, given: Obj | None) -> Obj | None:
    """The session's `flow` from `flow_data`, after checking the subscription is the customer's and
    the configuration allows what the flow does."""
    if given is None:
        return None
    kind = given["type"]
    flow: Obj = {
        "after_completion": {"hosted_confirmation": None, "redirect": None, "type": "portal_homepage"},
        "customer_update": None,
        "subscription_cancel": None,
        "subscription_pause": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": kind,
    }
    after = given.get("after_completion")
    if after is not None and after["type"] == "redirect" and not (after.get("redirect") or {}).get("return_url"):
        raise missing("flow_data[after_completion][redirect][return_url]")
    if after is not None:
        flow["after_completion"] = {
            "hosted_confirmation": (
                {"custom_message": (after.get("hosted_confirmation") or {}).get("custom_message")}
                if after["type"] == "hosted_confirmation" else None
            ),
            "redirect": (
                {"return_url": (after.get("redirect") or {}).get("return_url")} if after["type"] == "redirect" else None
            ),
            "type": after["type"],
        }
    feature = {
        "payment_method_update": "payment_method_update",
        "subscription_cancel": "subscription_cancel",
        "subscription_update": "subscription_update",
        "subscription_update_confirm": "subscription_update",
    }[kind]
    if not configuration["features"][feature]["enabled"]:
        raise invalid(FEATURE_DISABLED.format(feature=feature, configuration=configuration["id"]), param="flow_data")
    if kind == "payment_method_update":
        return flow
    details = given.get(kind)
    if details is None:
        raise invalid(FLOW_NEEDS.format(type=kind), param=f"flow_data[{kind}][subscription]")
    subscription = account.find("subscription", details["subscription"])
    if subscription is None or subscription["customer"] != customer["id"]:
        raise invalid(
            NOT_THE_CUSTOMERS_SUBSCRIPTION.format(details["subscription"], customer["id"]),
            param=f"flow_data[{kind}][subscription]",
        )
    if kind == "subscription_cancel":
        flow[kind] = {"retention": None, "subscription": subscription["id"]}
    elif kind == "subscription_update":
        flow[kind] = {"subscription": subscription["id"]}
    else:
        own = {item["id"] for item in subscription["items"]["data"]}
        for index, item in enumerate(details["items"]):
            if item["id"] not in own:
                raise no_such("subscription item", item["id"], f"flow_data[{kind}][items][{index}][id]")
        flow[kind] = {
            "discounts": [],
            "items": [{"id": i["id"], "price": i.get("price"), "quantity": i.get("quantity")} for i in details["items"]],
            "subscription": subscription["id"],
        }
    return flow


def create_session(call: Call) -> Obj:
    params, account = call.params, call.account
    customer = account.find("customer", params["customer"])
    assert customer is not None
    now = call.now()
    if params.get("configuration") is not None:
        configuration = account.find("billing_portal.configuration", params["configuration"])
        assert configuration is not None
        if not configuration["active"]:
            raise invalid(INACTIVE_CONFIGURATION.format(configuration["id"]), param="configuration")
    else:
        configuration = _existing_default(account)
    # Checked against the default features when the default configuration is yet to be made.
    features = {"id": "default", "features": _features(DEFAULT_FEATURES)}
    flow = _flow(account, customer, configuration or features, params.get("flow_data"))
    if configuration is None:
        configuration = default_configuration(account, now)
    secret = f"test_{random_tail(SECRET_LENGTH)}"
    session = {
        "id": new_id("bps"),
        "object": "billing_portal.session",
        "after_expiration": None,
        "configuration": configuration["id"],
        "created": now,
        "customer": customer["id"],
        "customer_account": None,
        "flow": flow,
        "livemode": False,
        "locale": params.get("locale"),
        "on_behalf_of": None,
        "return_url": params.get("return_url") or configuration["default_return_url"],
        "url": f"{call.origin}{PAGE_PATH}{secret}",
    }
    return account.create(session, secret=secret)


AREA = Area(
    name="billing_portal",
    types=(CONFIGURATION, SESSION),
    endpoints=(
        Endpoint(
            "POST", "/v1/billing_portal/configurations", create_configuration, CREATE_CONFIGURATION,
            "Create a customer portal configuration", returns="billing_portal.configuration",
        ),
        Endpoint(
            "GET", "/v1/billing_portal/configurations", list_configurations, LIST_CONFIGURATIONS,
            "List customer portal configurations, newest first", returns=ListOf("billing_portal.configuration"),
        ),
        Endpoint(
            "GET", "/v1/billing_portal/configurations/{configuration}", retrieve_configuration, endpoint(),
            "Retrieve a customer portal configuration", returns="billing_portal.configuration",
        ),
        Endpoint(
            "POST", "/v1/billing_portal/configurations/{configuration}", update_configuration, UPDATE_CONFIGURATION,
            "Update a customer portal configuration", returns="billing_portal.configuration",
        ),
        Endpoint(
            "POST", "/v1/billing_portal/sessions", create_session, CREATE_SESSION,
            "Create a customer portal session; its `url` is a hosted page on this server",
            returns="billing_portal.session",
        ),
    ),
)
