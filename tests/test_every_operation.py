"""Every operation of Stripe's spec, called once on a fresh account with minimal valid parameters
built from the spec: none crashes, none is an unknown route, and each answer has the fields and
types the spec's response schema declares."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from mockstripe.app import create_app
from mockstripe.wire.spec import REFERENCES, Operation, operations, resolve, schema_of

KEY = "sk_test_every_operation"
ORDER = {"create": 0, "action": 1, "singleton": 2, "retrieve": 2, "list": 2, "search": 2, "update": 3, "delete": 4}

# What the account holds before the calls begin (made through the hand-built endpoints, which
# check more than the spec says).
SETUP: list[tuple[str, dict[str, str]]] = [
    # A paying customer: the subscription below charges its card.
    ("/v1/customers", {"name": "Ada", "payment_method": "pm_card_visa", "invoice_settings[default_payment_method]": "pm_card_visa"}),
    ("/v1/products", {"name": "Seats"}),
    ("/v1/prices", {"product": "{product}", "currency": "usd", "unit_amount": "100", "recurring[interval]": "month"}),
    ("/v1/subscriptions", {"customer": "{customer}", "items[0][price]": "{price}"}),
    ("/v1/test_helpers/test_clocks", {"frozen_time": "1700000000"}),
    ("/v1/coupons", {"percent_off": "10"}),
    ("/v1/promotion_codes", {"promotion[type]": "coupon", "promotion[coupon]": "{coupon}"}),
    ("/v1/tax_rates", {"display_name": "VAT", "percentage": "19", "inclusive": "false"}),
    ("/v1/billing/meters", {"display_name": "Tokens", "event_name": "tokens", "default_aggregation[formula]": "sum"}),
    (
        "/v1/billing/alerts",
        {
            "alert_type": "usage_threshold",
            "title": "Tokens",
            "usage_threshold[gte]": "10",
            "usage_threshold[meter]": "{billing.meter}",
            "usage_threshold[recurrence]": "one_time",
        },
    ),
    (
        "/v1/billing/credit_grants",
        {
            "customer": "{customer}",
            "amount[type]": "monetary",
            "amount[monetary][currency]": "usd",
            "amount[monetary][value]": "500",
            "applicability_config[scope][price_type]": "metered",
        },
    ),
    # Money moves through hand-built endpoints that check more than the spec's minimal parameters.
    ("/v1/payment_methods", {"type": "card", "card[token]": "tok_visa"}),
    ("/v1/payment_intents", {"amount": "1000", "currency": "usd", "customer": "{customer}", "payment_method": "pm_card_visa", "confirm": "true"}),
    ("/v1/refunds", {"payment_intent": "{payment_intent}", "amount": "100"}),
    ("/v1/invoiceitems", {"customer": "{customer}", "amount": "100", "currency": "usd"}),
    (
        "/v1/checkout/sessions",
        {"mode": "subscription", "line_items[0][price]": "{price}", "line_items[0][quantity]": "1"},
    ),
    ("/v1/billing_portal/configurations", {"features[invoice_history][enabled]": "true"}),
]


def minimal(schema: dict[str, Any], name: str, ids: dict[str, str], depth: int = 0) -> Any:
    """The simplest value the schema accepts."""
    schema = resolve(schema)
    options = [o for o in schema.get("anyOf", ()) if o.get("enum") != [""]]
    if options:
        return minimal(options[0], name, ids, depth + 1)
    kind = schema.get("type")
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "string":
        if name == "currency":
            return "usd"
        if name == "url" or name.endswith("_url"):
            return "https://example.com/x"
        if name in REFERENCES:
            return ids.get(REFERENCES[name], f"{name}_missing")
        return ids.get(name, "x")
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return [minimal(schema.get("items", {}), name, ids, depth + 1)]
    if kind == "object" and depth < 6:
        properties = schema.get("properties", {})
        # A nested hash with nothing required still needs something in it to be sent at all.
        needed = schema.get("required") or (list(properties)[:1] if depth else [])
        return {k: minimal(v, k, ids, depth + 1) for k, v in properties.items() if k in needed}
    return "x"


def form(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in form(v, f"{prefix}[{k}]" if prefix else k)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in form(v, f"{prefix}[{i}]")]
    return [(prefix, "true" if value is True else str(value))]


def mismatches(value: Any, schema: dict[str, Any], path: str, depth: int = 0) -> list[str]:
    """Where `value` differs from the fields and types of `schema`."""
    if value is None:
        return [] if schema.get("nullable") or resolve(schema).get("nullable") else [f"{path}: null"]
    schema = resolve(schema)
    if "anyOf" in schema:
        found = [mismatches(value, option, path, depth) for option in schema["anyOf"]]
        return [] if any(not f for f in found) else min(found, key=len)
    kind = schema.get("type")
    expected = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}
    if kind in expected and (not isinstance(value, expected[kind]) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{path}: {type(value).__name__}, not {kind}"]
    if kind == "array" and depth < 6:
        return [m for i, item in enumerate(value) for m in mismatches(item, schema.get("items", {}), f"{path}[{i}]", depth + 1)]
    properties = schema.get("properties")
    if kind == "object" and properties and depth < 6:
        missing = [f"{path}.{k}: missing" for k in schema.get("required", ()) if k not in value]
        # A field the schema does not require may also come as null (the SDK declares it optional).
        needed = set(schema.get("required", ()))
        return missing + [
            m
            for k, v in value.items()
            if k in properties and (v is not None or k in needed)
            for m in mismatches(v, properties[k], f"{path}.{k}", depth + 1)
        ]
    return []


def answered_objects(op: Operation, body: Any) -> list[Any]:
    """The objects of the answered type in a reply: itself, or a list's items (not deletion stubs)."""
    objects = body.get("data", []) if op.is_list else [body]
    return [obj for obj in objects if not (isinstance(obj, dict) and obj.get("deleted"))]


