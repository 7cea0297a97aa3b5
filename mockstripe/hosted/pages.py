"""The hosted checkout page's HTML. Everything shown passes through `esc`; the form is a plain HTML
form, so the page works with JavaScript off."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..dashboard.pages import esc, money

Obj = dict[str, Any]

# The test cards offered as a choice on the page (`pm_card_*` names), a declining one included.
CARD_CHOICES = (
    ("pm_card_visa", "Visa 4242 (succeeds)"),
    ("pm_card_mastercard", "Mastercard 4444 (succeeds)"),
    ("pm_card_chargeDeclined", "Visa 0002 (declined)"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa 9995 (insufficient funds)"),
)

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1a1f36;background:#f6f8fa}
main{max-width:520px;margin:32px auto;background:#fff;border:1px solid #e3e8ee;padding:20px 24px}
h1{font-size:20px;margin:0 0 14px}table{border-collapse:collapse;width:100%;margin-bottom:14px}
td{padding:6px 4px;border-bottom:1px solid #e3e8ee}td.num{text-align:right}tr.total td{font-weight:700}
label{display:block;margin:10px 0 4px}input,select{font:inherit;padding:6px;width:100%;box-sizing:border-box}
button{font:inherit;background:#635bff;color:#fff;border:0;padding:10px 18px;margin-top:16px;cursor:pointer}
.err{color:#c0123c;background:#fff0f3;border:1px solid #f5a5b8;padding:8px;margin-bottom:12px}
.muted{color:#697386}.notice{background:#eefbf3;border:1px solid #9fdcb8;padding:8px;margin-bottom:12px}
h2{font-size:16px;margin:18px 0 8px}td form{display:inline-flex;gap:6px;margin:2px 6px 2px 0}
td form button{margin-top:0;padding:6px 12px}td select{width:auto}
"""


