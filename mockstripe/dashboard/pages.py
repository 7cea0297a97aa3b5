"""The dashboard's HTML: one function per page, each returning the whole document.

Everything shown passes through `esc` (html.escape); links carry the account's token, never its key.
Forms are plain HTML forms, so every page works with JavaScript off.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from html import escape
from typing import Any, Iterable, Sequence

import orjson

from .charts import Bar, bar_chart, number

Obj = dict[str, Any]
BASE = "/_mock/dashboard"
# Currencies whose amounts have no minor unit (Stripe's list).
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
SECTIONS = (
    ("", "Customers"),
    ("subscriptions", "Subscriptions"),
    ("invoices", "Invoices"),
    ("meters", "Meters"),
    ("events", "Events"),
    ("webhooks", "Webhooks"),
    ("test_clocks", "Test clocks"),
    ("requests", "Requests"),
)

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1a1f36;background:#f6f8fa}
header{background:#635bff;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a.on{font-weight:700;text-decoration:underline}
header .brand{font-weight:700;margin-right:12px}
main{padding:16px 20px}h1{font-size:20px;margin:4px 0 14px}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:10px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e8ee;vertical-align:top}
th{background:#f0f3f7;font-weight:600}td.num,th.num{text-align:right}
code,pre{font:12px ui-monospace,monospace}pre{background:#fff;border:1px solid #e3e8ee;padding:8px;overflow:auto;max-height:420px}
.muted{color:#697386}.err{color:#c0123c}.ok{color:#0e6245}.card{background:#fff;border:1px solid #e3e8ee;padding:12px;margin-bottom:14px}
.chart .bar{fill:#635bff}.chart .axis{stroke:#8792a2}.chart .tick{font-size:11px;fill:#697386}
form.inline{display:inline-flex;gap:6px;align-items:center}.notice{background:#fff4e5;border:1px solid #f5be7a;padding:8px;margin-bottom:12px}
"""


def esc(value: Any) -> str:
    return escape("" if value is None else str(value))


