"""`/_mock/dashboard`: server-rendered pages of an account's objects, usage charts and requests."""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

from mockstripe.dashboard import token
from mockstripe.dashboard.charts import Bar, bar_chart
from mockstripe.store import Account


class Browser:
    """Plain GETs and form POSTs, as a browser with JavaScript off sends them."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.home = f"/_mock/dashboard/{token(Account(key=api_key))}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base_url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def page(self, section: str = "") -> str:
        status, body = self.get(self.home + section)
        assert status == 200, body
        return body

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """POST a form, following a redirect; returns the status, final URL and page."""
        data = urllib.parse.urlencode(fields).encode()
        try:
            with urllib.request.urlopen(self.base_url + path, data=data, timeout=10) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, path, error.read().decode()


@pytest.fixture
def browser(mockstripe_url, stripe_api_key) -> Browser:
    return Browser(mockstripe_url, stripe_api_key)


def use(client, meter, customer, value: int, **params) -> None:
    payload = {"stripe_customer_id": customer.id, "value": str(value)}
    client.v1.billing.meter_events.create({"event_name": meter.event_name, "payload": payload, **params})


def test_accounts_are_listed_with_masked_keys(browser, stripe_client, stripe_api_key):
    stripe_client.v1.customers.create({"name": "Ada"})

    status, body = browser.get("/_mock/dashboard")

    assert status == 200
    assert stripe_api_key not in body
    masked = "sk_test_" + "*" * (len(stripe_api_key) - len("sk_test_") - 4) + stripe_api_key[-4:]
    assert f'<a href="{browser.home}">{masked}</a>' in body


def test_everything_shown_is_escaped(browser, stripe_client):
    stripe_client.v1.customers.create({"name": "<script>alert(1)</script>", "email": "a&b@example.com"})

    body = browser.page()

    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "a&amp;b@example.com" in body


def test_the_meter_chart_shows_the_guides_25_tokens(browser, guide):
    meter, customer = guide.meter, guide.customer

    body = browser.page(f"/meters/{meter.id}")

    card = re.search(rf'<div class="card usage" data-customer="{customer.id}">.*?</div>', body, re.S).group(0)
    assert "<span class=total>25</span> Alpaca AI tokens" in card
    assert re.findall(r'data-value="([^"]+)"', card) == ["25"]
    assert "<title>2026-01-01 00:00: 25</title>" in card  # the hour of the customer's frozen time
    assert "<script" not in body


def test_the_chart_goes_per_day_on_request(browser, guide, stripe_client):
    meter, customer = guide.meter, guide.customer
    use(stripe_client, meter, customer, 5, timestamp=1_767_225_600 - 86_400)

    body = browser.page(f"/meters/{meter.id}?window=day")

    assert re.findall(r"<title>(\d{4}-\d\d-\d\d): (\w+)</title>", body) == [("2025-12-31", "5"), ("2026-01-01", "25")]
    assert "<span class=total>30</span>" in body


def test_subscriptions_show_items_and_periods(browser, guide):
    customer, subscription = guide.customer, guide.subscription

    body = browser.page("/subscriptions")

    assert subscription.id in body and customer.id in body
    item = subscription["items"]["data"][0]
    assert f"<code>{item.price.id}</code> metered" in body
    assert "2026-01-01 00:00:00 → 2026-02-01 00:00:00" in body


def test_advancing_a_test_clock_from_the_form_bills_the_usage(browser, guide):
    clock = guide.clock
    before = re.findall(r"invoices/(in_\w+)", browser.page("/invoices"))

    status, url, body = browser.submit(
        f"{browser.home}/test_clocks/{clock.id}/advance", {"frozen_time": "2026-02-01T00:00"}
    )

    assert status == 200
    assert url.endswith(f"{browser.home}/test_clocks?advanced={clock.id}")
    assert '<span class=frozen-time data-time="1769904000">2026-02-01 00:00:00</span>' in body
    after = re.findall(r"invoices/(in_\w+)", browser.page("/invoices"))
    [new] = [i for i in after if i not in before]
    invoice = browser.page(f"/invoices/{new}")
    assert "25 × Alpaca AI tokens" in invoice
    assert "<td class=num>0.04 USD</td>" in invoice


def test_an_advance_the_api_refuses_shows_the_apis_message(browser, guide):
    clock = guide.clock

    status, _, body = browser.submit(f"{browser.home}/test_clocks/{clock.id}/advance", {"frozen_time": "2025-01-01T00:00"})

    assert status == 400
    assert "can only move forward" in body
    status, _, body = browser.submit(f"{browser.home}/test_clocks/{clock.id}/advance", {"frozen_time": "soon"})
    assert status == 400
    assert "Not a time: &#x27;soon&#x27;." in body


def test_events_show_their_json(browser, stripe_client):
    customer = stripe_client.v1.customers.create({"name": "Ada"})

    body = browser.page("/events")

    assert "customer.created" in body
    assert f"&quot;id&quot;: &quot;{customer.id}&quot;" in body


def test_the_request_log_page_filters(browser, stripe_client, raw):
    stripe_client.v1.customers.create({"name": "Ada"})
    raw.get("/v1/customers/cus_missing")

    everything = browser.page("/requests")
    errors = browser.page("/requests?status=4xx&method=&path=")
    posts = browser.page("/requests?method=POST")

    assert "/v1/customers/cus_missing" in everything and "name=Ada" not in everything
    assert "&quot;name&quot;: &quot;Ada&quot;" in everything  # the params, decoded
    assert "No such customer: &#x27;cus_missing&#x27;" in errors
    assert "/v1/customers/cus_missing" not in posts
    assert '<option selected value="POST">' in posts


def test_an_unknown_account_or_object_is_404(browser, stripe_client):
    stripe_client.v1.customers.create({"name": "Ada"})

    assert browser.get("/_mock/dashboard/0000000000000000")[0] == 404
    assert browser.get(browser.home + "/invoices/in_missing")[0] == 404
    assert browser.get(browser.home + "/meters/mtr_missing")[0] == 404


def test_the_root_links_the_dashboard_for_browsers_only(browser):
    status, body = browser.get("/", {"Accept": "text/html,application/xhtml+xml"})
    assert status == 200
    assert '<a href="/_mock/dashboard">dashboard</a>' in body

    status, body = browser.get("/")
    assert status == 404
    assert '"Unrecognized request URL (GET: /)' in body


def test_a_chart_scales_bars_to_the_largest_and_marks_empty_windows():
    svg = bar_chart([Bar("a", Decimal(10)), Bar("b", None), Bar("c", Decimal(5))], "t")

    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[0] == 2 * heights[2] and heights[1] == 0
    assert "<title>b: no events</title>" in svg


def test_a_chart_of_fractional_and_huge_values_keeps_their_digits():
    svg = bar_chart([Bar("a", Decimal("0.5")), Bar("b", Decimal("1E+6"))], "t")

    assert "<title>a: 0.5</title>" in svg and "<title>b: 1000000</title>" in svg


def test_the_clock_the_dashboard_reads_is_the_accounts(browser, stripe_client):
    # A customer created now shows now's date (the account's clock, not a test clock's).
    stripe_client.v1.customers.create({"name": "Ada"})

    assert time.strftime("%Y-%m-%d", time.gmtime()) in browser.page()


def test_webhooks_show_each_endpoint_and_delivery_attempt(browser, stripe_client):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/hooks"
    closed.close()  # nothing listens there: every attempt is refused
    endpoint = stripe_client.v1.webhook_endpoints.create({"url": url, "enabled_events": ["customer.created"]})
    customer = stripe_client.v1.customers.create({"name": "Ada"})
    event = stripe_client.v1.events.list({"type": "customer.created"}).data[0]

    deadline = time.monotonic() + 5
    while event.id not in (body := browser.page("/webhooks")) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert endpoint.id in body and url in body and "customer.created" in body
    assert f"<code>{event.id}</code> customer.created" in body
    assert "connection refused" in body
    assert event.data.object.id == customer.id
    assert f'<a href="{browser.home}/webhooks" class=on>Webhooks</a>' in body