def document(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def _line(item: Obj) -> str:
    price = item["price"]
    quantity = item["quantity"]
    recurring = price.get("recurring")
    if recurring is not None and recurring["usage_type"] == "metered":
        what = f"billed by usage, per {esc(recurring['interval'])}"
    elif recurring is not None:
        what = f"× {quantity}, per {esc(recurring['interval'])}"
    else:
        what = f"× {quantity}"
    return (
        f"<tr><td>{esc(item['description'])} <span class=muted>{what}</span></td>"
        f"<td class=num>{money(item['amount_subtotal'], item['currency'])}</td></tr>"
    )


def checkout(session: Obj, items: list[Obj], error: str | None = None, email: str = "", code: str = "") -> str:
    """The page at a session's `url`: what is bought, its discount, the total, email and card (and a
    promotion code where the session allows them), Pay and Back."""
    rows = "".join(_line(item) for item in items)
    discount = (session["total_details"] or {}).get("amount_discount") or 0
    if discount:
        rows += (
            f"<tr class=discount><td>Discount</td>"
            f"<td class=num id=discount>−{money(discount, session['currency'])}</td></tr>"
        )
    if session["amount_total"] is not None:
        rows += f"<tr class=total><td>Total due today</td><td class=num>{money(session['amount_total'], session['currency'])}</td></tr>"
    known_email = (session["customer_details"] or {}).get("email") or session["customer_email"] or email
    choices = "".join(f'<option value="{esc(value)}">{esc(label)}</option>' for value, label in CARD_CHOICES)
    back = session["cancel_url"]
    body = (
        (f'<div class=err role=alert>{esc(error)}</div>' if error else "")
        + f"<table>{rows}</table>"
        + f'<form method=post action="/c/pay/{esc(session["id"])}">'
        + f'<label for=email>Email</label><input id=email name=email type=email required value="{esc(known_email)}">'
        + '<label for=card_number>Card number</label>'
        + '<input id=card_number name=card_number inputmode=numeric autocomplete=off placeholder="4242 4242 4242 4242">'
        + '<label for=payment_method>or a test card</label><select id=payment_method name=payment_method>'
        + f'<option value="">(use the number above)</option>{choices}</select>'
        + (
            '<label for=promotion_code>Promotion code</label>'
            f'<input id=promotion_code name=promotion_code autocomplete=off value="{esc(code)}">'
            '<button type=submit id=apply name=apply value=1 formnovalidate>Apply</button>'
            if session["allow_promotion_codes"]
            else ""
        )
        + f'<button type=submit id=pay>{"Subscribe" if session["mode"] == "subscription" else "Pay"}</button>'
        + "</form>"
        + (f'<p><a id=back href="{esc(back)}">Back</a></p>' if back else "")
    )
    return document("Checkout", body)


def closed(message: str) -> str:
    return document("Checkout", f"<p>{esc(message)}</p>")


def thanks(session: Obj) -> str:
    """Shown after paying when the session has no `success_url`."""
    return document("Thanks for your order", f"<p class=muted>{esc(session['id'])} is complete.</p>")


def _price_label(price: Obj, product_names: dict[str, str]) -> str:
    name = product_names.get(price["product"], price["product"])
    recurring = price.get("recurring") or {}
    if recurring.get("usage_type") == "metered":
        return f"{name} (billed by usage, per {recurring['interval']})"
    per = f" / {recurring['interval']}" if recurring else ""
    return f"{name} ({money(price['unit_amount'], price['currency'])}{per})"


def _subscription_row(
    base: str, subscription: Obj, features: Obj, switchable: list[Obj], product_names: dict[str, str]
) -> str:
    items = ", ".join(esc(_price_label(item["price"], product_names)) for item in subscription["items"]["data"])
    ends = subscription["items"]["data"][0]["current_period_end"] if subscription["items"]["data"] else None
    status = esc(subscription["status"])
    if subscription["cancel_at_period_end"]:
        status += f" <span class=muted>(cancels {esc(when_day(ends))})</span>"
    actions = ""
    live = subscription["status"] not in ("canceled", "incomplete_expired")
    cancel = features["subscription_cancel"]
    if live and cancel["enabled"] and not subscription["cancel_at_period_end"]:
        label = "Cancel now" if cancel["mode"] == "immediately" else "Cancel at period end"
        actions += (
            f'<form method=post action="{base}/subscriptions/{esc(subscription["id"])}/cancel">'
            f'<button type=submit class=cancel>{label}</button></form>'
        )
    current = {item["price"]["id"] for item in subscription["items"]["data"]}
    others = [price for price in switchable if price["id"] not in current]
    if live and others and len(subscription["items"]["data"]) == 1:
        options = "".join(
            f'<option value="{esc(p["id"])}">{esc(_price_label(p, product_names))}</option>' for p in others
        )
        actions += (
            f'<form method=post action="{base}/subscriptions/{esc(subscription["id"])}/update">'
            f'<select name=price aria-label="New price">{options}</select>'
            '<button type=submit class=switch>Switch plan</button></form>'
        )
    return f"<tr id=\"{esc(subscription['id'])}\"><td>{items}</td><td>{status}</td><td>{actions}</td></tr>"


def when_day(timestamp: int | None) -> str:
    return "" if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def portal(
    base: str,
    customer: Obj,
    session: Obj,
    configuration: Obj,
    subscriptions: list[Obj],
    invoices: list[Obj],
    switchable: list[Obj],
    product_names: dict[str, str],
    cards: list[Obj],
    notice: str | None = None,
    error: str | None = None,
) -> str:
    """The customer portal: the customer's subscriptions (cancel, switch plan as the configuration
    allows) and invoices, and Return."""
    features = configuration["features"]
    rows = "".join(_subscription_row(base, s, features, switchable, product_names) for s in subscriptions)
    body = (f'<div class=notice role=status>{esc(notice)}</div>' if notice else "") + (
        f"<div class=err role=alert>{esc(error)}</div>" if error else ""
    ) + (
        f"<p>{esc(customer['name'] or '')} <span class=muted>{esc(customer['email'] or '')}</span></p>"
        "<h2>Subscriptions</h2>"
        + (f"<table id=subscriptions>{rows}</table>" if rows else "<p class=muted>No subscriptions.</p>")
    )
    if features["invoice_history"]["enabled"]:
        lines = "".join(
            f"<tr><td>{esc(i['number'] or i['id'])}</td><td>{esc(when_day(i['created']))}</td>"
            f"<td>{esc(i['status'])}</td><td class=num>{money(i['total'], i['currency'])}</td></tr>"
            for i in invoices
        )
        body += "<h2>Invoices</h2>" + (f"<table id=invoices>{lines}</table>" if lines else "<p class=muted>No invoices.</p>")
    if features["payment_method_update"]["enabled"]:
        default = customer["invoice_settings"]["default_payment_method"]
        saved = "".join(
            f"<tr><td>{esc(m['card']['brand'])} •••• {esc(m['card']['last4'])}</td>"
            f"<td>{m['card']['exp_month']:02d}/{m['card']['exp_year']}</td>"
            f"<td>{'Default' if m['id'] == default else ''}</td></tr>"
            for m in cards
        )
        choices = "".join(f'<option value="{esc(value)}">{esc(label)}</option>' for value, label in CARD_CHOICES)
        body += (
            "<h2>Payment methods</h2>"
            + (f"<table id=payment_methods>{saved}</table>" if saved else "<p class=muted>No cards saved.</p>")
            + f'<form method=post action="{base}/payment_methods" class=add-card>'
            '<label for=card_number>Card number</label>'
            '<input id=card_number name=card_number inputmode=numeric autocomplete=off placeholder="4242 4242 4242 4242">'
            '<label for=payment_method>or a test card</label><select id=payment_method name=payment_method>'
            f'<option value="">(use the number above)</option>{choices}</select>'
            "<button type=submit>Add card</button></form>"
        )
    if session["return_url"]:
        body += f'<p><a id=return href="{esc(session["return_url"])}">Return</a></p>'
    return document("Billing", body)


# The portal's deep links (a session's `flow`): one page for one task, then what `after_completion` says.
FEEDBACK_LABELS = {
    "customer_service": "Customer service was less than expected",
    "low_quality": "Quality was less than expected",
    "missing_features": "Some features are missing",
    "other": "Other reason",
    "switched_service": "I'm switching to a different service",
    "too_complex": "Ease of use was less than expected",
    "too_expensive": "It's too expensive",
    "unused": "I don't use the service enough",
}


def _flow_page(title: str, body: str, session: Obj, error: str | None) -> str:
    back = session["return_url"]
    return document(
        title,
        (f"<div class=err role=alert>{esc(error)}</div>" if error else "")
        + body
        + (f'<p><a id=return href="{esc(back)}">Go back</a></p>' if back else ""),
    )


def _items_table(rows: list[tuple[Obj, int | None]], product_names: dict[str, str]) -> str:
    """A table of (price, quantity) rows."""
    cells = "".join(
        f"<tr><td>{esc(_price_label(price, product_names))}</td>"
        f"<td class=num>{'' if quantity is None else f'× {quantity}'}</td></tr>"
        for price, quantity in rows
    )
    return f"<table class=items>{cells}</table>"


def _current_items(subscription: Obj) -> list[tuple[Obj, int | None]]:
    return [(item["price"], item["quantity"]) for item in subscription["items"]["data"]]


def flow_cancel(
    base: str, session: Obj, subscription: Obj, features: Obj, product_names: dict[str, str], error: str | None = None
) -> str:
    """The confirm-cancel screen for the flow's subscription."""
    cancel = features["subscription_cancel"]
    ends = subscription["items"]["data"][0]["current_period_end"] if subscription["items"]["data"] else None
    when = (
        "Your subscription will be canceled immediately."
        if cancel["mode"] == "immediately"
        else f"Your subscription will be canceled at the end of the billing period, on {when_day(ends)}."
    )
    reasons = cancel["cancellation_reason"]
    feedback = ""
    if reasons["enabled"] and reasons["options"]:
        options = "".join(
            f'<option value="{esc(o)}">{esc(FEEDBACK_LABELS.get(o, o))}</option>' for o in reasons["options"]
        )
        feedback = (
            '<label for=feedback>Why are you canceling?</label>'
            f'<select id=feedback name=feedback><option value="">(no answer)</option>{options}</select>'
        )
    body = (
        _items_table(_current_items(subscription), product_names)
        + f"<p>{esc(when)}</p>"
        + f'<form method=post action="{base}/subscriptions/{esc(subscription["id"])}/cancel">{feedback}'
        '<button type=submit id=confirm>Cancel subscription</button></form>'
    )
    return _flow_page("Cancel your subscription", body, session, error)


def flow_update(
    base: str,
    session: Obj,
    subscription: Obj,
    switchable: list[Obj],
    product_names: dict[str, str],
    error: str | None = None,
) -> str:
    """Choose a new price for the flow's subscription, among those the configuration offers."""
    current = {item["price"]["id"] for item in subscription["items"]["data"]}
    others = [price for price in switchable if price["id"] not in current]
    body = "<h2>Current plan</h2>" + _items_table(_current_items(subscription), product_names)
    if others and len(subscription["items"]["data"]) == 1:
        choices = "".join(
            f'<label><input type=radio name=price value="{esc(p["id"])}"{" checked" if i == 0 else ""}> '
            f"{esc(_price_label(p, product_names))}</label>"
            for i, p in enumerate(others)
        )
        body += (
            f'<form method=post action="{base}/subscriptions/{esc(subscription["id"])}/update">'
            f"<h2>New plan</h2>{choices}<button type=submit id=confirm>Update plan</button></form>"
        )
    else:
        body += "<p class=muted>There is no other plan to switch to.</p>"
    return _flow_page("Update your plan", body, session, error)


def flow_update_confirm(
    base: str,
    session: Obj,
    subscription: Obj,
    rows: list[tuple[Obj, int | None]],
    product_names: dict[str, str],
    error: str | None = None,
) -> str:
    """Confirm the items the flow names for its subscription."""
    body = (
        "<h2>Current plan</h2>" + _items_table(_current_items(subscription), product_names)
        + "<h2>New plan</h2>" + _items_table(rows, product_names)
        + f'<form method=post action="{base}/flow/confirm"><button type=submit id=confirm>Confirm</button></form>'
    )
    return _flow_page("Confirm your new plan", body, session, error)


def flow_payment_method(base: str, session: Obj, error: str | None = None) -> str:
    """Add a card, which becomes the customer's default."""
    choices = "".join(f'<option value="{esc(value)}">{esc(label)}</option>' for value, label in CARD_CHOICES)
    body = (
        f'<form method=post action="{base}/payment_methods" class=add-card>'
        '<label for=card_number>Card number</label>'
        '<input id=card_number name=card_number inputmode=numeric autocomplete=off placeholder="4242 4242 4242 4242">'
        '<label for=payment_method>or a test card</label><select id=payment_method name=payment_method>'
        f'<option value="">(use the number above)</option>{choices}</select>'
        "<button type=submit id=confirm>Add card</button></form>"
    )
    return _flow_page("Add a payment method", body, session, error)


def confirmation(session: Obj, message: str) -> str:
    """Shown when a flow ends with `after_completion[type]=hosted_confirmation`."""
    back = session["return_url"]
    body = f"<div class=notice role=status>{esc(message)}</div>" + (
        f'<p><a id=return href="{esc(back)}">Return</a></p>' if back else ""
    )
    return document("Billing", body)