def when(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def money(amount: int | None, currency: str | None) -> str:
    if amount is None:
        return ""
    code = (currency or "usd").lower()
    if code in ZERO_DECIMAL:
        return f"{amount:,} {code.upper()}"
    return f"{Decimal(amount) / 100:,.2f} {code.upper()}"


def pretty(value: Any) -> str:
    # Through bytes and back: stored events hold pre-encoded fragments, which indenting leaves as they are.
    return orjson.dumps(orjson.loads(orjson.dumps(value)), option=orjson.OPT_INDENT_2).decode()


def page(title: str, body: str, token: str | None = None, section: str | None = None) -> str:
    nav = ""
    if token is not None:
        nav = "".join(
            f'<a href="{BASE}/{esc(token)}{"/" + path if path else ""}"{" class=on" if path == section else ""}>'
            f"{label}</a>"
            for path, label in SECTIONS
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)} · mockstripe</title><style>{STYLE}</style></head><body>"
        f'<header><a class=brand href="{BASE}">mockstripe</a>{nav}</header>'
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def table(headings: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "None yet.") -> str:
    """`rows` hold HTML already escaped; a heading ending in `#` is a numeric column."""
    rendered = list(rows)
    if not rendered:
        return f"<p class=muted>{esc(empty)}</p>"
    head = "".join(
        f"<th class=num>{esc(h[:-1])}</th>" if h.endswith("#") else f"<th>{esc(h)}</th>" for h in headings
    )
    numeric = [h.endswith("#") for h in headings]
    body = "".join(
        "<tr>" + "".join(f"<td class=num>{c}</td>" if n else f"<td>{c}</td>" for c, n in zip(row, numeric, strict=False)) + "</tr>"
        for row in rendered
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def link(href: str, text: Any) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


# Pages


def accounts(listed: Sequence[tuple[str, str, str | None, int]]) -> str:
    """(token, masked key, connected account, number of objects) per account."""
    rows = [
        (link(f"{BASE}/{token}", masked), esc(connected or ""), esc(count))
        for token, masked, connected, count in listed
    ]
    body = "<p>Pick an account: each API key is one (keys are shown masked).</p>" + table(
        ("API key", "Connected account", "Objects#"), rows, "No account has made a request yet."
    )
    return page("Accounts", body)


def customers(token: str, found: Sequence[Obj]) -> str:
    rows = [
        (
            f"<code>{esc(c['id'])}</code>",
            esc(c.get("name")),
            esc(c.get("email")),
            f"<code>{esc(c.get('test_clock') or '')}</code>",
            esc(money(c.get("balance"), c.get("currency"))),
            esc(when(c.get("created"))),
        )
        for c in found
    ]
    return page("Customers", table(("Id", "Name", "Email", "Test clock", "Balance#", "Created"), rows), token, "")


def subscriptions(token: str, found: Sequence[Obj]) -> str:
    rows = []
    for s in found:
        items = "".join(
            f"<div><code>{esc(item['price']['id'])}</code> {_quantity(item)} "
            f"<span class=muted>{esc(when(item.get('current_period_start')))} → "
            f"{esc(when(item.get('current_period_end')))}</span></div>"
            for item in s["items"]["data"]
        )
        rows.append(
            (
                f"<code>{esc(s['id'])}</code>",
                f"<code>{esc(s['customer'])}</code>",
                esc(s["status"]),
                items,
                esc(when(s.get("created"))),
            )
        )
    return page(
        "Subscriptions",
        table(("Id", "Customer", "Status", "Items (price, quantity, current period)", "Created"), rows),
        token,
        "subscriptions",
    )


def _quantity(item: Obj) -> str:
    quantity = item.get("quantity")
    return "metered" if quantity is None else f"× {esc(quantity)}"


def invoices(token: str, found: Sequence[Obj]) -> str:
    rows = [
        (
            link(f"{BASE}/{token}/invoices/{i['id']}", i["id"]),
            esc(i.get("number") or ""),
            f"<code>{esc(i['customer'])}</code>",
            esc(i["status"]),
            esc(i.get("billing_reason")),
            esc(money(i["total"], i["currency"])),
            esc(money(i["amount_due"], i["currency"])),
            esc(when(i.get("period_start"))) + " → " + esc(when(i.get("period_end"))),
            esc(when(i.get("created"))),
        )
        for i in found
    ]
    headings = ("Id", "Number", "Customer", "Status", "Reason", "Total#", "Amount due#", "Period", "Created")
    return page("Invoices", table(headings, rows), token, "invoices")


def invoice(token: str, found: Obj, lines: Sequence[Obj]) -> str:
    currency = found["currency"]
    facts = [
        ("Customer", f"<code>{esc(found['customer'])}</code>"),
        ("Subscription", f"<code>{esc(_subscription_of(found))}</code>"),
        ("Status", esc(found["status"])),
        ("Billing reason", esc(found.get("billing_reason"))),
        ("Created", esc(when(found.get("created")))),
        ("Subtotal", esc(money(found["subtotal"], currency))),
        ("Total", esc(money(found["total"], currency))),
        ("Amount due", esc(money(found["amount_due"], currency))),
        ("Amount paid", esc(money(found["amount_paid"], currency))),
    ]
    rows = [
        (
            esc(line.get("description")),
            esc(when(line["period"]["start"])) + " → " + esc(when(line["period"]["end"])),
            esc(line.get("quantity")),
            esc(money(line["amount"], line.get("currency") or currency)),
        )
        for line in lines
    ]
    body = (
        table(("", ""), [(f"<b>{label}</b>", value) for label, value in facts])
        + "<h2>Lines</h2>"
        + table(("Description", "Period", "Quantity#", "Amount#"), rows, "No lines.")
        + f"<details><summary>JSON</summary><pre>{esc(pretty(found))}</pre></details>"
    )
    return page(f"Invoice {found['id']}", body, token, "invoices")


def _subscription_of(found: Obj) -> str:
    parent = found.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or found.get("subscription") or ""


def meters(token: str, found: Sequence[Obj]) -> str:
    rows = [
        (
            link(f"{BASE}/{token}/meters/{m['id']}", m["id"]),
            esc(m.get("display_name")),
            f"<code>{esc(m['event_name'])}</code>",
            esc(m["default_aggregation"]["formula"]),
            esc(m["status"]),
        )
        for m in found
    ]
    return page("Meters", table(("Id", "Name", "Event name", "Aggregation", "Status"), rows), token, "meters")


def meter(token: str, found: Obj, window: str, charts: Sequence[tuple[str, Sequence[Bar], Decimal]]) -> str:
    """(customer, bars, total) per customer with events."""
    choices = " ".join(
        f"<b>{label}</b>" if key == window else link(f"{BASE}/{token}/meters/{found['id']}?window={key}", label)
        for key, label in (("hour", "per hour"), ("day", "per day"))
    )
    body = [
        f"<p>Event name <code>{esc(found['event_name'])}</code>, "
        f"{esc(found['default_aggregation']['formula'])} of the events' values · {choices}</p>"
    ]
    for customer, bars, total in charts:
        title = f"{found.get('display_name') or found['id']} for {customer}, {window}ly"
        body.append(
            f'<div class="card usage" data-customer="{esc(customer)}"><h2><code>{esc(customer)}</code>: '
            f'<span class=total>{esc(number(total))}</span> {esc(found.get("display_name") or "")}</h2>'
            f"{bar_chart(bars, title)}</div>"
        )
    if not charts:
        body.append("<p class=muted>No events on this meter yet.</p>")
    return page(f"Meter {found.get('display_name') or found['id']}", "".join(body), token, "meters")


def events(token: str, found: Sequence[Obj]) -> str:
    rows = [
        (
            f"<code>{esc(e['id'])}</code>",
            esc(e["type"]),
            esc(when(e["created"])),
            f"<details><summary>JSON</summary><pre>{esc(pretty(e))}</pre></details>",
        )
        for e in found
    ]
    return page("Events", table(("Id", "Type", "Created", ""), rows), token, "events")


def webhooks(token: str, endpoints: Sequence[Obj], attempts: Sequence[Obj]) -> str:
    """The account's webhook endpoints, then each delivery attempt, newest first."""
    endpoint_rows = [
        (
            f"<code>{esc(e['id'])}</code>",
            esc(e["url"]),
            esc(e["status"]),
            esc(", ".join(e["enabled_events"])),
        )
        for e in endpoints
    ]
    attempt_rows = [
        (
            esc(when(a["attempted_at"])),
            f"<code>{esc(a['event'])}</code> {esc(a['event_type'])}",
            esc(a["url"]),
            esc(a["attempt"]),
            esc(a["status"]) if a["status"] is not None else f"<span class=error>{esc(a['error'])}</span>",
            esc(f"{a['duration_ms']:.1f} ms"),
            esc(when(a["next_retry_at"])) if a["next_retry_at"] is not None else "",
        )
        for a in attempts
    ]
    body = (
        "<h2>Endpoints</h2>"
        + table(("Id", "URL", "Status", "Events"), endpoint_rows)
        + "<h2>Delivery attempts</h2>"
        + table(("Attempted", "Event", "URL", "Attempt", "Answer", "Took", "Next retry"), attempt_rows)
    )
    return page("Webhooks", body, token, "webhooks")


def test_clocks(token: str, found: Sequence[Obj], notice: str | None = None) -> str:
    rows = []
    for clock in found:
        suggested = datetime.fromtimestamp(clock["frozen_time"] + 86_400, timezone.utc).strftime("%Y-%m-%dT%H:%M")
        form = (
            f'<form class=inline method=post action="{BASE}/{esc(token)}/test_clocks/{esc(clock["id"])}/advance">'
            f'<label>Advance to (UTC) <input type=datetime-local name=frozen_time step=1 value="{suggested}" '
            f"required></label><button type=submit>Advance</button></form>"
        )
        rows.append(
            (
                f"<code>{esc(clock['id'])}</code>",
                esc(clock.get("name")),
                f'<span class=frozen-time data-time="{esc(clock["frozen_time"])}">{esc(when(clock["frozen_time"]))}</span>',
                esc(clock["status"]),
                form,
            )
        )
    shown = f'<p class=notice role=alert>{esc(notice)}</p>' if notice else ""
    return page(
        "Test clocks",
        shown + table(("Id", "Name", "Frozen time (UTC)", "Status", ""), rows),
        token,
        "test_clocks",
    )


def requests(token: str, entries: Sequence[Obj], filters: dict[str, str]) -> str:
    options = "".join(
        f'<option{" selected" if filters.get("method") == m else ""} value="{m}">{m or "any"}</option>'
        for m in ("", "GET", "POST", "DELETE")
    )
    form = (
        f'<form class="inline card" method=get action="{BASE}/{esc(token)}/requests">'
        f"<label>Method <select name=method>{options}</select></label>"
        f'<label>Path contains <input name=path value="{esc(filters.get("path", ""))}"></label>'
        f'<label>Status <input name=status size=4 placeholder="4xx" value="{esc(filters.get("status", ""))}"></label>'
        "<button type=submit>Filter</button></form>"
    )
    rows = []
    for entry in entries:
        error = entry["error"]
        outcome = (
            f"<span class=err>{esc(error['type'])}: {esc(error['message'])}</span>"
            if error
            else f"<code>{esc(entry['object_id'] or '')}</code>"
        )
        status = "dropped" if entry["status"] == 0 else entry["status"]
        details = (
            "<details><summary>body and answer</summary>"
            f"<p><b>Params</b></p><pre>{esc(pretty(entry['params']))}</pre>"
            f"<p><b>Answer</b></p><pre>{esc(pretty(entry['answer']))}</pre></details>"
        )
        rows.append(
            (
                esc(when(entry["created"])),
                esc(entry["method"]),
                f"<code>{esc(entry['path'])}</code>"
                + (f"<span class=muted>?{esc(entry['query'])}</span>" if entry["query"] else ""),
                f'<span class="{"err" if status == "dropped" or (isinstance(status, int) and status >= 400) else "ok"}">{esc(status)}</span>',
                outcome,
                esc(entry["idempotency_key"] or ""),
                esc(f"{entry['duration_ms']:.1f}"),
                esc(entry["fault"] or ""),
                details,
            )
        )
    headings = ("Time", "Method", "Path", "Status", "Object or error", "Idempotency key", "ms#", "Fault", "")
    return page("Requests", form + table(headings, rows, "No requests match."), token, "requests")


def not_found(what: str) -> str:
    return page("Not found", f"<p>{esc(what)}</p><p>{link(BASE, 'All accounts')}</p>")


def home() -> str:
    return page(
        "mockstripe",
        f"<p>A local Stripe-compatible API server. Open the {link(BASE, 'dashboard')} to look at its "
        "accounts, or point a Stripe SDK at this address.</p>",
    )