def path_of(op: Operation, ids: dict[str, str]) -> str:
    path = op.path
    for name in op.path_params:
        if name in REFERENCES:
            chosen = ids.get(REFERENCES[name])
        elif name == op.path_params[-1] and op.object in ids:
            chosen = ids[op.object]
        else:
            chosen = ids.get(name) or next((v for k, v in ids.items() if k.endswith(name)), None)
        path = path.replace("{" + name + "}", chosen or f"{name}_missing")
    return path


async def test_every_operation_of_the_spec_answers(aiohttp_client):
    client = await aiohttp_client(create_app())
    headers = {"Authorization": f"Bearer {KEY}"}
    ids: dict[str, str] = {"account": "acct_x"}
    ids["account"] = (await (await client.get("/v1/account", headers=headers)).json())["id"]
    for path, params in SETUP:
        body = {k: ids[v[1:-1]] if v.startswith("{") else v for k, v in params.items()}
        made = await (await client.post(path, data=body, headers=headers)).json()
        ids[made["object"]] = made["id"]
    ids["subscription_item"] = made["items"]["data"][0]["id"] if "items" in made else ids.get("subscription_item", "")
    subscription = await (await client.get(f"/v1/subscriptions/{ids['subscription']}", headers=headers)).json()
    ids["subscription_item"] = subscription["items"]["data"][0]["id"]
    ids["invoice"] = subscription["latest_invoice"]
    intent = await (await client.get(f"/v1/payment_intents/{ids['payment_intent']}", headers=headers)).json()
    ids["charge"] = intent["latest_charge"]

    answered, succeeded, problems = 0, 0, []
    # Creates first, deletes last, and the deletes of nested objects before those of their owners.
    for op in sorted(operations(), key=lambda o: (ORDER[o.kind], -o.path.count("/") if o.kind == "delete" else 0)):
        params = form(minimal(op.params_schema, "", ids))
        path = path_of(op, ids)
        if op.method == "POST":
            reply = await client.post(path, data=urlencode(params), headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
        else:
            reply = await client.request(op.method, path + ("?" + urlencode(params) if params else ""), headers=headers)
        text = await reply.text()
        where = f"{op.method} {op.path}"
        if reply.status >= 500 or "Unrecognized request URL" in text:
            problems.append(f"{where}: {reply.status} {text[:200]}")
            continue
        answered += 1
        if reply.status == 200 and reply.content_type != op.content_type:
            problems.append(f"{where}: answered {reply.content_type}, not {op.content_type}")
        if reply.status != 200 or op.content_type != "application/json":
            continue
        succeeded += 1
        body = await reply.json()
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body.get("object") and not body.get("deleted"):
            ids.setdefault(body["object"], body["id"])
        schema = schema_of(op.object) if op.object else None
        for obj in answered_objects(op, body) if schema is not None else ():
            problems += [f"{where}: {m}" for m in mismatches(obj, schema, op.object)[:3]]
    assert problems == [], "\n".join(problems)
    assert answered == len(operations()) == 594
    # The others answer Stripe's 4xx: they name objects no API call can make here (a review, a
    # mandate), or need more than the minimal parameters (hand-built checks: an alert's
    # usage_threshold, a credit grant's customer, an invoice's customer, a refund's charge, a paid
    # invoice not paid twice, a confirmed intent not confirmed again, a Checkout Session's mode, a
    # portal session's customer, a coupon's percent_off or amount_off, a promotion code's coupon, a
    # subscription schedule's customer and phases, a discount to remove, ...), or come after a
    # delete; only a paused subscription resumes.
    assert succeeded >= 486, f"only {succeeded} of {answered} answered 200"


async def test_bad_input_to_every_operation_is_a_stripe_error_never_a_crash(aiohttp_client):
    """An unknown parameter, and a hash where the spec wants something else, on each operation."""
    client = await aiohttp_client(create_app())
    headers = {"Authorization": f"Bearer {KEY}bad", "Content-Type": "application/x-www-form-urlencoded"}
    customer = await (await client.post("/v1/customers", data="name=x", headers=headers)).json()
    ids = {"customer": customer["id"]}
    problems = []
    for op in operations():
        path = path_of(op, ids)
        fields = resolve(op.params_schema).get("properties", {})
        scalar = next((k for k, v in fields.items() if resolve(v).get("type") in ("string", "integer", "boolean")), None)
        bodies = ["bogus_param=1"] + ([f"{scalar}[a]=b"] if scalar else [])
        for body in bodies:
            if op.method == "POST":
                reply = await client.post(path, data=body, headers=headers)
            else:
                reply = await client.request(op.method, f"{path}?{body}", headers=headers)
            error = (await reply.json()).get("error", {})
            if reply.status not in (400, 404) or not error.get("message") or "Unrecognized" in error["message"]:
                problems.append(f"{op.method} {op.path} {body}: {reply.status} {error}")
    assert problems == [], "\n".join(problems[:20])
